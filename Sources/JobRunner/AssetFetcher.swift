import Foundation
import JobStore
import PipelineEngine
import Storage

/// Fetches the files a job's steps refer to besides its input (a watermark's
/// image) before the job runs, so stages read local paths only. Uploads are
/// looked up in the job's own tenant; files under the pipelines directory are
/// named by a checked relative path. A reference that resolves to nothing is
/// left out, and the stage that needs it fails with `asset_not_found`.
public struct AssetFetcher: Sendable {
    let store: JobStore
    let blobs: any BlobStore
    let pipelinesDirectory: String

    func fetch(_ plan: JobPlan, tenant: String, scratch: String) async throws -> [String: String] {
        let references = Set(plan.outputs.flatMap { $0.steps.flatMap(\.stage.assetReferences) })
        var paths: [String: String] = [:]
        for reference in references.sorted() {
            switch AssetReference(reference) {
            case let .media(id):
                guard let media = try await store.media(id: id, tenant: tenant), media.kind == .image else { continue }
                let directory = scratch + "/assets"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                paths[reference] = try await blobs.localFile(key: media.storageKey, scratch: directory)
            case let .file(relative):
                if let path = Self.shippedFile(relative, pipelinesDirectory: pipelinesDirectory) { paths[reference] = path }
            case nil:
                continue
            }
        }
        return paths
    }

    /// `assets/...` under the pipelines directory, if it is a regular file there.
    public static func shippedFile(_ relative: String, pipelinesDirectory: String) -> String? {
        let path = pipelinesDirectory + "/" + relative
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return path
    }
}
