import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// `GET /v1/jobs/{id}/events`: Server-Sent Events from the job's recorded history, resumable with Last-Event-ID.
@Suite(.ownThreads) struct JobEventsTests {
    struct Frame {
        var id: Int64
        var event: String
        var data: JSONValue
    }

    static func frames(_ body: ByteBuffer) throws -> [Frame] {
        try String(buffer: body).components(separatedBy: "\n\n").compactMap { block -> Frame? in
            var id: Int64?, event: String?, data: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                else if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                else if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            guard let id, let event, let data else { return nil }
            return Frame(id: id, event: event, data: try JSONValue.decode(Data(data.utf8)))
        }
    }

    @Test func aJobsEventsStreamFromQueuedToSucceededAndResume() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("clip.mp4")["id"])
            let started = ContinuousClock.now
            let submitted = try await h.submit(["input": media, "outputs": [
                "stream": [["op": "hls", "renditions": [["height": 240]], "segmentSeconds": 1]],
                "poster": [["op": "frame", "percent": 50], ["op": "thumbnail", "width": 64], ["op": "encode", "format": "jpeg"]],
            ]])
            let id = try #require(try h.json(submitted)["id"]?.stringValue)
            // The stream ends by itself once the job has ended and every event was sent.
            let response = try await h.request(.get, "/v1/jobs/\(id)/events")
            let elapsed = ContinuousClock.now - started
            #expect(response.status == .ok && response.headers[.contentType] == "text/event-stream")
            let frames = try Self.frames(response.body)
            #expect(frames.map(\.id) == frames.map(\.id).sorted() && Set(frames.map(\.id)).count == frames.count, "ids only grow")
            #expect(frames.first?.event == "job" && frames.first?.data["status"] == "queued", "\(frames.first.map { "\($0.data)" } ?? "none")")
            #expect(frames.contains { $0.event == "job" && $0.data["status"] == "running" })
            #expect(frames.last?.event == "job" && frames.last?.data["status"] == "succeeded")
            let outputs = frames.filter { $0.event == "output" }
            #expect(Set(outputs.compactMap { $0.data["output"]?.stringValue }) == ["stream", "poster"])
            for output in outputs {
                #expect(output.data["status"] == "succeeded")
                for file in output.data["files"]?.arrayValue ?? [] {
                    #expect(file["key"] == nil && file["url"]?.stringValue?.hasPrefix("http://kiln.test/v1/jobs/\(id)/files/") == true)
                }
            }
            #expect(frames.contains { $0.event == "progress" && $0.data["output"] == "stream" && $0.data["playable"] == true },
                    "the stream's progress says when it became playable")
            // Woken by NOTIFY, not by the 15 s keep-alive.
            #expect(elapsed < .seconds(14), "\(elapsed)")

            // Resuming after an event replays exactly what followed it.
            let middle = frames[frames.count / 2]
            let resumed = try await h.request(.get, "/v1/jobs/\(id)/events", headers: [HTTPField.Name("Last-Event-ID")!: "\(middle.id)"])
            #expect(try Self.frames(resumed.body).map(\.id) == frames.filter { $0.id > middle.id }.map(\.id))
            // Another tenant cannot see the job exists.
            #expect(try await h.request(.get, "/v1/jobs/\(id)/events", key: "key-b").status == .notFound)
        }
    }
}
