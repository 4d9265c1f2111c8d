import Foundation
import PipelineEngine
import StageSupport
import VipsBindings

/// An animated GIF or WebP on its way through a pipeline: its frames, each a
/// (lazy) libvips image of one size, with how long each shows and how often
/// the whole plays. Frame-wise steps (`FrameWiseStage`) map every frame;
/// `encode` writes it back as an animation, or takes its first frame for a
/// format that holds only one picture.
struct Animation: ImageValue {
    var frames: [VipsImage]
    /// Milliseconds per frame.
    var delays: [Int]
    /// Plays this often; 0 is for ever.
    var loop: Int
    /// The format it came in, which `encode` keeps when none is named.
    var sourceFormat: Encode.Format

    var width: Int { frames[0].width }
    var height: Int { frames[0].height }
    var duration: Double { Double(delays.reduce(0, +)) / 1000 }

    /// Browsers show a frame with no delay, or one under 20 ms, for 100 ms; so does Kiln.
    static func playable(_ delay: Int) -> Int { delay < 20 ? 100 : delay }

    /// How long each frame of an animation's header shows, as it plays (one per
    /// frame; a frame the header gives no delay shows 100 ms).
    static func playingDelays(of header: VipsImage) -> [Int] {
        let delays = header.frameDelays
        return (0..<header.pageCount).map { playable($0 < delays.count ? delays[$0] : 100) }
    }

    /// The input as an animation, or nil when it is a still (one frame, or a
    /// format that cannot animate). The frame count, the pixels over every
    /// frame and the playing time are checked against the limits from the
    /// header, before any frame is decoded.
    static func load(_ file: SourceFile, limits: ProcessingLimits) throws(StageError) -> Animation? {
        // Only GIF and WebP animate; a JPEG's first step need not open its header twice.
        guard !stillTypes.contains(file.contentType) else { return nil }
        let header = try SourceImage.header(file, limits: limits)
        guard header.pageCount > 1, let format = animatedFormat(loader: header.loader) else { return nil }
        let stacked = try withVips("decode") { try VipsImage.openAllPages(path: file.path, loader: format.loader) }
        let frames = try withVips("decode") { try stacked.pages() }
        return Animation(frames: frames, delays: playingDelays(of: stacked), loop: stacked.loopCount, sourceFormat: format.format)
    }

    /// Frame `index` of the input as a still (a still's own picture for 0).
    static func still(_ index: Int, of file: SourceFile, limits: ProcessingLimits) throws(StageError) -> VipsImage {
        let header = try SourceImage.header(file, limits: limits)
        guard index < header.pageCount else {
            throw StageError(code: "frame_out_of_range", message: "frame \(index) asked of an image with \(header.pageCount) frame(s); the first is 0")
        }
        guard index > 0, let format = animatedFormat(loader: header.loader) else {
            return try StageValue.source(file).vipsImage(limits: limits)
        }
        return try withVips("decode") { try VipsImage.openPage(path: file.path, loader: format.loader, page: index) }
    }

    /// Types the upload sniffer reports that never hold an animation Kiln reads.
    static let stillTypes: Set<String> = ["image/jpeg", "image/png", "image/heic", "image/heif", "image/avif"]

    /// The animation a step is given: one already decoded, or the input file's
    /// when it animates; nil for a still.
    static func of(_ input: StageValue, limits: ProcessingLimits) throws(StageError) -> Animation? {
        switch input {
        case let .image(animation as Animation): animation
        case let .source(file) where file.kind == .image: try load(file, limits: limits)
        default: nil
        }
    }

    /// What an output written as an animation reports besides its file.
    var results: [String: JSONValue] {
        ["frames": .number(Double(frames.count)), "duration": .number(duration), "loop": .number(Double(loop))]
    }

    /// The loaders whose files can animate, and the format each keeps.
    static func animatedFormat(loader: String?) -> (loader: String, format: Encode.Format)? {
        switch loader.map(SourceImage.baseLoader) {
        case "gifload": ("gifload", .gif)
        case "webpload": ("webpload", .webp)
        default: nil
        }
    }

    /// Refuses an animation too long or too large to process, from its header.
    static func checkLimits(_ header: VipsImage, limits: ProcessingLimits) throws(StageError) {
        let count = header.pageCount
        guard count > 1, animatedFormat(loader: header.loader) != nil else { return }
        if count > limits.maxAnimationFrames {
            throw StageError.inputTooLarge("the animation has \(count) frames; the limit is \(limits.maxAnimationFrames)")
        }
        let pixels = header.width * header.height * count
        if pixels > limits.maxAnimationPixels {
            throw StageError.inputTooLarge(
                "the animation's \(count) frames of \(header.width)x\(header.height) hold \(pixels) pixels; the limit is \(limits.maxAnimationPixels)")
        }
        let seconds = Double(playingDelays(of: header).reduce(0, +)) / 1000
        if seconds > limits.maxDurationSeconds {
            throw StageError.inputTooLarge("the animation plays for \(Int(seconds)) s; the limit is \(Int(limits.maxDurationSeconds)) s")
        }
    }

    /// The same animation with each frame replaced by `transform`'s result. The
    /// frames must still share one size, which every frame-wise step keeps by
    /// computing its geometry from the size alone.
    func mapFrames(_ transform: (VipsImage) throws(StageError) -> VipsImage) throws(StageError) -> Animation {
        var mapped: [VipsImage] = []
        mapped.reserveCapacity(frames.count)
        for frame in frames { mapped.append(try transform(frame)) }
        guard mapped.allSatisfy({ $0.width == mapped[0].width && $0.height == mapped[0].height }) else {
            throw StageError(code: "internal", message: "the frames of an animation came out of a step in different sizes")
        }
        var result = self
        result.frames = mapped
        return result
    }

    /// The frames stacked as the GIF and WebP savers write an animation.
    func stacked() throws(StageError) -> VipsImage {
        try withVips("encode") { try VipsImage.animation(frames: frames, delays: delays, loop: loop) }
    }
}
