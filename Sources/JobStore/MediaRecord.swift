import Foundation
import PipelineEngine

/// An uploaded file: what the API returns for `GET /v1/media/{id}`.
public struct MediaRecord: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var kind: MediaKind
    public var contentType: String
    public var size: Int
    public var sha256: String
    public var width: Int?
    public var height: Int?
    public var duration: Double?
    public var storageKey: String
    public var createdAt: Date
    /// When it and everything made from it go (an upload's `expiresIn`); nil keeps it.
    public var expiresAt: Date?

    public init(id: String, tenant: String, kind: MediaKind, contentType: String, size: Int, sha256: String,
                width: Int?, height: Int?, duration: Double?, storageKey: String, createdAt: Date = Date(), expiresAt: Date? = nil) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.width = width
        self.height = height
        self.duration = duration
        self.storageKey = storageKey
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Past its expiry: read as gone even before retention removes it.
    public var hasExpired: Bool { expiresAt.map { $0 <= Date() } ?? false }
}
