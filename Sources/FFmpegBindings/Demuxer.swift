import CFFmpeg

/// An open input file (`AVFormatContext`), restricted to local files and to the
/// demuxers in `FFmpeg.mediaDemuxers`.
///
/// A final class: the passes and decoders reading it share one owner, which
/// closes the context exactly once.
public final class Demuxer {
    let context: UnsafeMutablePointer<AVFormatContext>
    /// The job's stop request; what reads this source waits no longer than it.
    let interrupt: InterruptFlag

    /// - Parameter formats: the demuxers allowed for this file; by default the media ones.
    public init(path: String, formats: [String] = FFmpeg.mediaDemuxers, interrupt: InterruptFlag = InterruptFlag()) throws(FFmpegError) {
        FFmpeg.start()
        guard var context = avformat_alloc_context() else {
            throw .failed(operation: "avformat_alloc_context", code: kiln_averror(ENOMEM), message: "out of memory")
        }
        // Only the file protocol and real media demuxers: no URL, playlist or
        // concat file inside an upload can make FFmpeg read anything else. A
        // null from av_strdup would mean no allow-list at all: refuse instead.
        guard let protocols = av_strdup("file"), let formats = av_strdup(formats.joined(separator: ",")) else {
            var doomed: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&doomed)
            throw .failed(operation: "av_strdup", code: kiln_averror(ENOMEM), message: "out of memory")
        }
        context.pointee.protocol_whitelist = protocols
        context.pointee.format_whitelist = formats
        // Bounded probing: a hostile file cannot make the probe read or analyse
        // without end, nor declare thousands of streams.
        context.pointee.probesize = Self.probeBytes
        context.pointee.max_analyze_duration = Self.analyzeMicroseconds
        context.pointee.max_streams = Self.maxStreams
        context.pointee.interrupt_callback = interrupt.callback
        var maybeContext: UnsafeMutablePointer<AVFormatContext>? = context
        let opened = avformat_open_input(&maybeContext, path, nil, nil)
        guard opened >= 0, let openedContext = maybeContext else {
            // avformat_open_input frees the context on failure.
            throw FFmpegError.from(opened, operation: "open")
        }
        context = openedContext
        let found = avformat_find_stream_info(context, nil)
        if found < 0 {
            var doomed: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&doomed)
            throw FFmpegError.from(found, operation: "find_stream_info")
        }
        self.context = context
        self.interrupt = interrupt
    }

    /// Bytes FFmpeg may read to recognise the format and its streams.
    public static let probeBytes: Int64 = 5_000_000
    /// Media time FFmpeg may decode to learn stream parameters (5 s).
    public static let analyzeMicroseconds: Int64 = 5_000_000
    public static let maxStreams: Int32 = 32

    deinit {
        var doomed: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&doomed)
    }

    /// Short demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    public var formatName: String {
        guard let name = context.pointee.iformat?.pointee.name else { return "" }
        return String(cString: name)
    }

    /// Container duration in seconds, nil when unknown.
    public var duration: Double? {
        let d = context.pointee.duration
        guard d != kiln_av_nopts_value(), d > 0 else { return nil }
        return Double(d) / Double(AV_TIME_BASE)
    }

    public var bitRate: Int? {
        context.pointee.bit_rate > 0 ? Int(context.pointee.bit_rate) : nil
    }

    /// The container's values for `names` (case-insensitive keys), where present.
    func tags(_ names: [String]) -> [String: String] {
        var found: [String: String] = [:]
        for name in names {
            if let entry = av_dict_get(context.pointee.metadata, name, nil, 0), let value = entry.pointee.value {
                let text = String(cString: value)
                if !text.isEmpty { found[name] = String(text.prefix(1000)) }
            }
        }
        return found
    }

    /// The first attached picture (cover art) of the file.
    var coverArt: (bytes: [UInt8], codec: String)? {
        for index in 0..<Int(context.pointee.nb_streams) {
            guard let stream = context.pointee.streams[index], stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 else { continue }
            let packet = stream.pointee.attached_pic
            guard let data = packet.data, packet.size > 0 else { continue }
            let codec = avcodec_get_name(stream.pointee.codecpar.pointee.codec_id).map { String(cString: $0) } ?? "unknown"
            return (Array(UnsafeBufferPointer(start: data, count: Int(packet.size))), codec)
        }
        return nil
    }

    func stream(_ index: Int32) -> UnsafeMutablePointer<AVStream>? {
        guard index >= 0, index < Int32(context.pointee.nb_streams) else { return nil }
        return context.pointee.streams[Int(index)]
    }

    /// The next packet into `packet`; false at the end of the file. A stop
    /// request surfaces as `.interrupted`, a damaged tail as the error it is.
    func read(into packet: Packet) throws(FFmpegError) -> Bool {
        let read = av_read_frame(context, packet.pointer)
        if read == kiln_averror_eof() { return false }
        try check(read, "read_frame")
        return true
    }

    /// Moves the read position to the keyframe at or before `time` (in the
    /// stream's time base); false when the file cannot seek there.
    func seek(stream index: Int32, to time: Int64) -> Bool {
        av_seek_frame(context, index, time, AVSEEK_FLAG_BACKWARD) >= 0
    }

    public var streams: [StreamInfo] {
        (0..<Int(context.pointee.nb_streams)).compactMap { index in
            guard let stream = context.pointee.streams[index] else { return nil }
            return StreamInfo(stream: stream)
        }
    }
}
