import Foundation
import FFmpegBindings
import HTTPAPI
import PipelineEngine
import VipsBindings

/// Reads an upload's dimensions and duration from its headers, on the blocking
/// pool. A file whose headers cannot be read still uploads (its facts stay
/// null); the job that processes it fails with a clear error instead.
public struct MediaInspection: MediaInspector {
    let pool: BlockingPool

    public func inspect(path: String, kind: MediaKind) async -> MediaFacts {
        (try? await pool.run { Self.inspectBlocking(path: path, kind: kind) }) ?? MediaFacts()
    }

    /// Longest an upload's probe may take before the upload is recorded without facts.
    static let inspectionSeconds = 10

    public static func inspectBlocking(path: String, kind: MediaKind) -> MediaFacts {
        switch kind {
        case .image:
            guard let image = try? VipsImage.open(path: path) else { return MediaFacts() }
            // Report the size as displayed: orientations 5-8 swap the axes.
            let swapped = (5...8).contains(image.orientation)
            return MediaFacts(width: swapped ? image.height : image.width, height: swapped ? image.width : image.height)
        case .video, .audio:
            // Bounded like every probe (bytes, analysed duration, streams) and in time.
            let deadline = InterruptFlag(deadline: .now + .seconds(inspectionSeconds))
            guard let probe = try? MediaProbe(path: path, interrupt: deadline) else { return MediaFacts() }
            // As displayed, as for images: a display matrix of a quarter turn swaps the axes (a phone's portrait clip).
            let swapped = (probe.video?.rotation ?? 0) % 180 != 0
            return MediaFacts(width: swapped ? probe.video?.height : probe.video?.width,
                              height: swapped ? probe.video?.width : probe.video?.height, duration: probe.duration)
        }
    }

    public struct NotMedia: Error, CustomStringConvertible {
        public let description: String
    }

    /// `kiln inspect FILE`: the kind sniffed from the first bytes, as an upload's, and the facts.
    public static func report(path: String) throws -> JSONValue {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw NotMedia(description: "cannot read \(path)") }
        let head = [UInt8](handle.readData(ofLength: MediaSniffer.prefixLength))
        try? handle.close()
        guard let sniffed = MediaSniffer.sniff(head) else { throw NotMedia(description: "\(path) is no image, video or audio Kiln reads") }
        let facts = inspectBlocking(path: path, kind: sniffed.kind)
        var report: [String: JSONValue] = ["kind": .string(sniffed.kind.rawValue), "contentType": .string(sniffed.contentType)]
        report["width"] = facts.width.map { .number(Double($0)) } ?? .null
        report["height"] = facts.height.map { .number(Double($0)) } ?? .null
        report["duration"] = facts.duration.map { .number($0) } ?? .null
        return .object(report)
    }
}
