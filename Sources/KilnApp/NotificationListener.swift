import HTTPAPI
import JobStore
import Logging
import ServiceLifecycle

/// The server's one LISTEN connection: the events channel wakes the event
/// streams of the job each NOTIFY names, and when the server runs workers the
/// queue's channel is heard here too and handed to them (`queueNotices`).
/// PostgreSQL signals every listening backend on every NOTIFY, so each
/// listener less saves it work on every job (see `WorkerService.QueueNotices`).
/// Reconnects on error.
struct NotificationListener: Service {
    let store: JobStore
    let hub: EventHub
    /// Given each payload of the queue's channel, and "requeued" whenever listening
    /// (re)starts, since what was sent meanwhile reached nobody; nil leaves that channel alone.
    let queueNotices: (@Sendable (String) -> Void)?
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await store.client.withDedicatedConnection { connection in
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                try await connection.listen(on: store.eventsChannel) { notifications in
                                    for try await notification in notifications { hub.notify(notification.payload) }
                                }
                            }
                            if let queueNotices {
                                group.addTask {
                                    try await connection.listen(on: store.channel) { notifications in
                                        queueNotices("requeued")
                                        for try await notification in notifications { queueNotices(notification.payload) }
                                    }
                                }
                            }
                            // Either ending means the connection did: listen again on a new one.
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.debug("listen failed; retrying", metadata: ["error": "\(error)"])
                }
                if Task.isCancelled { return }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
