import Foundation

/// The size in bytes of a file a stage wrote; nil when it cannot be read.
public func fileSize(atPath path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
}
