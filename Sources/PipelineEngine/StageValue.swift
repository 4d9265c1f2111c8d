/// A decoded image as the engine sees it; ImageStages supplies the libvips type.
public protocol ImageValue: Sendable {
    var width: Int { get }
    var height: Int { get }
}

/// A video with edits still to apply; VideoStages supplies the type.
public protocol VideoValue: Sendable {
    /// The file the edits apply to.
    var source: SourceFile { get }
}

/// The job's input as fetched into the worker's scratch space.
public struct SourceFile: Sendable {
    public var path: String
    public var kind: MediaKind
    public var contentType: String
    /// Set when several outputs' first steps read this file in one shared pass
    /// (see `SharedDecoder`); the steps that take part find their share there.
    public var sharedPass: (any SharedPass)?

    public init(path: String, kind: MediaKind, contentType: String) {
        self.path = path
        self.kind = kind
        self.contentType = contentType
    }
}

/// How a produced file behaves once published: the worker (which keys and
/// republishes) and the HTTP layer (which caches) ask this, not file names.
public enum Publication: String, Sendable, Codable, Equatable {
    /// Written once and never changed after it is published (a segment, an image, a finished file).
    case fixed
    /// A playlist republished as its output runs (EVENT until the end, then VOD):
    /// each new version replaces the last, and none may be cached while the output runs.
    case livePlaylist
    /// The live playlist players open (an HLS master): once it is published the
    /// output is playable, and the job's `playlist` and `playbackUrl` name it.
    case playbackEntry

    /// Whether a newer version may replace what was published.
    public var isLive: Bool { self != .fixed }
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
    public var publication: Publication

    public init(name: String, contentType: String, size: Int, width: Int? = nil, height: Int? = nil, duration: Double? = nil,
                publication: Publication = .fixed) {
        self.publication = publication
        self.name = name
        self.contentType = contentType
        self.size = size
        self.width = width
        self.height = height
        self.duration = duration
    }
}

/// What an output finally yields: files to publish and named results
/// (`blurhash`, `metadata`, `renditions`, ...).
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
    case video(any VideoValue)
    case product(OutputProduct)

    public var kind: ValueKind {
        switch self {
        case let .source(file): .source(file.kind)
        case .image: .image
        case .video: .video
        case .product: .product
        }
    }
}
