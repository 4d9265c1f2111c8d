import Foundation
import PipelineEngine

/// Output states and errors as stored (what their `Codable` conformances
/// write), read from `StrictJSON`'s values and written through `JSONValue` by hand. Reading a job with
/// Foundation's decoder was the largest single cost of a status read or a
/// long-poll answer in `kiln serve` (perf during `make bench`'s queue section);
/// `StoredJSONTests` holds the two readings equal field by field.
enum StoredJSON {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func outputs(_ text: String) throws -> [String: OutputState] {
        guard case let .object(members) = try JSONValue.decode(Data(text.utf8)) else { throw Unreadable(description: "outputs: not an object") }
        return try members.mapValues(OutputState.init(stored:))
    }

    static func error(_ text: String) throws -> JobError { try JobError(stored: try JSONValue.decode(Data(text.utf8))) }

    static func object(_ value: JSONValue, _ type: String) throws -> [String: JSONValue] {
        guard case let .object(members) = value else { throw Unreadable(description: "\(type): not an object") }
        return members
    }

    static func string(_ members: [String: JSONValue], _ key: String) throws -> String {
        guard case let .string(text)? = members[key] else { throw Unreadable(description: "\(key): not a string") }
        return text
    }

    static func number(_ members: [String: JSONValue], _ key: String) throws -> Double {
        guard case let .number(number)? = members[key] else { throw Unreadable(description: "\(key): not a number") }
        return number
    }

    /// Absent and null both read as nil, as `decodeIfPresent` does.
    static func optional<T>(_ members: [String: JSONValue], _ key: String, _ read: ([String: JSONValue], String) throws -> T) throws -> T? {
        switch members[key] {
        case nil, .null?: nil
        default: try read(members, key)
        }
    }

    static func integer(_ members: [String: JSONValue], _ key: String) throws -> Int {
        guard let integer = try Int(exactly: number(members, key)) else { throw Unreadable(description: "\(key): not an integer") }
        return integer
    }
}

extension OutputState {
    init(stored value: JSONValue) throws {
        let members = try StoredJSON.object(value, "output")
        guard let status = JobStatus(rawValue: try StoredJSON.string(members, "status")) else {
            throw StoredJSON.Unreadable(description: "status: unknown")
        }
        let files: [OutputFile]
        switch members["files"] {
        case let .array(elements)?: files = try elements.map(OutputFile.init(stored:))
        default: throw StoredJSON.Unreadable(description: "files: not an array")
        }
        self.init(status: status, progress: try StoredJSON.number(members, "progress"), files: files,
                  results: try StoredJSON.object(members["results"] ?? .null, "results"),
                  error: try members["error"].flatMap { $0 == .null ? nil : try JobError(stored: $0) },
                  // Codable's default for a Date: seconds since 2001.
                  playableAt: try StoredJSON.optional(members, "playableAt", StoredJSON.number).map(Date.init(timeIntervalSinceReferenceDate:)))
    }
}

extension OutputFile {
    init(stored value: JSONValue) throws {
        let members = try StoredJSON.object(value, "file")
        let publication = try StoredJSON.optional(members, "publication", StoredJSON.string)
        self.init(path: try StoredJSON.string(members, "path"), key: try StoredJSON.optional(members, "key", StoredJSON.string),
                  contentType: try StoredJSON.string(members, "contentType"), size: try StoredJSON.integer(members, "size"),
                  width: try StoredJSON.optional(members, "width", StoredJSON.integer),
                  height: try StoredJSON.optional(members, "height", StoredJSON.integer),
                  duration: try StoredJSON.optional(members, "duration", StoredJSON.number),
                  publication: try publication.map {
                      guard let known = Publication(rawValue: $0) else { throw StoredJSON.Unreadable(description: "publication: unknown") }
                      return known
                  })
    }
}

extension JobError {
    init(stored value: JSONValue) throws {
        let members = try StoredJSON.object(value, "error")
        self.init(code: try StoredJSON.string(members, "code"), message: try StoredJSON.string(members, "message"))
    }
}

/// The stored text of output states and errors: what `JSONEncoder` writes for
/// them (sorted keys, slashes unescaped), through `JSONValue`'s own writer.
func encodeJSON(_ outputs: [String: OutputState]) -> String { JSONValue.object(outputs.mapValues(\.stored)).encodedString }
func encodeJSON(_ state: OutputState) -> String { state.stored.encodedString }
func encodeJSON(_ error: JobError) -> String { error.json.encodedString }

extension OutputState {
    var stored: JSONValue {
        var members: [String: JSONValue] = [
            "status": .string(status.rawValue), "progress": .number(progress), "files": .array(files.map(\.stored)), "results": .object(results),
        ]
        if let error { members["error"] = error.json }
        if let playableAt { members["playableAt"] = .number(playableAt.timeIntervalSinceReferenceDate) }
        return .object(members)
    }
}

extension OutputFile {
    var stored: JSONValue {
        var members: [String: JSONValue] = ["path": .string(path), "contentType": .string(contentType), "size": .number(Double(size))]
        if let key { members["key"] = .string(key) }
        if let width { members["width"] = .number(Double(width)) }
        if let height { members["height"] = .number(Double(height)) }
        if let duration { members["duration"] = .number(duration) }
        if let publication { members["publication"] = .string(publication.rawValue) }
        return .object(members)
    }
}

extension JobError {
    /// As stored, and as clients see it in `error`.
    public var json: JSONValue { .object(["code": .string(code), "message": .string(message)]) }
}
