import PipelineEngine

/// The FFmpeg-backed stages, for the registry.
public enum VideoStages {
    /// FFmpeg's verdict on a video or audio input (see `SourceMedia.inspect`).
    public static func inspect(_ source: SourceFile, limits: ProcessingLimits) throws(StageError) {
        _ = try SourceMedia.inspect(source, limits: limits)
    }

    /// One decode of a video for every output that can share it (a ladder, a fallback, posters, a storyboard).
    public static let sharedDecoder: any SharedDecoder = VideoSharedDecoder()

    public static let all: [any Stage.Type] = [Probe.self, Frame.self, Storyboard.self, Waveform.self, Audio.self, Loudnorm.self, Transcode.self, HLS.self,
                                                  VideoCrop.self, VideoRotate.self, VideoWatermark.self, Trim.self, Speed.self]
}
