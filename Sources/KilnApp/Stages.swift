import ImageStages
import PipelineEngine
import VideoStages

/// The registry of every operation: the single place where stage targets meet.
public enum Stages {
    public static let registry = StageRegistry(ImageStages.all + VideoStages.all + CrashOperation.enabled(), sharedDecoder: SharedDecoders([ImageStages.sharedDecoder, VideoStages.sharedDecoder]),
                                             sourceInspector: InputVerdict())
}

/// Each kind of input judged by the library that will decode it.
struct InputVerdict: SourceInspector {
    func inspect(_ source: SourceFile, limits: ProcessingLimits) throws(StageError) {
        switch source.kind {
        case .image: try ImageStages.inspect(source, limits: limits)
        case .video, .audio: try VideoStages.inspect(source, limits: limits)
        }
    }
}
