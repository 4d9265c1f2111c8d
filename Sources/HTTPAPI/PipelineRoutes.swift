import Hummingbird
import PipelineEngine

/// `GET /v1/pipelines`, `GET /v1/pipelines/{name}`: the named pipelines.
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
        group.get("pipelines/:name") { _, context in
            guard let pipeline = environment.pipelines.pipeline(named: try context.parameters.require("name")) else {
                throw APIError.notFound("Pipeline")
            }
            return JSONResponse.make(PipelineResource(name: pipeline.name, description: pipeline.description, outputs: pipeline.outputs))
        }
    }
}
