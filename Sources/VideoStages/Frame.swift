import FFmpegBindings
import StageSupport
import PipelineEngine
import VipsBindings

/// `frame`: one frame of a video as an image, upright as players show it, for
/// the image steps that follow (thumbnail, resize, encode, blurhash, ...).
public struct Frame: Stage {
    public static let descriptor = StageDescriptor(
        name: "frame",
        summary: "Take the frame at a time or a percentage of a video, as edited so far (cropped, trimmed, sped up), as an image for the steps that follow",
        accepts: [.source(.video), .video],
        produces: .image,
        parameters: [
            ParameterSpec("time", .number(min: 0, max: 86_400), summary: "Seconds from the start, as the edited video plays"),
            ParameterSpec("percent", .number(min: 0, max: 100), summary: "Position as a percentage of the duration; the middle when neither is given"),
        ]
    )

    let position: FramePosition

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        switch (parameters.double("time"), parameters.double("percent")) {
        case let (time?, nil): position = .seconds(time)
        case let (nil, percent?): position = .fraction(percent / 100)
        case (nil, nil): position = .fraction(0.5)
        default: throw ValidationError(pointer: pointer, message: "give time or percent, not both")
        }
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if let shared = try sharedValue(input, context: context) { return shared }
        if case let .video(video as EditedVideo) = input { return .image(try video.frame(at: position, context: context)) }
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "frame needs the input file") }
        return .image(try VideoFrameImage.grab(file, at: position, context: context, operation: "frame"))
    }
}

extension Frame: PassParticipant {
    var readsWholeStream: Bool { false }

    func join(_ pass: SourcePass, source: SourceFile, context: StageContext) throws(StageError) -> () throws(StageError) -> StageValue {
        let seconds: Double = switch position {
        case let .seconds(value): value
        case let .fraction(value): max(0, min(1, value)) * pass.duration
        }
        let taken = Box<RGBFrame?>(nil)
        try withFFmpeg("frame", stop: context.stop) { _ in
            try pass.addFrames(at: [seconds], maxPixels: context.limits.maxImagePixels) { _, frame in taken.value = frame }
        }
        return { () throws(StageError) in
            guard let frame = taken.value else { throw StageError.invalidInput("frame: no frame could be decoded") }
            return .image(try withVips("frame") { try VideoFrameImage.image(from: frame) })
        }
    }
}
