import Foundation
import JobRunner
import Logging
import PipelineEngine

/// A job computed from a local file with the same registry, validation and
/// runner the workers use, but no server, database or store: `kiln run`, and
/// the tests of every stage.
public struct LocalRun: Sendable {
    public struct Output: Sendable {
        public var name: String
        /// Absolute path of each file, beside what the stage reported.
        public var files: [(path: String, file: ProducedFile)]
        public var results: [String: JSONValue]
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String)
        case unsupported(String)
        case invalid(ValidationError)
        case failed(output: String, StageError)

        public var description: String {
            switch self {
            case let .unreadable(path): "cannot read \(path)"
            case let .unsupported(path): "\(path) is not an image, video or audio file Kiln accepts"
            case let .invalid(error): "invalid operations at \(error.pointer): \(error.message)"
            case let .failed(output, error): "output \(output) failed: \(error.code): \(error.message)"
            }
        }
    }

    public var registry: StageRegistry
    public var limits: ProcessingLimits
    public var logger: Logger
    /// A thread pool kept across runs (a benchmark's, as a worker keeps one);
    /// nil starts one for each run.
    public var pool: BlockingPool?

    public init(registry: StageRegistry = Stages.registry, limits: ProcessingLimits = .init(), logger: Logger = Logger(label: "kiln.run"),
                pool: BlockingPool? = nil) {
        self.registry = registry
        self.limits = limits
        self.logger = logger
        self.pool = pool
    }

    /// What the file is, from its bytes, as an upload would be sniffed.
    public static func sniff(_ path: String) throws(Failure) -> MediaSniffer.Result {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(path) }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: MediaSniffer.prefixLength)) ?? Data()
        guard let sniffed = MediaSniffer.sniff(Array(prefix)) else { throw .unsupported(path) }
        return sniffed
    }

    /// Validates `request` (a job body without `input`: `outputs`, `operations`
    /// or `pipeline`) against the file and runs every output into `directory/NAME/`.
    public func run(input path: String, request: JSONValue, pipelines: PipelineLibrary, directory: String,
                    progress: @escaping @Sendable (String, Double) -> Void = { _, _ in }) async throws -> [Output] {
        let sniffed = try Self.sniff(path)
        var body = request.objectValue ?? [:]
        body["input"] = "local"
        let plan: JobPlan
        do {
            let parsed = try JobRequest.parse(.object(body), pipelines: pipelines)
            plan = try JobPlan(outputs: parsed.outputs, input: sniffed.kind, registry: registry)
        } catch {
            throw Failure.invalid(error)
        }
        // Only shipped files: uploads (med_...) need a server.
        var assets: [String: String] = [:]
        for reference in Set(plan.outputs.flatMap { $0.steps.flatMap(\.stage.assetReferences) }) {
            if case let .file(relative) = AssetReference(reference), let directory = pipelines.directory {
                assets[reference] = AssetFetcher.shippedFile(relative, pipelinesDirectory: directory)
            }
        }
        let source = SourceFile(path: path, kind: sniffed.kind, contentType: sniffed.contentType)
        if let pool { return try await run(plan, source: source, assets: assets, pool: pool, directory: directory, progress: progress) }
        let ownPool = BlockingPool(threads: 1)
        do {
            let outputs = try await run(plan, source: source, assets: assets, pool: ownPool, directory: directory, progress: progress)
            try? await ownPool.shutdown()
            return outputs
        } catch {
            try? await ownPool.shutdown()
            throw error
        }
    }

    private func run(_ plan: JobPlan, source: SourceFile, assets: [String: String], pool: BlockingPool, directory: String,
                     progress: @escaping @Sendable (String, Double) -> Void) async throws -> [Output] {
        let runner = PipelineRunner(pool: pool)
        if let refused = await runner.inspect(source, registry: registry, limits: limits) {
            throw Failure.failed(output: plan.outputs.first?.name ?? "default", refused)
        }
        let shared = await runner.sharedDecode(source, for: plan.outputs, registry: registry, limits: limits)
        var outputs: [Output] = []
        for output in shared?.ordered(plan.outputs) ?? plan.outputs {
            let outputDirectory = directory + "/" + output.name
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            let context = StageContext(outputName: output.name, scratchDirectory: outputDirectory, stop: StopToken(), limits: limits,
                                       logger: logger, assets: assets,
                                       reportProgress: { progress(output.name, $0) })
            let product: OutputProduct
            do {
                let start = shared?.outputs.contains(output.name) == true ? shared?.value : nil
                product = try await runner.run(output, source: source, start: start, context: context)
            } catch {
                throw Failure.failed(output: output.name, error)
            }
            outputs.append(Output(name: output.name, files: product.files.map { (outputDirectory + "/" + $0.name, $0) }, results: product.results))
        }
        let planned = plan.outputs.map(\.name)
        return outputs.sorted { planned.firstIndex(of: $0.name)! < planned.firstIndex(of: $1.name)! }
    }
}
