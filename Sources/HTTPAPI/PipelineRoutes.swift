import Foundation
import Hummingbird
import NIOFoundationCompat
import PipelineEngine

/// `GET /v1/pipelines`, `GET /v1/pipelines/{name}`: the named pipelines;
/// `GET /v1/schema/operations.json`: the operation language they are written in.
struct PipelineRoutes {
    let environment: APIEnvironment

    struct PipelineResource: Encodable {
        var name: String
        var description: String
        var outputs: JSONValue
    }

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.get("pipelines") { _, _ in
            JSONResponse.make(["data": environment.pipelines.all.map { PipelineResource(name: $0.name, description: $0.description, outputs: $0.outputs) }])
        }
        let schema = ByteBuffer(data: OperationSchema.document(for: environment.registry, id: environment.publicURL + "/v1/schema/operations.json").encoded())
        group.get("schema/operations.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/schema+json"], body: .init(byteBuffer: schema))
        }
        group.get("pipelines/:name") { _, context in
            guard let pipeline = environment.pipelines.pipeline(named: try context.parameters.require("name")) else {
                throw APIError.notFound("Pipeline")
            }
            return JSONResponse.make(PipelineResource(name: pipeline.name, description: pipeline.description, outputs: pipeline.outputs))
        }
    }
}
