import Foundation
import KilnApp
import KilnTestSupport
import Testing

@Suite(.ownThreads) struct OpenFileLimitTests {
    @Test func theSoftLimitIsRaisedToTheHardOne() throws {
        var limit = rlimit()
        try #require(getrlimit(OpenFileLimit.resource, &limit) == 0)
        // Start from a low soft limit, as many systems give a process (1024).
        var lowered = limit
        lowered.rlim_cur = min(1024, limit.rlim_max)
        try #require(setrlimit(OpenFileLimit.resource, &lowered) == 0)
        let (before, after) = OpenFileLimit.raise(logger: TestEnvironment.logger())
        var now = rlimit()
        try #require(getrlimit(OpenFileLimit.resource, &now) == 0)
        #expect(before == Int(lowered.rlim_cur))
        #expect(now.rlim_cur == limit.rlim_max && after == Int(clamping: limit.rlim_max))
    }
}
