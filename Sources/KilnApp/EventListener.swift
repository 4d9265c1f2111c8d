import HTTPAPI
import JobStore
import Logging
import ServiceLifecycle

/// LISTENs on the store's events channel on a connection of its own and wakes
/// the event streams of the job each NOTIFY names; reconnects on error.
struct EventListener: Service {
    let store: JobStore
    let hub: EventHub
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await store.client.withDedicatedConnection { connection in
                        try await connection.listen(on: store.eventsChannel) { notifications in
                            for try await notification in notifications { hub.notify(notification.payload) }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.debug("event listen failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
