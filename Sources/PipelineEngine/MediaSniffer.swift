/// Decides what an upload is from its first bytes; the client's Content-Type is
/// never trusted. Anything not recognised is refused with 415. The verdict is
/// confirmed again by the decoder itself before a job processes the file.
public enum MediaSniffer {
    public struct Result: Equatable, Sendable {
        public var kind: MediaKind
        public var contentType: String

        public init(kind: MediaKind, contentType: String) {
            self.kind = kind
            self.contentType = contentType
        }
    }

    /// Bytes needed to decide: EBML doc types and ftyp brands sit early, and a
    /// bare MPEG audio stream is confirmed by finding its second frame.
    public static let prefixLength = 4096

    static let imageBrands: [String: String] = [
        "avif": "image/avif", "avis": "image/avif",
        "heic": "image/heic", "heix": "image/heic", "heim": "image/heic", "heis": "image/heic", "mif1": "image/heif", "msf1": "image/heif",
    ]
    static let audioBrands: Set<String> = ["M4A ", "M4B ", "M4P ", "F4A "]
    static let videoBrands: Set<String> = [
        "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "hvc1", "av01", "M4V ", "M4VH", "M4VP",
        "dash", "qt  ", "3gp4", "3gp5", "3gp6", "3g2a", "3g2b", "3g2c", "mmp4", "f4v ", "MSNV", "XAVC", "kddi",
    ]

    public static func sniff(_ bytes: [UInt8]) -> Result? {
        func at(_ offset: Int, _ ascii: String) -> Bool {
            let pattern = Array(ascii.utf8)
            return bytes.count >= offset + pattern.count && Array(bytes[offset..<offset + pattern.count]) == pattern
        }
        func contains(_ ascii: String, within limit: Int) -> Bool {
            let pattern = Array(ascii.utf8), window = Array(bytes.prefix(limit))
            guard window.count >= pattern.count else { return false }
            return (0...(window.count - pattern.count)).contains { Array(window[$0..<$0 + pattern.count]) == pattern }
        }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .init(kind: .image, contentType: "image/jpeg") }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .init(kind: .image, contentType: "image/png") }
        if at(0, "GIF87a") || at(0, "GIF89a") { return .init(kind: .image, contentType: "image/gif") }
        if at(0, "RIFF") && at(8, "WEBP") { return .init(kind: .image, contentType: "image/webp") }
        if at(0, "RIFF") && at(8, "WAVE") { return .init(kind: .audio, contentType: "audio/wav") }
        if at(4, "ftyp") { return isoMedia(bytes) }
        if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) {
            return contains("webm", within: 64) ? .init(kind: .video, contentType: "video/webm") : .init(kind: .video, contentType: "video/x-matroska")
        }
        if at(0, "OggS") {
            return contains("theora", within: 64) ? .init(kind: .video, contentType: "video/ogg") : .init(kind: .audio, contentType: "audio/ogg")
        }
        if at(0, "fLaC") { return .init(kind: .audio, contentType: "audio/flac") }
        if at(0, "ID3") { return .init(kind: .audio, contentType: "audio/mpeg") }
        if let frame = MPEGAudioFrame(bytes, at: 0), let next = MPEGAudioFrame(bytes, at: frame.length), next.matches(frame) {
            return .init(kind: .audio, contentType: frame.isADTS ? "audio/aac" : "audio/mpeg")
        }
        return nil
    }

    /// ISO base media (MP4, MOV, 3GP, M4A, HEIF, AVIF): decided by the major
    /// brand or, failing that, the compatible brands; unknown brands are refused.
    static func isoMedia(_ bytes: [UInt8]) -> Result? {
        let boxSize = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard boxSize >= 16, bytes.count >= 12 else { return nil }
        let end = min(boxSize, bytes.count)
        let brands = [8] + Array(stride(from: 16, to: end - 3, by: 4))
        let names = brands.map { String(decoding: bytes[$0..<$0 + 4], as: UTF8.self) }
        for name in names {
            if let image = imageBrands[name] {
                // mif1 as the major brand says little: an avif compatible brand says more.
                if name.hasPrefix("m"), names.contains("avif") { return .init(kind: .image, contentType: "image/avif") }
                return .init(kind: .image, contentType: image)
            }
            if audioBrands.contains(name) { return .init(kind: .audio, contentType: "audio/mp4") }
            if videoBrands.contains(name) { return .init(kind: .video, contentType: name == "qt  " ? "video/quicktime" : "video/mp4") }
        }
        return nil
    }
}

/// One MPEG audio (MP1/2/3) or ADTS (AAC) frame header, with the frame's length,
/// so that a second header can be looked for where the first frame ends: two
/// sync bytes alone match one random file in two thousand.
struct MPEGAudioFrame: Equatable {
    var isADTS: Bool
    var version: UInt8
    var layer: UInt8
    var sampleRateIndex: UInt8
    var length: Int

    init?(_ bytes: [UInt8], at offset: Int) {
        guard offset >= 0, offset + 7 <= bytes.count, bytes[offset] == 0xFF, bytes[offset + 1] & 0xE0 == 0xE0 else { return nil }
        let b1 = bytes[offset + 1], b2 = bytes[offset + 2]
        if b1 & 0xF6 == 0xF0 {
            // ADTS: 12 sync bits, layer 00; 13-bit frame length.
            isADTS = true
            version = (b1 >> 3) & 1
            layer = 0
            sampleRateIndex = (b2 >> 2) & 0x0F
            guard sampleRateIndex < 13 else { return nil }
            length = Int(bytes[offset + 3] & 0x03) << 11 | Int(bytes[offset + 4]) << 3 | Int(bytes[offset + 5] >> 5)
            guard length >= 7 else { return nil }
            return
        }
        isADTS = false
        version = (b1 >> 3) & 0x03   // 00 MPEG 2.5, 01 reserved, 10 MPEG 2, 11 MPEG 1
        layer = (b1 >> 1) & 0x03     // 01 III, 10 II, 11 I, 00 reserved
        let bitrateIndex = Int(b2 >> 4)
        sampleRateIndex = (b2 >> 2) & 0x03
        guard version != 1, layer != 0, bitrateIndex != 0, bitrateIndex != 15, sampleRateIndex != 3 else { return nil }
        let mpeg1 = version == 3
        let layerNumber = 4 - Int(layer)
        let bitrates: [Int] = switch (mpeg1, layerNumber) {
        case (true, 1): [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448]
        case (true, 2): [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384]
        case (true, _): [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
        case (false, 1): [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256]
        case (false, _): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
        }
        let baseRates = [44100, 48000, 32000]
        let sampleRate = baseRates[Int(sampleRateIndex)] / (version == 3 ? 1 : version == 2 ? 2 : 4)
        let padding = Int((b2 >> 1) & 1)
        let bitrate = bitrates[bitrateIndex] * 1000
        length = switch layerNumber {
        case 1: (12 * bitrate / sampleRate + padding) * 4
        case 3 where !mpeg1: 72 * bitrate / sampleRate + padding
        default: 144 * bitrate / sampleRate + padding
        }
    }

    /// Whether `other` could be the next frame of the same stream.
    func matches(_ other: MPEGAudioFrame) -> Bool {
        isADTS == other.isADTS && version == other.version && layer == other.layer && sampleRateIndex == other.sampleRateIndex
    }
}
