/// Describes an operation: its name, what it does, what it takes and yields,
/// and its parameters. Everything public about operations derives from this.
public struct StageDescriptor: Sendable {
    public var name: String
    public var summary: String
    public var accepts: Set<ValueKind>
    public var produces: ValueKind
    public var parameters: [ParameterSpec]

    public init(name: String, summary: String, accepts: Set<ValueKind>, produces: ValueKind, parameters: [ParameterSpec]) {
        self.name = name
        self.summary = summary
        self.accepts = accepts
        self.produces = produces
        self.parameters = parameters
    }
}

/// One operation. A stage is built from validated parameters (so building it is
/// the last validation step) and runs blocking C work on the engine's thread pool.
public protocol Stage: Sendable {
    static var descriptor: StageDescriptor { get }

    /// Builds the stage from parameters that already passed the descriptor's
    /// checks; throws for rules that span several fields.
    init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError)

    /// Runs the step. Blocking; never called on Swift's cooperative pool.
    func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue

    /// Files besides the input this step reads (a watermark's image), as
    /// `AssetReference` strings; the worker fetches them before the job runs.
    var assetReferences: [String] { get }
}

extension Stage {
    public var assetReferences: [String] { [] }
}

/// A file a step refers to: an uploaded image of the job's tenant (`med_…`) or
/// a file shipped under the pipelines directory (`assets/logo.png`).
public enum AssetReference: Equatable, Sendable {
    case media(String)
    case file(String)

    public init?(_ text: String) {
        let safe = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") }
        if text.hasPrefix("med_"), text.count <= 64, text.allSatisfy(safe), !text.contains(".") {
            self = .media(text)
        } else if text.hasPrefix("assets/"), text.count <= 256 {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && $0.allSatisfy(safe) }) else { return nil }
            self = .file(text)
        } else {
            return nil
        }
    }

    public static let syntax = "an uploaded image's id (med_...) or a file under the pipelines directory (assets/name.png)"
}

/// Validated parameters with defaults filled in.
public struct Parameters: Sendable, Hashable {
    public let values: [String: JSONValue]

    public init(_ values: [String: JSONValue]) { self.values = values }

    public func int(_ name: String) -> Int? { values[name]?.intValue }
    public func double(_ name: String) -> Double? { values[name]?.doubleValue }
    public func string(_ name: String) -> String? { values[name]?.stringValue }
    public func bool(_ name: String) -> Bool? { values[name]?.boolValue }
    public subscript(name: String) -> JSONValue? { values[name] }
    /// A `.colour` parameter, already checked by validation.
    public func colour(_ name: String) -> Colour? { string(name).flatMap(Colour.init(parsing:)) }
}
