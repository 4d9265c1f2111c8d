import Foundation
import Glibc
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// Damaged media fails each video and audio step with an error code; nothing crashes.
@Suite(.ownThreads) struct HostileMediaTests {
    @Test(arguments: [
        [["op": "transcode"]], [["op": "frame"]], [["op": "storyboard"]], [["op": "audio"]],
        [["op": "waveform"]], [["op": "loudnorm"]], [["op": "probe"]],
    ] as [JSONValue])
    func aTruncatedVideoFailsEveryStep(_ operations: JSONValue) async {
        let failure = await stageFailure("truncated.mp4", operations)
        #expect(failure?.code == "invalid_input", "\(operations): \(String(describing: failure))")
    }

    @Test func aVideoHeaderAboveThePixelLimitIsRefusedBeforeDecoding() async {
        let limits = ProcessingLimits(maxImagePixels: 50_000)
        for operations: JSONValue in [[["op": "transcode"]], [["op": "frame"]], [["op": "storyboard"]]] {
            let failure = await stageFailure("clip.mp4", operations, limits: limits)
            #expect(failure?.code == "input_too_large", "\(operations): \(String(describing: failure))")
        }
    }
}

/// An HLS playlist posing as a video, naming a local file and a loopback URL:
/// the worker's check refuses it, and every video step run on it directly
/// (as if that check were skipped) fails with a code, reading nothing it names.
@Suite(.ownThreads) struct PlaylistPosingAsVideoTests {
    /// A listening socket on loopback that counts the connections made to it.
    final class Listener {
        let socket: Int32
        let port: Int

        init() throws {
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            socket = fd
            guard bound else { throw TestFailure("could not listen on loopback") }
            port = Int(UInt16(bigEndian: address.sin_port))
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }

        /// Connections that reached the socket so far (the kernel completes them before any accept).
        func connections() -> Int {
            var count = 0
            while case let client = accept(socket, nil, nil), client >= 0 {
                close(client)
                count += 1
            }
            return count
        }

        deinit { close(socket) }
    }

    @Test func nothingItNamesIsReadAndEveryStepFailsWithACode() async throws {
        let listener = try Listener()
        // The listener sees a connection when one is made (so its zero below means something).
        _ = try? runTool("ffprobe", ["-v", "quiet", "-rw_timeout", "200000", "http://127.0.0.1:\(listener.port)/probe.ts"])
        #expect(listener.connections() == 1)
        let path = NSTemporaryDirectory() + "kiln-playlist-\(UUID().uuidString).mp4"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            #EXTM3U
            #EXT-X-TARGETDURATION:2
            #EXTINF:2.0,
            file:///etc/passwd
            #EXTINF:2.0,
            http://127.0.0.1:\(listener.port)/segment.ts
            #EXTINF:2.0,
            \(Fixture.path("clip.mp4"))
            #EXT-X-ENDLIST

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let source = SourceFile(path: path, kind: .video, contentType: "video/mp4")
        #expect(MediaSniffer.sniff(Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(64))) == nil, "refused at upload already")

        let inspector = try #require(Stages.registry.sourceInspector)
        do {
            try inspector.inspect(source, limits: ProcessingLimits())
            Issue.record("the worker's check accepted a playlist")
        } catch {
            #expect(["unsupported_format", "invalid_input"].contains(error.code), "\(error)")
        }
        for op in ["probe", "transcode", "frame", "storyboard", "hls", "audio", "waveform", "loudnorm"] {
            let plan = try JobPlan(outputs: [(name: "x", operations: [["op": .string(op)]], pointer: .root)], input: .video, registry: Stages.registry)
            let step = try #require(plan.outputs.first?.steps.first)
            let scratch = NSTemporaryDirectory() + "kiln-playlist-out-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let context = StageContext(outputName: "x", scratchDirectory: scratch, stop: StopToken(), limits: ProcessingLimits(),
                                       logger: TestEnvironment.logger(), reportProgress: { _ in })
            do {
                _ = try step.stage.run(.source(source), context: context)
                Issue.record("\(op) accepted a playlist")
            } catch {
                #expect(["invalid_input", "unsupported_format"].contains(error.code), "\(op): \(error)")
            }
        }
        #expect(listener.connections() == 0, "no request reached the loopback URL in the playlist")
    }
}
