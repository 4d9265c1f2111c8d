/// Decides what an upload is from its first bytes; the client's Content-Type is
/// never trusted. Anything not recognised is refused with 415.
public enum MediaSniffer {
    public struct Result: Equatable, Sendable {
        public var kind: MediaKind
        public var contentType: String
    }

    /// Bytes needed to decide (EBML doc types and ftyp brands sit early).
    public static let prefixLength = 64

    public static func sniff(_ bytes: [UInt8]) -> Result? {
        func at(_ offset: Int, _ ascii: String) -> Bool {
            let pattern = Array(ascii.utf8)
            return bytes.count >= offset + pattern.count && Array(bytes[offset..<offset + pattern.count]) == pattern
        }
        func contains(_ ascii: String) -> Bool {
            let pattern = Array(ascii.utf8)
            guard bytes.count >= pattern.count else { return false }
            return (0...(bytes.count - pattern.count)).contains { Array(bytes[$0..<$0 + pattern.count]) == pattern }
        }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .init(kind: .image, contentType: "image/jpeg") }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .init(kind: .image, contentType: "image/png") }
        if at(0, "GIF87a") || at(0, "GIF89a") { return .init(kind: .image, contentType: "image/gif") }
        if at(0, "RIFF") && at(8, "WEBP") { return .init(kind: .image, contentType: "image/webp") }
        if at(0, "RIFF") && at(8, "WAVE") { return .init(kind: .audio, contentType: "audio/wav") }
        if at(4, "ftyp") && bytes.count >= 12 {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            switch brand {
            case "avif", "avis": return .init(kind: .image, contentType: "image/avif")
            case "heic", "heix", "heim", "heis": return .init(kind: .image, contentType: "image/heic")
            case "mif1", "msf1": return .init(kind: .image, contentType: "image/heif")
            case "M4A ", "M4B ": return .init(kind: .audio, contentType: "audio/mp4")
            case "qt  ": return .init(kind: .video, contentType: "video/quicktime")
            default: return .init(kind: .video, contentType: "video/mp4")
            }
        }
        if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) {
            return contains("webm") ? .init(kind: .video, contentType: "video/webm") : .init(kind: .video, contentType: "video/x-matroska")
        }
        if at(0, "OggS") {
            return contains("theora") ? .init(kind: .video, contentType: "video/ogg") : .init(kind: .audio, contentType: "audio/ogg")
        }
        if at(0, "fLaC") { return .init(kind: .audio, contentType: "audio/flac") }
        if at(0, "ID3") { return .init(kind: .audio, contentType: "audio/mpeg") }
        if bytes.count >= 2, bytes[0] == 0xFF {
            // MPEG audio frame sync: 11 set bits. Layer bits 00 mean ADTS (AAC).
            if bytes[1] & 0xF6 == 0xF0 { return .init(kind: .audio, contentType: "audio/aac") }
            if bytes[1] & 0xE0 == 0xE0 && bytes[1] & 0x06 != 0 { return .init(kind: .audio, contentType: "audio/mpeg") }
        }
        return nil
    }
}
