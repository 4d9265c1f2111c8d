/// What kind of media an upload holds, sniffed from its bytes.
public enum MediaKind: String, Sendable, Codable, CaseIterable {
    case image, video, audio
}

/// The type of value flowing between steps. Each stage declares what it accepts
/// and what it produces, so a list like `[probe, encode]` is rejected before it runs.
public enum ValueKind: Hashable, Sendable, CustomStringConvertible {
    /// The job's input file, not yet decoded.
    case source(MediaKind)
    /// A decoded image (pixels in libvips).
    case image
    /// The video input with edits (crop, turn, overlays, trim, speed) that
    /// the step which encodes it applies as it decodes.
    case video
    /// Finished files and results: nothing further can follow.
    case product

    public var description: String {
        switch self {
        case let .source(kind): "\(kind) input"
        case .image: "image"
        case .video: "edited video"
        case .product: "finished output"
        }
    }

    public static let anySource: Set<ValueKind> = [.source(.image), .source(.video), .source(.audio)]
}
