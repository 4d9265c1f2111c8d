import ArgumentParser
import Foundation
import KilnApp
import PipelineEngine

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a pipeline or an operation list to a local file: no server, no database.",
        discussion: """
            kiln run --pipeline avatar photo.jpg -o out/
            kiln run --ops '[{"op":"resize","width":800},{"op":"encode","format":"webp"}]' photo.jpg -o out/
            kiln run --ops '{"small":[{"op":"thumbnail","width":64}],"hash":[{"op":"blurhash"}]}' photo.jpg -o out/
            Prints what each output produced, as JSON.
            """)

    @Option(help: "A pipeline from the pipelines directory.")
    var pipeline: String?

    @Option(help: "Operations as JSON: a list (one output, named default) or an object of named lists.")
    var ops: String?

    @Option(name: .customLong("pipelines-dir"), help: "Where named pipelines live.")
    var pipelinesDirectory = ProcessInfo.processInfo.environment["KILN_PIPELINES_DIR"] ?? "Pipelines"

    @Option(name: .shortAndLong, help: "Directory for the outputs (one folder per output).")
    var output: String

    @Argument(help: "The input file.")
    var input: String

    func validate() throws {
        guard (pipeline == nil) != (ops == nil) else { throw ValidationError("give exactly one of --pipeline or --ops") }
    }

    func run() async throws {
        let request: JSONValue
        if let pipeline {
            request = ["pipeline": .string(pipeline)]
        } else {
            let parsed: JSONValue
            do { parsed = try JSONValue.decode(Data(ops!.utf8)) } catch { throw ValidationError("--ops is not valid JSON: \(error)") }
            request = parsed.arrayValue != nil ? ["operations": parsed] : ["outputs": parsed]
        }
        let library = try PipelineLibrary(directory: pipelinesDirectory)
        var logger = makeLogger()
        logger.logLevel = min(logger.logLevel, .warning)
        do {
            let outputs = try await LocalRun(logger: logger).run(input: input, request: request, pipelines: library, directory: output)
            let report: JSONValue = .object(Dictionary(uniqueKeysWithValues: outputs.map { output in
                (output.name, JSONValue.object([
                    "files": .array(output.files.map { entry in
                        var file: [String: JSONValue] = ["path": .string(entry.path), "contentType": .string(entry.file.contentType),
                                                         "size": .number(Double(entry.file.size))]
                        if let width = entry.file.width { file["width"] = .number(Double(width)) }
                        if let height = entry.file.height { file["height"] = .number(Double(height)) }
                        if let duration = entry.file.duration { file["duration"] = .number(duration) }
                        return .object(file)
                    }),
                    "results": .object(output.results),
                ]))
            }))
            print(String(decoding: report.encoded(pretty: true), as: UTF8.self))
        } catch let failure as LocalRun.Failure {
            FileHandle.standardError.write(Data("kiln run: \(failure)\n".utf8))
            throw ExitCode(2)
        }
    }
}
