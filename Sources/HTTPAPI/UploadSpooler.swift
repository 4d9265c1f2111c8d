import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOFileSystem
import PipelineEngine
import Storage

/// Writes an upload to a staging file as it arrives, hashing and sniffing on
/// the way, so memory use does not grow with the upload's size.
struct UploadSpooler {
    struct Spooled {
        var path: String
        var size: Int
        var sha256: String
        var sniffed: MediaSniffer.Result
    }

    let stagingDirectory: String
    let limits: UploadLimits

    func spool<Body: AsyncSequence>(_ body: Body) async throws -> Spooled where Body.Element == ByteBuffer {
        let path = stagingDirectory + "/upload-" + UUID().uuidString
        do {
            return try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(path), options: .newFile(replaceExisting: false)) { handle in
                var hasher = SHA256()
                var prefix: [UInt8] = []
                var sniffed: MediaSniffer.Result?
                var size = 0
                var offset: Int64 = 0
                var pending = ByteBuffer()
                for try await chunk in body {
                    size += chunk.readableBytes
                    chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                    if sniffed == nil {
                        prefix += chunk.readableBytesView.prefix(MediaSniffer.prefixLength - prefix.count)
                        if prefix.count >= MediaSniffer.prefixLength {
                            sniffed = try Self.decide(prefix)
                        }
                    }
                    if let sniffed, size > limits.limit(for: sniffed.kind) {
                        throw Self.tooLarge(sniffed.kind.rawValue, limits.limit(for: sniffed.kind))
                    }
                    if size > limits.largest { throw Self.tooLarge("upload", limits.largest) }
                    // Coalesce small network chunks into ~1 MiB writes.
                    pending.writeImmutableBuffer(chunk)
                    if pending.readableBytes >= 1 << 20 {
                        try await handle.write(contentsOf: pending.readableBytesView, toAbsoluteOffset: offset)
                        offset += Int64(pending.readableBytes)
                        pending.clear()
                    }
                }
                if pending.readableBytes > 0 {
                    try await handle.write(contentsOf: pending.readableBytesView, toAbsoluteOffset: offset)
                }
                guard size > 0 else { throw APIError(.badRequest, code: "empty_upload", message: "The upload has no bytes") }
                let result = try sniffed ?? Self.decide(prefix)
                if size > limits.limit(for: result.kind) { throw Self.tooLarge(result.kind.rawValue, limits.limit(for: result.kind)) }
                let digest = Hex.encode(hasher.finalize())
                return Spooled(path: path, size: size, sha256: digest, sniffed: result)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    static func decide(_ prefix: [UInt8]) throws -> MediaSniffer.Result {
        guard let result = MediaSniffer.sniff(prefix) else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media",
                           message: "Unrecognised file type; Kiln accepts JPEG, PNG, WebP, GIF, AVIF/HEIF, MP4/MOV, WebM/MKV, MP3, WAV, OGG, FLAC and M4A")
        }
        return result
    }

    static func tooLarge(_ what: String, _ limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "too_large", message: "The \(what) exceeds the limit of \(limit) bytes")
    }
}
