import FFmpegBindings
import HTTPAPI
import PipelineEngine
import VipsBindings

/// Reads an upload's dimensions and duration from its headers, on the blocking
/// pool. A file whose headers cannot be read still uploads (its facts stay
/// null); the job that processes it fails with a clear error instead.
struct MediaInspection: MediaInspector {
    let pool: BlockingPool

    func inspect(path: String, kind: MediaKind) async -> MediaFacts {
        (try? await pool.run { Self.inspectBlocking(path: path, kind: kind) }) ?? MediaFacts()
    }

    /// Longest an upload's probe may take before the upload is recorded without facts.
    static let inspectionSeconds = 10

    static func inspectBlocking(path: String, kind: MediaKind) -> MediaFacts {
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
}
