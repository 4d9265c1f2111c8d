import CFFmpeg

/// The video renditions of an HLS ladder from one decode. Each rung scales
/// from the rung above it (a smaller, cheaper picture than the source) and is
/// encoded with an IDR forced at every segment boundary, the same frame in
/// every rung, so every rendition cuts at the same moments. Each rung writes
/// through its own `hls` muxer. With edits, the top rung's picture comes out
/// of them (scaled, turned, cropped, overlaid), and the ladder keeps a window
/// of the source, played at a speed.
final class LadderEncoding: FrameConsumer {
    final class Rung {
        /// Where the rung's packets go; used on the rung's encoder thread.
        final class Output {
            let encoder: Encoder
            let muxer: Muxer
            let stream: Int32
            /// Other muxer streams that take this rung's packets as they are (an MP4 fallback of the same encode).
            private var copies: [(muxer: Muxer, stream: Int32)] = []
            private var copy: Packet?

            init(encoder: Encoder, muxer: Muxer, stream: Int32) {
                self.encoder = encoder
                self.muxer = muxer
                self.stream = stream
            }

            func share(with muxer: Muxer, stream: Int32) throws(FFmpegError) {
                if copy == nil { copy = try Packet() }
                copies.append((muxer, stream))
            }

            func encode(_ picture: MediaFrame?) throws(FFmpegError) {
                try encoder.encode(picture) { (packet) throws(FFmpegError) in
                    if let copy {
                        for target in copies {
                            try check(av_packet_ref(copy.pointer, packet.pointer), "av_packet_ref")
                            defer { copy.unref() }
                            try target.muxer.write(copy, stream: target.stream, from: encoder.timeBase)
                        }
                    }
                    try muxer.write(packet, stream: stream, from: encoder.timeBase)
                }
            }
        }

        let output: Output
        let scaler = Scaler()
        let thread: EncoderThread
        var encoder: Encoder { output.encoder }
        var muxer: Muxer { output.muxer }

        /// Called before the pass runs: the shared stream is there before the first packet.
        func share(with muxer: Muxer, stream: Int32) throws(FFmpegError) { try output.share(with: muxer, stream: stream) }

        init(encoder: Encoder, muxer: Muxer, frameRate: AVRational, interrupt: InterruptFlag) throws(FFmpegError) {
            let output = Output(encoder: encoder, muxer: muxer, stream: try muxer.addStream(for: encoder, frameRate: frameRate))
            self.output = output
            let width = Int(encoder.context.pointee.width), height = Int(encoder.context.pointee.height)
            thread = EncoderThread(name: "kiln-rung-\(height)", interrupt: interrupt, makePicture: { () throws(FFmpegError) in
                try MediaFrame(width: width, height: height, format: AV_PIX_FMT_YUV420P)
            }, encode: { (picture) throws(FFmpegError) in try output.encode(picture) })
        }
    }

    let rungs: [Rung]
    /// The time base in which a frame's time since the first plays (the source's, divided by the speed).
    private let inputBase: AVRational
    private let editor: PictureEditor?
    /// The window kept, in the source's time base: from `start` (nil: the first picture) to `end`.
    private let start: Int64?
    private let end: Int64?
    private var pastEnd = false
    private let frameRate: AVRational
    /// Where each segment ends (seconds from the first picture), by index.
    private let segmentEnd: (Int) -> Double
    private var segmentsStarted = 0
    private var nextBoundary: Int64 = 0
    /// The top rung's picture before its edits: turned upright (HLS players ignore a display matrix), cropped, overlaid.
    private let stored: MediaFrame?
    private(set) var firstTime: Int64?
    private(set) var lastTime: Int64?
    /// The last picture's end (its time plus its duration), input time base.
    private var videoEnd: Int64 = 0

    /// `rungs` are tallest first, each (encoder, muxer) made for the picture as shown.
    /// - Parameters:
    ///   - window: seconds of the source kept (its start and length); nil keeps all of it.
    ///   - playingBase: the encoders' time base (the source's divided by the speed).
    init(rungs: [(Encoder, Muxer)], decoder: Decoder, stream source: UnsafeMutablePointer<AVStream>, frameRate: AVRational,
         segmentEnd: @escaping (Int) -> Double, interrupt: InterruptFlag, edits: PictureEdits? = nil,
         window: (start: Double, duration: Double?)? = nil, playingBase: AVRational? = nil) throws(FFmpegError) {
        var made: [Rung] = []
        for (encoder, muxer) in rungs { made.append(try Rung(encoder: encoder, muxer: muxer, frameRate: frameRate, interrupt: interrupt)) }
        self.rungs = made
        inputBase = playingBase ?? decoder.timeBase
        self.frameRate = frameRate
        self.segmentEnd = segmentEnd
        if let window {
            let origin = source.pointee.start_time == kiln_av_nopts_value() ? 0 : source.pointee.start_time
            let first = origin + av_rescale_q(Int64(window.start * Double(AV_TIME_BASE)), kiln_av_time_base_q(), decoder.timeBase)
            start = first
            end = window.duration.map { first + av_rescale_q(Int64($0 * Double(AV_TIME_BASE)), kiln_av_time_base_q(), decoder.timeBase) }
        } else {
            start = nil
            end = nil
        }
        // Turning upright is an edit of one step: the top rung's size, as stored.
        let rotation = decoder.rotation
        var edits = edits
        if edits == nil, rotation != 0, let top = made.first {
            let width = Int(top.encoder.context.pointee.width), height = Int(top.encoder.context.pointee.height)
            let quarter = rotation % 180 != 0
            edits = .turning(rotation, width: quarter ? height : width, height: quarter ? width : height)
        }
        let playing = inputBase
        editor = try edits.map { edits throws(FFmpegError) in try PictureEditor(edits, timeBase: playing) }
        stored = try edits.map { edits throws(FFmpegError) in
            try MediaFrame(width: edits.scaledWidth, height: edits.scaledHeight, format: AV_PIX_FMT_YUV420P)
        }
    }

    var wantsMore: Bool { !pastEnd }

    /// Seconds of video encoded so far.
    var position: Double {
        guard let firstTime, let lastTime else { return 0 }
        return Double(lastTime - firstTime) * av_q2d(inputBase)
    }

    /// Seconds from the first picture's start to the last one's end, as the source's timestamps say.
    var videoSeconds: Double {
        guard let firstTime else { return 0 }
        return Double(videoEnd - firstTime) * av_q2d(inputBase)
    }

    func consume(_ frame: MediaFrame) throws(FFmpegError) {
        guard let time = frame.time, lastTime.map({ time > $0 }) ?? true else { return }
        if let start, time < start { return }
        if let end, time >= end {
            pastEnd = true
            return
        }
        // Times count from the window's start, as the sound's do, or from the first picture.
        let first = firstTime ?? start ?? time
        firstTime = first
        lastTime = time
        let nominal = av_rescale_q(1, av_inv_q(frameRate), inputBase)
        videoEnd = time + (frame.duration > 0 ? frame.duration : nominal)
        let outTime = time - first
        var keyframe = false
        if av_compare_ts(outTime, inputBase, nextBoundary, kiln_av_time_base_q()) >= 0 {
            keyframe = true
            while av_compare_ts(outTime, inputBase, nextBoundary, kiln_av_time_base_q()) >= 0 {
                nextBoundary = Int64((segmentEnd(segmentsStarted) * Double(AV_TIME_BASE)).rounded())
                segmentsStarted += 1
            }
        }
        // Each rung scales from the one above; its encoder thread only reads the
        // picture, so the next rung can scale from it while it is encoded.
        var source = frame
        for (index, rung) in rungs.enumerated() {
            let picture = try rung.thread.take()
            let width = Int(rung.encoder.context.pointee.width), height = Int(rung.encoder.context.pointee.height)
            if index == 0, let editor, let stored {
                try stored.makeWritable()
                try rung.scaler.scale(source, into: stored)
                stored.pointer.pointee.pts = outTime
                var made = false
                try editor.edit(stored) { (edited) throws(FFmpegError) in
                    guard !made, edited.width == width, edited.height == height else {
                        throw .failed(operation: "edit", code: kiln_averror(EINVAL), message: "the edits gave a picture other than the top rung's")
                    }
                    made = true
                    // The graph's picture itself, by reference: its buffer returns to the graph's pool once encoded.
                    picture.unref()
                    av_frame_move_ref(picture.pointer, edited.pointer)
                }
                guard made else { throw .failed(operation: "edit", code: kiln_averror(EAGAIN), message: "the edits kept a picture back") }
            } else if index == 0, source.width == width, source.height == height, source.format == AV_PIX_FMT_YUV420P.rawValue {
                // The top rung at the source's size: the decoded picture itself, by reference.
                picture.unref()
                try check(av_frame_ref(picture.pointer, source.pointer), "av_frame_ref")
            } else {
                try picture.makeBlank(width: width, height: height, format: AV_PIX_FMT_YUV420P)
                try rung.scaler.scale(source, into: picture)
            }
            picture.pointer.pointee.pts = outTime
            picture.pointer.pointee.pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
            try rung.thread.send(picture)
            source = picture
        }
    }

    func finish() throws(FFmpegError) {
        // Not one picture decoded (a header the decoder cannot use): a ladder of nothing is not a success.
        guard firstTime != nil else { throw .invalidData(message: "no picture could be decoded") }
        for rung in rungs {
            try rung.thread.finish()
            try rung.muxer.finish()
        }
    }
}
