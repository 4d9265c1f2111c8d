import Foundation
@testable import ImageStages
import PipelineEngine
import Synchronization
import KilnTestSupport
import Testing

@Suite(.ownThreads) struct EncodeSlotsTests {
    @Test func noMoreEncodesRunAtOnceThanTheSlots() async throws {
        let running = Mutex((now: 0, most: 0))
        let jobs = EncodeSlots.avif.capacity + 3
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            try? EncodeSlots.avif.withSlot(stop: StopToken()) { () throws(StageError) in
                running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                usleep(30_000)
                running.withLock { $0.now -= 1 }
            }
        }
        #expect(running.withLock { $0.most } == min(jobs, EncodeSlots.avif.capacity))
    }

    @Test func aStoppedJobGivesUpWaitingForASlot() async throws {
        let release = DispatchSemaphore(value: 0)
        let held = DispatchGroup()
        for _ in 0..<EncodeSlots.avif.capacity {
            held.enter()
            Thread.detachNewThread {
                try? EncodeSlots.avif.withSlot(stop: StopToken()) { () throws(StageError) in
                    held.leave()
                    release.wait()
                }
            }
        }
        held.wait()
        let stop = StopToken()
        stop.stop(.canceled)
        var ran = false
        #expect(throws: StageError.self) { try EncodeSlots.avif.withSlot(stop: stop) { () throws(StageError) in ran = true } }
        #expect(!ran)
        for _ in 0..<EncodeSlots.avif.capacity { release.signal() }
    }

    @Test func onlyAVIFAndLargeImagesTakeSlots() {
        #expect(EncodeSlots.slots(for: .avif, pixels: 100) === EncodeSlots.avif)
        #expect(EncodeSlots.slots(for: .webp, pixels: 1920 * 1080) === EncodeSlots.large)
        #expect(EncodeSlots.slots(for: .jpeg, pixels: 400 * 225) == nil)
    }
}
