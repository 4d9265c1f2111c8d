import FFmpegBindings
import PipelineEngine

/// A video's edits worked out for one source and one output box: the size
/// decoded pictures are scaled to first (so that cropping, turning and
/// drawing run on pictures no larger than the output's), the steps on it,
/// the size encoded, and the window and speed.
struct EditPlan {
    var pictures: PictureEdits
    var timing: EditTiming

    /// The picture the edits leave, at the source's scale, as shown.
    static func editedSize(_ edits: [any VideoEdit], stored: PictureSize, rotation: Int) throws(StageError) -> PictureSize {
        var size = rotation % 180 != 0 ? PictureSize(width: stored.height, height: stored.width) : stored
        for edit in edits { size = edit.size(after: size, scale: 1) }
        guard size.width >= 2, size.height >= 2 else {
            throw StageError.invalidInput("the edits leave a picture of \(size.width)x\(size.height)")
        }
        return size
    }

    /// - Parameters:
    ///   - stored: the source's picture as stored; `rotation` turns it upright (clockwise degrees).
    ///   - output: the size to encode, of the edited picture's aspect (from `editedSize`); never larger.
    init(edits: [any VideoEdit], stored: PictureSize, rotation: Int, output: PictureSize, context: StageContext) throws(StageError) {
        let turned = rotation % 180 != 0
        var size = try Self.editedSize(edits, stored: stored, rotation: rotation)
        // Decoded pictures are scaled once, by the factor that makes the edited
        // picture the output's size, and the edits worked out again at that scale.
        let scale = min(1, Double(output.width) / Double(size.width))
        let even = { (side: Int) in max(2, Int((Double(side) * scale / 2).rounded()) * 2) }
        let scaledStored = PictureSize(width: even(stored.width), height: even(stored.height))
        size = turned ? PictureSize(width: scaledStored.height, height: scaledStored.width) : scaledStored
        var steps: [PictureEdits.Step] = rotation == 0 ? [] : [.turn(rotation)]
        var timing = EditTiming()
        for edit in edits {
            steps += try edit.steps(on: size, scale: scale, context: context)
            size = edit.size(after: size, scale: scale)
            edit.retime(&timing)
        }
        // Each atempo filter takes 0.5 to 100; sixteen times either way is more than any edit wants.
        guard timing.speed >= 1.0 / 16, timing.speed <= 16 else {
            throw StageError.invalidInput("the speed changes multiply to \(timing.speed); at most 16 times faster or slower")
        }
        if let duration = timing.duration, duration <= 0 {
            throw StageError(code: "trim_outside_video", message: "the trims leave nothing of the video")
        }
        pictures = PictureEdits(scaledWidth: scaledStored.width, scaledHeight: scaledStored.height, steps: steps,
                                outputWidth: output.width, outputHeight: output.height)
        self.timing = timing
    }

    /// Refuses edits that start past the end of the source.
    func checkWithin(_ probe: MediaProbe) throws(StageError) {
        if let length = probe.duration, timing.start >= length {
            throw StageError(code: "trim_outside_video", message: "the edits start at \(timing.start) s of a \(length) s video")
        }
    }
}
