import Testing

/// Runs each test of a suite on two threads of its own (`DedicatedExecutor`),
/// not on Swift's cooperative pool, which the whole test process shares: one
/// thread per core, two here, for up to twelve tests at once. A test that
/// blocks a thread (ffprobe counting frames, a decode to compare pixels) then
/// holds back only itself, not an in-process Kiln elsewhere whose timers and
/// queries run on that pool (a CI run failed so: a thumbnail answered after
/// the client's 20 s). What the code under test starts with `Task {}` still
/// runs on the shared pool, which no test then blocks.
public struct OwnThreads: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        testCase == nil ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let executor = DedicatedExecutor(threads: 2, name: "kiln-test")
        defer { executor.shutdown() }
        try await withTaskExecutorPreference(executor, operation: function)
    }
}

extension Trait where Self == OwnThreads {
    /// Each test on threads of its own: see `OwnThreads`.
    public static var ownThreads: Self { OwnThreads() }
}
