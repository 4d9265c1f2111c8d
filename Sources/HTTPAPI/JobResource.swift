import Foundation
import JobStore
import PipelineEngine

/// The job as clients see it: status, progress, each output's state with
/// absolute file URLs, and the error when it failed.
struct JobResource: Encodable {
    let job: Job
    let publicURL: String
    /// Signs the `playbackUrl` of playable outputs; nil leaves it out.
    var playback: PlaybackSigner? = nil
    /// The job's webhook messages and their attempts, shown when a single job is read.
    var deliveries: [WebhookDelivery]? = nil

    enum Keys: String, CodingKey {
        case id, status, progress, attempt, input, outputs, error, metadata, webhook, webhookDeliveries, createdAt, updatedAt, startedAt, finishedAt, firstPlayableAt, reusedFrom, plan
    }

    struct Delivery: Encodable {
        let delivery: WebhookDelivery

        enum Keys: String, CodingKey { case id, event, url, status, attempts, nextAttemptAt, lastAttemptAt, deliveredAt, log }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(delivery.id, forKey: .id)
            try c.encode(delivery.event, forKey: .event)
            try c.encode(delivery.url, forKey: .url)
            try c.encode(delivery.status.rawValue, forKey: .status)
            try c.encode(delivery.attempts, forKey: .attempts)
            try c.encode(delivery.status == .pending ? delivery.nextAttemptAt : nil, forKey: .nextAttemptAt)
            try c.encode(delivery.lastAttemptAt, forKey: .lastAttemptAt)
            try c.encode(delivery.deliveredAt, forKey: .deliveredAt)
            try c.encode(delivery.log, forKey: .log)
        }
    }

    struct Output: Encodable {
        let state: OutputState
        let jobURL: String
        /// `/play/{token}` for this job, when it can be signed.
        let playbackBase: String?

        enum Keys: String, CodingKey { case status, progress, files, results, error, playableAt }
        enum FileKeys: String, CodingKey { case path, contentType, size, width, height, duration, url }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(state.status.rawValue, forKey: .status)
            try c.encode(state.progress, forKey: .progress)
            var files = c.nestedUnkeyedContainer(forKey: .files)
            for file in state.files {
                var f = files.nestedContainer(keyedBy: FileKeys.self)
                try f.encode(file.path, forKey: .path)
                try f.encode(file.contentType, forKey: .contentType)
                try f.encode(file.size, forKey: .size)
                try f.encodeIfPresent(file.width, forKey: .width)
                try f.encodeIfPresent(file.height, forKey: .height)
                try f.encodeIfPresent(file.duration, forKey: .duration)
                try f.encode(jobURL + "/files/" + file.path, forKey: .url)
            }
            var results = state.results
            // The file players open, once published, and a signed URL players can open without the key.
            if let entry = state.playbackEntry {
                results["playlist"] = .string(entry.path)
                if let playbackBase { results["playbackUrl"] = .string(playbackBase + "/" + entry.path) }
            }
            try c.encode(results, forKey: .results)
            try c.encode(state.error, forKey: .error)
            try c.encodeIfPresent(state.playableAt, forKey: .playableAt)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let jobURL = publicURL + "/v1/jobs/" + job.id
        try c.encode(job.id, forKey: .id)
        try c.encode(job.status.rawValue, forKey: .status)
        try c.encode(job.progress, forKey: .progress)
        try c.encode(job.attempt, forKey: .attempt)
        try c.encode(job.inputMediaID, forKey: .input)
        // Signed only for jobs with something to play: most reads are of image jobs.
        let playable = job.outputs.values.contains { $0.playbackEntry != nil }
        let playbackBase = playable
            ? playback?.token(tenant: job.tenant, subject: job.id, expires: PlaybackSigner.expiry()).map { publicURL + "/play/" + $0 } : nil
        try c.encode(job.outputs.mapValues { Output(state: $0, jobURL: jobURL, playbackBase: playbackBase) }, forKey: .outputs)
        try c.encode(job.error, forKey: .error)
        try c.encode(job.metadata, forKey: .metadata)
        try c.encode(job.webhook, forKey: .webhook)
        try c.encodeIfPresent(deliveries?.map(Delivery.init), forKey: .webhookDeliveries)
        try c.encode(job.createdAt, forKey: .createdAt)
        try c.encode(job.updatedAt, forKey: .updatedAt)
        try c.encode(job.startedAt, forKey: .startedAt)
        try c.encode(job.finishedAt, forKey: .finishedAt)
        try c.encode(job.outputs.values.compactMap(\.playableAt).min(), forKey: .firstPlayableAt)
        try c.encode(job.reusedFrom, forKey: .reusedFrom)
        // Each output's operations with defaults filled: sent back as `outputs`, it runs the same job again.
        try c.encode(job.plan, forKey: .plan)
    }
}

struct JobList: Encodable {
    let data: [JobResource]
    let nextCursor: String?

    enum Keys: String, CodingKey { case data, nextCursor }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(data, forKey: .data)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}
