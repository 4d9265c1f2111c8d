import Foundation
import Hummingbird
import JobStore

/// `GET /play/{token}/{path}`: a job's output files for players, with no
/// bearer key. The token (see `PlaybackSigner`) names the tenant and the job
/// and expires; a forged, altered or expired one gets 403.
struct PlaybackRoutes {
    let environment: APIEnvironment

    func register(on router: Router<KilnRequestContext>) {
        let play = router.group("play").add(middleware: ReadinessMiddleware(readiness: environment.readiness))
        play.get(":token/**") { request, context in
            guard let grant = environment.playback.verify(try context.parameters.require("token")), grant.subject.hasPrefix("job_") else {
                throw APIError(.forbidden, code: "invalid_token", message: "The playback token is invalid or expired")
            }
            guard let job = try await environment.store.job(id: grant.subject, tenant: grant.tenant) else {
                throw await environment.absence("Job", id: grant.subject, tenant: grant.tenant)
            }
            let path = context.parameters.getCatchAll().joined(separator: "/")
            return try await OutputDelivery.serve(job, path: path, request: request, blobs: environment.blobs, audience: .public,
                                             until: grant.expires)
        }
        play.on(":token/**", method: .options) { _, _ in OutputDelivery.preflight() }
    }
}
