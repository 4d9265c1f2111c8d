import Foundation
import HTTPTypes
import Hummingbird
import JobStore

/// Waiting for a job to end without polling: `GET /v1/jobs/{id}?wait=N` (a
/// long poll) and `Prefer: wait=N` (RFC 7240) on `POST /v1/jobs`. The answer
/// comes the moment the job ends, woken by the NOTIFY its final change sends
/// (from this process or any other), or with the current state after N seconds.
public enum JobWait {
    static let maxSeconds = 60.0

    /// `wait=N` from a `Prefer` header (`respond-async, wait=10`); nil if absent.
    static func preferred(_ headers: HTTPFields) -> Double? {
        guard let prefer = headers[.prefer] else { return nil }
        for preference in prefer.split(separator: ",") {
            let parts = preference.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].lowercased() == "wait", let seconds = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))), seconds >= 0 {
                return min(seconds, maxSeconds)
            }
        }
        return nil
    }

    /// Whether a request will stay open for long: an events stream, or a wait
    /// (`Prefer: wait=N` or `?wait=N`). Request admission does not count these.
    public static func staysOpen(_ request: HTTPRequest) -> Bool {
        let parts = (request.path ?? "").split(separator: "?", maxSplits: 1)
        if parts.first?.hasSuffix("/events") == true { return true }
        if parts.count > 1, parts[1].split(separator: "&").contains(where: { $0.hasPrefix("wait=") }) { return true }
        return preferred(request.headerFields) != nil
    }

    /// `?wait=N`: nil if absent; 400 if not a number of seconds.
    static func queried(_ request: Request) throws -> Double? {
        guard let raw = request.uri.queryParameters["wait"] else { return nil }
        guard let seconds = Double(String(raw)), seconds >= 0, seconds.isFinite else {
            throw APIError(.badRequest, code: "invalid_query", message: "wait must be a number of seconds from 0 to \(Int(maxSeconds))")
        }
        return min(seconds, maxSeconds)
    }

    /// The job once it has ended, or as it is when `seconds` have passed.
    /// `subscribed`: a waiter the caller subscribed before it read `job` (a
    /// submission subscribes before inserting), which saves reading it again.
    static func untilEnded(_ job: Job, seconds: Double, environment: APIEnvironment, subscribed: EventHub.Waiter? = nil) async throws -> Job {
        guard !job.status.isFinal, seconds > 0 else { return job }
        let deadline = ContinuousClock.now + .seconds(seconds)
        let waiter = subscribed ?? environment.events.subscribe(job.id)
        defer { if subscribed == nil { environment.events.unsubscribe(job.id, waiter) } }
        var current = job
        var fresh = subscribed != nil
        while true {
            // Read after subscribing, so an end between the caller's read and the subscription is not missed.
            if !fresh { current = try await environment.store.job(id: job.id, tenant: job.tenant) ?? current }
            fresh = false
            let remaining = deadline - ContinuousClock.now
            if current.status.isFinal || remaining <= .zero { return current }
            // Woken only by changes that did not end the job (queued, running): nothing to read yet.
            fresh = await !waiter.wait(seconds: remaining / .seconds(1)) && ContinuousClock.now < deadline
        }
    }
}

extension HTTPField.Name {
    static let prefer = Self("Prefer")!
    static let preferenceApplied = Self("Preference-Applied")!
}
