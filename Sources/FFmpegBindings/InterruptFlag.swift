import Atomics
import CFFmpeg

/// A stop request that FFmpeg polls from inside blocking I/O through the
/// `AVIOInterruptCB` of a format context, and that read loops check directly.
public final class InterruptFlag: Sendable {
    private let stopped = ManagedAtomic<Bool>(false)
    private let probe: (@Sendable () -> Bool)?

    /// - Parameter probe: consulted as well as `stop()`, so an outer stop token
    ///   (a job's cancel flag) reaches FFmpeg without a second copy of the state.
    public init(probe: (@Sendable () -> Bool)? = nil) {
        self.probe = probe
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    public var isStopped: Bool {
        stopped.load(ordering: .relaxed) || (probe?() ?? false)
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
