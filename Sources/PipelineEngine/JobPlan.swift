/// A job request as submitted, before its operations are checked against the input.
public struct JobRequest: Sendable {
    /// Where the outputs came from, for error pointers.
    public enum OutputsSource: Sendable, Equatable { case outputs, operations, pipeline(String) }

    public var input: String
    public var outputs: [(name: String, operations: JSONValue, pointer: JSONPointer)]
    public var source: OutputsSource
    public var webhook: String?
    public var metadata: JSONValue?
    /// `"reuse": false` runs the job even when an earlier one made the same outputs from the same bytes.
    public var reuse = true

    public static let maxOutputs = 32
    static let allowedKeys: Set<String> = ["input", "outputs", "operations", "pipeline", "webhook", "metadata", "reuse"]

    /// Reads the request's shape; the operations themselves are checked by
    /// `JobPlan.init`, once the input's kind is known.
    public static func parse(_ body: JSONValue, pipelines: PipelineLibrary) throws(ValidationError) -> JobRequest {
        guard let object = body.objectValue else {
            throw ValidationError(code: "invalid_request", pointer: .root, message: "Expected a JSON object")
        }
        for key in object.keys.sorted() where !allowedKeys.contains(key) {
            throw ValidationError(code: "invalid_request", pointer: JSONPointer([key]),
                                  message: "Unknown field \(key); expected one of: \(allowedKeys.sorted().joined(separator: ", "))")
        }
        guard let input = object["input"]?.stringValue, !input.isEmpty else {
            throw ValidationError(code: "invalid_request", pointer: JSONPointer(["input"]), message: "input must be a media id (med_...)")
        }
        let given = ["outputs", "operations", "pipeline"].filter { object[$0] != nil }
        guard given.count == 1 else {
            throw ValidationError(code: "invalid_request", pointer: .root, message: "Give exactly one of outputs, operations or pipeline")
        }
        var request = JobRequest(input: input, outputs: [], source: .outputs, webhook: nil, metadata: object["metadata"])
        switch given[0] {
        case "operations":
            request.source = .operations
            request.outputs = [("default", object["operations"]!, JSONPointer(["operations"]))]
        case "pipeline":
            guard let name = object["pipeline"]?.stringValue, let pipeline = pipelines.pipeline(named: name) else {
                throw ValidationError(code: "invalid_request", pointer: JSONPointer(["pipeline"]),
                                      message: "Unknown pipeline; expected one of: \(pipelines.names.joined(separator: ", "))")
            }
            request.source = .pipeline(name)
            request.outputs = try outputList(pipeline.outputs, at: JSONPointer(["pipeline"]), pointerPrefix: nil)
        default:
            request.outputs = try outputList(object["outputs"]!, at: JSONPointer(["outputs"]), pointerPrefix: JSONPointer(["outputs"]))
        }
        if let hook = object["webhook"], hook != .null {
            guard let url = hook.stringValue, url.hasPrefix("https://") || url.hasPrefix("http://"), url.count <= 2048 else {
                throw ValidationError(code: "invalid_request", pointer: JSONPointer(["webhook"]), message: "webhook must be an http(s) URL")
            }
            request.webhook = url
        }
        if let reuse = object["reuse"] {
            guard case let .bool(allowed) = reuse else {
                throw ValidationError(code: "invalid_request", pointer: JSONPointer(["reuse"]), message: "reuse must be true or false")
            }
            request.reuse = allowed
        }
        if let metadata = request.metadata, metadata.encoded().count > 16 * 1024 {
            throw ValidationError(code: "invalid_request", pointer: JSONPointer(["metadata"]), message: "metadata is limited to 16 KiB")
        }
        return request
    }

    static func outputList(_ value: JSONValue, at pointer: JSONPointer, pointerPrefix: JSONPointer?)
        throws(ValidationError) -> [(name: String, operations: JSONValue, pointer: JSONPointer)] {
        guard let object = value.objectValue, !object.isEmpty else {
            throw ValidationError(pointer: pointer, message: "Expected an object mapping output names to operation lists")
        }
        guard object.count <= maxOutputs else {
            throw ValidationError(pointer: pointer, message: "At most \(maxOutputs) outputs per job")
        }
        return try object.keys.sorted().map { (name) throws(ValidationError) in
            let here = (pointerPrefix ?? pointer).appending(name)
            guard isValidOutputName(name) else {
                throw ValidationError(pointer: here, message: "Output names use letters, digits, - and _ (at most 64)")
            }
            return (name, object[name]!, pointerPrefix == nil ? pointer : here)
        }
    }

    static func isValidOutputName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
        }
    }
}

/// A fully validated job: every output's steps built against the input's kind.
public struct JobPlan: Sendable {
    public struct Output: Sendable {
        public var name: String
        public var steps: [PlannedStep]
    }

    public var outputs: [Output]

    public init(outputs: [(name: String, operations: JSONValue, pointer: JSONPointer)], input: MediaKind, registry: StageRegistry)
        throws(ValidationError) {
        self.outputs = try outputs.map { (output) throws(ValidationError) in
            Output(name: output.name, steps: try registry.plan(operations: output.operations, input: input, at: output.pointer))
        }
    }

    /// Rebuilds a plan from its stored form (`normalized`).
    public init(stored: JSONValue, input: MediaKind, registry: StageRegistry) throws(ValidationError) {
        let list = try JobRequest.outputList(stored, at: .root, pointerPrefix: .root)
        try self.init(outputs: list, input: input, registry: registry)
    }

    /// `{"name": [operations with defaults filled]}`, as stored with the job.
    public var normalized: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, .array($0.steps.map(\.json))) }))
    }
}
