import Foundation
import PipelineEngine

/// `crash`: kills the process running it, with SIGSEGV or SIGABRT, as a codec
/// bug would. Test-only: it exists only when `KILN_TEST_OPERATIONS` names it,
/// for the tests that prove a crashing job takes down a worker process and
/// nothing else.
struct CrashOperation: Stage {
    static let descriptor = StageDescriptor(
        name: "crash", summary: "Test only: crash the worker process", accepts: ValueKind.anySource.union([.image]), produces: .image,
        parameters: [
            ParameterSpec("signal", .choice(["segv", "abort"]), default: "segv", summary: "How the process dies"),
            ParameterSpec("afterSeconds", .number(min: 0, max: 60), default: 0, summary: "Runs this long first"),
        ])
    let signal: String
    let afterSeconds: Double

    init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        signal = parameters.string("signal") ?? "segv"
        afterSeconds = parameters.double("afterSeconds") ?? 0
    }

    func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if afterSeconds > 0 { Thread.sleep(forTimeInterval: afterSeconds) }
        WorkerSandbox.crash(signal: signal)
    }

    /// The test-only operations the environment turns on.
    static func enabled(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [any Stage.Type] {
        let names = (environment["KILN_TEST_OPERATIONS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return names.contains("crash") ? [CrashOperation.self] : []
    }
}
