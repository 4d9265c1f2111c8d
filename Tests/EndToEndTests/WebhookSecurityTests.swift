import Egress
import Foundation
import JobRunner
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// Webhooks as a hostile tenant would use them (to reach the network behind
/// Kiln) and as a careful receiver checks them (its own tenant's secret).
/// Every receiver here listens on a loopback address: nothing is sent anywhere else.
@Suite(.serialized, .ownThreads)
struct WebhookSecurityTests {
    /// A receiver on `host:port`, run by Python: logs each request as a JSON line
    /// (path, when, which of `secrets` verify it with PyPI's standardwebhooks).
    /// `drip`: answers with its head, then one body byte every 2 s for ever.
    static let receiver = #"""
        import json, sys, time, socket
        from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
        from standardwebhooks import Webhook
        host, port, log, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
        secrets = sys.argv[5:]
        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('content-length', 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = []
                for secret in secrets:
                    try:
                        Webhook(secret).verify(body, headers); verified.append(secret)
                    except Exception:
                        pass
                entry = {'path': self.path, 'at': time.time(), 'verified': verified,
                         'signatures': len(headers.get('webhook-signature', '').split())}
                with open(log, 'a') as f:
                    f.write(json.dumps(entry) + '\n')
                if mode == 'drip':
                    self.send_response(200); self.send_header('Content-Length', '1000'); self.end_headers()
                    try:
                        while True:
                            self.wfile.write(b'x'); self.wfile.flush(); time.sleep(2)
                    except Exception:
                        return
                self.send_response(204); self.send_header('Content-Length', '0'); self.end_headers()
            def log_message(self, *args):
                pass
        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ':' in host else socket.AF_INET
            daemon_threads = True
        Server((host, port), Handler).serve_forever()
        """#

    struct Receiver {
        let process: Process
        let log: String
        let url: String

        init(host: String = "127.0.0.1", mode: String = "ok", secrets: [String] = []) throws {
            let port = try WebhookTests.freePort()
            log = NSTemporaryDirectory() + "kiln-receiver-\(UUID().uuidString).jsonl"
            FileManager.default.createFile(atPath: log, contents: nil)
            let script = NSTemporaryDirectory() + "kiln-receiver-\(UUID().uuidString).py"
            try WebhookSecurityTests.receiver.write(toFile: script, atomically: true, encoding: .utf8)
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, host, "\(port)", log, mode] + secrets
            try process.run()
            url = host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        }

        struct Entry: Decodable {
            let path: String
            let at: Double
            let verified: [String]
            let signatures: Int
        }

        var entries: [Entry] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
        }

        func waitForListening() async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            let (host, port) = (URLComponents(string: url)!.host!, URLComponents(string: url)!.port!)
            while true {
                let probe = try? runTool("python3", ["-c", "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)",
                                                      host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), "\(port)"])
                if probe != nil { return }
                guard ContinuousClock.now < deadline else { throw HarnessError("receiver \(url) never listened") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func stop() { kill(process.processIdentifier, SIGKILL) }
    }

    static func configuration(allowLoopback: Bool) throws -> KilnConfiguration {
        var configuration = try TestEnvironment.configuration(apiKeys: "tenant-a:key-a,tenant-b:key-b,default:key-d")
        configuration.webhookSecret = WebhookSigner.generateSecret()
        configuration.webhooks.retrySeconds = [0.5, 0.5, 0.5]
        configuration.webhooks.pollSeconds = 0.2
        if allowLoopback { configuration.webhooks.egress = EgressPolicy(allowedNetworks: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!]) }
        return configuration
    }

    @Test func webhooksToLoopbackAreRefusedAtSubmissionAndNothingIsSent() async throws {
        let canary4 = try Receiver(host: "127.0.0.1")
        let canary6 = try Receiver(host: "::1")
        defer { canary4.stop(); canary6.stop() }
        try await canary4.waitForListening()
        try await canary6.waitForListening()
        let port4 = URLComponents(string: canary4.url)!.port!, port6 = URLComponents(string: canary6.url)!.port!
        let targets = [
            "http://127.0.0.1:\(port4)/hook", "http://localhost:\(port4)/hook", "http://[::1]:\(port6)/hook",
            "http://[::ffff:127.0.0.1]:\(port4)/hook", "http://0.0.0.0:\(port4)/hook", "http://127.1:\(port4)/hook",
            "http://2130706433:\(port4)/hook", "http://[::]:\(port6)/hook",
        ]
        try await Harness.run(configuration: try Self.configuration(allowLoopback: false)) { h in
            var h = h
            h.key = "key-d"
            let media = try #require(try await h.upload("gradient.webp")["id"])
            for target in targets {
                let response = try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": 16]], "webhook": .string(target)])
                let error = try h.json(response)["error"]
                #expect(response.status.code == 422 && error?["pointer"] == "/webhook" && error?["code"] == "webhook_not_allowed",
                        "\(target): \(response.status) \(String(buffer: response.body))")
            }
            // A job that runs and ends meanwhile, so the notifier has had its chance.
            let job = try await h.runJob(on: "gradient.webp", [["op": "thumbnail", "width": 16]])
            #expect(job["status"] == "succeeded")
            try await Task.sleep(for: .seconds(1))
        }
        #expect(canary4.entries.isEmpty && canary6.entries.isEmpty, "the canaries were reached")
    }

    /// The API allows loopback (as a deployment may) but the process that sends does not: the
    /// address is judged again as it connects, and the attempt is refused with a short reason.
    @Test func theSenderJudgesTheAddressAgainAsItConnects() async throws {
        let canary = try Receiver()
        defer { canary.stop() }
        try await canary.waitForListening()
        let api = try Self.configuration(allowLoopback: true)
        try await Harness.run(configuration: api, withWorkers: false) { h in
            var h = h
            h.key = "key-d"
            var strict = api
            strict.webhooks.egress = EgressPolicy()
            let worker = try KilnProcess(configuration: strict, name: "strict-sender")
            let media = try #require(try await h.upload("gradient.webp")["id"])
            let submitted = try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": 16]],
                                                "webhook": .string(canary.url + "/hook")])
            #expect(submitted.status == .accepted, "\(String(buffer: submitted.body))")
            let id = try #require(try h.json(submitted)["id"]?.stringValue)
            _ = try await h.waitForJob(id)
            let deadline = ContinuousClock.now + .seconds(30)
            var log: [JSONValue] = []
            while ContinuousClock.now < deadline {
                log = try h.json(try await h.request(.get, "/v1/jobs/\(id)"))["webhookDeliveries"]?.arrayValue?.first?["log"]?.arrayValue ?? []
                if log.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(log.count >= 2 && log.allSatisfy { $0["error"] == "127.0.0.1 is a loopback address" && $0["status"] == .null },
                    "\(log)\n\(worker.log.suffix(2000))")
        }
        #expect(canary.entries.isEmpty, "the canary was reached")
    }

    @Test func eachTenantSignsWithItsOwnSecretAndARotationSendsBoth() async throws {
        try await Harness.run(configuration: try Self.configuration(allowLoopback: true)) { h in
            var a = h, b = h
            a.key = "key-a"
            b.key = "key-b"
            let media = try #require(try await a.upload("gradient.webp")["id"])
            let job: JSONValue = ["input": media, "operations": [["op": "thumbnail", "width": 16]], "webhook": "http://127.0.0.1:9/x"]
            // No secret of its own yet: refused, with what to do.
            let early = try await a.submit(job)
            let earlyCode = try a.json(early)["error"]?["code"]
            #expect(early.status.code == 422 && earlyCode == "webhook_secret_missing", "\(String(buffer: early.body))")
            #expect(try await a.request(.get, "/v1/webhook-secret").status == .notFound)
            let made = try a.json(try await a.request(.post, "/v1/webhook-secret"))
            let first = try #require(made["secret"]?.stringValue)
            #expect(first.hasPrefix("whsec_") && made["previousSignsUntil"] == .null)
            let shown = try a.json(try await a.request(.get, "/v1/webhook-secret"))
            #expect(shown["secret"] == nil && shown["createdAt"]?.stringValue != nil, "the secret is shown once: \(shown)")
            let other = try #require(try b.json(try await b.request(.post, "/v1/webhook-secret"))["secret"]?.stringValue)

            let receiver = try Receiver(secrets: [first, other])
            defer { receiver.stop() }
            try await receiver.waitForListening()
            func deliver(_ path: String) async throws -> Receiver.Entry {
                let response = try await a.submit(["input": media, "operations": [["op": "thumbnail", "width": 16]],
                                                   "webhook": .string(receiver.url + path)])
                #expect(response.status == .accepted, "\(String(buffer: response.body))")
                _ = try await a.waitForJob(try #require(try a.json(response)["id"]?.stringValue))
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    if let entry = receiver.entries.first(where: { $0.path == path }) { return entry }
                    try await Task.sleep(for: .milliseconds(100))
                }
                throw HarnessError("nothing arrived at \(path)")
            }
            let signed = try await deliver("/before")
            #expect(signed.verified == [first], "tenant-a's secret verifies, tenant-b's does not: \(signed)")

            let rotated = try a.json(try await a.request(.post, "/v1/webhook-secret"))
            let second = try #require(rotated["secret"]?.stringValue)
            #expect(second != first && rotated["previousSignsUntil"]?.stringValue != nil, "\(rotated)")
            let receiverAfter = try Receiver(secrets: [first, second, other])
            defer { receiverAfter.stop() }
            try await receiverAfter.waitForListening()
            let response = try await a.submit(["input": media, "operations": [["op": "thumbnail", "width": 16]],
                                               "webhook": .string(receiverAfter.url + "/during")])
            _ = try await a.waitForJob(try #require(try a.json(response)["id"]?.stringValue))
            let deadline = ContinuousClock.now + .seconds(30)
            while receiverAfter.entries.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            let during = try #require(receiverAfter.entries.first)
            #expect(during.signatures == 2 && Set(during.verified) == [first, second], "during the rotation both verify: \(during)")
        }
    }

    /// A receiver that sends its head and then a byte every 2 s holds its delivery for the
    /// deadline (3 s here) and no longer; another receiver's message goes out meanwhile.
    @Test func aSlowReceiverDoesNotHoldAnotherOnesWebhooks() async throws {
        let slow = try Receiver(mode: "drip")
        let quick = try Receiver()
        defer { slow.stop(); quick.stop() }
        try await slow.waitForListening()
        try await quick.waitForListening()
        var configuration = try Self.configuration(allowLoopback: true)
        configuration.webhooks.deadlineSeconds = 3
        configuration.webhooks.retrySeconds = [60]
        try await Harness.run(configuration: configuration) { h in
            var h = h
            h.key = "key-d"
            let media = try #require(try await h.upload("gradient.webp")["id"])
            var slowJobs: [String] = []
            for index in 0..<40 {
                let response = try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": .number(Double(16 + index))]],
                                                   "webhook": .string(slow.url + "/slow\(index)")])
                slowJobs.append(try #require(try h.json(response)["id"]?.stringValue))
            }
            for id in slowJobs { _ = try await h.waitForJob(id) }
            // Every slot of the sender may now be held by the slow receiver.
            try await Task.sleep(for: .milliseconds(500))
            let quickJob = try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": 15]],
                                               "webhook": .string(quick.url + "/quick")])
            let ended = try await h.waitForJob(try #require(try h.json(quickJob)["id"]?.stringValue))
            let finished = try #require(ended["finishedAt"]?.stringValue)
            let endedAt = try #require(apiDate(finished), "\(finished)")
            let deadline = ContinuousClock.now + .seconds(30)
            while quick.entries.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let arrived = try #require(quick.entries.first, "the quick receiver got nothing")
            let delay = arrived.at - endedAt.timeIntervalSince1970
            #expect(delay < 3 + 1.5, "the quick receiver's message waited \(delay) s behind the slow one")
            // The slow receiver's attempts ended at the deadline, with a short reason.
            let slowLog = try h.json(try await h.request(.get, "/v1/jobs/\(slowJobs[0])"))["webhookDeliveries"]?.arrayValue?.first?["log"]?.arrayValue
            #expect(slowLog?.first?["error"] == "no complete answer within 3 s" && (slowLog?.first?["ms"]?.doubleValue ?? 0) < 4_500,
                    "\(String(describing: slowLog))")
        }
    }
}

/// An API timestamp (ISO 8601, with or without fractions of a second).
func apiDate(_ text: String) -> Date? {
    (try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
        ?? (try? Date(text, strategy: .iso8601))
}
