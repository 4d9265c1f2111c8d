import Foundation

/// Paths of the files in `Fixtures/`.
public enum Fixture {
    public static let directory: String = {
        // Tests/KilnTestSupport/Fixtures.swift -> repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }()

    public static let repositoryRoot = URL(fileURLWithPath: directory).deletingLastPathComponent().path

    public static func path(_ name: String) -> String { directory + "/" + name }

    public static func data(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(name))) }
}
