@testable import HTTPAPI
import Testing

/// A request waiting for a job to end reads the job only when a NOTIFY could
/// mean it ended: a final status, or a payload without one.
@Suite struct EventHubTests {
    @Test func onlyAFinalOrUnknownStatusAsksForARead() async {
        let hub = EventHub()
        let waiter = hub.subscribe("job_a")
        defer { hub.unsubscribe("job_a", waiter) }

        hub.notify("job_a queued")
        hub.notify("job_a running")
        #expect(await waiter.wait(seconds: 5) == false, "woken before waiting, by changes that did not end the job")

        async let woken = waiter.wait(seconds: 5)
        try? await Task.sleep(for: .milliseconds(50))
        hub.notify("job_a succeeded")
        #expect(await woken == true)

        hub.notify("job_a")  // retention's payload: the id alone
        #expect(await waiter.wait(seconds: 5) == true)

        hub.notify("job_b failed")  // another job's: not this waiter's
        #expect(await waiter.wait(seconds: 0.2) == true, "a timeout asks for a read")
    }

    /// A tenant's event stream is woken by its own jobs' changes, never by another tenant's.
    @Test func aTenantsStreamWakesForItsOwnJobsOnly() async {
        let hub = EventHub()
        let stream = hub.subscribe(EventHub.everyJob(of: "acme"))
        defer { hub.unsubscribe(EventHub.everyJob(of: "acme"), stream) }
        hub.notify("job_x running other")
        #expect(stream.state.withLock { $0.pending } == false, "another tenant's change does not wake it")
        hub.notify("job_y running acme")
        #expect(stream.state.withLock { $0.pending } == true)
        _ = await stream.wait(seconds: 1)
        hub.notify("job_z")  // no tenant named (retention): every stream looks
        #expect(stream.state.withLock { $0.pending } == true)
    }
}
