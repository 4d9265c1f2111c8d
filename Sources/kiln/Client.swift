import ArgumentParser
import Foundation
import KilnClient
import PipelineEngine

/// Where a client command finds the server: `KILN_URL` (default
/// http://127.0.0.1:8080) and `KILN_API_KEY`, or the flags.
struct ServerOptions: ParsableArguments {
    @Option(help: "The Kiln server (default: $KILN_URL, else http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "The API key (default: $KILN_API_KEY).")
    var key: String?

    func client() throws -> KilnAPIClient {
        let environment = ProcessInfo.processInfo.environment
        guard let key = key ?? environment["KILN_API_KEY"], !key.isEmpty else {
            throw ValidationError("Set KILN_API_KEY (or pass --key) to the API key of the server")
        }
        return KilnAPIClient(baseURL: url ?? environment["KILN_URL"] ?? "http://127.0.0.1:8080", key: key)
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload a file (or take a media id) and submit a job on it.",
        discussion: """
            kiln submit photo.jpg --pipeline avatar --watch
            kiln submit med_… --ops '[{"op":"thumbnail","width":320},{"op":"encode","format":"webp"}]'
            kiln submit talk.mp4 --outputs '{"stream":[{"op":"hls"}],"poster":[{"op":"thumbnail","width":640}]}'
            """)

    @OptionGroup var server: ServerOptions

    @Argument(help: "A file to upload, or the id of media already uploaded (med_…).")
    var input: String

    @Option(help: "A named pipeline (see GET /v1/pipelines).")
    var pipeline: String?

    @Option(help: "An operation list, as JSON: one output named `default`.")
    var ops: String?

    @Option(help: "Outputs, as JSON: {\"name\": [operations], …}.")
    var outputs: String?

    @Option(help: "A URL to POST to when the job ends (Standard Webhooks).")
    var webhook: String?

    @Flag(help: "Follow the job with a progress bar per output until it ends.")
    var watch = false

    @Flag(help: "Print the job as JSON instead of its id.")
    var json = false

    func validate() throws {
        guard [pipeline, ops, outputs].compactMap({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of --pipeline, --ops, --outputs")
        }
    }

    func run() async throws {
        let client = try server.client()
        var mediaID = input
        if FileManager.default.fileExists(atPath: input) {
            let media = try await client.upload(path: input)
            mediaID = media["id"]?.stringValue ?? ""
            FileHandle.standardError.write(Data("uploaded \(input) as \(mediaID) (\(media["kind"]?.stringValue ?? "?"), \(media["size"]?.doubleValue.map { Int($0) } ?? 0) bytes)\n".utf8))
        } else if !input.hasPrefix("med_") {
            throw ValidationError("\(input) is neither a file nor a media id (med_…)")
        }
        var job: [String: JSONValue] = ["input": .string(mediaID)]
        if let pipeline { job["pipeline"] = .string(pipeline) }
        if let ops { job["operations"] = try Self.parse(ops, "--ops") }
        if let outputs { job["outputs"] = try Self.parse(outputs, "--outputs") }
        if let webhook { job["webhook"] = .string(webhook) }
        let submitted = try await client.submit(.object(job))
        let id = submitted["id"]?.stringValue ?? ""
        if json { print(String(decoding: try submitted.encoded(), as: UTF8.self)) } else { print(id) }
        if watch { try await Watch.follow(id, client: client) }
    }

    static func parse(_ text: String, _ flag: String) throws -> JSONValue {
        do { return try JSONValue.decode(Data(text.utf8)) } catch { throw ValidationError("\(flag) is not valid JSON: \(error)") }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a job: its status, each output and its files.")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The job id (job_…).")
    var job: String

    @Flag(help: "Print the job as the API returns it.")
    var json = false

    func run() async throws {
        let found = try await server.client().job(job)
        if json {
            print(String(decoding: try found.encoded(), as: UTF8.self))
            return
        }
        print("\(found["id"]?.stringValue ?? job)  \(found["status"]?.stringValue ?? "?")  attempt \(found["attempt"]?.doubleValue.map { Int($0) } ?? 0)")
        if let error = found["error"], error != .null {
            print("  error: \(error["code"]?.stringValue ?? "") \(error["message"]?.stringValue ?? "")")
        }
        for (name, output) in (found["outputs"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let percent = Int(((output["progress"]?.doubleValue ?? 0) * 100).rounded(.down))
            print("  \(name): \(output["status"]?.stringValue ?? "?") \(percent)%")
            for file in output["files"]?.arrayValue ?? [] {
                print("    \(file["url"]?.stringValue ?? file["path"]?.stringValue ?? "")")
            }
            if let playback = output["results"]?["playbackUrl"]?.stringValue { print("    play: \(playback)") }
        }
    }
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow a job live (Server-Sent Events), a progress bar per output; exits 1 unless it succeeds.")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The job id (job_…).")
    var job: String

    func run() async throws {
        try await Self.follow(job, client: try server.client())
    }

    /// Draws the job until it ends; a dropped stream resumes from the last event seen.
    static func follow(_ id: String, client: KilnAPIClient) async throws {
        var display = ProgressDisplay()
        var job = try await client.job(id)
        display.show(job: job)
        var lastEventID: String?
        var attempts = 0
        while !Self.ended(job) {
            do {
                try await client.events(id, lastEventID: lastEventID) { event in
                    lastEventID = event.id ?? lastEventID
                    let data = (try? JSONValue.decode(Data(event.data.utf8))) ?? .null
                    display.apply(type: event.event, data: data)
                }
            } catch {
                attempts += 1
                if attempts > 5 { throw error }
                try await Task.sleep(for: .seconds(1))
            }
            job = try await client.job(id)
        }
        display.show(job: job)
        if job["status"] != "succeeded" {
            if let error = job["error"], error != .null {
                FileHandle.standardError.write(Data("\(error["code"]?.stringValue ?? "error"): \(error["message"]?.stringValue ?? "")\n".utf8))
            }
            throw ExitCode(1)
        }
    }

    static func ended(_ job: JSONValue) -> Bool {
        ["succeeded", "failed", "canceled"].contains(job["status"]?.stringValue ?? "")
    }
}
