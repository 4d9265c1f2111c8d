import Foundation

/// Drives one of the C transcoders (`kiln_audio_transcoder`, `kiln_video_transcoder`)
/// to its end: a step a packet, the stop flag checked between steps, progress
/// from the written position. Whatever happens the transcoder is closed (its
/// trailer written, so the muxer frees what it holds), and unless it finished
/// the partial output is removed.
///
/// `maxSeconds` is the duration limit applied while decoding: the header's
/// duration was checked before, but a header can say less than the stream
/// holds, or nothing at all.
enum TranscodeDriver {
    static func drive(output: String, maxSeconds: Double, total: Double, interrupt: InterruptFlag, progress: (Double) -> Void, operation: String,
                      step: () -> Int32, position: () -> Double, close: () -> Void) throws(FFmpegError) {
        var finished = false
        defer {
            close()
            if !finished { try? FileManager.default.removeItem(atPath: output) }
        }
        var steps = 0
        while true {
            if interrupt.isStopped { throw .interrupted }
            let status = step()
            if status < 0 { throw FFmpegError.from(status, operation: operation) }
            steps += 1
            if steps % 16 == 0, position() > maxSeconds {
                throw .tooLarge(message: "the stream runs past the limit of \(Int(maxSeconds)) s (its header said \(total > 0 ? "\(Int(total.rounded())) s" : "no duration"))")
            }
            if total > 0 && (status == 0 || steps % 16 == 0) { progress(min(1, position() / total)) }
            if status == 0 { break }
        }
        finished = true
    }
}
