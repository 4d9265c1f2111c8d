import Foundation
import FFmpegBindings

/// The waveform chat apps draw under a voice note: `buckets` bars of 5-bit
/// heights (0-31), the loudest bar at 31, packed little-endian 5 bits at a time
/// (bar i at bit 5i of the bytes, least significant bit first), base64-encoded:
/// Telegram's form, 63 bytes for 100 bars.
enum CompactWaveform {
    static let allowedBuckets = 16...256

    /// The bars of `peaks`, each the largest magnitude among the points it spans.
    static func bars(_ peaks: AudioPeaks, buckets: Int) -> [UInt8] {
        let points = peaks.peaks
        guard !points.isEmpty else { return Array(repeating: 0, count: buckets) }
        let magnitudes: [Float] = (0..<buckets).map { bucket in
            let start = bucket * points.count / buckets
            let end = max(start + 1, (bucket + 1) * points.count / buckets)
            return points[min(start, points.count - 1)..<min(end, points.count)].map { max(-$0.min, $0.max) }.max() ?? 0
        }
        let loudest = magnitudes.max() ?? 0
        guard loudest > 0 else { return Array(repeating: 0, count: buckets) }
        return magnitudes.map { UInt8(max(0, min(31, ($0 / loudest * 31).rounded()))) }
    }

    static func packed(_ bars: [UInt8]) -> Data {
        var bytes = [UInt8](repeating: 0, count: (bars.count * 5 + 7) / 8)
        for (index, bar) in bars.enumerated() {
            let bit = index * 5
            let value = UInt16(bar & 31) << (bit % 8)
            bytes[bit / 8] |= UInt8(value & 0xFF)
            if bit / 8 + 1 < bytes.count { bytes[bit / 8 + 1] |= UInt8(value >> 8) }
        }
        return Data(bytes)
    }
}
