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
    public static func grab(path: String, at position: FramePosition, maxPixels: Int,
                            interrupt: InterruptFlag = InterruptFlag()) throws(FFmpegError) -> RGBFrame {
        var frames: [RGBFrame] = []
        try grab(path: path, at: [position], maxPixels: maxPixels, interrupt: interrupt) { frames.append($0) }
        return frames[0]
    }

    /// Several frames from one opening of the file, in the order given.
    public static func grab(path: String, at positions: [FramePosition], maxPixels: Int, interrupt: InterruptFlag = InterruptFlag(),
                            each: (RGBFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
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
            try each(try decodeUntil(target, demuxer: demuxer, decoder: decoder, packet: packet, frame: frame, kept: kept, interrupt: interrupt))
        }
    }

    /// Decodes forward to the first frame at or after `target` (stream time base), or the last one.
    static func decodeUntil(_ target: Int64, demuxer: Demuxer, decoder: Decoder, packet: Packet, frame: MediaFrame, kept: MediaFrame,
                            interrupt: InterruptFlag) throws(FFmpegError) -> RGBFrame {
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
                if let time = kept.time, time >= target { return try convert(kept, decoder: decoder) }
            }
            if draining && !produced { break }
        }
        guard haveFrame else { throw .invalidData(message: "no frame could be decoded") }
        return try convert(kept, decoder: decoder)
    }

    static func convert(_ frame: MediaFrame, decoder: Decoder, scaler: Scaler = .forStills()) throws(FFmpegError) -> RGBFrame {
        let bytes = try scaler.rgb(of: frame)
        return RGBFrame(width: frame.width, height: frame.height, rotation: decoder.rotation, bytes: bytes,
                        time: frame.time.map(decoder.seconds) ?? 0)
    }
}
