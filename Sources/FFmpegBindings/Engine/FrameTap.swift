import CFFmpeg

/// Takes pictures at chosen times from a pass that decodes the stream anyway
/// (a poster, storyboard tiles): for each time, the first frame shown at or
/// after it, or the last frame when the stream ends before it. Only the chosen
/// frames are converted to RGB.
final class FrameTap: FrameConsumer {
    private let decoder: Decoder
    /// Stream times, ascending, with the index each was asked at.
    private var targets: [(time: Int64, index: Int)]
    private let take: (Int, RGBFrame) throws(FFmpegError) -> Void
    private let last: MediaFrame
    /// One for every frame taken: a storyboard's tiles share its context.
    private let scaler = Scaler.forStills()

    init(decoder: Decoder, seconds: [Double], take: @escaping (Int, RGBFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        self.decoder = decoder
        targets = seconds.enumerated().map { (Int64(max(0, $0.element) / av_q2d(decoder.timeBase)), $0.offset) }.sorted { $0.time < $1.time }
        self.take = take
        last = try MediaFrame()
    }

    var wantsMore: Bool { !targets.isEmpty }

    func consume(_ frame: MediaFrame) throws(FFmpegError) {
        guard let time = frame.time else { return }
        var converted: RGBFrame?
        while let next = targets.first, next.time <= time {
            targets.removeFirst()
            if converted == nil { converted = try FrameGrabber.convert(frame, decoder: decoder, scaler: scaler) }
            try take(next.index, converted!)
        }
        last.unref()
        try check(av_frame_ref(last.pointer, frame.pointer), "av_frame_ref")
    }

    func finish() throws(FFmpegError) {
        guard !targets.isEmpty else { return }
        guard last.width > 0 else { throw .invalidData(message: "no frame could be decoded") }
        let converted = try FrameGrabber.convert(last, decoder: decoder, scaler: scaler)
        for target in targets { try take(target.index, converted) }
        targets = []
    }
}
