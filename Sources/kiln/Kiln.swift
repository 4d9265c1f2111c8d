import ArgumentParser
import KilnApp
import Logging

@main
struct KilnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Self-hosted media processing: uploads in, images, video and HLS out.",
        subcommands: [Serve.self, Worker.self, Migrate.self, Run.self, Submit.self, Status.self, Watch.self],
        defaultSubcommand: Serve.self)
}

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
        // Only the application is kept across the await; see Worker.run.
        let application = try Kiln(configuration: try KilnConfiguration.fromEnvironment(), logger: makeLogger()).makeApplication(withWorkers: !noWorkers)
        try await application.runService()
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run workers only, against the shared database and store.")

    func run() async throws {
        // Only the service group is kept across the await. Holding the whole `Kiln` value
        // there made the process die with SIGSEGV as it returned from a graceful shutdown,
        // in this function's resumption, once the configuration grew (Swift 6.3.1; not yet
        // reduced to a report).
        OpenFileLimit.raise(logger: makeLogger())
        MallocTuning.apply()
        let workers = try Kiln(configuration: try KilnConfiguration.fromEnvironment(), logger: makeLogger()).makeWorkerGroup()
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
