import Foundation
@testable import JobStore
import PipelineEngine
import KilnTestSupport
import Testing

/// Stored output states are read by hand (`StoredJSON`): they must read back
/// exactly what their `Codable` conformances write, every field of them.
@Suite(.ownThreads) struct StoredJSONTests {
    static let full = OutputState(
        status: .succeeded, progress: 0.75,
        files: [
            OutputFile(path: "thumb/a.webp", key: "jobs/j/1/thumb/a.webp", contentType: "image/webp", size: 1234, width: 400, height: 300,
                       duration: 1.5, publication: .playbackEntry),
            OutputFile(path: "b.jpg", contentType: "image/jpeg", size: 9),
        ],
        results: ["blurhash": "LEHV6nWB2y", "count": 3, "nested": ["a": [1, 2.5, "é"], "b": .null], "flag": true],
        error: JobError(code: "decode_failed", message: "the \"input\" is not an image"),
        playableAt: Date(timeIntervalSinceReferenceDate: 786_000_000.123))

    @Test(arguments: [full, OutputState(), OutputState(status: .running, progress: 0.5)])
    func readsWhatCodableWrites(_ state: OutputState) throws {
        let text = encodeJSON(["o": state, "p": OutputState(status: .failed, error: JobError(code: "c", message: "m"))])
        let read = try StoredJSON.outputs(text)
        #expect(read == (try JSONDecoder().decode([String: OutputState].self, from: Data(text.utf8))))
        #expect(read["o"] == state)
    }

    /// Written as `JSONEncoder` writes the `Codable` form, byte for byte (with slashes unescaped).
    @Test(arguments: [full, OutputState(), OutputState(status: .running, progress: 0.5)])
    func writesWhatCodableWrites(_ state: OutputState) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(encodeJSON(state) == String(decoding: try encoder.encode(state), as: UTF8.self))
        #expect(encodeJSON(["a": state]) == String(decoding: try encoder.encode(["a": state]), as: UTF8.self))
    }

    @Test func readsErrors() throws {
        #expect(try StoredJSON.error(encodeJSON(JobError(code: "c", message: "m \u{1F980}"))) == JobError(code: "c", message: "m \u{1F980}"))
    }

    @Test(arguments: [
        #"[]"#, #"{"o": 1}"#, #"{"o": {"status": "nope", "progress": 0, "files": [], "results": {}}}"#,
        #"{"o": {"status": "queued", "progress": "0", "files": [], "results": {}}}"#,
        #"{"o": {"status": "queued", "progress": 0, "files": [{"path": "a", "contentType": "x", "size": 1.5}], "results": {}}}"#,
        #"{"o": {"status": "queued", "progress": 0, "files": [{"path": "a", "contentType": "x", "size": 1, "publication": "?"}], "results": {}}}"#,
    ])
    func refusesWhatIsNotAnOutputState(_ text: String) {
        #expect(throws: (any Error).self) { try StoredJSON.outputs(text) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode([String: OutputState].self, from: Data(text.utf8)) }
    }
}
