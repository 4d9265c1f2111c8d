import CFFmpeg

/// A decoder for one stream of an open `Demuxer` (`AVCodecContext`).
///
/// Damaged packets are skipped, as players do: the rest of the stream still plays.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let streamIndex: Int32
    let timeBase: AVRational
    let kind: StreamInfo.Kind
    /// Clockwise degrees a player turns the picture (the stream's display matrix); 0 for sound.
    let rotation: Int

    /// The largest frame a video decoder may produce: the header is checked
    /// before decoding, but a stream can change size mid-way. 8192x6144, above
    /// any camera's video and below what would exhaust memory.
    static let maxFramePixels = 8192 * 6144

    /// Opens the best stream of `kind`; for video, `maxPixels` bounds what the
    /// decoder allocates for one frame, whatever the header claimed.
    convenience init(_ demuxer: Demuxer, best kind: StreamInfo.Kind, maxPixels: Int = Decoder.maxFramePixels) throws(FFmpegError) {
        let type = kind == .video ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO
        let index = av_find_best_stream(demuxer.context, type, -1, -1, nil, 0)
        guard index >= 0 else { throw .invalidData(message: "no \(kind.rawValue) stream") }
        try self.init(demuxer, stream: index, maxPixels: maxPixels)
    }

    init(_ demuxer: Demuxer, stream index: Int32, maxPixels: Int = Decoder.maxFramePixels) throws(FFmpegError) {
        guard let stream = demuxer.stream(index) else { throw .invalidData(message: "no stream \(index)") }
        let parameters = stream.pointee.codecpar.pointee
        kind = parameters.codec_type == AVMEDIA_TYPE_VIDEO ? .video : .audio
        guard let codec = avcodec_find_decoder(parameters.codec_id) else {
            throw .invalidData(message: "no decoder for \(avcodec_get_name(parameters.codec_id).map { String(cString: $0) } ?? "this codec")")
        }
        if kind == .video {
            let width = Int(parameters.width), height = Int(parameters.height)
            guard width * height <= min(maxPixels, Self.maxFramePixels) else {
                throw .tooLarge(message: "the video is \(width)x\(height); the limit is \(min(maxPixels, Self.maxFramePixels)) pixels")
            }
        }
        guard let context = avcodec_alloc_context3(codec) else { throw .outOfMemory("avcodec_alloc_context3") }
        var owned: UnsafeMutablePointer<AVCodecContext>? = context
        do {
            try check(avcodec_parameters_to_context(context, stream.pointee.codecpar), "parameters_to_context")
            context.pointee.pkt_timebase = stream.pointee.time_base
            if kind == .video {
                context.pointee.max_pixels = Int64(min(maxPixels, Self.maxFramePixels))
                // One thread is AVCodecContext's default; 0 lets the codec use every core, as the ffmpeg tool does.
                context.pointee.thread_count = 0
            }
            try check(avcodec_open2(context, codec, nil), "open decoder")
        } catch {
            avcodec_free_context(&owned)
            throw error
        }
        self.context = context
        streamIndex = index
        timeBase = stream.pointee.time_base
        rotation = kind == .video ? DisplayMatrix.rotation(of: stream) : 0
    }

    deinit {
        var doomed: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&doomed)
    }

    /// Sends one packet; nil starts draining at the end of the stream.
    func send(_ packet: Packet?) throws(FFmpegError) {
        let sent = avcodec_send_packet(context, packet?.pointer)
        if sent < 0 && sent != kiln_averror(EAGAIN) && sent != kiln_averror_eof() && sent != kiln_averror_invaliddata() {
            throw FFmpegError.from(sent, operation: "send_packet")
        }
    }

    /// The next decoded frame into `frame`; false when the decoder needs more input or is drained.
    func receive(into frame: MediaFrame) throws(FFmpegError) -> Bool {
        let received = avcodec_receive_frame(context, frame.pointer)
        if received == kiln_averror(EAGAIN) || received == kiln_averror_eof() { return false }
        guard received >= 0 else { throw FFmpegError.from(received, operation: "receive_frame") }
        return true
    }

    func flush() { avcodec_flush_buffers(context) }

    /// Seconds of `time` in this stream's time base.
    func seconds(_ time: Int64) -> Double { Double(time) * av_q2d(timeBase) }
}

/// The display matrix a stream carries: how a player turns the stored picture.
enum DisplayMatrix {
    /// Clockwise rotation in degrees (0, 90, 180, 270); 0 when there is none.
    static func rotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
        guard let matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nil) else { return 0 }
        let counterClockwise = matrix.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard !counterClockwise.isNaN else { return 0 }
        var clockwise = Int((-counterClockwise).rounded()) % 360
        if clockwise < 0 { clockwise += 360 }
        return (clockwise + 45) / 90 % 4 * 90
    }

    /// Copies `source`'s matrix onto `target` (MP4 keeps the rotation as metadata, as the source had it).
    static func copy(from source: UnsafeMutablePointer<AVStream>, to target: UnsafeMutablePointer<AVStream>) {
        guard let matrix = av_stream_get_side_data(source, AV_PKT_DATA_DISPLAYMATRIX, nil),
              let copy = av_stream_new_side_data(target, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4) else { return }
        copy.update(from: matrix, count: 9 * 4)
    }
}
