import JobStore
import PipelineEngine
import KilnTestSupport
import Testing

/// The job state machine decides without I/O; these pin its decisions.
@Suite(.ownThreads) struct JobLifecycleTests {
    let policy = JobLifecycle.RetryPolicy(baseSeconds: 2, maxSeconds: 60)

    @Test func badInputFailsAtOnce() {
        let action = JobLifecycle.onFailure(.invalidInput("truncated"), attempt: 1, maxAttempts: 5, policy: policy)
        #expect(action == .fail(JobError(code: "invalid_input", message: "truncated")))
    }

    @Test func transientErrorsRetryWithGrowingJitteredBackoff() {
        let error = StageError(code: "storage_unavailable", message: "down", retryable: true)
        #expect(JobLifecycle.onFailure(error, attempt: 1, maxAttempts: 5, policy: policy, random: 1) == .retry(afterSeconds: 2))
        #expect(JobLifecycle.onFailure(error, attempt: 3, maxAttempts: 5, policy: policy, random: 1) == .retry(afterSeconds: 8))
        #expect(JobLifecycle.onFailure(error, attempt: 3, maxAttempts: 5, policy: policy, random: 0) == .retry(afterSeconds: 4))
        #expect(policy.delay(afterAttempt: 40, random: 1) == 60)
    }

    @Test func transientErrorsGiveUpAfterTheLastAttempt() {
        let error = StageError(code: "storage_unavailable", message: "down", retryable: true)
        guard case let .fail(jobError) = JobLifecycle.onFailure(error, attempt: 5, maxAttempts: 5, policy: policy) else {
            Issue.record("expected a final failure")
            return
        }
        #expect(jobError.code == "storage_unavailable")
    }

    @Test func stopsMapToTheirOutcome() {
        #expect(JobLifecycle.onFailure(.stopped(.canceled), attempt: 1, maxAttempts: 5, policy: policy) == .cancel)
        #expect(JobLifecycle.onFailure(.stopped(.leaseLost), attempt: 1, maxAttempts: 5, policy: policy) == .abandon)
        #expect(JobLifecycle.onFailure(.stopped(.shutdown), attempt: 1, maxAttempts: 5, policy: policy) == .release)
    }

    @Test func progressIsTheMeanOfOutputs() {
        let outputs: [String: OutputState] = [
            "a": OutputState(status: .succeeded, progress: 0.2),
            "b": OutputState(status: .running, progress: 0.5),
        ]
        #expect(JobLifecycle.progress(of: outputs) == 0.75)
        #expect(JobLifecycle.canCancel(.running))
        #expect(!JobLifecycle.canCancel(.succeeded))
    }

    @Test func stopTokenKeepsTheFirstReason() {
        let token = StopToken()
        #expect(!token.isStopped)
        token.stop(.canceled)
        token.stop(.leaseLost)
        #expect(token.reason == .canceled)
        #expect(throws: StageError.self) { try token.check() }
    }
}
