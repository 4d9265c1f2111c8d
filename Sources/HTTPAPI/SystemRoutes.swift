import Foundation
import Hummingbird
import PipelineEngine
import JobStore
import Prometheus

/// Unauthenticated operational routes: health, metrics, the OpenAPI document.
struct SystemRoutes {
    let environment: APIEnvironment

    /// `kiln_jobs{status=…}`, read from the database at each scrape so that
    /// every process reports the shared queue, not only its own work.
    /// (`nonisolated(unsafe)`: an immutable value of a type not marked Sendable.)
    nonisolated(unsafe) static let jobsGauge = MetricNameDescriptor(namespace: "kiln", metricName: "jobs", unitName: "", helpText: "Jobs by status")
    nonisolated(unsafe) static let queueDepthGauge = MetricNameDescriptor(namespace: "kiln", metricName: "queue_depth", unitName: "",
                                                                        helpText: "Jobs waiting to be claimed now")
    nonisolated(unsafe) static let queueOldestGauge = MetricNameDescriptor(namespace: "kiln", metricName: "queue_oldest", unitName: "seconds",
                                                                         helpText: "How long the oldest claimable job has waited")

    /// Compares in time independent of where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func register(on router: Router<KilnRequestContext>) {
        router.get("healthz") { _, _ in
            // Liveness is answering at all; readiness is the database answering.
            let databaseUp = await environment.store.ping()
            let ready = databaseUp && environment.readiness.isSchemaReady
            return JSONResponse.make(
                ["status": ready ? "ok" : "unavailable", "database": databaseUp ? "ok" : "unreachable",
                 "schema": environment.readiness.isSchemaReady ? "ok" : "pending"],
                status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { request, _ in
            if let token = environment.metricsToken {
                let given = request.headers[.authorization] ?? ""
                guard given.hasPrefix("Bearer "), Self.same(String(given.dropFirst(7)), token) else {
                    throw APIError(.unauthorized, code: "unauthorized", message: "/metrics wants Authorization: Bearer <KILN_METRICS_TOKEN>")
                }
            }
            if let counts = try? await environment.jobCounts.counts(from: environment.store) {
                for (status, count) in counts {
                    environment.metrics.makeGauge(descriptor: Self.jobsGauge, labels: [("status", status.rawValue)]).set(Double(count))
                }
            }
            if let queue = try? await environment.store.queueStats() {
                environment.metrics.makeGauge(descriptor: Self.queueDepthGauge).set(Double(queue.depth))
                environment.metrics.makeGauge(descriptor: Self.queueOldestGauge).set(queue.oldestSeconds)
            }
            var exposition = environment.metrics.emitToBuffer()
            if let workers = environment.workerMetrics?() {
                exposition = Array(PrometheusText.merge([String(decoding: exposition, as: UTF8.self)] + workers).utf8)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: exposition)))
        }
        // Built once: the document only changes with the build and KILN_PUBLIC_URL.
        let document = OpenAPIDocument.load(publicURL: environment.publicURL, registry: environment.registry).map { ByteBuffer(bytes: $0) }
        router.get("openapi.json") { _, _ in
            guard let document else {
                throw APIError(.internalServerError, code: "internal", message: "OpenAPI document missing from the build")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
    }
}

/// The OpenAPI 3.1 document: the routes as written in the shipped resource,
/// `servers` set to this deployment, and the `Operation` schema generated from
/// the stage registry (the same as `/v1/schema/operations.json`), so the
/// document cannot drift from what validation accepts.
public enum OpenAPIDocument {
    public static func load(publicURL: String, registry: StageRegistry) -> Data? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url),
              case var .object(document) = try? JSONValue.decode(data),
              case var .object(components) = document["components"],
              case var .object(schemas) = components["schemas"],
              case var .object(operation) = OperationSchema.document(for: registry, id: publicURL + "/v1/schema/operations.json") else { return nil }
        operation["$schema"] = nil
        operation["$id"] = nil
        schemas["Operation"] = .object(operation)
        components["schemas"] = .object(schemas)
        document["components"] = .object(components)
        document["servers"] = [["url": .string(publicURL)]]
        return JSONValue.object(document).encoded()
    }
}
