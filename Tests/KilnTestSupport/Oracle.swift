import Foundation

/// Runs one of the Python reference implementations in `Tests/Oracles/`
/// (installed by `make test`), feeding it JSON; returns what it printed.
public func runOracle(_ script: String, input: Data) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", Fixture.repositoryRoot + "/Tests/Oracles/" + script]
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestFailure("\(script) failed (\(process.terminationStatus)): \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Runs a command-line tool the tests compare against or make inputs with
/// (`ffmpeg`, `ffprobe`, `vips`); returns what it printed on standard output,
/// or on standard error when `errorOutput` (ffmpeg's ebur128 summary goes there).
@discardableResult
public func runTool(_ tool: String, _ arguments: [String], errorOutput: Bool = false) throws -> Data {
    let process = Process()
    // Through env: the same python3 (and its packages) as `make test` installed into, the one on PATH.
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let pipe = Pipe()
    // The other stream goes to a file, read only on failure (a pipe could fill and stall the tool).
    let other = NSTemporaryDirectory() + "kiln-tool-\(UUID().uuidString).log"
    FileManager.default.createFile(atPath: other, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: other) }
    if errorOutput {
        process.standardError = pipe
        process.standardOutput = FileHandle(forWritingAtPath: other)
    } else {
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: other)
    }
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let said = (try? String(contentsOfFile: other, encoding: .utf8)) ?? ""
        throw TestFailure("\(tool) \(arguments.joined(separator: " ")) failed: \(said.suffix(2000))")
    }
    return data
}

public func runVipsTool(_ arguments: [String]) throws { try runTool("vips", arguments) }

/// Runs `body` on a thread of its own. The Kilns that end-to-end tests start
/// run inside the test process, on Swift's cooperative threads (one per core):
/// a test that blocks one of them on a tool, or on seconds of libvips work,
/// starves every server in the suite, and their clients time out.
public func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// `runTool` on a thread of its own, for a tool that talks to the Kiln running
/// inside the test (ffmpeg playing a stream from it, a Python client): blocking
/// one of Swift's few cooperative threads on it could leave none to answer it.
public func runToolOffPool(_ tool: String, _ arguments: [String], errorOutput: Bool = false) async throws -> Data {
    try await offPool { try runTool(tool, arguments, errorOutput: errorOutput) }
}

/// What a finished process said and how it ended.
public struct ToolRun: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String
}

/// Runs a program (a path, or a name found on PATH) with extra environment on
/// a thread of its own and returns its exit status and both streams, whatever
/// the status; for commands whose failure is what a test looks at.
public func runProgramOffPool(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> ToolRun {
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
        process.arguments = program.hasPrefix("/") ? arguments : [program] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errors = NSTemporaryDirectory() + "kiln-program-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: errors, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errors) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: errors)
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolRun(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                       errors: (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")
    }
}

extension Fixture {
    /// clip.mp4 with a display matrix of 90 degrees counter-clockwise (`-metadata rotate=90`):
    /// ffprobe reports rotation=90, and players show it turned 270 degrees clockwise, 240x320.
    public static func rotatedClip() throws -> String {
        let path = NSTemporaryDirectory() + "rotated-\(UUID().uuidString).mp4"
        try runTool("ffmpeg", ["-v", "error", "-i", Fixture.path("clip.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", path])
        return path
    }
}
