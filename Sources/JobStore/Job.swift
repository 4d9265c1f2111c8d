import Foundation
import PipelineEngine

public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, canceled

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .canceled }
}

/// What went wrong, as clients see it in `error`.
public struct JobError: Sendable, Codable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// One published output file. `path` is relative to the job: `thumb/thumb.webp`.
public struct OutputFile: Sendable, Codable, Equatable {
    public var path: String
    /// Where the bytes are stored: under the prefix of the attempt that wrote
    /// them (`jobs/{id}/{lease token}/…`), so a zombie attempt never touches a
    /// file a client was served. Nil in records written before keys were kept.
    public var key: String?
    public var contentType: String
    public var size: Int
    public var width: Int?
    public var height: Int?
    public var duration: Double?
    /// Nil for a fixed file (and in records written before it was kept).
    public var publication: Publication?

    public init(path: String, key: String? = nil, contentType: String, size: Int, width: Int? = nil, height: Int? = nil, duration: Double? = nil,
                publication: Publication? = nil) {
        self.publication = publication
        self.path = path
        self.key = key
        self.contentType = contentType
        self.size = size
        self.width = width
        self.height = height
        self.duration = duration
    }

    /// A file a stage produced, at its published `path` in the job, stored under `key`.
    public init(path: String, key: String, producedFile file: ProducedFile) {
        self.init(path: path, key: key, contentType: file.contentType, size: file.size, width: file.width, height: file.height, duration: file.duration,
                  publication: file.publication == .fixed ? nil : file.publication)
    }

    /// The storage key of the file of job `jobID`.
    public func storageKey(jobID: String) -> String { key ?? "jobs/\(jobID)/\(path)" }
}

/// The state of one named output of a job.
public struct OutputState: Sendable, Codable, Equatable {
    public var status: JobStatus
    public var progress: Double
    public var files: [OutputFile]
    public var results: [String: JSONValue]
    public var error: JobError?
    /// When a running output first became playable (an `hls` output's first
    /// segment of every rendition published); nil for outputs served only whole.
    public var playableAt: Date?

    /// The published file players open (an HLS master playlist), if there is one.
    public var playbackEntry: OutputFile? { files.first { $0.publication == .playbackEntry } }

    public init(status: JobStatus = .queued, progress: Double = 0, files: [OutputFile] = [], results: [String: JSONValue] = [:], error: JobError? = nil,
                playableAt: Date? = nil) {
        self.playableAt = playableAt
        self.status = status
        self.progress = progress
        self.files = files
        self.results = results
        self.error = error
    }
}

/// A job as stored.
public struct Job: Sendable {
    public var id: String
    public var tenant: String
    public var status: JobStatus
    public var inputMediaID: String
    public var inputKind: MediaKind
    public var plan: JSONValue
    public var outputs: [String: OutputState]
    public var progress: Double
    public var attempt: Int
    public var maxAttempts: Int
    public var error: JobError?
    public var webhook: String?
    public var metadata: JSONValue?
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var sequence: Int64
    /// The earlier job whose identical outputs this one took instead of running.
    public var reusedFrom: String?
}

/// What a worker holds after a claim: the job and its fencing token. Every write
/// made for this attempt carries the token; a newer claim invalidates it.
public struct ClaimedJob: Sendable {
    public var id: String
    public var tenant: String
    public var leaseToken: Int64
    public var attempt: Int
    public var maxAttempts: Int
    public var plan: JSONValue
    public var inputKind: MediaKind
    public var inputKey: String
    public var inputContentType: String
    public var outputs: [String: OutputState]
    /// An earlier succeeded job that made what this one asks for, when this one allows reuse.
    public var reusable: String?
}

/// A new job, validated, ready to insert.
public struct NewJob: Sendable {
    public var id: String
    public var tenant: String
    public var input: MediaRecord
    public var plan: JobPlan
    public var webhook: String?
    public var metadata: JSONValue?
    public var idempotencyKey: String?
    public var requestHash: String?
    public var maxAttempts: Int
    /// Whether an earlier job's identical outputs may stand in for running this one.
    public var reuse: Bool

    public init(id: String = Identifier.make(prefix: "job"), tenant: String, input: MediaRecord, plan: JobPlan,
                webhook: String?, metadata: JSONValue?, idempotencyKey: String?, requestHash: String?, maxAttempts: Int = 5, reuse: Bool = true) {
        self.reuse = reuse
        self.id = id
        self.tenant = tenant
        self.input = input
        self.plan = plan
        self.webhook = webhook
        self.metadata = metadata
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.maxAttempts = maxAttempts
    }
}
