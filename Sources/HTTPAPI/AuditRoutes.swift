import Foundation
import Hummingbird
import JobStore
import PipelineEngine

/// `GET /v1/audit` (the tenant's recorded actions, newest first) and
/// `GET /v1/usage` (what the tenant stores and has used).
struct AuditRoutes {
    let environment: APIEnvironment

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.get("audit") { request, context in
            let tenant = try context.requireTenant()
            let query = request.uri.queryParameters
            let limit = min(max(Int(query["limit"].map(String.init) ?? "") ?? 50, 1), 200)
            let cursor = query["cursor"].flatMap { Int64(String($0)) }
            let entries = try await environment.store.auditLog(tenant: tenant, action: query["action"].map(String.init), limit: limit, before: cursor)
            let next = entries.count == limit ? entries.last.map { String($0.id) } : nil
            return JSONResponse.make(AuditPage(data: entries.map(AuditResource.init), nextCursor: next))
        }
        group.get("usage") { _, context in
            let tenant = try context.requireTenant()
            let usage = try await environment.store.usage(tenant: tenant)
            let limits = environment.tenantLimits.limits(for: tenant)
            let running = try await environment.store.runningCount(tenant: tenant)
            return JSONResponse.make(UsageResource(tenant: tenant, usage: usage, limits: limits, running: running))
        }
    }
}

/// Records an action in the audit log. A failure to record is logged, not
/// returned: the action itself has happened by then.
enum Audit {
    static func record(_ environment: APIEnvironment, _ context: KilnRequestContext, _ action: String, _ object: String, detail: JSONValue? = nil) async {
        guard let tenant = context.tenant else { return }
        do {
            try await environment.store.recordAudit(AuditEntry(tenant: tenant, keyID: context.keyID, action: action, object: object,
                                                               client: context.clientAddress, detail: detail))
        } catch {
            context.logger.error("audit entry not recorded", metadata: ["action": .string(action), "object": .string(object), "error": "\(error)"])
        }
    }
}

struct AuditResource: Encodable {
    let entry: AuditEntry

    enum Keys: String, CodingKey { case id, at, keyId, action, object, client, detail }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(String(entry.id), forKey: .id)
        try c.encode(entry.at, forKey: .at)
        try c.encode(entry.keyID, forKey: .keyId)
        try c.encode(entry.action, forKey: .action)
        try c.encode(entry.object, forKey: .object)
        try c.encode(entry.client, forKey: .client)
        try c.encode(entry.detail, forKey: .detail)
    }
}

struct AuditPage: Encodable {
    let data: [AuditResource]
    let nextCursor: String?
}

struct UsageResource: Encodable {
    let tenant: String
    let usage: TenantUsage
    let limits: TenantLimits
    let running: Int

    enum Keys: String, CodingKey { case tenant, storedBytes, media, jobs, processingSeconds, expired, limits }
    enum Expired: String, CodingKey { case media, jobs, bytes }
    enum Limit: String, CodingKey { case used, limit }
    enum Limits: String, CodingKey { case runningJobs, queuedJobs, uploadBytes }
    enum Stored: String, CodingKey { case uploads, uploadsByKind, outputs, imageCache, total }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(tenant, forKey: .tenant)
        var stored = c.nestedContainer(keyedBy: Stored.self, forKey: .storedBytes)
        let uploads = usage.uploadBytes.values.reduce(0, +)
        try stored.encode(uploads, forKey: .uploads)
        try stored.encode(usage.uploadBytes, forKey: .uploadsByKind)
        try stored.encode(usage.outputBytes, forKey: .outputs)
        try stored.encode(usage.imageCacheBytes, forKey: .imageCache)
        try stored.encode(uploads + usage.outputBytes + usage.imageCacheBytes, forKey: .total)
        try c.encode(usage.uploadCounts, forKey: .media)
        var jobs = usage.jobsByStatus
        for status in JobStatus.allCases where jobs[status.rawValue] == nil { jobs[status.rawValue] = 0 }
        try c.encode(jobs, forKey: .jobs)
        try c.encode((usage.processingSeconds * 1000).rounded() / 1000, forKey: .processingSeconds)
        // Removed at their expiry (`expiresIn`): no longer stored, counted while their tombstones last.
        var expired = c.nestedContainer(keyedBy: Expired.self, forKey: .expired)
        try expired.encode(usage.expired.media, forKey: .media)
        try expired.encode(usage.expired.jobs, forKey: .jobs)
        try expired.encode(usage.expired.bytes, forKey: .bytes)
        // Each limit beside what is used of it (null: no limit).
        var limited = c.nestedContainer(keyedBy: Limits.self, forKey: .limits)
        for (key, used, limit) in [(Limits.runningJobs, running, self.limits.maxRunning), (.queuedJobs, usage.jobsByStatus["queued"] ?? 0, self.limits.maxQueued),
                                   (.uploadBytes, uploads, self.limits.maxStorageBytes)] {
            var entry = limited.nestedContainer(keyedBy: Limit.self, forKey: key)
            try entry.encode(used, forKey: .used)
            try entry.encode(limit, forKey: .limit)
        }
    }
}
