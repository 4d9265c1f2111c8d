import Foundation
import PipelineEngine
import Testing

/// Request bodies are JSON as RFC 8259 defines it, not what Foundation's decoder tolerates.
@Suite struct StrictJSONTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #" {"a": [1, -2.5e+3, 0, 0.25, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"]} "#, #""text""#, "42", "-0",
        #"{"nested": {"deeper": [[[{}]]]}}"#, #"{"emoji": "🦀"}"#,
    ])
    func acceptsJSON(_ text: String) throws {
        try StrictJSON.validate(Array(text.utf8))
        _ = try JSONValue.decode(Data(text.utf8))
    }

    @Test(arguments: [
        #"{"input": "x",}"#, #"[1, 2,]"#, #"{"a" 1}"#, #"{'a': 1}"#, "01", "1.", ".5", "+1", "NaN", "Infinity", #"{"a": 1} x"#,
        "{\"a\": \"a raw tab:\there\"}", "// comment\n{}", #"{"a": 1 /* no */}"#, #""\x""#, #""\u12""#, "", "   ", "[", #"{"a""#, "tru", "1e",
        #"{,}"#, "[,]", #"{"a":1,,"b":2}"#,
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: StrictJSON.SyntaxError.self) { try StrictJSON.validate(Array(text.utf8)) }
        #expect(throws: (any Error).self) { _ = try JSONValue.decode(Data(text.utf8)) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: StrictJSON.SyntaxError.self) { try StrictJSON.validate(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try StrictJSON.validate(Array(fine.utf8)) }
    }

    @Test func theErrorSaysWhere() {
        #expect(throws: StrictJSON.SyntaxError(offset: 14, reason: "expected a member name")) {
            try StrictJSON.validate(Array(#"{"input": "x",}"#.utf8))
        }
    }
}
