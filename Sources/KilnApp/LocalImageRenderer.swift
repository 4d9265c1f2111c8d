import Foundation
import HTTPAPI
import PipelineEngine

/// Renders an image URL in this process with the registry, validation and
/// runner the workers use: the tests' server, `KILN_WORKER_PROCESSES=0`, and
/// each child of `ImageRenderPool`.
struct LocalImageRenderer: ImageRenderer {
    let run: LocalRun

    func render(source: String, operations: JSONValue, directory: String) async -> ImageRenderOutcome {
        do {
            let outputs = try await run.run(input: source, request: ["operations": operations], pipelines: PipelineLibrary(pipelines: []),
                                            directory: directory)
            guard let file = outputs.first?.files.first else { return .failed(code: "no_output", message: "the operations wrote no image") }
            return .rendered(path: file.path, contentType: file.file.contentType)
        } catch let failure as LocalRun.Failure {
            switch failure {
            case .unreadable: return .failed(code: "input_missing", message: "the source could not be read")
            case .unsupported: return .failed(code: "unsupported_media", message: "the source is not an image, video or audio file Kiln accepts")
            case let .invalid(error): return .failed(code: error.code, message: "\(error.pointer): \(error.message)")
            case let .failed(_, error): return .failed(code: error.code, message: error.message)
            }
        } catch {
            return .unavailable("\(error)")
        }
    }
}

extension ImageRenderOutcome {
    /// As a line between `kiln serve` and a render child.
    var json: JSONValue {
        switch self {
        case let .rendered(path, contentType): ["path": .string(path), "contentType": .string(contentType)]
        case let .failed(code, message): ["code": .string(code), "message": .string(message)]
        case let .unavailable(reason): ["unavailable": .string(reason)]
        }
    }

    init(json: JSONValue) {
        if let path = json["path"]?.stringValue, let contentType = json["contentType"]?.stringValue {
            self = .rendered(path: path, contentType: contentType)
        } else if let code = json["code"]?.stringValue {
            self = .failed(code: code, message: json["message"]?.stringValue ?? code)
        } else {
            self = .unavailable(json["unavailable"]?.stringValue ?? "the renderer gave no answer")
        }
    }
}
