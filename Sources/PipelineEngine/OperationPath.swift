import Foundation

/// The compact URL form of an operation list, for image URLs
/// (`thumbnail:w=320,h=320,fit=cover/encode:f=webp,q=80`): steps separated
/// by `/`, each an operation name and its `name=value` parameters after a
/// `:`, separated by `,`. A parameter is named as in a job, or by one of the
/// short names `w`, `h`, `q`, `f`; values are percent-decoded and typed by
/// the operation's descriptor. The list it gives is validated by the registry
/// exactly as a job's is, so a URL can ask for nothing a job could not.
public enum OperationPath {
    public static let shortNames = ["w": "width", "h": "height", "q": "quality", "f": "format"]
    /// Longer than any sensible list; a path past it is refused before parsing.
    public static let maxLength = 2048

    /// The operations of `path` as a job's JSON list. Errors point at the step
    /// (`/0`) or the parameter (`/0/width`), as a job's 422 does.
    public static func parse(_ path: String, registry: StageRegistry) throws(ValidationError) -> JSONValue {
        guard path.utf8.count <= maxLength else { throw ValidationError(pointer: JSONPointer(), message: "The operations are longer than \(maxLength) bytes") }
        let steps = path.split(separator: "/", omittingEmptySubsequences: false)
        guard steps.count <= StageRegistry.maxStepsPerOutput else {
            throw ValidationError(pointer: JSONPointer(), message: "At most \(StageRegistry.maxStepsPerOutput) operations per output")
        }
        var list: [JSONValue] = []
        for (index, step) in steps.enumerated() {
            list.append(try parseStep(step, at: JSONPointer().appending(index), registry: registry))
        }
        return .array(list)
    }

    private static func parseStep(_ text: Substring, at pointer: JSONPointer, registry: StageRegistry) throws(ValidationError) -> JSONValue {
        let head = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(head[0])
        guard !name.isEmpty else { throw ValidationError(pointer: pointer, message: "An empty step; steps are separated by a single /") }
        guard let descriptor = registry.descriptor(named: name) else {
            throw ValidationError(pointer: pointer.appending("op"), message: "Unknown operation \"\(name)\"; expected one of: \(registry.descriptors.map(\.name).sorted().joined(separator: ", "))")
        }
        var object: [String: JSONValue] = ["op": .string(name)]
        guard head.count == 2 else { return .object(object) }
        for pair in head[1].split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError(pointer: pointer, message: "Expected name=value but received \"\(pair)\"")
            }
            let key = shortNames[String(parts[0])] ?? String(parts[0])
            guard let spec = descriptor.parameters.first(where: { $0.name == key }) else {
                throw ValidationError(pointer: pointer.appending(key), message: "\(name) has no parameter \(key); it takes \(descriptor.parameters.map(\.name).joined(separator: ", "))")
            }
            guard object[key] == nil else { throw ValidationError(pointer: pointer.appending(key), message: "\(key) is given twice") }
            guard let raw = String(parts[1]).removingPercentEncoding else {
                throw ValidationError(pointer: pointer.appending(key), message: "\(key) is not valid percent-encoding")
            }
            object[key] = try value(raw, of: spec.type, named: key, at: pointer.appending(key))
        }
        return .object(object)
    }

    /// A URL value as the JSON value its parameter takes; the registry checks ranges afterwards.
    private static func value(_ raw: String, of type: ParameterSpec.ValueType, named name: String, at pointer: JSONPointer) throws(ValidationError) -> JSONValue {
        switch type {
        case .integer:
            guard let number = Int(raw) else { throw ValidationError(pointer: pointer, message: "Expected an integer for \(name) but received \"\(raw)\"") }
            return .number(Double(number))
        case .number:
            guard let number = Double(raw), number.isFinite else {
                throw ValidationError(pointer: pointer, message: "Expected a number for \(name) but received \"\(raw)\"")
            }
            return .number(number)
        case .boolean:
            switch raw {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: throw ValidationError(pointer: pointer, message: "Expected true or false for \(name) but received \"\(raw)\"")
            }
        case .string, .choice, .colour:
            return .string(raw)
        case .array, .object:
            throw ValidationError(pointer: pointer, message: "\(name) takes a list or an object, which a URL cannot carry; submit a job for it")
        }
    }

    /// The canonical URL form of a validated list (names in full, parameters
    /// sorted), so that two spellings of one rendering share a cache entry.
    public static func canonical(_ operations: JSONValue) -> String {
        (operations.arrayValue ?? []).map { step -> String in
            let object = step.objectValue ?? [:]
            let name = object["op"]?.stringValue ?? ""
            let parameters = object.filter { $0.key != "op" }.sorted { $0.key < $1.key }.map { key, value -> String in
                let text: String
                switch value {
                case let .number(number): text = number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
                case let .bool(flag): text = flag ? "true" : "false"
                case let .string(string): text = string.addingPercentEncoding(withAllowedCharacters: valueCharacters) ?? string
                default: text = value.summary
                }
                return "\(key)=\(text)"
            }
            return parameters.isEmpty ? name : name + ":" + parameters.joined(separator: ",")
        }.joined(separator: "/")
    }

    /// Characters a value keeps unencoded: none of `/ : , = % ? #`.
    static let valueCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
}
