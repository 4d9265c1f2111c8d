import CFFmpeg

/// One frame of an animated image as straight-alpha RGBA, `width * 4` bytes a row.
public struct RGBAFrame: Sendable {
    public var width: Int
    public var height: Int
    public var bytes: [UInt8]
}

/// The frames of an animated PNG (APNG), which libvips reads only the first
/// of: FFmpeg's apng decoder composes each frame onto the canvas (the
/// dispose and blend ops of its `fcTL`), and they come out whole.
public enum AnimatedPNG {
    /// Every frame, in order, to `each`; no more than `maxFrames` are decoded.
    public static func frames(path: String, maxFrames: Int, maxPixels: Int, interrupt: InterruptFlag = InterruptFlag(),
                              each: (RGBAFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        // The apng demuxer alone: this file is read as nothing else.
        let demuxer = try Demuxer(path: path, formats: ["apng"], interrupt: interrupt)
        let decoder = try Decoder(demuxer, best: .video, maxPixels: maxPixels)
        let packet = try Packet(), frame = try MediaFrame()
        let scaler = Scaler(flags: SWS_POINT)
        var count = 0
        func take() throws(FFmpegError) {
            while try decoder.receive(into: frame) {
                count += 1
                guard count <= maxFrames else { throw .tooLarge(message: "more than \(maxFrames) frames") }
                let bytes = try scaler.rgba(of: frame)
                try each(RGBAFrame(width: frame.width, height: frame.height, bytes: bytes))
            }
        }
        // A damaged frame (its zlib data, its chunk order) ends the read with which frame it was.
        func damaged(_ error: FFmpegError) -> FFmpegError {
            if case .interrupted = error { return error }
            return .invalidData(message: "frame \(count + 1) of the APNG cannot be decoded (\(error))")
        }
        do throws(FFmpegError) {
            while try demuxer.read(into: packet) {
                if interrupt.isStopped { throw .interrupted }
                defer { packet.unref() }
                guard packet.streamIndex == decoder.streamIndex else { continue }
                try decoder.send(packet)
                try take()
            }
            try decoder.send(nil)
            try take()
        } catch {
            if case .tooLarge = error { throw error }
            throw damaged(error)
        }
        guard count > 0 else { throw .invalidData(message: "no frame could be decoded") }
    }
}
