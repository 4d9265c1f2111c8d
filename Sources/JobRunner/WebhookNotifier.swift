import AsyncHTTPClient
import Foundation
import JobStore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Egress

/// Sends the webhook outbox (migration 0005): it takes the due messages,
/// POSTs each signed (Standard Webhooks) with the secret of the job's tenant,
/// and records the attempt. A 2xx delivers it; anything else (an error status,
/// a redirect, which is not followed, a refused connection, no whole answer
/// within `deadlineSeconds`) retries it after the next delay of
/// `retrySeconds`, with ±20% jitter so a receiver coming back is not met by
/// every message at once, until the schedule runs out.
///
/// Messages go out independently, up to `concurrency` at once: a receiver that
/// answers slowly holds one of them for at most its deadline, never the others.
/// A job's own webhook goes only to a public address (`EgressPolicy`): the
/// address is judged after resolution and the connection goes to that very
/// address. Runs in every process that runs workers (in `kiln serve`, the
/// server itself); `SKIP LOCKED` claims keep two processes off one message.
public struct WebhookNotifier: Service {
    public struct Configuration: Sendable {
        /// Delays between attempts: about 3 days in all by default, seconds growing to a day.
        public var retrySeconds: [Double] = [5, 30, 120, 600, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400, 86_400]
        /// The whole of one attempt: resolving, connecting, the answer's head and body.
        public var deadlineSeconds: Double = 15
        public var pollSeconds: Double = 1
        /// Messages in flight at once in one process.
        public var concurrency = 32
        /// Where jobs' own webhooks may go (the deployment's default receiver is not judged).
        public var egress = EgressPolicy()

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
        let inFlight = InFlight()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let room = configuration.concurrency - inFlight.count
                    var claimed = 0
                    if room > 0 {
                        do {
                            // The claim holds a message a while longer than one attempt can take.
                            let due = try await store.claimDueWebhooks(limit: room, leaseSeconds: configuration.deadlineSeconds + 30)
                            claimed = due.count
                            for delivery in due {
                                inFlight.add(1)
                                group.addTask {
                                    await send(delivery)
                                    inFlight.add(-1)
                                }
                            }
                        } catch {
                            logger.debug("webhook claim failed", metadata: ["error": "\(error)"])
                        }
                    }
                    // Busy: look again soon for what came due meanwhile; idle: at the poll interval.
                    if claimed == 0 || claimed == room {
                        try? await Task.sleep(for: .seconds(claimed == 0 ? configuration.pollSeconds : 0.1))
                    }
                }
            }
        }
    }

    /// One attempt at one message, recorded whatever happens.
    func send(_ delivery: WebhookDelivery) async {
        let started = ContinuousClock.now
        var status: Int?
        var failure: String?
        do {
            status = try await Self.within(seconds: configuration.deadlineSeconds) { try await attempt(delivery) }
            if let code = status, !(200..<300).contains(code) { failure = "HTTP \(code)" }
        } catch {
            failure = Self.reason(for: error, deadline: configuration.deadlineSeconds)
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

    /// Signs, resolves, connects to the judged address and POSTs; the receiver's status.
    private func attempt(_ delivery: WebhookDelivery) async throws -> Int {
        let body = try await body(of: delivery)
        let secrets = try await secrets(for: delivery)
        let timestamp = Int(Date().timeIntervalSince1970)
        guard let signature = WebhookSigner.signature(secrets: secrets, id: delivery.id, timestamp: timestamp, body: body) else {
            throw NotifierError("no signing secret yet")
        }
        let destination: EgressPolicy.Destination
        do {
            destination = try await configuration.egress.destination(for: delivery.url, checked: !delivery.toDefault)
        } catch {
            throw NotifierError(error.reason)
        }
        // A refused connection is one failed attempt, answered at once: the retry schedule is ours.
        return try await destination.withClient(readSeconds: configuration.deadlineSeconds, retryConnecting: false) { client in
            var request = HTTPClientRequest(url: delivery.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Kiln-Webhooks/1")
            request.headers.add(name: "webhook-id", value: delivery.id)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(name: "webhook-signature", value: signature)
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await client.execute(request, timeout: .seconds(Int64(configuration.deadlineSeconds)), logger: logger)
            // A little of the answer is read, within the same deadline; its content is not used.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return Int(response.status.code)
        }
    }

    /// Who signs: the deployment for its default receiver; else the tenant's
    /// secrets (two during a rotation), the `default` tenant falling back to the deployment's.
    private func secrets(for delivery: WebhookDelivery) async throws -> [String] {
        if !delivery.toDefault, let own = try await store.webhookSecrets(tenant: delivery.tenant) {
            return [own.current] + (own.previous.map { [$0] } ?? [])
        }
        guard delivery.toDefault || delivery.tenant == "default" else { throw NotifierError("the tenant has no webhook secret") }
        guard let deployment = signer.secret else { throw NotifierError("no signing secret yet") }
        return [deployment]
    }

    /// Runs `work`, or throws `DeadlineExceeded` once `seconds` pass (cancelling it).
    static func within<T: Sendable>(seconds: Double, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw DeadlineExceeded()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// The message's body: the one kept at its first attempt, or built now from the job and kept.
    private func body(of delivery: WebhookDelivery) async throws -> String {
        if let kept = delivery.payload { return kept }
        guard let job = try await store.job(id: delivery.jobID, tenant: delivery.tenant) else { throw NotifierError("job no longer exists") }
        return try await store.fixWebhookPayload(id: delivery.id, payload: try payload(delivery.event, job))
    }

    /// A short reason for the attempt log, from a fixed set: the tenant reads
    /// it, and a raw error would tell it more about the network than it should know.
    static func reason(for error: any Error, deadline: Double) -> String {
        if let error = error as? NotifierError { return error.message }
        if error is DeadlineExceeded || error is CancellationError { return "no complete answer within \(Int(deadline)) s" }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timed out"
            case .readTimeout, .deadlineExceeded: return "no complete answer within \(Int(deadline)) s"
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("SSL") || text.contains("TLS") || text.contains("certificate") || text.contains("handshake") { return "TLS failed" }
        return "connection failed"
    }
}

struct DeadlineExceeded: Error {}

/// Messages being sent now by this process.
final class InFlight: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add(_ delta: Int) { value.withLock { $0 += delta } }
}

struct NotifierError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
