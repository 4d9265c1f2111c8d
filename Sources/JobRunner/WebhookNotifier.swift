import AsyncHTTPClient
import Foundation
import JobStore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Sends the webhook outbox (migration 0005): every `pollSeconds` it takes the
/// due messages, POSTs each signed (Standard Webhooks), and records the
/// attempt. A 2xx delivers it; anything else (an error status, a redirect,
/// which is not followed, a refused connection, no answer within
/// `timeoutSeconds`) retries it after the next delay of `retrySeconds`, with
/// ±20% jitter so a receiver coming back is not met by every message at once,
/// until the schedule runs out. Runs in every worker process; `SKIP LOCKED`
/// claims keep two processes off one message.
public struct WebhookNotifier: Service {
    public struct Configuration: Sendable {
        /// Delays between attempts: about 3 days in all by default, seconds growing to a day.
        public var retrySeconds: [Double] = [5, 30, 120, 600, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400, 86_400]
        public var timeoutSeconds: Double = 15
        public var pollSeconds: Double = 1
        /// Messages sent at once by one process.
        public var batch = 8

        public init() {}
    }

    /// Builds the body of a message: `{"type", "timestamp", "data": the job}`.
    public typealias PayloadBuilder = @Sendable (_ event: String, _ job: Job) throws -> String

    let store: JobStore
    let signer: WebhookSigner
    let payload: PayloadBuilder
    let configuration: Configuration
    let logger: Logger

    public init(store: JobStore, signer: WebhookSigner, payload: @escaping PayloadBuilder, configuration: Configuration, logger: Logger) {
        self.store = store
        self.signer = signer
        self.payload = payload
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var http = HTTPClient.Configuration(redirectConfiguration: .disallow)
        http.timeout = .init(connect: .seconds(5), read: .seconds(Int64(configuration.timeoutSeconds)))
        http.decompression = .disabled
        // A refused connection is one failed attempt, answered at once: the retry schedule is ours.
        http.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let due = try await store.claimDueWebhooks(limit: configuration.batch, leaseSeconds: configuration.timeoutSeconds * 4)
                    if due.isEmpty {
                        try? await Task.sleep(for: .seconds(configuration.pollSeconds))
                        continue
                    }
                    await withTaskGroup(of: Void.self) { group in
                        for delivery in due { group.addTask { await send(delivery, with: client) } }
                    }
                } catch {
                    logger.debug("webhook claim failed", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(configuration.pollSeconds))
                }
            }
        }
        try? await client.shutdown()
    }

    /// One attempt at one message, recorded whatever happens.
    func send(_ delivery: WebhookDelivery, with client: HTTPClient) async {
        let started = ContinuousClock.now
        var status: Int?
        var failure: String?
        do {
            let body = try await body(of: delivery)
            let timestamp = Int(Date().timeIntervalSince1970)
            guard let signature = signer.signature(id: delivery.id, timestamp: timestamp, body: body) else {
                throw NotifierError("no signing secret yet")
            }
            var request = HTTPClientRequest(url: delivery.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Kiln-Webhooks/1")
            request.headers.add(name: "webhook-id", value: delivery.id)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(name: "webhook-signature", value: signature)
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await client.execute(request, timeout: .seconds(Int64(configuration.timeoutSeconds)), logger: logger)
            status = Int(response.status.code)
            // Read (a little of) the answer so the connection can be reused; its content is not used.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if !(200..<300).contains(response.status.code) { failure = "HTTP \(response.status.code)" }
        } catch let error as NotifierError {
            failure = error.message
        } catch {
            failure = Self.describe(error)
        }
        let milliseconds = Int((ContinuousClock.now - started) / .milliseconds(1))
        let outcome: JobStore.WebhookOutcome
        if failure == nil {
            outcome = .delivered
        } else if delivery.attempts > configuration.retrySeconds.count {
            outcome = .gaveUp
        } else {
            let delay = configuration.retrySeconds[delivery.attempts - 1]
            outcome = .retry(after: delay * Double.random(in: 0.8...1.2))
        }
        do {
            try await store.recordWebhookAttempt(id: delivery.id, attempt: delivery.attempts, outcome: outcome,
                                                 httpStatus: status, error: failure, milliseconds: milliseconds)
        } catch {
            // Unrecorded, the claim's lease brings the message back: sent again, never lost.
            logger.warning("webhook attempt not recorded", metadata: ["webhook.id": .string(delivery.id), "error": "\(error)"])
        }
        logger.debug("webhook attempt", metadata: [
            "webhook.id": .string(delivery.id), "job.id": .string(delivery.jobID), "attempt": "\(delivery.attempts)",
            "status": "\(status.map(String.init) ?? "-")", "error": "\(failure ?? "-")",
        ])
    }

    /// The message's body: the one kept at its first attempt, or built now from the job and kept.
    private func body(of delivery: WebhookDelivery) async throws -> String {
        if let kept = delivery.payload { return kept }
        guard let job = try await store.job(id: delivery.jobID, tenant: delivery.tenant) else { throw NotifierError("job no longer exists") }
        return try await store.fixWebhookPayload(id: delivery.id, payload: try payload(delivery.event, job))
    }

    /// A short reason for the attempt log (connection refused, timed out, …).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timed out"
            case .readTimeout, .deadlineExceeded: return "no answer within the timeout"
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return String(text.prefix(200))
    }
}

struct NotifierError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
