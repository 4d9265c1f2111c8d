import Foundation
import Hummingbird
import JobStore
import Prometheus

/// Unauthenticated operational routes: health, metrics, the OpenAPI document.
struct SystemRoutes {
    let environment: APIEnvironment

    /// `kiln_jobs{status=…}`, read from the database at each scrape so that
    /// every process reports the shared queue, not only its own work.
    /// (`nonisolated(unsafe)`: an immutable value of a type not marked Sendable.)
    nonisolated(unsafe) static let jobsGauge = MetricNameDescriptor(namespace: "kiln", metricName: "jobs", unitName: "", helpText: "Jobs by status")

    func register(on router: Router<KilnRequestContext>) {
        router.get("healthz") { _, _ in
            // Liveness is answering at all; readiness is the database answering.
            let databaseUp = await environment.store.ping()
            let ready = databaseUp && environment.readiness.isReady
            return JSONResponse.make(
                ["status": ready ? "ok" : "unavailable", "database": databaseUp ? "ok" : "unreachable",
                 "schema": environment.readiness.isReady ? "ok" : "pending"],
                status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            if let counts = try? await environment.store.countsByStatus() {
                for (status, count) in counts {
                    environment.metrics.makeGauge(descriptor: Self.jobsGauge, labels: [("status", status.rawValue)]).set(Double(count))
                }
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: environment.metrics.emitToBuffer())))
        }
        // Built once: the document only changes with the build and KILN_PUBLIC_URL.
        let document = OpenAPIDocument.load(publicURL: environment.publicURL).map { ByteBuffer(bytes: $0) }
        router.get("openapi.json") { _, _ in
            guard let document else {
                throw APIError(.internalServerError, code: "internal", message: "OpenAPI document missing from the build")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
    }
}

/// The OpenAPI 3.1 document shipped as a resource, with `servers` set to this deployment.
public enum OpenAPIDocument {
    public static func load(publicURL: String) -> Data? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url),
              var object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        object["servers"] = [["url": publicURL]]
        return try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
