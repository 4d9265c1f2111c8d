import PipelineEngine

/// The largest upload accepted for each kind of media, in bytes.
public struct UploadLimits: Sendable {
    public var image: Int
    public var video: Int
    public var audio: Int

    public init(image: Int = 50 << 20, video: Int = 4 << 30, audio: Int = 1 << 30) {
        self.image = image
        self.video = video
        self.audio = audio
    }

    public func limit(for kind: MediaKind) -> Int {
        switch kind {
        case .image: image
        case .video: video
        case .audio: audio
        }
    }

    var largest: Int { max(image, video, audio) }
}
