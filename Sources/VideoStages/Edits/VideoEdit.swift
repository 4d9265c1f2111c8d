import FFmpegBindings
import PipelineEngine

/// A picture's size at one point of the edits, as shown (upright).
struct PictureSize: Equatable, Sendable {
    var width: Int
    var height: Int
}

/// When and how fast the output plays, in the source's seconds: edits of
/// time narrow the window and change the speed in the order they come.
struct EditTiming: Sendable, Equatable {
    var start: Double = 0
    var duration: Double?
    var speed: Double = 1

    /// Keeps `duration` seconds (nil: to the end) from `start`, both as the
    /// output plays at this point of the edits.
    mutating func trim(start offset: Double, duration kept: Double?) {
        start += offset * speed
        let asked = kept.map { $0 * speed }
        let left = duration.map { max(0, $0 - offset * speed) }
        duration = switch (asked, left) {
        case let (a?, l?): min(a, l)
        case let (a?, nil): a
        case let (nil, l): l
        }
    }
}

/// One edit of a video: the picture's shape, what is drawn on it, or its timing.
/// Edits only describe; the step that encodes (`transcode`) works out the
/// whole list for its source and output size and applies it as it decodes.
protocol VideoEdit: Sendable {
    /// The picture's size after this edit, from its size before; `scale` is
    /// how many pixels of this picture make one of the source's.
    func size(after size: PictureSize, scale: Double) -> PictureSize
    /// What is done to a picture of `size` (as encoded; `scale` as above).
    func steps(on size: PictureSize, scale: Double, context: StageContext) throws(StageError) -> [PictureEdits.Step]
    /// Changes the window or the speed.
    func retime(_ timing: inout EditTiming)
}

extension VideoEdit {
    func size(after size: PictureSize, scale: Double) -> PictureSize { size }
    func steps(on size: PictureSize, scale: Double, context: StageContext) throws(StageError) -> [PictureEdits.Step] { [] }
    func retime(_ timing: inout EditTiming) {}
}

/// The video input with the edits the steps so far asked for.
struct EditedVideo: VideoValue {
    var source: SourceFile
    var edits: [any VideoEdit]
}

extension StageValue {
    /// The video this step edits further: the input with no edits yet, or what the last step left.
    func editedVideo(_ operation: String) throws(StageError) -> EditedVideo {
        switch self {
        case let .source(file) where file.kind == .video: return EditedVideo(source: file, edits: [])
        case let .video(video as EditedVideo): return video
        default: throw StageError(code: "internal", message: "\(operation) needs the video input")
        }
    }

    /// `edit` appended to this video's edits.
    func adding(_ edit: any VideoEdit, _ operation: String) throws(StageError) -> StageValue {
        var video = try editedVideo(operation)
        video.edits.append(edit)
        return .video(video)
    }
}

/// What every edit step accepts and yields.
enum VideoEditKinds {
    static let accepts: Set<ValueKind> = [.source(.video), .video]
}
