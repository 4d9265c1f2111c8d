import Foundation
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// What other local users and shared caches can read of a tenant's files.
struct ReadIsolationTests {
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
}
