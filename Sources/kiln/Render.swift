import ArgumentParser
import KilnApp

/// `kiln render --serve`: one of `kiln serve`'s image URL render processes.
struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Render image URLs for kiln serve (started by it).", shouldDisplay: false)

    @Flag(help: .hidden)
    var serve = false

    func run() async throws {
        guard serve else { throw ValidationError("kiln render runs only as kiln serve's child (--serve)") }
        // Confined like the job workers, answering until the server goes.
        keepFilesPrivate()
        let configuration = try KilnConfiguration.fromEnvironment()
        try WorkerSandbox.apply(configuration.workerProcesses.limits, role: "renderer", logger: makeLogger())
        await ImageRenderServer.serve(limits: configuration.worker.limits)
    }
}
