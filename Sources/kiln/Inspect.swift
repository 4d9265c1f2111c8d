import ArgumentParser
import Foundation
import KilnApp

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a media file's dimensions and duration from its headers, as an upload is inspected.",
        discussion: "kiln inspect photo.heic   prints {\"kind\", \"width\", \"height\", \"duration\"} as JSON")

    @Flag(help: .hidden)
    var serve = false

    @Argument(help: "The file.")
    var file: String?

    func validate() throws {
        guard serve != (file != nil) else { throw ValidationError("give a file") }
    }

    func run() async throws {
        if serve {
            // `kiln serve`'s inspector: confined like its workers, answering until the server goes.
            keepFilesPrivate()
            try WorkerSandbox.apply(try KilnConfiguration.fromEnvironment().workerProcesses.limits, role: "inspector", logger: makeLogger())
            await InspectionServer.serve()
            return
        }
        guard let file else { return }
        let report = try MediaInspection.report(path: file)
        print(String(decoding: report.encoded(pretty: true), as: UTF8.self))
    }
}
