import Foundation

/// A PostgreSQL cluster of a test's own (`scripts/postgres.sh`), for tests
/// that stop and restart the database under a running Kiln.
public final class PrivatePostgres: @unchecked Sendable {
    public let directory: String
    public let url: String

    public init() throws {
        directory = NSTemporaryDirectory() + "kiln-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        url = "postgres://kiln@localhost:5432/kiln?host=\(directory)/sock"
        try start()
    }

    static let script = Fixture.repositoryRoot + "/scripts/postgres.sh"

    public func start() throws { try Self.run(["start", directory + "/data", directory + "/sock", "--throwaway"]) }

    public func stop() throws { try Self.run(["stop", directory + "/data"]) }

    /// Runs the script to its exit without reading its output: the server it starts lives on.
    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("postgres.sh \(arguments.joined(separator: " ")) failed") }
    }

    deinit {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
