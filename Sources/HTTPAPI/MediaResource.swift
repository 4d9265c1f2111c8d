import Foundation
import JobStore

/// The media record as clients see it. Absent facts are `null`, not missing keys.
struct MediaResource: Encodable {
    let record: MediaRecord

    enum Keys: String, CodingKey { case id, kind, contentType, size, sha256, width, height, duration, createdAt, expiresAt }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(record.id, forKey: .id)
        try c.encode(record.kind.rawValue, forKey: .kind)
        try c.encode(record.contentType, forKey: .contentType)
        try c.encode(record.size, forKey: .size)
        try c.encode(record.sha256, forKey: .sha256)
        try c.encode(record.width, forKey: .width)
        try c.encode(record.height, forKey: .height)
        try c.encode(record.duration, forKey: .duration)
        try c.encode(record.createdAt, forKey: .createdAt)
        try c.encode(record.expiresAt, forKey: .expiresAt)
    }
}
