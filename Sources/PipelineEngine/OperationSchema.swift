/// The JSON Schema (2020-12) of the operation language, generated from the
/// registry's descriptors so it cannot drift from what validation accepts.
public enum OperationSchema {
    public static func document(for registry: StageRegistry, id: String) -> JSONValue {
        .object([
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": .string(id),
            "title": "Kiln operation",
            "description": "One step of an output's operation list; the op field names the operation.",
            "type": "object",
            "required": ["op"],
            "oneOf": .array(registry.descriptors.map(schema(of:))),
        ])
    }

    static func schema(of descriptor: StageDescriptor) -> JSONValue {
        var properties: [String: JSONValue] = ["op": ["const": .string(descriptor.name)]]
        for parameter in descriptor.parameters { properties[parameter.name] = schema(of: parameter) }
        return .object([
            "title": .string(descriptor.name),
            "description": .string(descriptor.summary + " (accepts \(descriptor.acceptsSummary); yields \(descriptor.produces.article))"),
            "type": "object",
            "properties": .object(properties),
            "required": .array((["op"] + descriptor.parameters.filter(\.required).map(\.name)).map(JSONValue.string)),
            "additionalProperties": false,
        ])
    }

    static func schema(of parameter: ParameterSpec) -> JSONValue {
        var schema = schema(of: parameter.type)
        if case var .object(object) = schema {
            object["description"] = .string(parameter.summary)
            if let value = parameter.defaultValue { object["default"] = value }
            schema = .object(object)
        }
        return schema
    }

    static func schema(of type: ParameterSpec.ValueType) -> JSONValue {
        switch type {
        case let .integer(min, max): ["type": "integer", "minimum": .number(Double(min)), "maximum": .number(Double(max))]
        case let .number(min, max): ["type": "number", "minimum": .number(min), "maximum": .number(max)]
        case .boolean: ["type": "boolean"]
        case let .string(maxLength): ["type": "string", "maxLength": .number(Double(maxLength))]
        case let .choice(options): ["type": "string", "enum": .array(options.map(JSONValue.string))]
        case .colour: ["type": "string", "pattern": .string(Colour.pattern)]
        case let .array(element, maxCount): ["type": "array", "items": schema(of: element), "maxItems": .number(Double(maxCount))]
        case let .object(specs):
            .object([
                "type": "object",
                "properties": .object(Dictionary(uniqueKeysWithValues: specs.map { ($0.name, schema(of: $0)) })),
                "required": .array(specs.filter(\.required).map { .string($0.name) }),
                "additionalProperties": false,
            ])
        }
    }
}
