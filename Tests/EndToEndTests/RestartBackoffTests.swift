@testable import KilnApp
import KilnTestSupport
import Testing

/// The wait between a supervised child's death and its replacement.
@Suite(.ownThreads) struct RestartBackoffTests {
    @Test func childrenDyingYoungWaitLongerUpToACapAndAMinutesRunStartsOver() {
        var backoff = RestartBackoff()
        let young = (0..<10).map { _ in backoff.next(afterRunning: .seconds(1)) }
        #expect(young == [0.25, 0.5, 1, 2, 4, 8, 16, 30, 30, 30])
        // A child that ran over a minute had a one-off crash: the next start comes soon again.
        #expect(backoff.next(afterRunning: .seconds(61)) == 0.25)
        #expect(backoff.next(afterRunning: .zero) == 0.5)
    }
}
