import JobStore
import KilnApp
import Logging
import PipelineEngine
import PostgresNIO

/// Runs `body` with a migrated store on a fresh schema; the client runs beside it.
public func withMigratedKiln<T: Sendable>(
    configuration: KilnConfiguration? = nil, _ body: @Sendable (Kiln) async throws -> T
) async throws -> T {
    let kiln = try Kiln(configuration: try configuration ?? TestEnvironment.configuration(), logger: TestEnvironment.logger())
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            await kiln.client.run()
            return nil
        }
        defer { group.cancelAll() }
        try await Migrator(client: kiln.client, logger: kiln.logger).migrate(schema: kiln.configuration.databaseSchema)
        return try await body(kiln)
    }
}

/// A media record for queue tests that never touch the bytes.
public func sampleMedia(tenant: String = "tenant-a", kind: MediaKind = .image) -> MediaRecord {
    MediaRecord(id: Identifier.make(prefix: "med"), tenant: tenant, kind: kind, contentType: "image/jpeg", size: 10,
                sha256: String(repeating: "0", count: 64), width: 10, height: 10, duration: nil, storageKey: "media/x")
}

/// A one-output plan (thumbnail + encode), valid for images.
public func samplePlan() throws -> JobPlan {
    try JobPlan(outputs: [("thumb", [["op": "thumbnail", "width": 32]], JSONPointer(["outputs", "thumb"]))], input: .image, registry: Stages.registry)
}
