import FFmpegBindings
import Foundation
import StageSupport
import PipelineEngine

/// `probe`: container and stream facts of a video or audio input (codec,
/// profile, size, frame rate, rotation, bit rate, sample rate, channels),
/// its tags (title, artist, album, ...), as the output's `metadata` result;
/// embedded cover art becomes a file of the output. Reads headers only.
public struct Probe: Stage {
    public static let descriptor = StageDescriptor(
        name: "probe",
        summary: "Report format, duration, streams and tags of a video or audio file; cover art as a file",
        accepts: [.source(.video), .source(.audio)],
        produces: .product,
        parameters: [
            ParameterSpec("coverArt", .boolean, default: true, summary: "Write embedded cover art (an MP3's or M4A's picture) as a file"),
        ]
    )

    let coverArt: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        coverArt = parameters.bool("coverArt") ?? true
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "probe needs the input file") }
        let (probe, cover) = try withFFmpeg("probe", stop: context.stop) { interrupt in
            let probe = try MediaProbe(path: file.path, interrupt: interrupt)
            let cover = coverArt && probe.streams.contains(where: \.isCoverArt) ? try MediaProbe.coverArt(path: file.path, interrupt: interrupt) : nil
            return (probe, cover)
        }
        var files: [ProducedFile] = []
        if let cover, let type = Self.coverTypes[cover.codec] {
            let name = "cover.\(type.fileExtension)"
            do {
                try Data(cover.bytes).write(to: URL(fileURLWithPath: context.scratchDirectory + "/" + name))
            } catch {
                throw StageError(code: "internal", message: "probe: writing the cover: \(error)", retryable: true)
            }
            files.append(ProducedFile(name: name, contentType: type.contentType, size: cover.bytes.count))
        }
        let metadata = (try? JSONValue(encoding: probe)) ?? .null
        return .product(OutputProduct(files: files, results: ["metadata": metadata]))
    }

    static let coverTypes: [String: (fileExtension: String, contentType: String)] = [
        "mjpeg": ("jpg", "image/jpeg"), "png": ("png", "image/png"), "webp": ("webp", "image/webp"),
    ]
}
