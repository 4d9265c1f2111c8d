import Foundation
import JobStore
import PipelineEngine

/// The job as clients see it: status, progress, each output's state with
/// absolute file URLs, and the error when it failed.
struct JobResource: Encodable {
    let job: Job
    let publicURL: String

    enum Keys: String, CodingKey {
        case id, status, progress, attempt, input, outputs, error, metadata, webhook, createdAt, updatedAt, startedAt, finishedAt
    }

    struct Output: Encodable {
        let state: OutputState
        let jobURL: String

        enum Keys: String, CodingKey { case status, progress, files, results, error }
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
            try c.encode(state.results, forKey: .results)
            try c.encode(state.error, forKey: .error)
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
        try c.encode(job.outputs.mapValues { Output(state: $0, jobURL: jobURL) }, forKey: .outputs)
        try c.encode(job.error, forKey: .error)
        try c.encode(job.metadata, forKey: .metadata)
        try c.encode(job.webhook, forKey: .webhook)
        try c.encode(job.createdAt, forKey: .createdAt)
        try c.encode(job.updatedAt, forKey: .updatedAt)
        try c.encode(job.startedAt, forKey: .startedAt)
        try c.encode(job.finishedAt, forKey: .finishedAt)
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
