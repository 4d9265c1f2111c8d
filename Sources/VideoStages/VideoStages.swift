import PipelineEngine

/// The FFmpeg-backed stages, for the registry.
public enum VideoStages {
    public static let all: [any Stage.Type] = [Probe.self, Frame.self, Storyboard.self, Waveform.self, Audio.self, Loudnorm.self, Transcode.self]
}
