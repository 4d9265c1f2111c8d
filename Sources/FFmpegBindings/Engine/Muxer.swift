import CFFmpeg
import Foundation

/// An output container (`AVFormatContext` with an output format): a file
/// muxer (mp4, webm, ogg, mp3, ipod) or one HLS rendition's `hls` muxer.
///
/// Whatever happens, the trailer is written once the header was (so the muxer
/// frees what it holds) and the file is closed.
final class Muxer {
    let context: UnsafeMutablePointer<AVFormatContext>
    private var headerWritten = false
    private var trailerWritten = false
    private let isHLS: Bool
    /// HLS only: the playlist the muxer is writing now (it writes a temporary file, then renames it).
    fileprivate var playlistIO: (io: UnsafeMutablePointer<AVIOContext>, path: String)?
    /// HLS only: every segment the muxer has finished, in order. Its own playlist is a
    /// window of the last one (see `HLSLadder.Ladder.headerOptions`), so the list is
    /// gathered here from each version it writes.
    fileprivate var gathered = HLSSegmentList()
    var segments: HLSSegmentList { lock.withLock { gathered } }
    /// A ladder's rungs write from their encoder threads, and a fallback that shares a
    /// rung's packets gets its sound from the pass's thread: one writer at a time.
    private let lock = NSLock()

    /// A muxer of `format` writing `path`.
    init(format: String, path: String) throws(FFmpegError) {
        var context: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&context, nil, format, path), "open \(format) muxer")
        guard let context else { throw .outOfMemory("avformat_alloc_output_context2") }
        self.context = context
        isHLS = false
        if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            try check(avio_open(&context.pointee.pb, path, AVIO_FLAG_WRITE), "open \(path)")
        }
    }

    /// An `hls` muxer writing the media playlist `playlist`, segments named by
    /// their suffix. Its file I/O goes through hooks that open only plain files
    /// and count the segments it finishes, so each can be published at once.
    init(hlsPlaylist playlist: String) throws(FFmpegError) {
        var context: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&context, nil, "hls", playlist), "open hls muxer")
        guard let context else { throw .outOfMemory("avformat_alloc_output_context2") }
        self.context = context
        isHLS = true
        context.pointee.opaque = Unmanaged.passUnretained(self).toOpaque()
        context.pointee.io_open = { context, io, url, flags, options in
            guard let context, let url, let muxer = context.pointee.opaque.map({ Unmanaged<Muxer>.fromOpaque($0).takeUnretainedValue() }) else {
                return kiln_averror(EINVAL)
            }
            let path = String(cString: url)
            // The muxer only ever writes the files it was told about: no protocol but plain files.
            if path.contains("://") || path.hasPrefix("file:") || path.contains("..") { return kiln_averror(EPERM) }
            let opened = avio_open2(io, url, flags, &context.pointee.interrupt_callback, options)
            if opened >= 0, let opened = io?.pointee, path.hasSuffix(".m3u8") || path.hasSuffix(".m3u8.tmp") { muxer.playlistIO = (opened, path) }
            return opened
        }
        context.pointee.io_close2 = { context, io in
            if let context, let opaque = context.pointee.opaque, io != nil {
                let muxer = Unmanaged<Muxer>.fromOpaque(opaque).takeUnretainedValue()
                if let playlist = muxer.playlistIO, playlist.io == io {
                    muxer.playlistIO = nil
                    let closed = avio_close(io)
                    if closed >= 0, let text = try? String(contentsOfFile: playlist.path, encoding: .utf8) { muxer.gathered.merge(playlist: text) }
                    return closed
                }
            }
            return avio_close(io)
        }
    }

    deinit {
        if headerWritten && !trailerWritten { av_write_trailer(context) }
        if !isHLS && context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 { avio_closep(&context.pointee.pb) }
        avformat_free_context(context)
    }

    /// Whether encoders feeding this muxer must put their headers in extradata.
    var wantsGlobalHeader: Bool { context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

    /// A stream with `encoder`'s parameters; its index.
    func addStream(for encoder: Encoder, frameRate: AVRational? = nil) throws(FFmpegError) -> Int32 {
        guard let stream = avformat_new_stream(context, nil) else { throw .outOfMemory("avformat_new_stream") }
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder.context), "parameters_from_context")
        stream.pointee.time_base = encoder.timeBase
        if let frameRate { stream.pointee.avg_frame_rate = frameRate }
        return stream.pointee.index
    }

    func stream(_ index: Int32) -> UnsafeMutablePointer<AVStream> { context.pointee.streams[Int(index)]! }

    func writeHeader(options: [(String, String)] = []) throws(FFmpegError) {
        lock.lock()
        defer { lock.unlock() }
        var dictionary: OpaquePointer?
        for (key, value) in options { av_dict_set(&dictionary, key, value, 0) }
        defer { av_dict_free(&dictionary) }
        try check(avformat_write_header(context, &dictionary), "write header")
        headerWritten = true
    }

    /// Writes one of `encoder`'s packets (in its time base) to stream `index`.
    /// The muxer takes the packet's reference.
    func write(_ packet: Packet, stream index: Int32, from timeBase: AVRational) throws(FFmpegError) {
        lock.lock()
        defer { lock.unlock() }
        av_packet_rescale_ts(packet.pointer, timeBase, stream(index).pointee.time_base)
        packet.pointer.pointee.stream_index = index
        try check(av_interleaved_write_frame(context, packet.pointer), "write packet")
    }

    /// Writes the trailer (for HLS: the last segment and EXT-X-ENDLIST).
    func finish() throws(FFmpegError) {
        lock.lock()
        defer { lock.unlock() }
        guard headerWritten, !trailerWritten else { return }
        trailerWritten = true
        try check(av_write_trailer(context), "write trailer")
    }
}
