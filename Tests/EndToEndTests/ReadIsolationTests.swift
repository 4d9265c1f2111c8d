import Foundation
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// What other local users and shared caches can read of a tenant's files.
@Suite(.ownThreads) struct ReadIsolationTests {
    /// Signed links are cached no longer than they live: a shared cache would
    /// otherwise go on serving a file after its link expired or its job was deleted.
    @Test func aSignedLinksMaxAgeNeverOutlivesItsToken() async throws {
        try await Harness.run { h in
            let job = try await h.runJob(on: "gradient.webp", [["op": "thumbnail", "width": 32]])
            let id = try #require(job["id"]?.stringValue)
            let link = try h.json(try await h.request(.post, "/v1/jobs/\(id)/links", headers: [.contentType: "application/json"],
                                                      body: ByteBuffer(string: #"{"expiresIn": 120}"#)))
            let file = try #require(link["files"]?.arrayValue?.first?["url"]?.stringValue)
            let played = try await h.fetch(url: file)
            #expect(played.status == .ok)
            let control = try #require(played.headers[.cacheControl])
            let maxAge = try #require(control.split(separator: ",").compactMap { part -> Int? in
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                return trimmed.hasPrefix("max-age=") ? Int(trimmed.dropFirst(8)) : nil
            }.first, "\(control)")
            #expect(maxAge <= 120 && maxAge >= 100, "\(control)")

            let media = try #require(try await h.upload("gradient.webp")["id"]?.stringValue)
            let mediaLink = try h.json(try await h.request(.post, "/v1/media/\(media)/links", headers: [.contentType: "application/json"],
                                                           body: ByteBuffer(string: #"{"expiresIn": 60}"#)))
            let fetched = try await h.fetch(url: try #require(mediaLink["url"]?.stringValue))
            let mediaControl = fetched.headers[.cacheControl] ?? ""
            #expect(fetched.status == .ok && mediaControl.contains("max-age=") && !mediaControl.contains("31536000"), "\(mediaControl)")
        }
    }

    /// Uploads and outputs are 0600 in 0700 directories: another local user reads none of them.
    @Test func storedFilesAreClosedToOtherLocalUsers() async throws {
        let configuration = try TestEnvironment.configuration()
        try await Harness.run(configuration: configuration) { h in
            let job = try await h.runJob(on: "gradient.webp", [["op": "thumbnail", "width": 32]])
            #expect(job["status"] == "succeeded")
            let root = configuration.storageRoot
            var files: [String] = []
            for relative in FileManager.default.subpaths(atPath: root + "/objects") ?? [] {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: root + "/objects/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                    files.append(root + "/objects/" + relative)
                }
            }
            #expect(files.count >= 2, "the upload and the output: \(files)")
            for file in files {
                let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
                #expect(mode & 0o077 == 0, "\(file) is \(String(mode, radix: 8))")
            }
            for directory in [root, root + "/objects", root + "/staging"] {
                let mode = try #require(try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int)
                #expect(mode & 0o077 == 0, "\(directory) is \(String(mode, radix: 8))")
            }
            // As another user (nobody), when the tests run as root and can switch to one.
            if getuid() == 0, let file = files.first {
                let verdict = try await runProgramOffPool("runuser", ["-u", "nobody", "--", "cat", file])
                #expect(verdict.status != 0 && verdict.errors.contains("Permission denied"), "nobody read \(file): \(verdict.errors)")
            }
        }
    }

    /// `make run`'s private PostgreSQL: a socket in a 0700 directory and a password, so another
    /// local user can neither reach it nor, reaching it, log in.
    @Test func makeRunsPostgreSQLIsClosedToOtherLocalUsers() async throws {
        let root = NSTemporaryDirectory() + "kiln-pg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let script = Fixture.repositoryRoot + "/scripts/postgres.sh"
        let data = root + "/data", socket = root + "/socket"
        defer {
            _ = try? runTool(script, ["stop", data])
            try? FileManager.default.removeItem(atPath: root)
        }
        // Unix sockets only (no TCP), in a directory of its own: no clash with the suite's own server.
        let started = try await runProgramOffPool(script, ["start", data, socket])
        #expect(started.status == 0, "\(started.errors)")
        let socketMode = try #require(try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int)
        #expect(socketMode == 0o700, "the socket directory is \(String(socketMode, radix: 8))")
        let passwordMode = try #require(try FileManager.default.attributesOfItem(atPath: data + ".password")[.posixPermissions] as? Int)
        #expect(passwordMode == 0o600)
        let withPassword = String(decoding: try runTool(script, ["url", socket, "kiln", data + ".password"]), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let without = "postgres://kiln@localhost:5432/kiln?host=\(socket)"
        #expect(try await runProgramOffPool("psql", [withPassword, "-tAc", "SELECT 1"]).status == 0, "the URL make run uses works")
        let refused = try await runProgramOffPool("psql", [without, "-tAc", "SELECT 1"])
        #expect(refused.status != 0 && refused.errors.contains("password"), "no password, no session: \(refused.errors)")
        if getuid() == 0 {
            let stranger = try await runProgramOffPool("runuser", ["-u", "nobody", "--", "psql", withPassword, "-tAc", "SELECT 1"])
            #expect(stranger.status != 0 && stranger.errors.contains("Permission denied"), "another user cannot reach the socket: \(stranger.errors)")
        }
    }
}
