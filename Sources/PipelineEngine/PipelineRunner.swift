import Logging

/// Runs one output's steps in order on the blocking pool, checking the stop
/// token between steps and reporting the output's progress (0...1).
public struct PipelineRunner: Sendable {
    let pool: BlockingPool

    public init(pool: BlockingPool) { self.pool = pool }

    public func run(_ output: JobPlan.Output, source: SourceFile, context: StageContext) async throws(StageError) -> OutputProduct {
        var value = StageValue.source(source)
        let count = Double(output.steps.count)
        for (index, step) in output.steps.enumerated() {
            try context.stop.check()
            var stepContext = context
            stepContext.logger[metadataKey: "op"] = .string(step.op)
            let report = context.reportProgress
            stepContext.reportProgress = { fraction in report((Double(index) + min(max(fraction, 0), 1)) / count) }
            let input = value
            let runContext = stepContext
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
