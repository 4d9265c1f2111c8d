import Foundation
import Synchronization

/// Image URLs this process has already parsed, verified and validated, by
/// path and negotiated format, so that a warm hit or a 304 skips that work
/// (most of its CPU: percent-decoding, the registry's validation, the mac).
/// An entry is used only with the keys it was verified under: replacing the
/// keys (a revoked key) makes every entry stale. The expiry and the source
/// media's existence are still checked on every request.
final class ImageURLMemo: Sendable {
    struct Entry: Sendable {
        var tenant: String
        var expires: Date?
        var source: ImageURLSigner.Source
        var operations: ImageOperations
        var keysGeneration: Int
    }

    private let entries = Mutex<[String: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    static func key(path: Substring, format: String?) -> String { String(path) + "\n" + (format ?? "") }

    func get(_ key: String, keysGeneration: Int) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.keysGeneration == keysGeneration else { return nil }
            return entry
        }
    }

    func put(_ key: String, _ entry: Entry) {
        entries.withLock { entries in
            // Past its capacity it starts afresh: cheaper than tracking use, and refilled by the next requests.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
    }
}
