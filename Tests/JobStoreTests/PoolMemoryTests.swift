import Foundation
import KilnTestSupport
import Testing

/// Queries must leave no memory behind (issue 6: PostgresNIO's pool kept about
/// 1.5 KB per query). The loop runs in `kiln-soak`, a process of its own, so the
/// heap it counts is not shared with the tests running beside this one.
@Suite(.ownThreads) struct PoolMemoryTests {
    @Test func readsThroughThePoolKeepNoMemory() async throws {
        let url = try #require(TestEnvironment.databaseURL, "run with `make test`")
        // Counted a second after the loop: nothing the reads made may stay.
        let result = try runSoak([url, "--schema", TestEnvironment.uniqueSchema(), "--queries", "6000", "--concurrency", "4", "--settle", "1"])
        let perQuery = try #require(result["bytesPerQuery"] as? Double)
        // PostgresNIO's own pool, with its idle timers (60 s), kept about 1,500 bytes per query.
        #expect(perQuery < 50, "live heap grew by \(perQuery) bytes per query: \(result)")
    }

    /// Runs the `kiln-soak` built beside this test binary; returns its JSON.
    func runSoak(_ arguments: [String]) throws -> [String: Any] {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let process = Process()
        process.executableURL = directory.appendingPathComponent("kiln-soak")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "kiln-soak exited with \(process.terminationStatus)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
