import Foundation
import PipelineEngine
import PostgresNIO

/// One webhook message of a job (migration 0005): its stable id (the
/// `webhook-id` header), where it goes, and what became of each attempt.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, Sendable { case pending, delivered, failed }

    public var id: String
    public var jobID: String
    public var tenant: String
    public var event: String
    public var url: String
    /// Nil until the first attempt builds it.
    public var payload: String?
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastAttemptAt: Date?
    /// `[{"at", "status", "error", "ms"}]`, oldest first.
    public var log: JSONValue
    public var createdAt: Date
    public var deliveredAt: Date?
    /// To the deployment's default receiver, not to the job's own webhook.
    public var toDefault: Bool = false
}

/// The secrets that sign a tenant's webhooks now: one, or two during a rotation.
public struct TenantWebhookSecrets: Sendable, Equatable {
    public var current: String
    public var createdAt: Date
    /// The secret before the last rotation, still signing until `previousUntil`.
    public var previous: String?
    public var previousUntil: Date?
}

extension JobStore {
    static let deliveryColumns = """
        id, job_id, tenant, event, url, payload, status, attempts, next_attempt_at, last_attempt_at, log::text, created_at, delivered_at,
        to_default
        """

    /// Where jobs without a webhook of their own report (nil: nowhere). Kept
    /// in the database because the trigger that fills the outbox reads it.
    public func setDefaultWebhook(url: String?) async throws {
        if let url {
            try await client.query("""
                INSERT INTO settings (key, value) VALUES ('default_webhook_url', \(url))
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
                """, logger: logger)
        } else {
            try await client.query("DELETE FROM settings WHERE key = 'default_webhook_url'", logger: logger)
        }
    }

    /// Takes up to `limit` due deliveries for one attempt each: the attempt is
    /// counted now and the next one pushed `leaseSeconds` away, so a process
    /// that dies mid-send leaves the message to be sent again, not lost.
    public func claimDueWebhooks(limit: Int, leaseSeconds: Double) async throws -> [WebhookDelivery] {
        let rows = try await client.query("""
            UPDATE webhook_deliveries SET
                attempts = attempts + 1, last_attempt_at = now(),
                next_attempt_at = now() + make_interval(secs => \(leaseSeconds))
            WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at
                FOR UPDATE SKIP LOCKED
                LIMIT \(limit)
            )
            RETURNING \(unescaped: Self.deliveryColumns)
            """, logger: logger)
        var deliveries: [WebhookDelivery] = []
        for try await row in rows { deliveries.append(try Self.decodeDelivery(row)) }
        return deliveries
    }

    /// Keeps `payload` as the message's body unless one was kept before; returns the one kept.
    public func fixWebhookPayload(id: String, payload: String) async throws -> String {
        let rows = try await client.query("""
            UPDATE webhook_deliveries SET payload = coalesce(payload, \(payload)) WHERE id = \(id) RETURNING payload
            """, logger: logger)
        for try await kept in rows.decode(String.self) { return kept }
        return payload
    }

    public enum WebhookOutcome: Sendable {
        case delivered
        case retry(after: Double)
        case gaveUp
    }

    /// Records attempt number `attempt` (ignored if another process has since
    /// made a later one) and what happens next.
    public func recordWebhookAttempt(id: String, attempt: Int, outcome: WebhookOutcome, httpStatus: Int?, error: String?, milliseconds: Int) async throws {
        let entry: JSONValue = .object([
            "at": .string(Date().formatted(.iso8601)), "attempt": .number(Double(attempt)),
            "status": httpStatus.map { .number(Double($0)) } ?? .null, "error": error.map(JSONValue.string) ?? .null,
            "ms": .number(Double(milliseconds)),
        ])
        let (status, delay): (String, Double) = switch outcome {
        case .delivered: ("delivered", 0)
        case .retry(let after): ("pending", after)
        case .gaveUp: ("failed", 0)
        }
        try await client.query("""
            UPDATE webhook_deliveries SET
                status = \(status), log = log || jsonb_build_array(\(entry.encodedString)::jsonb),
                next_attempt_at = now() + make_interval(secs => \(delay)),
                delivered_at = CASE WHEN \(status) = 'delivered' THEN now() END
            WHERE id = \(id) AND attempts = \(Int32(attempt)) AND status = 'pending'
            """, logger: logger)
    }

    /// The job's webhook messages, oldest first.
    public func webhookDeliveries(jobID: String) async throws -> [WebhookDelivery] {
        let rows = try await client.query("""
            SELECT \(unescaped: Self.deliveryColumns) FROM webhook_deliveries WHERE job_id = \(jobID) ORDER BY created_at, id
            """, logger: logger)
        var deliveries: [WebhookDelivery] = []
        for try await row in rows { deliveries.append(try Self.decodeDelivery(row)) }
        return deliveries
    }

    static func decodeDelivery(_ row: PostgresRow) throws -> WebhookDelivery {
        let (id, jobID, tenant, event, url, payload, status, attempts, next, last, log, created, delivered, toDefault) = try row.decode(
            (String, String, String, String, String, String?, String, Int32, Date, Date?, String, Date, Date?, Bool).self)
        return WebhookDelivery(
            id: id, jobID: jobID, tenant: tenant, event: event, url: url, payload: payload,
            status: WebhookDelivery.Status(rawValue: status) ?? .pending, attempts: Int(attempts), nextAttemptAt: next,
            lastAttemptAt: last, log: try JSONValue.decode(Data(log.utf8)), createdAt: created, deliveredAt: delivered,
            toDefault: toDefault)
    }

    /// The tenant's webhook secrets, or nil if it has made none. A previous one past its time is left out.
    public func webhookSecrets(tenant: String) async throws -> TenantWebhookSecrets? {
        let rows = try await client.query("""
            SELECT secret, created_at, CASE WHEN previous_until > now() THEN previous END, CASE WHEN previous_until > now() THEN previous_until END
            FROM webhook_secrets WHERE tenant = \(tenant)
            """, logger: logger)
        for try await (secret, created, previous, until) in rows.decode((String, Date, String?, Date?).self) {
            return TenantWebhookSecrets(current: secret, createdAt: created, previous: previous, previousUntil: until)
        }
        return nil
    }

    /// Makes `secret` the tenant's current one; the one it replaces keeps signing for `overlapSeconds`.
    public func rotateWebhookSecret(tenant: String, secret: String, overlapSeconds: Double) async throws -> TenantWebhookSecrets {
        let rows = try await client.query("""
            INSERT INTO webhook_secrets (tenant, secret) VALUES (\(tenant), \(secret))
            ON CONFLICT (tenant) DO UPDATE SET
                previous = webhook_secrets.secret, previous_until = now() + make_interval(secs => \(overlapSeconds)),
                secret = EXCLUDED.secret, created_at = now()
            RETURNING secret, created_at, previous, previous_until
            """, logger: logger)
        for try await (secret, created, previous, until) in rows.decode((String, Date, String?, Date?).self) {
            return TenantWebhookSecrets(current: secret, createdAt: created, previous: previous, previousUntil: until)
        }
        throw JobStoreError.insertFailed
    }
}
