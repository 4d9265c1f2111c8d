import PipelineEngine

/// The job state machine. It decides; the store persists what it decided and
/// the runner acts on it. No I/O here, so every transition is unit-tested.
public enum JobLifecycle {
    /// What to do after an attempt failed.
    public enum FailureAction: Equatable, Sendable {
        /// Requeue the job to run again after this many seconds.
        case retry(afterSeconds: Double)
        /// Fail the job for good with this error.
        case fail(JobError)
        /// The attempt was stopped by a cancel: the job ends `canceled`.
        case cancel
        /// The worker is shutting down: hand the job back without using up the attempt.
        case release
        /// Our lease is gone; another attempt owns the job. Write nothing.
        case abandon
    }

    public struct RetryPolicy: Sendable {
        public var baseSeconds: Double
        public var maxSeconds: Double

        public init(baseSeconds: Double = 2, maxSeconds: Double = 300) {
            self.baseSeconds = baseSeconds
            self.maxSeconds = maxSeconds
        }

        /// Exponential backoff with full jitter: uniform in [d/2, d] with
        /// d = base * 2^(attempt-1), capped; spreads retries of a shared outage.
        public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> Double {
            let exponential = min(maxSeconds, baseSeconds * pow2(max(0, attempt - 1)))
            return exponential / 2 + exponential / 2 * random
        }

        private func pow2(_ n: Int) -> Double { n >= 30 ? Double(1 << 30) : Double(1 << n) }
    }

    public static func onFailure(_ error: StageError, attempt: Int, maxAttempts: Int, policy: RetryPolicy,
                                 random: Double = Double.random(in: 0...1)) -> FailureAction {
        switch error.code {
        case StopReason.canceled.rawValue: return .cancel
        case StopReason.leaseLost.rawValue: return .abandon
        case StopReason.shutdown.rawValue:
            // Stopping for a restart is not the job's fault: run it again soon.
            return .release
        default: break
        }
        guard error.retryable else { return .fail(JobError(code: error.code, message: error.message)) }
        guard attempt < maxAttempts else {
            return .fail(JobError(code: error.code, message: "\(error.message) (gave up after \(attempt) attempts)"))
        }
        return .retry(afterSeconds: policy.delay(afterAttempt: attempt, random: random))
    }

    /// A job's overall progress: the mean of its outputs' progress.
    public static func progress(of outputs: [String: OutputState]) -> Double {
        guard !outputs.isEmpty else { return 0 }
        return outputs.values.map { $0.status == .succeeded ? 1 : $0.progress }.reduce(0, +) / Double(outputs.count)
    }

    /// Whether a client's cancel applies: final jobs stay as they are.
    public static func canCancel(_ status: JobStatus) -> Bool { !status.isFinal }
}
