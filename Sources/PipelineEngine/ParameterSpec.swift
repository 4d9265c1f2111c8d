/// One named argument of an operation: its type, range and default. Validation,
/// the JSON Schema and the docs all read these, so they cannot disagree.
public struct ParameterSpec: Sendable {
    public indirect enum ValueType: Sendable {
        case integer(min: Int, max: Int)
        case number(min: Double, max: Double)
        case boolean
        case string(maxLength: Int)
        case choice([String])
        case colour
        case array(of: ValueType, maxCount: Int)
        case object([ParameterSpec])
    }

    public var name: String
    public var summary: String
    public var type: ValueType
    public var required: Bool
    public var defaultValue: JSONValue?
    /// Only the step that reads the job's input may set it (`autoRotate`, say):
    /// on a later step it would silently do nothing, so validation refuses it.
    public var sourceOnly: Bool
    /// Meaningful only when the step receives this kind of value (a video
    /// thumbnail's `time`); on any other input validation refuses it.
    public var onlyFor: ValueKind?

    public init(_ name: String, _ type: ValueType, required: Bool = false, default defaultValue: JSONValue? = nil,
                sourceOnly: Bool = false, onlyFor: ValueKind? = nil, summary: String) {
        self.onlyFor = onlyFor
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.sourceOnly = sourceOnly
        self.summary = summary
    }
}

extension ParameterSpec.ValueType {
    /// Checks one value; the message follows sharp's style ("Expected integer
    /// between 1 and 100 for quality but received 0").
    func check(_ value: JSONValue, name: String, at pointer: JSONPointer) throws(ValidationError) {
        func fail(_ expected: String) -> ValidationError {
            ValidationError(pointer: pointer, message: "Expected \(expected) for \(name) but received \(value.summary)")
        }
        switch self {
        case let .integer(min, max):
            guard let n = value.intValue, n >= min, n <= max else { throw fail("integer between \(min) and \(max)") }
        case let .number(min, max):
            guard let n = value.doubleValue, n >= min, n <= max else { throw fail("number between \(min) and \(max)") }
        case .boolean:
            guard value.boolValue != nil else { throw fail("boolean") }
        case let .string(maxLength):
            guard let s = value.stringValue, s.count <= maxLength else { throw fail("string of at most \(maxLength) characters") }
        case let .choice(options):
            guard let s = value.stringValue, options.contains(s) else {
                throw fail("one of \(options.joined(separator: ", "))")
            }
        case .colour:
            guard let s = value.stringValue, Colour(parsing: s) != nil else { throw fail("a colour (\(Colour.syntax))") }
        case let .array(element, maxCount):
            guard let items = value.arrayValue, items.count <= maxCount else { throw fail("array of at most \(maxCount) items") }
            for (i, item) in items.enumerated() {
                try element.check(item, name: "\(name)[\(i)]", at: pointer.appending(i))
            }
        case let .object(specs):
            guard let object = value.objectValue else { throw fail("object") }
            _ = try ParameterSpec.resolve(object, specs: specs, at: pointer, owner: name)
        }
    }
}

extension ParameterSpec {
    /// Checks an object against specs and fills defaults. Unknown keys are errors:
    /// a misspelt option silently ignored is worse than a 422.
    static func resolve(
        _ object: [String: JSONValue], specs: [ParameterSpec], at pointer: JSONPointer, owner: String,
        ignoring reserved: Set<String> = []
    ) throws(ValidationError) -> [String: JSONValue] {
        var resolved: [String: JSONValue] = [:]
        let known = Set(specs.map(\.name))
        for key in object.keys.sorted() where !known.contains(key) && !reserved.contains(key) {
            let names = specs.map(\.name).joined(separator: ", ")
            throw ValidationError(
                pointer: pointer.appending(key),
                message: "Unknown parameter \(key) for \(owner); expected one of: \(names.isEmpty ? "(none)" : names)"
            )
        }
        for spec in specs {
            if let value = object[spec.name], value != .null {
                try spec.type.check(value, name: spec.name, at: pointer.appending(spec.name))
                resolved[spec.name] = value
            } else if spec.required {
                throw ValidationError(pointer: pointer, message: "Missing required parameter \(spec.name) for \(owner)")
            } else if let d = spec.defaultValue {
                resolved[spec.name] = d
            }
        }
        return resolved
    }
}
