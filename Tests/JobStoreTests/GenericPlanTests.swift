import Foundation
@testable import JobStore
import KilnApp
import KilnTestSupport
import PostgresNIO
import Testing

/// The plans PostgreSQL keeps for Kiln's named statements. A named statement is
/// planned once for any parameters (a generic plan) from the statistics of the
/// moment, and a new deployment prepares against empty tables that were never
/// analyzed. Each plan here is made so, in a fresh schema, and must reach its
/// row through the primary key, not scan another index filtered by id.
@Suite(.ownThreads) struct GenericPlanTests {
    /// `EXPLAIN EXECUTE` of `sql` as a generic plan, on one connection of a fresh, empty schema.
    func genericPlan(_ sql: String, types: [PostgresDataType], _ kiln: Kiln) async throws -> String {
        func name(_ type: PostgresDataType) throws -> (declared: String, sample: String) {
            switch type {
            case .text: return ("text", "'job_x'")
            case .int8: return ("bigint", "1")
            case .int4: return ("integer", "1")
            case .float8: return ("float8", "30")
            case .bool: return ("boolean", "true")
            case .textArray: return ("text[]", "'{image}'")
            default: throw TestFailure("no sample for \(type)")
            }
        }
        let parameters = try types.map(name)
        return try await kiln.client.withConnection { connection in
            try await connection.query("SET plan_cache_mode = force_generic_plan", logger: kiln.logger)
            try await connection.query(PostgresQuery(unsafeSQL: "PREPARE probe(\(parameters.map(\.declared).joined(separator: ", "))) AS \(sql)"),
                                       logger: kiln.logger)
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "EXPLAIN EXECUTE probe(\(parameters.map(\.sample).joined(separator: ", ")))"), logger: kiln.logger)
            var lines: [String] = []
            for try await line in rows.decode(String.self) { lines.append(line) }
            try await connection.query("DEALLOCATE probe", logger: kiln.logger)
            try await connection.query("RESET plan_cache_mode", logger: kiln.logger)
            return lines.joined(separator: "\n")
        }
    }

    /// The index scans of a plan, by index name.
    func indexesScanned(_ plan: String) -> Set<String> {
        var names: Set<String> = []
        for line in plan.split(separator: "\n") {
            guard let range = line.range(of: " using ") else { continue }
            names.insert(String(line[range.upperBound...].prefix { $0 != " " }))
        }
        return names
    }

    @Test func lookupsByIdUseOnlyThePrimaryKey() async throws {
        try await withMigratedKiln { kiln in
            let job = try await genericPlan(Prepared.Job.sql, types: Prepared.Job.bindingDataTypes, kiln)
            #expect(indexesScanned(job) == ["jobs_pkey"], "\(job)")
            let media = try await genericPlan(Prepared.Media.sql, types: Prepared.Media.bindingDataTypes, kiln)
            #expect(indexesScanned(media) == ["media_pkey"], "\(media)")
            let finish = try await genericPlan(Prepared.Finish.sql, types: Prepared.Finish.bindingDataTypes, kiln)
            #expect(indexesScanned(finish) == ["jobs_pkey"], "\(finish)")
        }
    }

    /// The claim finds its job through the queued-jobs index and updates it by primary key.
    @Test func theClaimReadsTheQueueThroughItsIndexes() async throws {
        try await withMigratedKiln { kiln in
            let claim = try await genericPlan(Prepared.Claim.sql, types: Prepared.Claim.bindingDataTypes, kiln)
            let scanned = indexesScanned(claim)
            #expect(scanned.contains("jobs_pkey") && scanned.contains("jobs_queued_by_tenant"), "\(claim)")
            #expect(!scanned.contains("jobs_tenant_seq") && !scanned.contains("jobs_tenant_status_seq"), "\(claim)")
        }
    }
}
