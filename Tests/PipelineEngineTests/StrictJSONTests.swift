import Foundation
import PipelineEngine
import KilnTestSupport
import Testing

/// Request bodies are JSON as RFC 8259 defines it, not what Foundation's decoder tolerates.
@Suite(.ownThreads) struct StrictJSONTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #" {"a": [1, -2.5e+3, 0, 0.25, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"]} "#, #""text""#, "42", "-0",
        #"{"nested": {"deeper": [[[{}]]]}}"#, #"{"emoji": "🦀"}"#,
    ])
    func acceptsJSON(_ text: String) throws {
        _ = try StrictJSON.parse(Array(text.utf8))
        _ = try JSONValue.decode(Data(text.utf8))
    }

    @Test(arguments: [
        #"{"input": "x",}"#, #"[1, 2,]"#, #"{"a" 1}"#, #"{'a': 1}"#, "01", "1.", ".5", "+1", "NaN", "Infinity", #"{"a": 1} x"#,
        "{\"a\": \"a raw tab:\there\"}", "// comment\n{}", #"{"a": 1 /* no */}"#, #""\x""#, #""\u12""#, "", "   ", "[", #"{"a""#, "tru", "1e",
        #"{,}"#, "[,]", #"{"a":1,,"b":2}"#,
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: StrictJSON.SyntaxError.self) { _ = try StrictJSON.parse(Array(text.utf8)) }
        #expect(throws: (any Error).self) { _ = try JSONValue.decode(Data(text.utf8)) }
    }

    /// The parser builds what Foundation's decoder built from the same text (the path it replaced).
    @Test(arguments: [
        #"{"a": [1, -2.5e+3, 0, 0.25, 1E2, -0, 12345678901234567890, 1e-7, true, false, null]}"#,
        #"{"s": "x\"\\\/\b\f\n\r\t\u00e9\u0000\ud83e\udd80 🦀 ü"}"#, #""plain""#, "3.5", "[[], {}, [{}], {\"k\": []}]",
        #"{"plan": {"default": [{"op": "thumbnail", "width": 400, "fit": "inside"}]}, "outputs": {}}"#,
    ])
    func buildsWhatFoundationBuilt(_ text: String) throws {
        let parsed = try JSONValue.decode(Data(text.utf8))
        #expect(parsed == (try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))))
    }

    @Test func escapesAreDecoded() throws {
        #expect(try JSONValue.decode(Data(#""caf\u00e9 \ud83e\udd80 a\/b\n""#.utf8)) == .string("café 🦀 a/b\n"))
        #expect(try JSONValue.decode(Data(#"{"k": 1, "k": 2}"#.utf8)) == ["k": 2], "a repeated name: the last counts")
    }

    @Test(arguments: [#""\ud83e""#, #""\udd80""#, #""\ud83e\u0041""#, "1e400", "-1e400"])
    func refusesLoneSurrogatesAndNumbersNoDoubleHolds(_ text: String) {
        #expect(throws: StrictJSON.SyntaxError.self) { try StrictJSON.parse(Array(text.utf8)) }
    }

    @Test func refusesStringsThatAreNotUTF8() {
        #expect(throws: StrictJSON.SyntaxError.self) { try StrictJSON.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: StrictJSON.SyntaxError.self) { try StrictJSON.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: StrictJSON.SyntaxError.self) { _ = try StrictJSON.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { _ = try StrictJSON.parse(Array(fine.utf8)) }
    }

    @Test func theErrorSaysWhere() {
        #expect(throws: StrictJSON.SyntaxError(offset: 14, reason: "expected a member name")) {
            _ = try StrictJSON.parse(Array(#"{"input": "x",}"#.utf8))
        }
    }
}
