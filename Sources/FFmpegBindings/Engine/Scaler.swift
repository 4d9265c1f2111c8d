import CFFmpeg

/// A `SwsContext` owner that scales whatever frame it is given into a fixed
/// size and pixel format. A stream may change size or pixel format mid-way
/// (two clips joined); a scaler made for another frame would read beyond its
/// planes, so the context is made again whenever the input is not the one it
/// was made for, as FFmpeg's own tools do.
final class Scaler {
    private var context: OpaquePointer?
    private var madeFor: (width: Int32, height: Int32, format: Int32, colour: AVColorSpace, range: AVColorRange)?
    let flags: Int32
    /// Pictures (RGB) into video as BT.709, the matrix players assume of HD and
    /// the one `Encoder.Video.bt709` tags; otherwise swscale's default, BT.601.
    let intoBT709: Bool

    init(flags: Int32 = SWS_BICUBIC, intoBT709: Bool = false) {
        self.flags = flags
        self.intoBT709 = intoBT709
    }

    deinit { sws_freeContext(context) }

    /// Scales `source` into `target`, whose size, format and buffers are set.
    func scale(_ source: MediaFrame, into target: MediaFrame) throws(FFmpegError) {
        let s = source.pointer.pointee, t = target.pointer.pointee
        guard s.width > 0, s.height > 0, s.format >= 0 else { throw .invalidData(message: "a frame without a picture") }
        let wanted = (s.width, s.height, s.format, s.colorspace, s.color_range)
        if madeFor.map({ $0 != wanted }) ?? true {
            sws_freeContext(context)
            context = sws_getContext(s.width, s.height, AVPixelFormat(rawValue: s.format), t.width, t.height, AVPixelFormat(rawValue: t.format),
                                     flags, nil, nil, nil)
            guard context != nil else { throw .failed(operation: "sws_getContext", code: kiln_averror(EINVAL), message: "unsupported pixel format") }
            if t.format == AV_PIX_FMT_RGB24.rawValue { describeColour(of: source) }
            if intoBT709 {
                sws_setColorspaceDetails(context, sws_getCoefficients(SWS_CS_DEFAULT), 1, sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16)
            }
            madeFor = wanted
        }
        let lines = sws_scale_frame(context, target.pointer, source.pointer)
        if lines < 0 { throw FFmpegError.from(lines, operation: "sws_scale_frame") }
    }

    /// To RGB: HD and later video is BT.709, untagged SD BT.601 (swscale's
    /// default); full-range sources keep their range.
    private func describeColour(of frame: MediaFrame) {
        let f = frame.pointer.pointee
        let space = Self.readsAsBT709(frame) ? SWS_CS_ITU709 : SWS_CS_ITU601
        let fullRange: Int32 = f.color_range == AVCOL_RANGE_JPEG ? 1 : 0
        sws_setColorspaceDetails(context, sws_getCoefficients(space), fullRange, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
    }
}

extension Scaler {
    /// Whether `frame`'s YUV is read with BT.709's matrix: tagged so, or untagged and HD or taller.
    static func readsAsBT709(_ frame: MediaFrame) -> Bool {
        let f = frame.pointer.pointee
        return f.colorspace == AVCOL_SPC_BT709 || (f.colorspace == AVCOL_SPC_UNSPECIFIED && f.height >= 720)
    }

    /// A scaler for `rgb(of:)`: exact rounding and full chroma, as a still is looked at closely.
    static func forStills() -> Scaler { Scaler(flags: SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT) }

    /// Packed 8-bit RGB of `frame`, `width * 3` bytes a row, at its own size.
    func rgb(of frame: MediaFrame) throws(FFmpegError) -> [UInt8] { try packed(frame, as: AV_PIX_FMT_RGB24, bytesPerPixel: 3) }

    /// Packed 8-bit RGBA (straight alpha) of `frame`, `width * 4` bytes a row, at its own size.
    func rgba(of frame: MediaFrame) throws(FFmpegError) -> [UInt8] { try packed(frame, as: AV_PIX_FMT_RGBA, bytesPerPixel: 4) }

    private func packed(_ frame: MediaFrame, as format: AVPixelFormat, bytesPerPixel: Int) throws(FFmpegError) -> [UInt8] {
        let width = frame.width, height = frame.height
        guard width > 0, height > 0 else { throw .invalidData(message: "an empty frame") }
        let target = try MediaFrame(width: width, height: height, format: format)
        try scale(frame, into: target)
        let stride = Int(target.pointer.pointee.linesize.0), row = width * bytesPerPixel
        guard let base = target.pointer.pointee.data.0 else { throw .outOfMemory("packed frame") }
        var bytes = [UInt8](repeating: 0, count: row * height)
        bytes.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                (out.baseAddress! + y * row).update(from: base + y * stride, count: row)
            }
        }
        return bytes
    }
}
