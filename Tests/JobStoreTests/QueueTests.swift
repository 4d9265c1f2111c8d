import Foundation
import JobStore
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// The queue against a real PostgreSQL: claims, fencing tokens, leases, paging.
@Suite(.ownThreads) struct QueueTests {
    func insert(_ store: JobStore, tenant: String = "tenant-a", key: String? = nil, hash: String? = nil, kind: MediaKind = .image) async throws -> Job {
        let media = sampleMedia(tenant: tenant, kind: kind)
        try await store.insertMedia(media)
        let plan = kind == .image ? try samplePlan()
            : try JobPlan(outputs: [("info", [["op": "probe"]], JSONPointer(["outputs", "info"]))], input: kind, registry: Stages.registry)
        let result = try await store.insertJob(NewJob(tenant: tenant, input: media, plan: plan, webhook: nil, metadata: nil,
                                                      idempotencyKey: key, requestHash: hash))
        guard case let .created(job) = result else { throw TestFailure("insert did not create") }
        return job
    }

    @Test func fullVideoSlotsClaimImagesOnly() async throws {
        try await withMigratedKiln { kiln in
            let video = try await insert(kiln.store, kind: .video)
            let image = try await insert(kiln.store)
            // The video job is older, but a worker without a free video slot passes it by.
            #expect(try await kiln.store.claim(owner: "busy", leaseSeconds: 30, kinds: [.image])?.id == image.id)
            #expect(try await kiln.store.claim(owner: "busy", leaseSeconds: 30, kinds: [.image]) == nil)
            #expect(try await kiln.store.claim(owner: "free", leaseSeconds: 30)?.id == video.id)
        }
    }

    /// Claims racing for a tenant with a running limit of 1: one wins, the rest pass it by.
    /// (Counted in each claim's own snapshot, eight racing claims once took up to eight.)
    @Test func concurrentClaimsKeepATenantsRunningLimit() async throws {
        try await withMigratedKiln { kiln in
            try await kiln.store.setTenantLimits(TenantLimitsTable(tenants: ["tenant-a": TenantLimits(maxRunning: 1)]))
            for _ in 0..<16 { _ = try await insert(kiln.store) }
            let other = try await insert(kiln.store, tenant: "tenant-b")
            for round in 0..<5 {
                let claimed = try await withThrowingTaskGroup(of: ClaimedJob?.self) { group in
                    for index in 0..<8 {
                        group.addTask { try await kiln.store.claim(owner: "racer-\(round)-\(index)", leaseSeconds: 30) }
                    }
                    var all: [ClaimedJob] = []
                    for try await job in group { if let job { all.append(job) } }
                    return all
                }
                let running = try await kiln.store.runningCount(tenant: "tenant-a")
                #expect(running == 1, "round \(round): tenant-a runs \(running) jobs; claimed \(claimed.map(\.tenant))")
                // Finish what ran, for the next round.
                for job in claimed {
                    _ = try await kiln.store.finish(jobID: job.id, token: job.leaseToken, status: .succeeded, error: nil)
                }
            }
            _ = other
        }
    }

    @Test func migrationsApplyOnce() async throws {
        try await withMigratedKiln { kiln in
            let again = try await Migrator(client: kiln.client, logger: kiln.logger).migrate(schema: kiln.configuration.databaseSchema)
            #expect(again.isEmpty)
        }
    }

    @Test func concurrentClaimsNeverShareAJob() async throws {
        try await withMigratedKiln { kiln in
            var ids = Set<String>()
            for _ in 0..<6 { ids.insert(try await insert(kiln.store).id) }
            let claimed = try await withThrowingTaskGroup(of: ClaimedJob?.self) { group in
                for i in 0..<8 { group.addTask { try await kiln.store.claim(owner: "w\(i)", leaseSeconds: 30) } }
                var all: [ClaimedJob] = []
                for try await claim in group { if let claim { all.append(claim) } }
                return all
            }
            #expect(claimed.count == 6)
            #expect(Set(claimed.map(\.id)) == ids)
            #expect(Set(claimed.map(\.leaseToken)).count == 6)
            #expect(try await kiln.store.claim(owner: "late", leaseSeconds: 30) == nil)
        }
    }

    @Test func anExpiredLeaseIsRequeuedAndTheOldTokenIsFenced() async throws {
        try await withMigratedKiln { kiln in
            let job = try await insert(kiln.store)
            let first = try #require(try await kiln.store.claim(owner: "zombie", leaseSeconds: 0.2))
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await kiln.store.reapExpiredLeases().count == 1)
            let second = try #require(try await kiln.store.claim(owner: "healthy", leaseSeconds: 30))
            #expect(second.id == job.id)
            #expect(second.attempt == 2)
            #expect(second.leaseToken > first.leaseToken)
            // The zombie wakes up: none of its writes land.
            #expect(try await kiln.store.heartbeat(jobID: job.id, token: first.leaseToken, leaseSeconds: 30) == .lost)
            #expect(try await !kiln.store.updateOutput(jobID: job.id, token: first.leaseToken, name: "thumb", state: OutputState(status: .failed), jobProgress: 0))
            #expect(try await !kiln.store.finish(jobID: job.id, token: first.leaseToken, status: .failed, error: nil))
            #expect(try await kiln.store.finish(jobID: job.id, token: second.leaseToken, status: .succeeded, error: nil))
            #expect(try await kiln.store.job(id: job.id, tenant: "tenant-a")?.status == .succeeded)
        }
    }

    @Test func jobsOutOfAttemptsFailWhenTheirLeaseExpires() async throws {
        try await withMigratedKiln { kiln in
            let media = sampleMedia()
            try await kiln.store.insertMedia(media)
            guard case let .created(job) = try await kiln.store.insertJob(NewJob(tenant: "tenant-a", input: media, plan: try samplePlan(), webhook: nil,
                                                                                   metadata: nil, idempotencyKey: nil, requestHash: nil, maxAttempts: 1)) else {
                throw TestFailure("not created")
            }
            _ = try await kiln.store.claim(owner: "doomed", leaseSeconds: 0.1)
            try await Task.sleep(for: .milliseconds(300))
            try await kiln.store.reapExpiredLeases()
            let failed = try #require(try await kiln.store.job(id: job.id, tenant: "tenant-a"))
            #expect(failed.status == .failed)
            #expect(failed.error?.code == "worker_crashed")
        }
    }

    @Test func aJobThatKeepsKillingItsWorkerFailsWithWorkerCrashed() async throws {
        try await withMigratedKiln { kiln in
            let job = try await insert(kiln.store)
            for crash in 1...3 {
                _ = try #require(try await kiln.store.claim(owner: "doomed-\(crash)", leaseSeconds: 0.1), "crash \(crash)")
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await kiln.store.reapExpiredLeases(maxCrashes: 3).count == 1)
            }
            let failed = try #require(try await kiln.store.job(id: job.id, tenant: "tenant-a"))
            #expect(failed.status == .failed && failed.attempt == 3, "\(failed.status) after \(failed.attempt) attempts of 5")
            #expect(failed.error?.code == "worker_crashed" && failed.error?.message.contains("3 attempts") == true)
            #expect(try await kiln.store.claim(owner: "next", leaseSeconds: 30) == nil)
        }
    }

    @Test func retryWaitsForItsBackoff() async throws {
        try await withMigratedKiln { kiln in
            _ = try await insert(kiln.store)
            let claim = try #require(try await kiln.store.claim(owner: "w", leaseSeconds: 30))
            #expect(try await kiln.store.retry(jobID: claim.id, token: claim.leaseToken, error: JobError(code: "x", message: "y"), afterSeconds: 60))
            #expect(try await kiln.store.claim(owner: "w", leaseSeconds: 30) == nil)
        }
    }

    @Test func aShutdownReleaseKeepsTheAttemptUpToItsBound() async throws {
        try await withMigratedKiln { kiln in
            let job = try await insert(kiln.store)
            for round in 1...3 {
                let claim = try #require(try await kiln.store.claim(owner: "w", leaseSeconds: 30))
                #expect(claim.attempt == 1, "round \(round): the releases before gave their attempt back")
                #expect(try await kiln.store.release(jobID: job.id, token: claim.leaseToken, maxReleases: 2))
                #expect(try await !kiln.store.release(jobID: job.id, token: claim.leaseToken, maxReleases: 2), "fenced")
            }
            #expect(try await kiln.store.job(id: job.id, tenant: "tenant-a")?.status == .queued)
            #expect(try await kiln.store.claim(owner: "w", leaseSeconds: 30)?.attempt == 2, "the third release, past the bound, counted its attempt")
        }
    }

    @Test func aRetryOrReleaseOfAJobAskedToCancelEndsIt() async throws {
        try await withMigratedKiln { kiln in
            for hand in ["retry", "release"] {
                let job = try await insert(kiln.store)
                let claim = try #require(try await kiln.store.claim(owner: "w", leaseSeconds: 30))
                #expect(try await kiln.store.requestCancel(id: job.id, tenant: "tenant-a")?.status == .running)
                if hand == "retry" {
                    #expect(try await kiln.store.retry(jobID: job.id, token: claim.leaseToken, error: JobError(code: "x", message: "y"), afterSeconds: 0))
                } else {
                    #expect(try await kiln.store.release(jobID: job.id, token: claim.leaseToken))
                }
                let ended = try #require(try await kiln.store.job(id: job.id, tenant: "tenant-a"))
                #expect(ended.status == .canceled && ended.error?.code == "canceled" && ended.finishedAt != nil, "\(hand)")
            }
        }
    }

    @Test func aCancelOfARunningJobIsAnnouncedToWorkers() async throws {
        try await withMigratedKiln { kiln in
            let job = try await insert(kiln.store)
            _ = try #require(try await kiln.store.claim(owner: "w", leaseSeconds: 30))
            let heard = try await kiln.client.withConnection { connection in
                try await connection.listen(on: kiln.store.channel) { notifications in
                    _ = try await kiln.store.requestCancel(id: job.id, tenant: "tenant-a")
                    for try await notification in notifications { return notification.payload }
                    return ""
                }
            }
            #expect(heard == "cancel \(job.id)")
        }
    }

    /// Retention and submission on the same upload: a job is inserted only against a media row
    /// that still exists (locked while it is), and a media row with a queued job is not pruned.
    @Test func aJobIsNeverInsertedAgainstAPrunedUpload() async throws {
        try await withMigratedKiln { kiln in
            let kept = try await insert(kiln.store)
            let pruned = try await kiln.store.pruneUploads(olderThan: 0)
            #expect(!pruned.contains { $0.prefix.hasSuffix(kept.inputMediaID) }, "an upload a queued job reads stays")
            let media = sampleMedia()
            try await kiln.store.insertMedia(media)
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await kiln.store.pruneUploads(olderThan: 0).contains { $0.prefix == media.storageKey })
            let late = try await kiln.store.insertJob(NewJob(tenant: "tenant-a", input: media, plan: try samplePlan(), webhook: nil, metadata: nil,
                                                             idempotencyKey: nil, requestHash: nil))
            guard case .inputGone = late else { throw TestFailure("expected the input to be gone, got \(late)") }
        }
    }

    @Test func idempotencyKeysReturnTheSameJobOrConflict() async throws {
        try await withMigratedKiln { kiln in
            let first = try await insert(kiln.store, key: "k1", hash: "h1")
            let media = sampleMedia()
            try await kiln.store.insertMedia(media)
            let same = try await kiln.store.insertJob(NewJob(tenant: "tenant-a", input: media, plan: try samplePlan(), webhook: nil, metadata: nil,
                                                             idempotencyKey: "k1", requestHash: "h1"))
            guard case let .existing(existing) = same else { throw TestFailure("expected the existing job") }
            #expect(existing.id == first.id)
            let different = try await kiln.store.insertJob(NewJob(tenant: "tenant-a", input: media, plan: try samplePlan(), webhook: nil, metadata: nil,
                                                                  idempotencyKey: "k1", requestHash: "h2"))
            guard case .conflict = different else { throw TestFailure("expected a conflict") }
            // Keys are per tenant.
            _ = try await insert(kiln.store, tenant: "tenant-b", key: "k1", hash: "h2")
        }
    }

    @Test func listingIsNewestFirstWithAStableCursor() async throws {
        try await withMigratedKiln { kiln in
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try await insert(kiln.store).id) }
            _ = try await insert(kiln.store, tenant: "tenant-b")
            let page1 = try await kiln.store.listJobs(tenant: "tenant-a", status: nil, limit: 2, before: nil)
            #expect(page1.map(\.id) == [ids[4], ids[3]])
            let page2 = try await kiln.store.listJobs(tenant: "tenant-a", status: nil, limit: 10, before: page1.last?.sequence)
            #expect(page2.map(\.id) == [ids[2], ids[1], ids[0]])
            #expect(try await kiln.store.listJobs(tenant: "tenant-a", status: .running, limit: 10, before: nil).isEmpty)
        }
    }
}

extension ClaimedJob: Equatable {
    public static func == (a: ClaimedJob, b: ClaimedJob) -> Bool { a.id == b.id && a.leaseToken == b.leaseToken }
}
