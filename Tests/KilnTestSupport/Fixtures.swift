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

extension Fixture {
    /// The real-media corpus: full-size files as phones and apps make them (scripts/corpus.py).
    public static let corpusDirectory = path("corpus")

    /// Makes the corpus when it is missing or its script changed; a no-op otherwise.
    public static func makeCorpus() throws {
        try runTool("python3", [repositoryRoot + "/scripts/corpus.py", corpusDirectory])
    }

    /// A corpus file as a fixture name (`corpus/NAME`), the corpus made first.
    public static func corpus(_ name: String) throws -> String {
        try makeCorpus()
        return "corpus/" + name
    }
}
