import Atomics
import CFFmpeg

/// A stop request that FFmpeg polls from inside blocking I/O through the
/// `AVIOInterruptCB` of a format context, and that read loops check directly.
public final class InterruptFlag: Sendable {
    private let stopped = ManagedAtomic<Bool>(false)
    private let probe: (@Sendable () -> Bool)?
    private let deadline: ContinuousClock.Instant?

    /// - Parameter probe: consulted as well as `stop()`, so an outer stop token
    ///   (a job's cancel flag) reaches FFmpeg without a second copy of the state.
    /// - Parameter deadline: past it the flag reads as stopped, so a slow or
    ///   hostile file cannot hold a thread for longer.
    public init(deadline: ContinuousClock.Instant? = nil, probe: (@Sendable () -> Bool)? = nil) {
        self.deadline = deadline
        self.probe = probe
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    public var isStopped: Bool {
        if stopped.load(ordering: .relaxed) || (probe?() ?? false) { return true }
        if let deadline, ContinuousClock.now >= deadline {
            stop()
            return true
        }
        return false
    }

    /// The C callback: a non-capturing closure that recovers the flag from `opaque`.
    /// The format context that holds it must not outlive the flag; `Demuxer` keeps
    /// a strong reference for exactly that reason.
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                return Unmanaged<InterruptFlag>.fromOpaque(opaque).takeUnretainedValue().isStopped ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(self).toOpaque()
        )
    }
}
