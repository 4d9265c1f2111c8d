import CFFmpeg

/// Pictures of one stream encoded into one muxer stream: the trim window kept,
/// at most `fps` frames a second (frames dropped, never invented), scaled to
/// the stored size and, for containers without a display matrix, turned
/// upright; or, with edits, scaled, turned, cropped and overlaid. Turning and
/// edits both go through one `PictureEditor`. Timestamps start at 0.
final class VideoEncoding: FrameConsumer {
    let encoder: Encoder
    private let muxer: Muxer
    private let stream: Int32
    private let scaler = Scaler()
    private let stored: MediaFrame
    private let editor: PictureEditor?
    /// The time base in which a frame's time since the window's start plays (the source's, divided by the speed).
    private let inputBase: AVRational
    private let start: Int64
    private let end: Int64?
    private let capsFrameRate: Bool
    /// The last timestamp handed to the encoder (its time base); -1 before the first.
    private(set) var lastTime: Int64 = -1
    private var pastEnd = false

    /// - Parameters:
    ///   - width, height: the picture as stored (before turning).
    ///   - rotation: clockwise degrees to turn the pixels (0 when the container keeps the matrix).
    ///   - window: seconds from the stream's start: the first kept and how many.
    init(decoder: Decoder, stream source: UnsafeMutablePointer<AVStream>, muxer: Muxer, settings: Encoder.Video, rotation: Int,
         window: (start: Double, duration: Double?), capsFrameRate: Bool, edits: PictureEdits? = nil,
         playingBase: AVRational? = nil) throws(FFmpegError) {
        var settings = settings
        // Turning upright is an edit of one step.
        let edits = edits ?? (rotation == 0 ? nil : PictureEdits.turning(rotation, width: settings.width, height: settings.height))
        var storedWidth = settings.width, storedHeight = settings.height
        if let edits {
            storedWidth = edits.scaledWidth
            storedHeight = edits.scaledHeight
            settings.width = edits.outputWidth
            settings.height = edits.outputHeight
        }
        encoder = try Encoder(video: settings, globalHeader: muxer.wantsGlobalHeader)
        self.muxer = muxer
        stream = try muxer.addStream(for: encoder, frameRate: settings.frameRate)
        stored = try MediaFrame(width: storedWidth, height: storedHeight, format: AV_PIX_FMT_YUV420P)
        inputBase = playingBase ?? decoder.timeBase
        let encoderBase = encoder.timeBase
        editor = try edits.map { edits throws(FFmpegError) in try PictureEditor(edits, timeBase: encoderBase) }
        let origin = source.pointee.start_time == kiln_av_nopts_value() ? 0 : source.pointee.start_time
        let base = decoder.timeBase
        let first = origin + av_rescale_q(Int64(window.start * Double(AV_TIME_BASE)), kiln_av_time_base_q(), base)
        start = first
        end = window.duration.map { first + av_rescale_q(Int64($0 * Double(AV_TIME_BASE)), kiln_av_time_base_q(), base) }
        self.capsFrameRate = capsFrameRate
    }

    var outputStream: Int32 { stream }
    var wantsMore: Bool { !pastEnd }

    /// Seconds of the output's video written so far.
    var position: Double { lastTime < 0 ? 0 : Double(lastTime) * av_q2d(encoder.timeBase) }

    func consume(_ frame: MediaFrame) throws(FFmpegError) {
        guard let time = frame.time, time >= start else { return }
        if let end, time >= end {
            pastEnd = true
            return
        }
        let outTime = capsFrameRate ? av_rescale_q_rnd(time - start, inputBase, encoder.timeBase, AV_ROUND_DOWN) : time - start
        // A repeated timestamp (or a dropped frame under a rate cap) would be refused by the muxer.
        guard outTime > lastTime else { return }
        try stored.makeWritable()
        try scaler.scale(frame, into: stored)
        lastTime = outTime
        stored.pointer.pointee.pts = outTime
        guard let editor else { return try encodePicture(stored) }
        try editor.edit(stored) { (edited) throws(FFmpegError) in try encodePicture(edited) }
    }

    private func encodePicture(_ picture: MediaFrame) throws(FFmpegError) {
        picture.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
        try encode(picture)
    }

    private func encode(_ picture: MediaFrame?) throws(FFmpegError) {
        try encoder.encode(picture) { (packet) throws(FFmpegError) in try muxer.write(packet, stream: stream, from: encoder.timeBase) }
    }

    func finish() throws(FFmpegError) {
        // Not one picture decoded (or none in the trim window): an empty video is not a success.
        guard lastTime >= 0 else { throw .invalidData(message: "no picture could be decoded") }
        try editor?.finish { (edited) throws(FFmpegError) in try encodePicture(edited) }
        try encode(nil)
    }
}
