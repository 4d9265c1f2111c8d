import ImageStages
import PipelineEngine
import VideoStages

/// The registry of every operation: the single place where stage targets meet.
public enum Stages {
    public static let registry = StageRegistry(ImageStages.all + VideoStages.all, sharedDecoder: ImageStages.sharedDecoder)
}
