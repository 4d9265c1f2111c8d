import Egress
import Foundation
import HTTPTypes
import JobRunner
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// Webhooks end to end: an API server, a `kiln worker` process that sends
/// them, and a receiver in Python that checks every signature with the
/// `standardwebhooks` package (not Kiln's code) and is down at first.
@Suite(.ownThreads) struct WebhookTests {
    /// Receives on 127.0.0.1:PORT, logs one JSON line per request to LOG, and
    /// answers 500 to the first arrival of each message (so each is retried)
    /// and 204 after; `/moved` answers 302 to `/hooks`.
    static let receiver = """
        import http.server, json, sys
        from standardwebhooks import Webhook
        port, secret, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        hook = Webhook(secret)
        seen = set()
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload, verified = hook.verify(body, headers), True
                except Exception:
                    payload, verified = None, False
                message = headers.get('webhook-id')
                if self.path == '/moved':
                    code = 302
                else:
                    code = 204 if message in seen else 500
                    seen.add(message)
                with open(log, 'a') as f:
                    f.write(json.dumps({'path': self.path, 'id': message, 'verified': verified, 'answer': code,
                                        'type': payload and payload['type'], 'job': payload and payload['data']['id'],
                                        'status': payload and payload['data']['status']}) + '\\n')
                self.send_response(code)
                if code == 302:
                    self.send_header('Location', '/hooks')
                self.send_header('Content-Length', '0')
                self.end_headers()
            def log_message(self, *args):
                pass
        http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
        """

    struct Logged: Decodable {
        let path: String
        let id: String?
        let verified: Bool
        let answer: Int
        let type: String?
        let job: String?
        let status: String?
    }

    static func logged(_ path: String) -> [Logged] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Logged.self, from: Data($0.utf8)) }
    }

    static func freePort() throws -> Int {
        let output = try runTool("python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try #require(Int(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func everyEndIsSignedAndDeliveredThroughAReceiverOutage() async throws {
        let port = try Self.freePort()
        let secret = WebhookSigner.generateSecret()
        var configuration = try TestEnvironment.configuration(worker: WorkerConfiguration(
            concurrency: 2, leaseSeconds: 5, heartbeatSeconds: 1, pollSeconds: 0.5, reapSeconds: 0.5))
        configuration.webhookSecret = secret
        configuration.webhookURL = "http://127.0.0.1:\(port)/hooks"
        // About a minute of attempts: the canceled job's start at once, and on a loaded machine the
        // receiver came up after 20 s of them (a clean-clone run ran out of a 20-attempt schedule).
        configuration.webhooks.retrySeconds = [0.5, 0.5] + Array(repeating: 1, count: 58)
        // The receiver is on loopback, which a deployment must allow for jobs' own webhooks.
        configuration.webhooks.egress = EgressPolicy(allowedNetworks: [IPNetwork("127.0.0.0/8")!])
        let log = NSTemporaryDirectory() + "kiln-webhooks-\(UUID().uuidString).jsonl"
        let script = NSTemporaryDirectory() + "kiln-receiver-\(UUID().uuidString).py"
        try Self.receiver.write(toFile: script, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(atPath: log)
            try? FileManager.default.removeItem(atPath: script)
        }
        try await Harness.run(configuration: configuration, withWorkers: false) { [configuration] h in
            // Canceled while queued: no worker runs yet.
            let image = try #require(try await h.upload("gradient.webp")["id"])
            let canceled = try #require(try h.json(try await h.submit(["input": image, "operations": [["op": "thumbnail", "width": 32]]]))["id"]?.stringValue)
            #expect(try await h.request(.post, "/v1/jobs/\(canceled)/cancel").status == .accepted)
            let worker = try KilnProcess(configuration: configuration, name: "webhooks")
            let succeeded = try #require(try h.json(try await h.submit(["input": image, "operations": [["op": "thumbnail", "width": 32]]]))["id"]?.stringValue)
            let broken = try #require(try await h.upload("truncated.jpg")["id"])
            let failed = try #require(try h.json(try await h.submit(["input": broken, "operations": [["op": "thumbnail", "width": 32]]]))["id"]?.stringValue)
            // Its own webhook, which redirects: not followed, so never delivered. (Signed with its tenant's own secret.)
            #expect(try await h.request(.post, "/v1/webhook-secret").status == .created)
            let redirected = try #require(try h.json(try await h.submit([
                "input": image, "operations": [["op": "thumbnail", "width": 32]], "webhook": .string("http://127.0.0.1:\(port)/moved"),
            ]))["id"]?.stringValue)
            let expected = [succeeded: "job.succeeded", failed: "job.failed", canceled: "job.canceled"]
            for id in [succeeded, failed, canceled, redirected] { _ = try await h.waitForJob(id) }

            // The receiver is down: attempts are made, refused, and shown in the job.
            let deadline = ContinuousClock.now + .seconds(20)
            var refusedAttempts = 0
            while ContinuousClock.now < deadline {
                let job = try h.json(try await h.request(.get, "/v1/jobs/\(succeeded)"))
                let log = job["webhookDeliveries"]?.arrayValue?.first?["log"]?.arrayValue ?? []
                refusedAttempts = log.filter { $0["error"] == "connection refused" }.count
                if refusedAttempts >= 2 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(refusedAttempts >= 2, "attempts while the receiver was down\n\(worker.log.suffix(3000))")

            let receiver = Process()
            receiver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            receiver.arguments = ["python3", script, "\(port)", secret, log]
            try receiver.run()
            // Not waitUntilExit: on a cooperative thread it can wait for ever for the exit notification.
            defer { kill(receiver.processIdentifier, SIGKILL) }

            // Every message arrives, first refused with 500 and then accepted, under one id, each signature valid.
            let arrivalDeadline = ContinuousClock.now + .seconds(60)
            func delivered() -> Bool {
                let accepted = Self.logged(log).filter { $0.path == "/hooks" && $0.answer == 204 }
                return Set(accepted.compactMap(\.job)) == Set(expected.keys)
            }
            while !delivered() && ContinuousClock.now < arrivalDeadline { try await Task.sleep(for: .milliseconds(200)) }
            let entries = Self.logged(log)
            let allDelivered = delivered()
            #expect(allDelivered, "received: \(entries)\n\(worker.log.suffix(3000))")
            let unverified = entries.filter { !$0.verified && $0.path == "/hooks" }
            #expect(unverified.isEmpty, "every signature verifies: \(unverified)")
            for (job, event) in expected {
                let mine = entries.filter { $0.job == job && $0.path == "/hooks" }
                #expect(Set(mine.compactMap(\.id)).count == 1, "one webhook-id per message: \(mine)")
                #expect(mine.count >= 2 && mine.allSatisfy { $0.type == event && $0.status == event.dropFirst(4).description }, "\(mine)")
                // The job shows the message: its id, delivered, and every attempt.
                let shown = try h.json(try await h.request(.get, "/v1/jobs/\(job)"))
                let delivery = try #require(shown["webhookDeliveries"]?.arrayValue?.first, "\(shown)")
                #expect(delivery["id"]?.stringValue == mine.first?.id)
                #expect(delivery["status"] == "delivered" && delivery["event"]?.stringValue == event, "\(delivery)")
                let attempts = try #require(delivery["attempts"]?.doubleValue)
                #expect(delivery["log"]?.arrayValue?.count == Int(attempts))
                #expect(delivery["log"]?.arrayValue?.last?["status"] == 204)
                #expect(delivery["log"]?.arrayValue?.contains { $0["status"] == 500 } == true)
            }
            // The redirect was answered, never followed.
            // It is signed with tenant-a's own secret, which the deployment's does not verify.
            let moved = entries.filter { $0.path == "/moved" }
            #expect(!moved.isEmpty && moved.allSatisfy { !$0.verified } && !entries.contains { $0.job == redirected }, "\(moved)")
            let redirectedDelivery = try h.json(try await h.request(.get, "/v1/jobs/\(redirected)"))["webhookDeliveries"]?.arrayValue?.first
            #expect(redirectedDelivery?["status"] != "delivered" && redirectedDelivery?["log"]?.arrayValue?.contains { $0["status"] == 302 } == true,
                    "\(String(describing: redirectedDelivery))")
            _ = worker
        }
    }
}
