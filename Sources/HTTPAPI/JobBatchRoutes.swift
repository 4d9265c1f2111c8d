import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import PipelineEngine
import Storage

/// `POST /v1/jobs/batch`: up to `maxJobs` jobs in one request, for clients that
/// enqueue thousands. Each job is what `POST /v1/jobs` takes, plus its own
/// `idempotencyKey`. The whole batch is validated first (a 422 names the job:
/// `/jobs/3/operations/0/width`) and then queued in one statement, so a batch
/// is all refused or all answered; the answer lists each job in order, or,
/// for a key used before with another body, its error.
struct JobBatchRoutes {
    let environment: APIEnvironment
    static let maxJobs = 1000

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.post("jobs/batch") { request, context in try await submit(request, context: context) }
    }

    /// One job of the answer: the job, or why it was not made.
    enum Item: Encodable {
        case job(JobResource)
        case error(APIError.Body)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case let .job(resource): try resource.encode(to: encoder)
            case let .error(body): try body.encode(to: encoder)
            }
        }
    }

    struct Answer: Encodable {
        var jobs: [Item]
    }

    func submit(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let body = try await JobRoutes.jsonBody(request, context: context)
        guard let object = body.objectValue, let items = object["jobs"]?.arrayValue else {
            throw APIError(.unprocessableContent, code: "invalid_request", message: "Expected {\"jobs\": [job, ...]}", pointer: "/jobs")
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "jobs" }) {
            throw APIError(.unprocessableContent, code: "invalid_request", message: "Unknown field \(unknown); expected jobs", pointer: "/\(unknown)")
        }
        guard (1...Self.maxJobs).contains(items.count) else {
            throw APIError(.unprocessableContent, code: "invalid_request",
                           message: "A batch holds 1 to \(Self.maxJobs) jobs; this one has \(items.count)", pointer: "/jobs")
        }
        let jobs = try await validate(items, tenant: tenant)
        if let maxQueued = environment.tenantLimits.limits(for: tenant).maxQueued,
           try await environment.store.queuedCount(tenant: tenant) + jobs.count > maxQueued {
            throw APIError(.tooManyRequests, code: "queue_quota_exceeded",
                           message: "This tenant may have \(maxQueued) jobs queued; this batch would pass that. Submit fewer, or more once some have started")
        }
        let audit = AuditEntry(tenant: tenant, keyID: context.keyID, action: "job.submit", object: "", client: context.clientAddress)
        let results = try await environment.store.insertJobs(jobs, tenant: tenant, audit: audit)
        var created = 0
        let answer = Answer(jobs: results.enumerated().map { index, result in
            let pointer = "/jobs/\(index)"
            switch result {
            case let .created(job):
                created += 1
                return .job(JobResource(job: job, publicURL: environment.publicURL, playback: environment.playback))
            case let .existing(job):
                return .job(JobResource(job: job, publicURL: environment.publicURL, playback: environment.playback))
            case .conflict:
                return .error(.init(error: .init(code: "idempotency_conflict", message: "This idempotencyKey was used with a different body",
                                                 pointer: pointer + "/idempotencyKey")))
            case .inputGone:
                return .error(.init(error: .init(code: "invalid_request", message: "No media \(jobs[index].input.id)", pointer: pointer + "/input")))
            }
        })
        context.logger.info("jobs submitted in a batch", metadata: ["jobs": "\(jobs.count)", "created": "\(created)"])
        return JSONResponse.make(answer, status: created > 0 ? .created : .ok)
    }

    /// Every job of the batch as it will be queued, or the first refusal, at its place in the batch.
    private func validate(_ items: [JSONValue], tenant: String) async throws -> [NewJob] {
        let single = JobRoutes(environment: environment)
        var checkedWebhooks: Set<String> = []
        var keys: Set<String> = []
        var jobs: [NewJob] = []
        jobs.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let at = JSONPointer(["jobs", String(index)])
            guard var fields = item.objectValue else {
                throw APIError(.unprocessableContent, code: "invalid_request", message: "Each job is an object", pointer: at.description)
            }
            var key: String?
            if let raw = fields.removeValue(forKey: "idempotencyKey") {
                guard let value = raw.stringValue, (1...255).contains(value.count) else {
                    throw APIError(.unprocessableContent, code: "invalid_idempotency_key",
                                   message: "idempotencyKey must be a string of 1 to 255 characters", pointer: at.appending("idempotencyKey").description)
                }
                guard keys.insert(value).inserted else {
                    throw APIError(.unprocessableContent, code: "invalid_idempotency_key",
                                   message: "Two jobs of this batch have the idempotencyKey \(value)", pointer: at.appending("idempotencyKey").description)
                }
                key = value
            }
            let job = JSONValue.object(fields)
            let (parsed, input, plan) = try await single.checked(job, tenant: tenant, job: at)
            if let webhook = parsed.webhook, checkedWebhooks.insert(webhook).inserted {
                try await single.checkWebhook(webhook, tenant: tenant, job: at)
            }
            jobs.append(NewJob(tenant: tenant, input: input, plan: plan, webhook: parsed.webhook, metadata: parsed.metadata,
                               idempotencyKey: key, requestHash: Hex.encode(SHA256.hash(data: job.encoded())), reuse: parsed.reuse))
        }
        return jobs
    }
}
