import Foundation

/// A task executor on threads of its own, for a Kiln that a test runs in its
/// own process. The test process shares Swift's cooperative pool (one thread
/// per core, two here) among all the tests running at once, and many of them
/// block it for seconds: ffprobe counting frames, a decode to compare pixels.
/// A `kiln serve` owns its process's pool; an in-process Kiln on this executor
/// owns its threads in the same way, so another test's blocking work cannot
/// hold its answers past the client's timeout (a CI run failed so: a 64 px
/// thumbnail answered after 20 s, while the pool was blocked for up to 6 s at a time).
public final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var stopped = false

    public init(threads: Int, name: String) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        condition.lock()
        guard !stopped else {
            condition.unlock()
            // A task that outlives the Kiln (a straggling timer, a late reply) still runs, on the shared pool.
            globalConcurrentExecutor.enqueue(job)
            return
        }
        jobs.append(UnownedJob(job))
        condition.signal()
        condition.unlock()
    }

    /// Ends the threads once the jobs already queued have run; later jobs go to the shared pool.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while let job = next() {
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    private func next() -> UnownedJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count, !stopped { condition.wait() }
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        // Drop the run prefix now and then rather than shifting on every job.
        if head > 1024, head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
