import Foundation
import KilnApp
import KilnClient
import KilnTestSupport
import PipelineEngine
import Testing

/// `kiln submit / status / watch`: the real binary against a running server.
@Suite(.ownThreads) struct CLIClientTests {
    func kiln(_ h: Harness, _ arguments: [String]) async throws -> ToolRun {
        let port = try #require(h.client.port)
        return try await runProgramOffPool(KilnProcess.binary, arguments,
                                           environment: ["KILN_URL": "http://127.0.0.1:\(port)", "KILN_API_KEY": h.key])
    }

    /// `kiln sign` and the README's Python signer make URLs the server renders; a typo is caught before the URL is handed out.
    @Test func signedImageURLsFromTheCLIAndTheREADMEsPythonAreServed() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("astronaut.jpg")["id"]?.stringValue)
            let signed = try await kiln(h, ["sign", "thumbnail:w=96/encode:f=png", media])
            #expect(signed.status == 0, "\(signed.errors)")
            let url = signed.output.trimmingCharacters(in: .whitespacesAndNewlines)
            let port = try #require(h.client.port)
            #expect(url.hasPrefix("http://127.0.0.1:\(port)/img/"))
            let served = try await h.client.executeRequest(uri: String(url.dropFirst("http://127.0.0.1:\(port)".count)), method: .get, headers: [:], body: nil)
            #expect(served.status == .ok && served.headers[.contentType] == "image/png")
            #expect(try Harness.decodeImage(served.body).width == 96)
            let typo = try await kiln(h, ["sign", "thumbnail:wdth=96", media])
            #expect(typo.status != 0 && typo.errors.contains("/0/wdth"), "\(typo.errors)")

            let readme = try String(contentsOfFile: Fixture.repositoryRoot + "/README.md", encoding: .utf8)
            let start = try #require(readme.range(of: "```python\n"))
            let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
            let program = String(readme[start.upperBound..<end.lowerBound])
                + "\nprint(kiln_image_url('', 'key-a', 'thumbnail:w=80,fit=inside/encode:f=webp', '\(media)'))\n"
            let python = try await runProgramOffPool("python3", ["-c", program])
            #expect(python.status == 0, "\(python.errors)")
            let fromPython = try await h.client.executeRequest(uri: python.output.trimmingCharacters(in: .whitespacesAndNewlines), method: .get,
                                                               headers: [:], body: nil)
            #expect(fromPython.status == .ok && fromPython.headers[.contentType] == "image/webp", "\(python.output)")
            #expect(try Harness.decodeImage(fromPython.body).width == 80)
        }
    }

    @Test func submitUploadsRunsAndWatchesToTheEnd() async throws {
        try await Harness.run { h in
            let run = try await kiln(h, ["submit", Fixture.path("astronaut.jpg"), "--watch",
                                         "--outputs", #"{"small": [{"op": "thumbnail", "width": 64}], "hash": [{"op": "blurhash"}]}"#])
            #expect(run.status == 0, "\(run.output)\n\(run.errors)")
            let lines = run.output.split(separator: "\n").map(String.init)
            let id = try #require(lines.first)
            #expect(id.hasPrefix("job_"))
            #expect(run.errors.contains("uploaded") && run.errors.contains("image"), "\(run.errors)")
            // A bar per output ending full, then the job's end.
            #expect(lines.contains { $0.hasPrefix("small") && $0.contains("[" + String(repeating: "#", count: 30) + "] 100%") && $0.hasSuffix("succeeded") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("hash") && $0.contains("100%") }, "\(lines)")
            #expect(lines.last == "job: succeeded")
            let job = try h.json(try await h.request(.get, "/v1/jobs/\(id)"))
            #expect(job["status"] == "succeeded")

            let status = try await kiln(h, ["status", id, "--json"])
            #expect(status.status == 0)
            #expect(try JSONValue.decode(Data(status.output.utf8))["status"] == "succeeded")
            let text = try await kiln(h, ["status", id])
            #expect(text.output.contains("\(id)  succeeded") && text.output.contains("/files/small/"), "\(text.output)")
        }
    }

    @Test func failuresAreClearAndExitNonZero() async throws {
        try await Harness.run { h in
            // A job that fails: watch exits 1 and says why.
            let failed = try await kiln(h, ["submit", Fixture.path("truncated.jpg"), "--ops", #"[{"op": "thumbnail", "width": 32}]"#, "--watch"])
            #expect(failed.status == 1, "\(failed.output)\n\(failed.errors)")
            #expect(failed.errors.contains("invalid_input"), "\(failed.errors)")
            #expect(failed.output.contains("job: failed"))
            // An invalid operation list: the server's message and pointer, and no job.
            let media = try #require(try await h.upload("gradient.webp")["id"]?.stringValue)
            let invalid = try await kiln(h, ["submit", media, "--ops", #"[{"op": "encode", "format": "jpeg", "quality": 0}]"#])
            #expect(invalid.status != 0)
            #expect(invalid.errors.contains("422") && invalid.errors.contains("/operations/0/quality"), "\(invalid.errors)")
            // No key: a clear message before any request.
            let noKey = try await runProgramOffPool(KilnProcess.binary, ["status", "job_x"], environment: ["KILN_API_KEY": ""])
            #expect(noKey.status != 0 && noKey.errors.contains("KILN_API_KEY"), "\(noKey.errors)")
        }
    }

    @Test func theEventParserGivesTheSameEventsForEveryCut() {
        let stream = Array("id: 1\nevent: job\ndata: {\"a\":1}\n\n: keep-alive\r\n\r\nid: 2\r\nevent: progress\r\ndata: x\r\ndata: y\r\n\r\nid: 3\rdata:z\r\r".utf8)
        var whole = ServerSentEventParser()
        let expected = whole.feed(stream)
        #expect(expected == [
            ServerSentEvent(id: "1", event: "job", data: #"{"a":1}"#),
            ServerSentEvent(id: "2", event: "progress", data: "x\ny"),
            ServerSentEvent(id: "3", event: nil, data: "z"),
        ])
        for cut in 1..<stream.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(stream[..<cut]) + parser.feed(stream[cut...])
            #expect(events == expected, "cut at \(cut)")
        }
    }
}
