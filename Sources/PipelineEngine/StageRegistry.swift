/// Every operation Kiln knows, by name. Validation, the JSON Schema and the
/// pipeline listing all come from here; only the executable assembles it.
public struct StageRegistry: Sendable {
    private let stages: [String: any Stage.Type]
    /// Appended to an output whose last step leaves a decoded image, so that
    /// `[{"op": "thumbnail", ...}]` alone yields a file.
    public let imageFinisher: String?
    /// Decodes an input once for several outputs, where that pays.
    public let sharedDecoder: (any SharedDecoder)?
    /// Checks the input once per job, before its outputs run.
    public let sourceInspector: (any SourceInspector)?

    public init(_ stages: [any Stage.Type], imageFinisher: String? = "encode", sharedDecoder: (any SharedDecoder)? = nil,
                sourceInspector: (any SourceInspector)? = nil) {
        self.sharedDecoder = sharedDecoder
        self.sourceInspector = sourceInspector
        var byName: [String: any Stage.Type] = [:]
        for stage in stages {
            precondition(byName[stage.descriptor.name] == nil, "two stages named \(stage.descriptor.name)")
            byName[stage.descriptor.name] = stage
        }
        self.stages = byName
        self.imageFinisher = imageFinisher
    }

    public var descriptors: [StageDescriptor] {
        stages.values.map { stage in stage.descriptor }.sorted { $0.name < $1.name }
    }

    public func descriptor(named name: String) -> StageDescriptor? { stages[name]?.descriptor }

    public static let maxStepsPerOutput = 32

    /// Validates one operation list against an input kind and builds its steps.
    public func plan(operations: JSONValue, input: MediaKind, at pointer: JSONPointer) throws(ValidationError) -> [PlannedStep] {
        guard let list = operations.arrayValue else {
            throw ValidationError(pointer: pointer, message: "Expected an array of operations but received \(operations.summary)")
        }
        guard !list.isEmpty else { throw ValidationError(pointer: pointer, message: "An output needs at least one operation") }
        guard list.count <= Self.maxStepsPerOutput else {
            throw ValidationError(pointer: pointer, message: "At most \(Self.maxStepsPerOutput) operations per output")
        }
        var current: ValueKind = .source(input)
        var steps: [PlannedStep] = []
        for (index, raw) in list.enumerated() {
            let here = pointer.appending(index)
            var step = try planStep(raw, at: here)
            let descriptor = type(of: step.stage).descriptor
            if let object = raw.objectValue,
               let misplaced = descriptor.parameters.first(where: { $0.onlyFor != nil && $0.onlyFor != current && object[$0.name] != nil }) {
                throw ValidationError(pointer: here.appending(misplaced.name),
                                      message: "\(misplaced.name) applies only to \(misplaced.onlyFor!.article), not \(current.article)")
            }
            if case .source = current {} else {
                let sourceOnly = descriptor.parameters.filter(\.sourceOnly).map(\.name)
                if let object = raw.objectValue, let misplaced = sourceOnly.first(where: { object[$0] != nil }) {
                    throw ValidationError(pointer: here.appending(misplaced),
                                          message: "\(misplaced) applies only to the first step, which reads the input")
                }
                step.parameters = Self.withoutSourceOnly(step.parameters, of: descriptor)
            }
            guard descriptor.accepts.contains(current) else {
                throw ValidationError(
                    pointer: here.appending("op"),
                    message: "\(descriptor.name) cannot follow a step that yields \(current.article); it accepts \(descriptor.acceptsSummary)"
                )
            }
            current = descriptor.produces
            steps.append(step)
        }
        if current == .image, let finisher = imageFinisher {
            var finish = try planStep(["op": .string(finisher)], at: pointer.appending(list.count))
            finish.parameters = Self.withoutSourceOnly(finish.parameters, of: type(of: finish.stage).descriptor)
            steps.append(finish)
            current = .product
        }
        guard current == .product else {
            throw ValidationError(pointer: pointer, message: "An output must end in an operation that produces files or results, not \(current.article)")
        }
        return steps
    }

    /// A step that does not read the input stores no source-only parameter:
    /// its default would mean nothing there, and would not validate again.
    static func withoutSourceOnly(_ parameters: Parameters, of descriptor: StageDescriptor) -> Parameters {
        let names = Set(descriptor.parameters.filter(\.sourceOnly).map(\.name))
        return Parameters(parameters.values.filter { !names.contains($0.key) })
    }

    private func planStep(_ raw: JSONValue, at pointer: JSONPointer) throws(ValidationError) -> PlannedStep {
        guard let object = raw.objectValue else {
            throw ValidationError(pointer: pointer, message: "Expected an operation object but received \(raw.summary)")
        }
        guard let nameValue = object["op"] else {
            throw ValidationError(pointer: pointer, message: "Missing op; expected one of: \(stages.keys.sorted().joined(separator: ", "))")
        }
        guard let name = nameValue.stringValue, let stageType = stages[name] else {
            throw ValidationError(
                pointer: pointer.appending("op"),
                message: "Unknown operation \(nameValue.summary); expected one of: \(stages.keys.sorted().joined(separator: ", "))"
            )
        }
        let values = try ParameterSpec.resolve(object, specs: stageType.descriptor.parameters, at: pointer, owner: name, ignoring: ["op"])
        let parameters = Parameters(values)
        let stage = try stageType.init(parameters: parameters, at: pointer)
        return PlannedStep(op: name, parameters: parameters, stage: stage)
    }
}

/// A validated step, ready to run.
public struct PlannedStep: Sendable {
    public var op: String
    public var parameters: Parameters
    public var stage: any Stage

    /// The normalised form stored with the job (defaults filled in).
    public var json: JSONValue {
        var object = parameters.values
        object["op"] = .string(op)
        return .object(object)
    }
}

extension ValueKind {
    public var article: String {
        switch self {
        case let .source(kind): "the \(kind) input"
        case .image: "an image"
        case .video: "an edited video"
        case .product: "a finished output"
        }
    }
}

extension StageDescriptor {
    public var acceptsSummary: String {
        accepts.map(\.article).sorted().joined(separator: " or ")
    }
}
