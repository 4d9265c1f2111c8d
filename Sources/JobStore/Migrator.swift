import Foundation
import Logging
import PostgresNIO

/// Applies the ordered `.sql` files in `Migrations/` once each, recording them in
/// `schema_migrations`. An advisory lock makes concurrent starts (several
/// servers against one database) apply each migration exactly once.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    let client: DatabasePool
    let logger: Logger

    public init(client: DatabasePool, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The bundled migrations, ordered by the number that starts each file name.
    public static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else { return [] }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        return try files.compactMap { file -> Migration? in
            guard let version = Int(file.prefix { $0.isNumber }) else { return nil }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            return Migration(version: version, name: file, sql: sql)
        }.sorted { $0.version < $1.version }
    }

    /// Runs every pending migration; returns the versions applied now.
    @discardableResult
    public func migrate(schema: String? = nil) async throws -> [Int] {
        let migrations = try Self.bundled()
        return try await client.withTransaction(logger: logger) { connection in
            // Serialises migrators of one schema across processes. Keyed by the schema: a
            // migrator of another schema (a test's, a second deployment's) need not wait,
            // and with many starting at once a single key made the last ones wait for all.
            let lock = "kiln-migrations/" + (schema ?? "public")
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(lock), 7410510811))", logger: logger)
            if let schema {
                try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: quoteIdentifier(schema))", logger: logger)
            }
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            var now: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in Self.statements(in: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
                logger.info("applied migration", metadata: ["migration": .string(migration.name)])
                now.append(migration.version)
            }
            return now
        }
    }

    /// Splits a file into statements at `;` line ends, outside `$$` bodies and comments.
    /// The extended query protocol takes one statement at a time.
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inDollarBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") && !inDollarBody { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inDollarBody.toggle() }
            if !inDollarBody && trimmed.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}

/// Quotes an SQL identifier (a schema name from configuration).
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
