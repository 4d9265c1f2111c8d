/// A decoded image as the engine sees it; ImageStages supplies the libvips type.
public protocol ImageValue: Sendable {
    var width: Int { get }
    var height: Int { get }
}

/// The job's input as fetched into the worker's scratch space.
public struct SourceFile: Sendable {
    public var path: String
    public var kind: MediaKind
    public var contentType: String

    public init(path: String, kind: MediaKind, contentType: String) {
        self.path = path
        self.kind = kind
        self.contentType = contentType
    }
}

/// A file a step wrote into the output's scratch directory.
public struct ProducedFile: Sendable, Equatable, Codable {
    /// Path relative to the output's directory, e.g. `thumb.webp` or `720p/seg_001.ts`.
    public var name: String
    public var contentType: String
    public var size: Int
    public var width: Int?
    public var height: Int?
    public var duration: Double?

    public init(name: String, contentType: String, size: Int, width: Int? = nil, height: Int? = nil, duration: Double? = nil) {
        self.name = name
        self.contentType = contentType
        self.size = size
        self.width = width
        self.height = height
        self.duration = duration
    }
}

/// What an output finally yields: files to publish and named results
/// (`blurhash`, `metadata`, `playlist`, ...).
public struct OutputProduct: Sendable {
    public var files: [ProducedFile]
    public var results: [String: JSONValue]

    public init(files: [ProducedFile] = [], results: [String: JSONValue] = [:]) {
        self.files = files
        self.results = results
    }
}

/// The typed value passed from one step to the next: decode once, encode once.
public enum StageValue: Sendable {
    case source(SourceFile)
    case image(any ImageValue)
    case product(OutputProduct)

    public var kind: ValueKind {
        switch self {
        case let .source(file): .source(file.kind)
        case .image: .image
        case .product: .product
        }
    }
}
