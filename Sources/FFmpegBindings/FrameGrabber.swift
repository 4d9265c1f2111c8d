import CFFmpeg

/// One decoded video frame as packed 8-bit RGB, upright as a player shows it
/// once `rotation` (clockwise degrees) is applied.
public struct RGBFrame: Sendable {
    public var width: Int
    public var height: Int
    public var rotation: Int
    /// `width * height * 3` bytes, row by row.
    public var bytes: [UInt8]
    /// The frame's presentation time in seconds.
    public var time: Double
}

/// Where in a video to take a frame.
public enum FramePosition: Sendable, Equatable {
    case seconds(Double)
    /// 0...1 of the duration.
    case fraction(Double)
}

public enum FrameGrabber {
    /// The first frame shown at or after `position`: seek back to the keyframe
    /// before it, decode forward to it. Past the end, the last frame.
    public static func grab(path: String, at position: FramePosition, edits: PictureEdits? = nil, maxPixels: Int,
                            interrupt: InterruptFlag = InterruptFlag()) throws(FFmpegError) -> RGBFrame {
        var frames: [RGBFrame] = []
        try grab(path: path, at: [position], edits: edits, maxPixels: maxPixels, interrupt: interrupt) { frames.append($0) }
        return frames[0]
    }

    /// Several frames from one opening of the file, in the order given. With
    /// `edits`, each goes through them (scaled, turned upright, cropped, drawn
    /// on) as a transcode's pictures do, and comes out upright (`rotation` 0).
    public static func grab(path: String, at positions: [FramePosition], edits: PictureEdits? = nil, maxPixels: Int,
                            interrupt: InterruptFlag = InterruptFlag(), each: (RGBFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        let demuxer = try Demuxer(path: path, interrupt: interrupt)
        let decoder = try Decoder(demuxer, best: .video, maxPixels: maxPixels)
        let packet = try Packet(), frame = try MediaFrame(), kept = try MediaFrame()
        for position in positions {
            let seconds: Double = switch position {
            case let .seconds(value): max(0, value)
            case let .fraction(value): max(0, min(1, value)) * (demuxer.duration ?? 0)
            }
            let target = Int64(seconds / av_q2d(decoder.timeBase))
            // Always seek (to 0 as well): an earlier frame may have drained the decoder.
            // A failed seek leaves the read position where it is; decoding forward still finds the frame.
            if demuxer.seek(stream: decoder.streamIndex, to: target) { decoder.flush() }
            let decoded = try decodeUntil(target, demuxer: demuxer, decoder: decoder, packet: packet, frame: frame, kept: kept, interrupt: interrupt)
            guard let edits else {
                try each(try convert(decoded, decoder: decoder))
                continue
            }
            try each(try edit(decoded, through: edits, decoder: decoder))
        }
    }

    /// One decoded frame through `edits`, as `VideoEncoding` puts each picture through them.
    static func edit(_ decoded: MediaFrame, through edits: PictureEdits, decoder: Decoder) throws(FFmpegError) -> RGBFrame {
        let stored = try MediaFrame(width: edits.scaledWidth, height: edits.scaledHeight, format: AV_PIX_FMT_YUV420P)
        try Scaler().scale(decoded, into: stored)
        stored.pointer.pointee.pts = 0
        let editor = try PictureEditor(edits, timeBase: AVRational(num: 1, den: 1))
        var result: RGBFrame?
        let take = { (edited: MediaFrame) throws(FFmpegError) in
            guard result == nil else { return }
            // The scale left limited-range YUV in the source's matrix; say which, since the edited picture's
            // own size would guess it wrongly (a 1080p source's 384 px note is still BT.709).
            edited.pointer.pointee.colorspace = Scaler.readsAsBT709(decoded) ? AVCOL_SPC_BT709 : AVCOL_SPC_BT470BG
            edited.pointer.pointee.color_range = AVCOL_RANGE_MPEG
            let bytes = try Scaler.forStills().rgb(of: edited)
            result = RGBFrame(width: edited.width, height: edited.height, rotation: 0, bytes: bytes,
                              time: decoded.time.map(decoder.seconds) ?? 0)
        }
        try editor.edit(stored, take: take)
        try editor.finish(take: take)
        guard let result else { throw .invalidData(message: "the edits gave no picture") }
        return result
    }

    /// Decodes forward to the first frame at or after `target` (stream time base), or the last one; it is left in `kept`.
    static func decodeUntil(_ target: Int64, demuxer: Demuxer, decoder: Decoder, packet: Packet, frame: MediaFrame, kept: MediaFrame,
                            interrupt: InterruptFlag) throws(FFmpegError) -> MediaFrame {
        kept.unref()
        var haveFrame = false
        var draining = false
        while true {
            if interrupt.isStopped { throw .interrupted }
            if !draining {
                do {
                    if try demuxer.read(into: packet) {
                        defer { packet.unref() }
                        if packet.streamIndex == decoder.streamIndex { try decoder.send(packet) }
                    } else {
                        draining = true
                        try decoder.send(nil)
                    }
                } catch FFmpegError.interrupted {
                    throw .interrupted
                } catch {
                    // A damaged tail: settle for what was decoded, if anything.
                    if haveFrame { break }
                    throw error
                }
            }
            var produced = false
            while try decoder.receive(into: frame) {
                produced = true
                kept.unref()
                av_frame_move_ref(kept.pointer, frame.pointer)
                haveFrame = true
                if let time = kept.time, time >= target { return kept }
            }
            if draining && !produced { break }
        }
        guard haveFrame else { throw .invalidData(message: "no frame could be decoded") }
        return kept
    }

    static func convert(_ frame: MediaFrame, decoder: Decoder, scaler: Scaler = .forStills()) throws(FFmpegError) -> RGBFrame {
        let bytes = try scaler.rgb(of: frame)
        return RGBFrame(width: frame.width, height: frame.height, rotation: decoder.rotation, bytes: bytes,
                        time: frame.time.map(decoder.seconds) ?? 0)
    }
}
