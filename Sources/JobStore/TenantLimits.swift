import Foundation

/// What one tenant may hold at once; nil: no limit.
public struct TenantLimits: Sendable, Equatable {
    /// Jobs running at once, across every worker.
    public var maxRunning: Int?
    /// Jobs queued (submitted, not yet started) at once.
    public var maxQueued: Int?
    /// Bytes of uploads stored.
    public var maxStorageBytes: Int?

    public init(maxRunning: Int? = nil, maxQueued: Int? = nil, maxStorageBytes: Int? = nil) {
        self.maxRunning = maxRunning
        self.maxQueued = maxQueued
        self.maxStorageBytes = maxStorageBytes
    }

    /// `other`'s limits where it sets them, these where it does not.
    func overridden(by other: TenantLimits) -> TenantLimits {
        TenantLimits(maxRunning: other.maxRunning ?? maxRunning, maxQueued: other.maxQueued ?? maxQueued,
                     maxStorageBytes: other.maxStorageBytes ?? maxStorageBytes)
    }
}

/// A deployment's limits: the same for every tenant, and some tenants' own.
public struct TenantLimitsTable: Sendable, Equatable {
    public var defaults: TenantLimits
    public var tenants: [String: TenantLimits]

    public init(defaults: TenantLimits = .init(), tenants: [String: TenantLimits] = [:]) {
        self.defaults = defaults
        self.tenants = tenants
    }

    public func limits(for tenant: String) -> TenantLimits {
        tenants[tenant].map { defaults.overridden(by: $0) } ?? defaults
    }

    /// `acme:running=8,queued=50000,storageMB=102400;beta:running=1`; nil with a reason if it is not that.
    public static func parse(_ text: String) -> Result<[String: TenantLimits], ParseError> {
        var tenants: [String: TenantLimits] = [:]
        for entry in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { return .failure(ParseError(description: "expected tenant:limits in \(entry)")) }
            var limits = TenantLimits()
            for setting in parts[1].split(separator: ",") {
                let pair = setting.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, let value = Int(pair[1]), value >= 0 else {
                    return .failure(ParseError(description: "expected name=number in \(setting)"))
                }
                switch pair[0] {
                case "running": limits.maxRunning = value
                case "queued": limits.maxQueued = value
                case "storageMB": limits.maxStorageBytes = value << 20
                default: return .failure(ParseError(description: "unknown limit \(pair[0]); expected running, queued or storageMB"))
                }
            }
            tenants[parts[0]] = limits
        }
        return .success(tenants)
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }
}

extension JobStore {
    /// Writes the limits workers apply when they claim (`max_running`), replacing what was there.
    /// `kiln serve` does it at start-up, from its configuration; `*` holds the defaults.
    public func setTenantLimits(_ table: TenantLimitsTable) async throws {
        let rows = [("*", table.defaults)] + table.tenants.sorted { $0.key < $1.key }.map { ($0.key, table.limits(for: $0.key)) }
        let tenants = rows.map(\.0)
        let running = rows.map { $0.1.maxRunning.map(Int64.init) ?? -1 }
        try await client.query("""
            INSERT INTO tenant_limits (tenant, max_running)
            SELECT tenant, nullif(running, -1)::int FROM unnest(\(tenants)::text[], \(running)::bigint[]) AS t(tenant, running)
            ON CONFLICT (tenant) DO UPDATE SET max_running = EXCLUDED.max_running
            """, logger: logger)
        try await client.query("DELETE FROM tenant_limits WHERE tenant <> ALL(\(tenants)::text[])", logger: logger)
    }

    public func queuedCount(tenant: String) async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM jobs WHERE tenant = \(tenant) AND status = 'queued'", logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    public func runningCount(tenant: String) async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM jobs WHERE tenant = \(tenant) AND status = 'running'", logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    public func storedUploadBytes(tenant: String) async throws -> Int {
        let rows = try await client.query("SELECT coalesce(sum(size), 0)::bigint FROM media WHERE tenant = \(tenant)", logger: logger)
        for try await bytes in rows.decode(Int64.self) { return Int(bytes) }
        return 0
    }
}
