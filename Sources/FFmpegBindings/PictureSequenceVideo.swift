import CFFmpeg

/// A silent video made of pictures that each show for their own time: an
/// animated GIF or WebP as a looping feed video, H.264 in MP4 (faststart) or
/// VP9 in WebM, usually many times smaller than the GIF. Timestamps are in
/// milliseconds, so every frame keeps its delay exactly.
public final class PictureSequenceVideo {
    public enum Format: String, Sendable, CaseIterable {
        case mp4, webm

        var encoder: String { self == .mp4 ? "libx264" : "libvpx-vp9" }
        public var contentType: String { "video/\(rawValue)" }
        public var codecName: String { self == .mp4 ? "h264" : "vp9" }
    }

    /// The stored size: 4:2:0 wants even sides, so an odd side loses a row or a column to scaling.
    public let width: Int
    public let height: Int
    private let encoder: Encoder
    private let muxer: Muxer
    private let stream: Int32
    private let scaler = Scaler(intoBT709: true)
    private let picture: MediaFrame
    private let stored: MediaFrame
    /// Where the next picture starts, in milliseconds.
    private var next: Int64 = 0
    /// Each picture's time on screen, by its start: the packets that come out
    /// of the encoder (reordered) are given theirs, the last one included.
    private var durations: [Int64: Int64] = [:]

    /// - Parameters:
    ///   - width, height: the pictures' size (all alike).
    ///   - crf: constant quality (H.264 0-51, 23 is libx264's default; VP9 0-63).
    public init(path: String, format: Format, width: Int, height: Int, crf: Int, typicalDelay: Int) throws(FFmpegError) {
        self.width = max(2, width & ~1)
        self.height = max(2, height & ~1)
        muxer = try Muxer(format: format.rawValue, path: path)
        let options: [(String, String)] = format == .mp4
            ? [("crf", String(crf)), ("preset", "medium")]
            : [("crf", String(crf)), ("deadline", "good"), ("cpu-used", "4"), ("row-mt", "1")]
        let settings = Encoder.Video(encoder: format.encoder, width: self.width, height: self.height,
                                     timeBase: AVRational(num: 1, den: 1000),
                                     frameRate: AVRational(num: 1000, den: Int32(max(1, typicalDelay))),
                                     gopSize: 250, bitRate: 0, options: options, bt709: true)
        encoder = try Encoder(video: settings, globalHeader: muxer.wantsGlobalHeader)
        stream = try muxer.addStream(for: encoder, frameRate: settings.frameRate)
        try muxer.writeHeader(options: format == .mp4 ? [("movflags", "+faststart")] : [])
        picture = try MediaFrame(width: width, height: height, format: AV_PIX_FMT_RGB24)
        stored = try MediaFrame(width: self.width, height: self.height, format: AV_PIX_FMT_YUV420P)
    }

    /// Adds a picture of packed 8-bit RGB (`width * height * 3` bytes) shown for `milliseconds`.
    public func append(rgb bytes: [UInt8], milliseconds: Int) throws(FFmpegError) {
        let width = picture.width, height = picture.height
        guard bytes.count == width * height * 3 else { throw .invalidData(message: "a picture of another size") }
        try picture.makeWritable()
        let stride = Int(picture.pointer.pointee.linesize.0)
        guard let base = picture.pointer.pointee.data.0 else { throw .outOfMemory("rgb picture") }
        bytes.withUnsafeBufferPointer { source in
            for row in 0..<height {
                (base + row * stride).update(from: source.baseAddress! + row * width * 3, count: width * 3)
            }
        }
        try stored.makeWritable()
        try scaler.scale(picture, into: stored)
        stored.pointer.pointee.pts = next
        stored.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
        durations[next] = Int64(milliseconds)
        next += Int64(milliseconds)
        try encode(stored)
    }

    /// Drains the encoder and closes the file.
    public func finish() throws(FFmpegError) {
        guard next > 0 else { throw .invalidData(message: "no picture to encode") }
        try encode(nil)
        try muxer.finish()
    }

    private func encode(_ frame: MediaFrame?) throws(FFmpegError) {
        try encoder.encode(frame) { (packet) throws(FFmpegError) in
            if let start = packet.time, let duration = durations.removeValue(forKey: start) { packet.pointer.pointee.duration = duration }
            try muxer.write(packet, stream: stream, from: encoder.timeBase)
        }
    }
}
