import FFmpegBindings
import Foundation
import PipelineEngine
import StageSupport
import VipsBindings

/// An animated GIF, WebP or PNG on its way through a pipeline: its frames, each a
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
        playingDelays(header.frameDelays, count: header.pageCount)
    }

    static func playingDelays(_ delays: [Int], count: Int) -> [Int] {
        (0..<count).map { playable($0 < delays.count ? delays[$0] : 100) }
    }

    /// What an animated input's header says, no frame decoded.
    struct Header {
        enum Reader {
            /// libvips reads every frame (GIF, WebP).
            case vips(loader: String)
            /// libvips reads only the first frame of an APNG; FFmpeg's decoder reads them all.
            case apng
        }

        var reader: Reader
        var frames: Int
        var width: Int
        var height: Int
        /// Playing milliseconds per frame.
        var delays: [Int]
        var loop: Int
        var format: Encode.Format

        var duration: Double { Double(delays.reduce(0, +)) / 1000 }
    }

    /// The header of `file` as an animation (`image` is its libvips header), or nil for a still.
    static func header(of file: SourceFile, image: VipsImage) throws(StageError) -> Header? {
        if image.pageCount > 1, let format = animatedFormat(loader: image.loader) {
            return Header(reader: .vips(loader: format.loader), frames: image.pageCount, width: image.width, height: image.pageHeight,
                          delays: playingDelays(of: image), loop: image.loopCount, format: format.format)
        }
        guard image.loader.map(SourceImage.baseLoader) == "pngload", let apng = try APNGHeader.read(path: file.path) else { return nil }
        // No APNG writer here: an APNG is written on as an animated WebP, which every browser plays.
        return Header(reader: .apng, frames: apng.frames, width: apng.width, height: apng.height,
                      delays: playingDelays(apng.delays, count: apng.frames), loop: apng.plays, format: .webp)
    }

    /// The input as an animation, or nil when it is a still (one frame, or a
    /// format that cannot animate). The frame count, the pixels over every
    /// frame and the playing time are checked against the limits from the
    /// header (in `SourceImage.header`), before any frame is decoded.
    static func load(_ file: SourceFile, limits: ProcessingLimits, stop: StopToken = StopToken()) throws(StageError) -> Animation? {
        // Only GIF, WebP and PNG animate; a JPEG's first step need not open its header twice.
        guard !stillTypes.contains(file.contentType) else { return nil }
        let image = try SourceImage.header(file, limits: limits)
        guard let header = try header(of: file, image: image) else { return nil }
        let frames = try decodeFrames(file, header: header, limits: limits, stop: stop)
        return Animation(frames: frames, delays: playingDelays(header.delays, count: frames.count), loop: header.loop, sourceFormat: header.format)
    }

    /// Every frame of an animated input, decoded.
    static func decodeFrames(_ file: SourceFile, header: Header, limits: ProcessingLimits, stop: StopToken) throws(StageError) -> [VipsImage] {
        switch header.reader {
        case let .vips(loader):
            let stacked = try withVips("decode") { try VipsImage.openAllPages(path: file.path, loader: loader) }
            return try withVips("decode") { try stacked.pages() }
        case .apng:
            var frames: [VipsImage] = []
            try withFFmpeg("decode", stop: stop) { interrupt in
                try AnimatedPNG.frames(path: file.path, maxFrames: limits.maxAnimationFrames, maxPixels: limits.maxImagePixels,
                                       interrupt: interrupt) { (frame) throws(FFmpegError) in
                    do {
                        frames.append(try VipsImage.fromRGBA(frame.bytes, width: frame.width, height: frame.height))
                    } catch let error as VipsError {
                        throw .invalidData(message: "an APNG frame: \(error.message)")
                    } catch {
                        throw .invalidData(message: "an APNG frame: \(error)")
                    }
                }
            }
            guard frames.allSatisfy({ $0.width == header.width && $0.height == header.height }) else {
                throw StageError.invalidInput("the APNG's frames are not all its canvas's size")
            }
            return frames
        }
    }

    /// Frame `index` of the input as a still (a still's own picture for 0).
    static func still(_ index: Int, of file: SourceFile, limits: ProcessingLimits, stop: StopToken = StopToken()) throws(StageError) -> VipsImage {
        let image = try SourceImage.header(file, limits: limits)
        let header = try header(of: file, image: image)
        let count = header?.frames ?? image.pageCount
        guard index < count else {
            throw StageError(code: "frame_out_of_range", message: "frame \(index) asked of an image with \(count) frame(s); the first is 0")
        }
        guard index > 0, let header else { return try StageValue.source(file).vipsImage(limits: limits) }
        switch header.reader {
        case let .vips(loader): return try withVips("decode") { try VipsImage.openPage(path: file.path, loader: loader, page: index) }
        case .apng:
            let frames = try decodeFrames(file, header: header, limits: limits, stop: stop)
            guard index < frames.count else {
                throw StageError(code: "frame_out_of_range", message: "frame \(index) asked of an APNG with \(frames.count) frame(s)")
            }
            return frames[index]
        }
    }

    /// Types the upload sniffer reports that never hold an animation Kiln reads.
    static let stillTypes: Set<String> = ["image/jpeg", "image/heic", "image/heif", "image/avif"]

    /// The animation a step is given: one already decoded, or the input file's
    /// when it animates; nil for a still.
    static func of(_ input: StageValue, limits: ProcessingLimits, stop: StopToken = StopToken()) throws(StageError) -> Animation? {
        switch input {
        case let .image(animation as Animation): animation
        case let .source(file) where file.kind == .image: try load(file, limits: limits, stop: stop)
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
    static func checkLimits(_ header: Header, limits: ProcessingLimits) throws(StageError) {
        let count = header.frames
        if count > limits.maxAnimationFrames {
            throw StageError.inputTooLarge("the animation has \(count) frames; the limit is \(limits.maxAnimationFrames)")
        }
        let (pixels, overflow) = (header.width * header.height).multipliedReportingOverflow(by: count)
        if overflow || pixels > limits.maxAnimationPixels {
            throw StageError.inputTooLarge(
                "the animation's \(count) frames of \(header.width)x\(header.height) hold \(pixels) pixels; the limit is \(limits.maxAnimationPixels)")
        }
        if header.duration > limits.maxDurationSeconds {
            throw StageError.inputTooLarge("the animation plays for \(Int(header.duration)) s; the limit is \(Int(limits.maxDurationSeconds)) s")
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
