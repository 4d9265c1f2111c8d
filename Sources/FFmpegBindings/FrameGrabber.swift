import CFFmpeg
import CFFmpegShims

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
        let decoder = try VideoDecoder(demuxer, maxPixels: maxPixels)
        guard let packet = av_packet_alloc() else { throw .failed(operation: "av_packet_alloc", code: kiln_averror(ENOMEM), message: "out of memory") }
        var frame = av_frame_alloc()
        var kept = av_frame_alloc()
        defer {
            var doomedPacket: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&doomedPacket)
            av_frame_free(&frame)
            av_frame_free(&kept)
        }
        guard let frame, let kept else { throw .failed(operation: "av_frame_alloc", code: kiln_averror(ENOMEM), message: "out of memory") }
        for position in positions {
            let seconds: Double = switch position {
            case let .seconds(value): max(0, value)
            case let .fraction(value): max(0, min(1, value)) * (demuxer.duration ?? 0)
            }
            let target = Int64(seconds / av_q2d(decoder.timeBase))
            // Always seek (to 0 as well): an earlier frame may have drained the decoder.
            // A failed seek leaves the read position where it is; decoding forward still finds the frame.
            if av_seek_frame(demuxer.context, decoder.streamIndex, target, AVSEEK_FLAG_BACKWARD) >= 0 { decoder.flush() }
            try each(try decodeUntil(target, demuxer: demuxer, decoder: decoder, packet: packet, frame: frame, kept: kept, interrupt: interrupt))
        }
    }

    /// Decodes forward to the first frame at or after `target` (stream time base), or the last one.
    static func decodeUntil(_ target: Int64, demuxer: borrowing Demuxer, decoder: borrowing VideoDecoder, packet: UnsafeMutablePointer<AVPacket>,
                            frame: UnsafeMutablePointer<AVFrame>, kept: UnsafeMutablePointer<AVFrame>,
                            interrupt: InterruptFlag) throws(FFmpegError) -> RGBFrame {
        av_frame_unref(kept)
        var haveFrame = false
        var draining = false
        while true {
            if interrupt.isStopped { throw .interrupted }
            if !draining {
                let read = av_read_frame(demuxer.context, packet)
                if read == kiln_averror_eof() {
                    draining = true
                    try decoder.send(nil)
                } else if read < 0 {
                    if read == kiln_averror_exit() { throw .interrupted }
                    // A damaged tail: settle for what was decoded, if anything.
                    if haveFrame { break }
                    throw FFmpegError.from(read, operation: "read_frame")
                } else {
                    defer { av_packet_unref(packet) }
                    guard packet.pointee.stream_index == decoder.streamIndex else { continue }
                    try decoder.send(packet)
                }
            }
            var produced = false
            while try decoder.receive(into: frame) {
                produced = true
                av_frame_unref(kept)
                av_frame_move_ref(kept, frame)
                haveFrame = true
                let pts = kept.pointee.best_effort_timestamp
                if pts != kiln_av_nopts_value() && pts >= target { return try convert(kept, decoder: decoder) }
            }
            if draining && !produced { break }
        }
        guard haveFrame else { throw .invalidData(message: "no frame could be decoded") }
        return try convert(kept, decoder: decoder)
    }

    static func convert(_ frame: UnsafeMutablePointer<AVFrame>, decoder: borrowing VideoDecoder) throws(FFmpegError) -> RGBFrame {
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        guard width > 0, height > 0 else { throw .invalidData(message: "an empty frame") }
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        let status = bytes.withUnsafeMutableBufferPointer { kiln_frame_to_rgb24(frame, $0.baseAddress, Int32(width * 3)) }
        guard status >= 0 else { throw FFmpegError.from(status, operation: "sws_scale") }
        let pts = frame.pointee.best_effort_timestamp
        return RGBFrame(width: width, height: height, rotation: decoder.rotation, bytes: bytes,
                        time: pts == kiln_av_nopts_value() ? 0 : Double(pts) * av_q2d(decoder.timeBase))
    }
}
