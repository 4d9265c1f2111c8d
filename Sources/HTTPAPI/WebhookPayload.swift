import Foundation
import JobStore

/// The body of a webhook message: `{"type": "job.succeeded", "timestamp": …,
/// "data": the job as `GET /v1/jobs/{id}` shows it}`, the envelope Standard
/// Webhooks suggests.
public enum WebhookPayload {
    struct Envelope: Encodable {
        let type: String
        let timestamp: Date
        let data: JobResource
    }

    public static func make(event: String, job: Job, publicURL: String, playback: PlaybackSigner) throws -> String {
        let envelope = Envelope(type: event, timestamp: Date(), data: JobResource(job: job, publicURL: publicURL, playback: playback))
        return String(decoding: try JSONResponse.encoder.encode(envelope), as: UTF8.self)
    }
}
