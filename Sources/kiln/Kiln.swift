import ArgumentParser
import JobRunner
import KilnApp
import Logging

@main
struct KilnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Self-hosted media processing: uploads in, images, video and HLS out.",
        subcommands: [Serve.self, Worker.self, Migrate.self, Run.self, Inspect.self, Render.self, Sign.self, Submit.self, Status.self, Watch.self],
        defaultSubcommand: Serve.self)

    /// A child forked by `kiln serve`'s zygote runs the command it was given, not the zygote's.
    static func main() async {
        await main(ForkedArguments.take())
    }
}

/// What a server or worker writes (uploads, outputs, scratch files of other
/// tenants' media) is for its own user only: 0600 files, 0700 directories.
func keepFilesPrivate() { umask(0o077) }

/// Logging set-up shared by every subcommand; `LOG_LEVEL` overrides the level.
func makeLogger() -> Logger {
    var logger = Logger(label: "kiln")
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API and workers in one process.")

    @Flag(help: "Serve HTTP only; run workers elsewhere with `kiln worker`.")
    var noWorkers = false

    func run() async throws {
        OpenFileLimit.raise(logger: makeLogger())
        MallocTuning.apply()
        keepFilesPrivate()
        let configuration = try KilnConfiguration.fromEnvironment()
        // Jobs run in child processes of this binary (KILN_WORKER_PROCESSES of them), so
        // that a codec crashing on a hostile file never takes the API down; 0 runs them here.
        let placement: Kiln.WorkerPlacement = noWorkers ? .none
            : configuration.workerProcesses.count == 0 ? .inProcess : .supervised(executable: Self.executablePath)
        // Uploads' headers are read in a child process too, unless everything runs here.
        let inspector = configuration.workerProcesses.count == 0 ? nil : Self.executablePath
        // A write to a child that has died must fail with EPIPE, not end the server.
        signal(SIGPIPE, SIG_IGN)
        // Only the application is kept across the await; see Worker.run.
        let application = try Kiln(configuration: configuration, logger: makeLogger())
            .makeApplication(workers: placement, inspectorExecutable: inspector)
        try await application.runService()
    }

    /// This binary, as the kernel knows it (argv[0] may be relative or a name on PATH).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run workers only, against the shared database and store.")

    @Flag(help: .hidden)
    var supervised = false

    func run() async throws {
        // Only the service group is kept across the await. Holding the whole `Kiln` value
        // there made the process die with SIGSEGV as it returned from a graceful shutdown,
        // in this function's resumption, once the configuration grew (Swift 6.3.1; not yet
        // reduced to a report).
        OpenFileLimit.raise(logger: makeLogger())
        MallocTuning.apply()
        keepFilesPrivate()
        let configuration = try KilnConfiguration.fromEnvironment()
        var notices: WorkerService.QueueNotices?
        if supervised {
            // Confined before it opens anything or takes work; and gone when its server is.
            try WorkerSandbox.apply(configuration.workerProcesses.limits, logger: makeLogger())
            notices = WorkerSandbox.stopWhenSupervisorGoes()
            Kiln.reportMetricsToSupervisor()
        }
        let workers = try Kiln(configuration: configuration, logger: makeLogger()).makeWorkerGroup(relayedNotices: notices)
        try await workers.run()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    func run() async throws {
        let logger = makeLogger()
        let kiln = try Kiln(configuration: try KilnConfiguration.fromEnvironment(), logger: logger)
        let applied = try await kiln.migrate()
        logger.info("migrations applied", metadata: ["versions": "\(applied)"])
    }
}

import Foundation
