import Atomics

/// Why work must stop. A lost lease is retryable (another worker runs the job);
/// a cancel or timeout is final.
public enum StopReason: String, Sendable {
    case canceled
    case leaseLost = "lease_lost"
    case timeout
    case shutdown
}

/// A job's stop flag: set by cancel, lease loss or timeout, read between steps
/// and from inside long C loops (FFmpeg's interrupt callback, libvips' eval).
public final class StopToken: Sendable {
    private let state = ManagedAtomic<Int>(0)
    private let deadline: ContinuousClock.Instant?
    private static let reasons: [StopReason] = [.canceled, .leaseLost, .timeout, .shutdown]

    /// - Parameter deadline: past it, the token reads as stopped for `timeout`.
    public init(deadline: ContinuousClock.Instant? = nil) {
        self.deadline = deadline
    }

    /// Records the first reason; later ones do not overwrite it.
    public func stop(_ reason: StopReason) {
        let code = Self.reasons.firstIndex(of: reason)! + 1
        _ = state.compareExchange(expected: 0, desired: code, ordering: .relaxed)
    }

    public var reason: StopReason? {
        if state.load(ordering: .relaxed) == 0, let deadline, ContinuousClock.now >= deadline { stop(.timeout) }
        let code = state.load(ordering: .relaxed)
        return code == 0 ? nil : Self.reasons[code - 1]
    }

    public var isStopped: Bool { reason != nil }

    public func check() throws(StageError) {
        if let reason { throw StageError.stopped(reason) }
    }
}
