import FFmpegBindings
import PipelineEngine
import StageSupport
import VipsBindings

extension EditedVideo {
    /// The frame shown at `position` of the video as edited, at the source's
    /// scale: a time counts as the edited video plays (after its trims and
    /// speed changes), and the picture goes through the edits a transcode
    /// applies, by the same filter graph.
    func frame(at position: FramePosition, context: StageContext) throws(StageError) -> VipsImage {
        let picture = try withFFmpeg("frame", stop: context.stop) { interrupt in
            let probe = try MediaProbe(path: source.path, interrupt: interrupt)
            guard let video = probe.video, let width = video.width, let height = video.height else {
                throw StageError.invalidInput("frame: the input has no video stream")
            }
            let stored = PictureSize(width: width, height: height), rotation = video.rotation ?? 0
            let edited = try EditPlan.editedSize(edits, stored: stored, rotation: rotation)
            let plan = try EditPlan(edits: edits, stored: stored, rotation: rotation, output: edited, context: context)
            try plan.checkWithin(probe)
            // The window, in the source's seconds.
            let timing = plan.timing
            let length = timing.duration ?? max(0, (probe.duration ?? 0) - timing.start)
            let offset = switch position {
            case let .seconds(value): min(value * timing.speed, length)
            case let .fraction(value): max(0, min(1, value)) * length
            }
            return try FrameGrabber.grab(path: source.path, at: .seconds(timing.start + offset), edits: plan.pictures,
                                         maxPixels: context.limits.maxImagePixels, interrupt: interrupt)
        }
        return try withVips("frame") { try VideoFrameImage.image(from: picture) }
    }
}
