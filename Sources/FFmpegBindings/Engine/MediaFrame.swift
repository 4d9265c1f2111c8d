import CFFmpeg

/// An `AVFrame` owner: decoded pictures or samples, or a buffer Kiln scales,
/// turns or resamples into.
final class MediaFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws(FFmpegError) {
        guard let pointer = av_frame_alloc() else { throw .outOfMemory("av_frame_alloc") }
        self.pointer = pointer
    }

    /// A picture buffer of this size and pixel format.
    convenience init(width: Int, height: Int, format: AVPixelFormat) throws(FFmpegError) {
        try self.init()
        pointer.pointee.width = Int32(width)
        pointer.pointee.height = Int32(height)
        pointer.pointee.format = format.rawValue
        try check(av_frame_get_buffer(pointer, 0), "av_frame_get_buffer")
    }

    deinit {
        var doomed: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&doomed)
    }

    func unref() { av_frame_unref(pointer) }

    /// A picture buffer of its own to write over, of this size and format; what
    /// it held is not kept (it may have referenced a picture someone else holds).
    func makeBlank(width: Int, height: Int, format: AVPixelFormat) throws(FFmpegError) {
        let f = pointer.pointee
        if f.buf.0 != nil, av_frame_is_writable(pointer) != 0, f.width == Int32(width), f.height == Int32(height), f.format == format.rawValue { return }
        av_frame_unref(pointer)
        pointer.pointee.width = Int32(width)
        pointer.pointee.height = Int32(height)
        pointer.pointee.format = format.rawValue
        try check(av_frame_get_buffer(pointer, 0), "av_frame_get_buffer")
    }

    /// Makes the buffers this frame's own before they are written again (an
    /// encoder may still hold a reference to the last picture written there).
    func makeWritable() throws(FFmpegError) { try check(av_frame_make_writable(pointer), "av_frame_make_writable") }

    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var format: Int32 { pointer.pointee.format }
    var sampleCount: Int { Int(pointer.pointee.nb_samples) }

    /// The best guess at the presentation time, in the stream's time base.
    var time: Int64? {
        let pts = pointer.pointee.best_effort_timestamp
        return pts == kiln_av_nopts_value() ? nil : pts
    }

    var duration: Int64 { pointer.pointee.pkt_duration }
}

extension FFmpegError {
    static func outOfMemory(_ operation: String) -> FFmpegError {
        .failed(operation: operation, code: kiln_averror(ENOMEM), message: "out of memory")
    }
}

extension MediaFrame {
    /// An RGBA picture holding `picture`'s pixels.
    convenience init(rgba picture: OverlayPicture) throws(FFmpegError) {
        try self.init(width: picture.width, height: picture.height, format: AV_PIX_FMT_RGBA)
        let stride = Int(pointer.pointee.linesize.0)
        guard let base = pointer.pointee.data.0 else { throw .outOfMemory("overlay frame") }
        picture.rgba.withUnsafeBufferPointer { bytes in
            for row in 0..<picture.height {
                (base + row * stride).update(from: bytes.baseAddress! + row * picture.width * 4, count: picture.width * 4)
            }
        }
    }
}
