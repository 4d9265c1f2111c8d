import CFFmpeg

/// An encoder (`AVCodecContext`) for pictures or samples. Its packets go to
/// whoever drains it: a muxer stream, or several (a rung whose packets an
/// MP4 fallback shares).
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let name: String
    private let packet: Packet

    struct Video {
        var encoder: String
        var width: Int
        var height: Int
        var timeBase: AVRational
        var frameRate: AVRational
        var gopSize: Int
        var keyintMin: Int = 0
        var bitRate: Int?
        var maxRate: Int?
        var bufferSize: Int?
        /// The encoder's private options (`preset`, `crf`, `x264-params`, ...).
        var options: [(String, String)] = []
        /// Threads of its own; 0 lets the codec use every core.
        var threads: Int = 0
        /// Tags the stream BT.709 (matrix, primaries, transfer; limited range), for pictures made from sRGB.
        var bt709 = false
    }

    struct Audio {
        var encoder: String
        /// Wanted rate; the nearest one the encoder takes is used.
        var sampleRate: Int
        var channels: Int
        var bitRate: Int
    }

    convenience init(video settings: Video, globalHeader: Bool) throws(FFmpegError) {
        try self.init(settings.encoder, globalHeader: globalHeader) { c, _ in
            c.pointee.width = Int32(settings.width)
            c.pointee.height = Int32(settings.height)
            c.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            c.pointee.time_base = settings.timeBase
            c.pointee.framerate = settings.frameRate
            c.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            c.pointee.gop_size = Int32(settings.gopSize)
            c.pointee.keyint_min = Int32(settings.keyintMin)
            c.pointee.max_b_frames = 2
            c.pointee.thread_count = Int32(settings.threads)
            if let rate = settings.bitRate { c.pointee.bit_rate = Int64(rate) }
            if let rate = settings.maxRate { c.pointee.rc_max_rate = Int64(rate) }
            if let size = settings.bufferSize { c.pointee.rc_buffer_size = Int32(size) }
            for (key, value) in settings.options { av_opt_set(c.pointee.priv_data, key, value, 0) }
            if settings.bt709 {
                c.pointee.colorspace = AVCOL_SPC_BT709
                c.pointee.color_primaries = AVCOL_PRI_BT709
                c.pointee.color_trc = AVCOL_TRC_BT709
                c.pointee.color_range = AVCOL_RANGE_MPEG
            }
        }
    }

    convenience init(audio settings: Audio, globalHeader: Bool) throws(FFmpegError) {
        try self.init(settings.encoder, globalHeader: globalHeader) { c, codec in
            c.pointee.sample_fmt = codec.pointee.sample_fmts?.pointee ?? AV_SAMPLE_FMT_FLTP
            c.pointee.sample_rate = Int32(Self.nearestRate(settings.sampleRate, of: codec))
            av_channel_layout_default(&c.pointee.ch_layout, Int32(settings.channels))
            c.pointee.bit_rate = Int64(settings.bitRate)
            c.pointee.time_base = AVRational(num: 1, den: c.pointee.sample_rate)
        }
    }

    /// Finds the encoder `name`, lets `configure` set its context, opens it; the
    /// context is freed on any failure.
    private init(_ name: String, globalHeader: Bool,
                 configure: (UnsafeMutablePointer<AVCodecContext>, UnsafePointer<AVCodec>) -> Void) throws(FFmpegError) {
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw .failed(operation: "find encoder", code: kiln_averror_encoder_not_found(), message: "\(name) is not in this FFmpeg")
        }
        packet = try Packet()
        guard let context = avcodec_alloc_context3(codec) else { throw .outOfMemory("avcodec_alloc_context3") }
        configure(context, codec)
        if globalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        let opened = avcodec_open2(context, codec, nil)
        guard opened >= 0 else {
            var owned: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&owned)
            throw FFmpegError.from(opened, operation: "open \(name)")
        }
        self.name = name
        self.context = context
    }

    private static func nearestRate(_ wanted: Int, of codec: UnsafePointer<AVCodec>) -> Int {
        guard var rate = codec.pointee.supported_samplerates else { return wanted }
        var best = Int(rate.pointee)
        while rate.pointee != 0 {
            if abs(Int(rate.pointee) - wanted) < abs(best - wanted) { best = Int(rate.pointee) }
            rate += 1
        }
        return best
    }

    deinit {
        var doomed: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&doomed)
    }

    var timeBase: AVRational { context.pointee.time_base }
    var sampleRate: Int { Int(context.pointee.sample_rate) }
    /// Samples an audio frame must have (the last one may have fewer); 0 for any.
    var frameSize: Int { Int(context.pointee.frame_size) }

    /// Encodes `frame` (nil: the end; the encoder then gives up what it holds)
    /// and hands every packet it has ready to `write`, in the encoder's time base.
    func encode(_ frame: MediaFrame?, write: (Packet) throws(FFmpegError) -> Void) throws(FFmpegError) {
        let sent = avcodec_send_frame(context, frame?.pointer)
        if sent < 0 && sent != kiln_averror_eof() { throw FFmpegError.from(sent, operation: "send_frame") }
        while true {
            let received = avcodec_receive_packet(context, packet.pointer)
            if received == kiln_averror(EAGAIN) || received == kiln_averror_eof() { return }
            try check(received, "receive_packet")
            defer { packet.unref() }
            try write(packet)
        }
    }

    /// The RFC 6381 codec string HLS masters name (`avc1.PPCCLL`, `mp4a.40.2`),
    /// read from the SPS in the encoder's extradata.
    var codecString: String {
        guard context.pointee.codec_type == AVMEDIA_TYPE_VIDEO else { return "mp4a.40.2" }
        let length = Int(context.pointee.extradata_size)
        guard let data = context.pointee.extradata, length >= 4 else { return "avc1.640028" }
        func hex(_ bytes: UInt8...) -> String { "avc1." + bytes.map { String($0, radix: 16).leftPadded(2) }.joined() }
        if data[0] == 1 { return hex(data[1], data[2], data[3]) }  // avcC
        var i = 0
        while i + 6 < length {  // Annex B: the SPS NAL unit (type 7)
            if data[i] == 0, data[i + 1] == 0, data[i + 2] == 1, data[i + 3] & 0x1f == 7 { return hex(data[i + 4], data[i + 5], data[i + 6]) }
            i += 1
        }
        return "avc1.640028"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
