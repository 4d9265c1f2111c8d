import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import PipelineEngine
import Storage

/// Submitting, reading, listing and cancelling jobs, and serving their files.
struct JobRoutes {
    let environment: APIEnvironment

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.post("jobs") { request, context in try await submit(request, context: context) }
        group.get("jobs") { request, context in try await list(request, context: context) }
        group.get("jobs/:id") { request, context in
            let wait = try JobWait.queried(request)
            let tenant = try context.requireTenant()
            if let settled = environment.settledJobs.get(tenant: tenant, id: try context.parameters.require("id")) {
                return ConditionalGET.respond(settled, request: request)
            }
            let mark = environment.settledJobs.mark()
            var job = try await job(context)
            if let wait, !job.status.isFinal {
                // Past the key's cap of open waits, answered as it is now.
                if let ticket = environment.longRequests.enter(context.keyID ?? tenant) {
                    job = try await JobWait.untilEnded(job, seconds: wait, environment: environment)
                    withExtendedLifetime(ticket) {}
                }
            }
            // Only an ended job has webhook messages (the outbox is filled as it ends).
            let deliveries = job.status.isFinal ? try await environment.store.webhookDeliveries(jobID: job.id) : []
            let resource = JobResource(job: job, publicURL: environment.publicURL, playback: environment.playback, deliveries: deliveries)
            guard let encoded = ConditionalGET.encode(resource) else { return JSONResponse.make(resource) }
            if job.status.isFinal && !deliveries.contains(where: { $0.status == .pending }) {
                environment.settledJobs.put(tenant: tenant, id: job.id, encoded, readAt: mark)
            }
            return ConditionalGET.respond(encoded, request: request)
        }
        group.post("jobs/:id/cancel") { _, context in
            let tenant = try context.requireTenant()
            let existing = try await job(context)
            guard JobLifecycle.canCancel(existing.status) else {
                throw APIError(.conflict, code: "job_finished", message: "The job already ended as \(existing.status.rawValue)")
            }
            guard let job = try await environment.store.requestCancel(id: existing.id, tenant: tenant) else { throw APIError.notFound("Job") }
            context.logger.info("job cancel requested", metadata: ["job.id": .string(job.id)])
            await Audit.record(environment, context, "job.cancel", job.id)
            return JobResource(job: job, publicURL: environment.publicURL, playback: environment.playback).response(status: .accepted)
        }
        group.get("events") { request, context in
            let tenant = try context.requireTenant()
            let ticket = try await streamTicket(context, tenant: tenant)
            return try await TenantEventStream(environment: environment).response(tenant: tenant, request: request, ticket: ticket)
        }
        group.get("jobs/:id/events") { request, context in
            let ticket = try await streamTicket(context, tenant: try context.requireTenant())
            return JobEventStream(environment: environment).response(for: try await job(context), request: request, ticket: ticket)
        }
        group.get("jobs/:id/files/**") { request, context in
            let job = try await job(context)
            let path = context.parameters.getCatchAll().joined(separator: "/")
            return try await OutputDelivery.serve(job, path: path, request: request, blobs: environment.blobs, audience: .private)
        }
    }

    private func job(_ context: KilnRequestContext) async throws -> Job {
        let tenant = try context.requireTenant()
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id, prefix: "job") else { throw APIError.notFound("Job") }
        guard let job = try await environment.store.job(id: id, tenant: tenant) else { throw await environment.absence("Job", id: id, tenant: tenant) }
        return job
    }

    func submit(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let body = try await Self.jsonBody(request, context: context)
        let (parsed, media, plan) = try await checked(body, tenant: tenant)
        if let webhook = parsed.webhook { try await checkWebhook(webhook, tenant: tenant) }
        if let maxQueued = environment.tenantLimits.limits(for: tenant).maxQueued,
           try await environment.store.queuedCount(tenant: tenant) >= maxQueued {
            throw APIError(.tooManyRequests, code: "queue_quota_exceeded",
                           message: "This tenant has \(maxQueued) jobs queued, its limit; submit more once some have started")
        }
        let idempotencyKey = request.headers[.idempotencyKey]
        if let key = idempotencyKey, key.isEmpty || key.count > 255 {
            throw APIError(.badRequest, code: "invalid_idempotency_key", message: "Idempotency-Key must be 1 to 255 characters")
        }
        let hash = Hex.encode(SHA256.hash(data: body.encoded()))
        let newJob = NewJob(tenant: tenant, input: media, plan: plan, webhook: parsed.webhook, metadata: parsed.metadata,
                            idempotencyKey: idempotencyKey, requestHash: hash, reuse: parsed.reuse)
        // Waiting for the end: subscribed before the insert, so no end can slip between the two.
        let wait = JobWait.preferred(request.headers)
        let waiter = wait != nil ? environment.events.subscribe(newJob.id) : nil
        defer { if let waiter { environment.events.unsubscribe(newJob.id, waiter) } }
        let audit = AuditEntry(tenant: tenant, keyID: context.keyID, action: "job.submit", object: newJob.id, client: context.clientAddress,
                               detail: ["input": .string(media.id)])
        switch try await environment.store.insertJob(newJob, audit: audit) {
        case let .created(job):
            context.logger.info("job submitted", metadata: ["job.id": .string(job.id)])
            return try await answer(job, wait: wait, waiter: waiter, keyID: context.keyID ?? tenant)
        case let .existing(job):
            return try await answer(job, wait: wait, waiter: nil, keyID: context.keyID ?? tenant)
        case .conflict:
            throw APIError(.conflict, code: "idempotency_conflict", message: "This Idempotency-Key was used with a different body")
        case .inputGone:
            let expired = await environment.absence("Media", id: media.id, tenant: tenant).code == "expired"
            throw ValidationError(code: expired ? "input_expired" : "invalid_request", pointer: JSONPointer(["input"]),
                                  message: expired ? "Media \(media.id) expired" : "No media \(media.id)")
        }
    }

    /// A job's own webhook must reach a public address (or one the deployment
    /// allows) and be signed with its tenant's secret: 422 at `/webhook` (under
    /// `job`, a batch's `/jobs/N`) if not. The notifier judges the address again
    /// as it connects (a name may change its answer).
    func checkWebhook(_ url: String, tenant: String, job: JSONPointer = .root) async throws {
        let pointer = job.appending("webhook").description
        do {
            _ = try await environment.webhookEgress.destination(for: url)
        } catch {
            throw APIError(.unprocessableContent, code: "webhook_not_allowed",
                           message: "\(error.reason): webhooks go to public addresses only", pointer: pointer)
        }
        if tenant != "default", try await environment.store.webhookSecrets(tenant: tenant) == nil {
            throw APIError(.unprocessableContent, code: "webhook_secret_missing",
                           message: "This tenant has no webhook signing secret yet: POST /v1/webhook-secret makes one", pointer: pointer)
        }
    }

    /// A place for one more event stream of this key, or 429.
    private func streamTicket(_ context: KilnRequestContext, tenant: String) async throws -> LongRequests.Ticket {
        guard let ticket = await environment.longRequests.enterNudging(context.keyID ?? tenant) else {
            throw APIError(.tooManyRequests, code: "too_many_streams",
                           message: "This API key holds \(environment.longRequests.limit) event streams and long polls open already; close one first")
        }
        return ticket
    }

    /// A submission's answer: 202 with the job, or with `Prefer: wait=N`, the
    /// job once it ended (200) or as it is after N seconds (202).
    /// `waiter`: subscribed to this job before it was inserted (see `JobWait.untilEnded`).
    /// Webhook deliveries are left to `GET`: a submission's answer comes as the job ends, before any is sent.
    private func answer(_ submitted: Job, wait: Double?, waiter: EventHub.Waiter?, keyID: String) async throws -> Response {
        var job = submitted
        var headers: HTTPFields = [.location: "/v1/jobs/\(job.id)"]
        // Past the key's cap of open waits, the preference is not applied: 202 now.
        let ticket = wait == nil ? nil : environment.longRequests.enter(keyID)
        if let wait, ticket != nil {
            job = try await JobWait.untilEnded(job, seconds: wait, environment: environment, subscribed: waiter)
            headers[.preferenceApplied] = "wait=\(Int(wait))"
        }
        withExtendedLifetime(ticket) {}
        return JSONResponse.make(JobResource(job: job, publicURL: environment.publicURL, playback: environment.playback),
                                 status: ticket != nil && job.status.isFinal ? .ok : .accepted, headers: headers)
    }

    func list(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let query = request.uri.queryParameters
        var status: JobStatus?
        if let raw = query["status"] {
            guard let parsed = JobStatus(rawValue: String(raw)) else {
                throw APIError(.badRequest, code: "invalid_query", message: "status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        var limit = 20
        if let raw = query["limit"] {
            guard let parsed = Int(String(raw)), (1...100).contains(parsed) else {
                throw APIError(.badRequest, code: "invalid_query", message: "limit must be an integer from 1 to 100")
            }
            limit = parsed
        }
        var cursor: Int64?
        if let raw = query["cursor"], !raw.isEmpty {
            guard let parsed = Int64(String(raw)), parsed > 0 else {
                throw APIError(.badRequest, code: "invalid_query", message: "cursor is not one this server handed out")
            }
            cursor = parsed
        }
        // One extra row tells whether another page exists.
        let jobs = try await environment.store.listJobs(tenant: tenant, status: status, limit: limit + 1, before: cursor)
        let page = Array(jobs.prefix(limit))
        let next = jobs.count > limit ? page.last.map { String($0.sequence) } : nil
        return JSONResponse.make(JobList(data: page.map { JobResource(job: $0, publicURL: environment.publicURL, playback: environment.playback) }, nextCursor: next))
    }

    /// A job's body checked for `tenant`: the request, its input media and its plan, or a 422
    /// whose pointer names the field under `job` (a batch's `/jobs/N`). Webhooks are the
    /// caller's to check (a batch checks each distinct one once).
    func checked(_ body: JSONValue, tenant: String, job: JSONPointer = .root) async throws -> (JobRequest, MediaRecord, JobPlan) {
        do {
            let parsed = try JobRequest.parse(body, pipelines: environment.pipelines)
            guard Identifier.isValid(parsed.input, prefix: "med"),
                  let media = try await environment.media(id: parsed.input, tenant: tenant) else {
                let expired = await environment.absence("Media", id: parsed.input, tenant: tenant).code == "expired"
                throw ValidationError(code: expired ? "input_expired" : "invalid_request", pointer: JSONPointer(["input"]),
                                      message: expired ? "Media \(parsed.input) expired" : "No media \(parsed.input)")
            }
            return (parsed, media, try JobPlan(outputs: parsed.outputs, input: media.kind, registry: environment.registry))
        } catch let error as ValidationError {
            throw APIError.invalid(ValidationError(code: error.code, pointer: JSONPointer(job.tokens + error.pointer.tokens), message: error.message))
        }
    }

    /// A submission's body as JSON, or 400 `malformed_json`.
    static func jsonBody(_ request: Request, context: KilnRequestContext) async throws -> JSONValue {
        let bytes = try await request.body.collect(upTo: context.maxUploadSize)
        do {
            return try JSONValue.decode(Data(buffer: bytes))
        } catch {
            throw APIError.malformedJSON(describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            return (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
        }
        return "\(error)"
    }
}

extension JobResource {
    func response(status: HTTPResponse.Status = .ok, location: String? = nil) -> Response {
        var headers: HTTPFields = [:]
        if let location { headers[.location] = location }
        return JSONResponse.make(self, status: status, headers: headers)
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
}
