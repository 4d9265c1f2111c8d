import Logging
import Metrics

/// Runs one output's steps in order on the blocking pool, checking the stop
/// token between steps and reporting the output's progress (0...1).
public struct PipelineRunner: Sendable {
    let pool: BlockingPool

    public init(pool: BlockingPool) { self.pool = pool }

    /// Runs `output` from the input file, or from `start` (a shared decode of it).
    public func run(_ output: JobPlan.Output, source: SourceFile, start: StageValue? = nil, context: StageContext) async throws(StageError) -> OutputProduct {
        var value = start ?? StageValue.source(source)
        let count = Double(output.steps.count)
        for (index, step) in output.steps.enumerated() {
            try context.stop.check()
            var stepContext = context
            stepContext.logger[metadataKey: "op"] = .string(step.op)
            let report = context.reportProgress
            stepContext.reportProgress = { fraction in report((Double(index) + min(max(fraction, 0), 1)) / count) }
            let input = value
            let runContext = stepContext
            let started = ContinuousClock.now
            defer { Timer(label: "kiln_stage_seconds", dimensions: [("op", step.op)]).recordInterval(since: started) }
            do {
                value = try await pool.run { () throws -> StageValue in
                    try step.stage.run(input, context: runContext)
                }
            } catch let error as StageError {
                throw error
            } catch {
                throw StageError(code: "internal", message: "\(step.op): \(error)", retryable: true)
            }
            report(Double(index + 1) / count)
        }
        try context.stop.check()
        guard case let .product(product) = value else {
            throw StageError(code: "internal", message: "output \(output.name) ended without files")
        }
        return product
    }
}

extension PipelineRunner {
    /// The registry's verdict on the input (see `SourceInspector`); nil when it may be processed.
    public func inspect(_ source: SourceFile, registry: StageRegistry, limits: ProcessingLimits) async -> StageError? {
        guard let inspector = registry.sourceInspector else { return nil }
        do {
            try await pool.run { () throws -> Void in try inspector.inspect(source, limits: limits) }
            return nil
        } catch let error as StageError {
            return error
        } catch {
            return StageError(code: "internal", message: "inspecting the input: \(error)", retryable: true)
        }
    }

    /// The registry's shared decode of `source` for `outputs`, or nil when there
    /// is none or it failed (each output then decodes, and fails, on its own).
    public func sharedDecode(_ source: SourceFile, for outputs: [JobPlan.Output], registry: StageRegistry,
                             limits: ProcessingLimits) async -> SharedDecode? {
        guard let decoder = registry.sharedDecoder, outputs.count > 1 else { return nil }
        return try? await pool.run { () throws -> SharedDecode? in try decoder.decode(source, for: outputs, limits: limits) }
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
