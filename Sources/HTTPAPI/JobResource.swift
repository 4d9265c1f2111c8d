import Foundation
import JobStore
import PipelineEngine

/// A resource built as a `JSONValue` and written by its own writer
/// (`JSONResponse.make`): through Codable's containers, the job resource of
/// every status read and long-poll answer was the largest encoding cost left in
/// `kiln serve` (perf during `make bench`). As `Encodable` (a webhook's
/// envelope) it writes the same value.
protocol JSONValueConvertible: Encodable {
    var json: JSONValue { get }
}

extension JSONValueConvertible {
    func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

/// The job as clients see it: status, progress, each output's state with
/// absolute file URLs, and the error when it failed.
struct JobResource: JSONValueConvertible {
    let job: Job
    let publicURL: String
    /// Signs the `playbackUrl` of playable outputs; nil leaves it out.
    var playback: PlaybackSigner? = nil
    /// The job's webhook messages and their attempts, shown when a single job is read.
    var deliveries: [WebhookDelivery]? = nil

    var json: JSONValue {
        let jobURL = publicURL + "/v1/jobs/" + job.id
        // Signed only for jobs with something to play: most reads are of image jobs.
        let playable = job.outputs.values.contains { $0.playbackEntry != nil }
        let playbackBase = playable
            ? playback?.token(tenant: job.tenant, subject: job.id, expires: PlaybackSigner.expiry()).map { publicURL + "/play/" + $0 } : nil
        var members: [String: JSONValue] = [
            "id": .string(job.id), "status": .string(job.status.rawValue), "progress": .number(job.progress),
            "attempt": .number(Double(job.attempt)), "input": .string(job.inputMediaID),
            "outputs": .object(job.outputs.mapValues { Self.output($0, jobURL: jobURL, playbackBase: playbackBase) }),
            "error": job.error?.json ?? .null, "metadata": job.metadata ?? .null, "webhook": job.webhook.map(JSONValue.string) ?? .null,
            "createdAt": JSONResponse.timestamp(job.createdAt), "updatedAt": JSONResponse.timestamp(job.updatedAt),
            "startedAt": JSONResponse.timestamp(job.startedAt), "finishedAt": JSONResponse.timestamp(job.finishedAt),
            "firstPlayableAt": JSONResponse.timestamp(job.outputs.values.compactMap(\.playableAt).min()),
            "reusedFrom": job.reusedFrom.map(JSONValue.string) ?? .null,
            // Each output's operations with defaults filled: sent back as `outputs`, it runs the same job again.
            "plan": job.plan,
        ]
        if let deliveries { members["webhookDeliveries"] = .array(deliveries.map(Self.delivery)) }
        return .object(members)
    }

    static func delivery(_ delivery: WebhookDelivery) -> JSONValue {
        [
            "id": .string(delivery.id), "event": .string(delivery.event), "url": .string(delivery.url), "status": .string(delivery.status.rawValue),
            "attempts": .number(Double(delivery.attempts)),
            "nextAttemptAt": JSONResponse.timestamp(delivery.status == .pending ? delivery.nextAttemptAt : nil),
            "lastAttemptAt": JSONResponse.timestamp(delivery.lastAttemptAt), "deliveredAt": JSONResponse.timestamp(delivery.deliveredAt),
            "log": delivery.log,
        ]
    }

    /// `playbackBase`: `/play/{token}` for this job, when it can be signed.
    static func output(_ state: OutputState, jobURL: String, playbackBase: String?) -> JSONValue {
        let files: [JSONValue] = state.files.map { file in
            var members: [String: JSONValue] = [
                "path": .string(file.path), "contentType": .string(file.contentType), "size": .number(Double(file.size)),
                "url": .string(jobURL + "/files/" + file.path),
            ]
            if let width = file.width { members["width"] = .number(Double(width)) }
            if let height = file.height { members["height"] = .number(Double(height)) }
            if let duration = file.duration { members["duration"] = .number(duration) }
            return .object(members)
        }
        var results = state.results
        // The file players open, once published, and a signed URL players can open without the key.
        if let entry = state.playbackEntry {
            results["playlist"] = .string(entry.path)
            if let playbackBase { results["playbackUrl"] = .string(playbackBase + "/" + entry.path) }
        }
        var members: [String: JSONValue] = [
            "status": .string(state.status.rawValue), "progress": .number(state.progress), "files": .array(files), "results": .object(results),
            "error": state.error?.json ?? .null,
        ]
        if let playableAt = state.playableAt { members["playableAt"] = JSONResponse.timestamp(playableAt) }
        return .object(members)
    }
}

struct JobList: JSONValueConvertible {
    let data: [JobResource]
    let nextCursor: String?

    var json: JSONValue { ["data": .array(data.map(\.json)), "nextCursor": nextCursor.map(JSONValue.string) ?? .null] }
}
