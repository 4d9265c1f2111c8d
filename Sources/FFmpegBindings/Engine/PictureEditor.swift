import CFFmpeg

/// Pictures through a transcode's or a ladder's edits (`PictureEdits`): one
/// filter graph whose first input takes the scaled pictures and whose other
/// inputs take the overlays, each given once, at the first picture's time,
/// and then ended (the graph keeps showing them).
final class PictureEditor {
    private let graph: FilterGraph
    private let overlays: [MediaFrame]
    private var started = false
    private let edited: MediaFrame

    /// For pictures of `edits.scaledWidth` x `scaledHeight` in YUV 4:2:0, timed in `timeBase`.
    init(_ edits: PictureEdits, timeBase: AVRational) throws(FFmpegError) {
        let pictures = edits.overlays
        var inputs: [FilterGraph.Input] = [.pictures("in", width: edits.scaledWidth, height: edits.scaledHeight, format: AV_PIX_FMT_YUV420P,
                                                     timeBase: timeBase)]
        for (index, picture) in pictures.enumerated() {
            inputs.append(.pictures("ov\(index)", width: picture.width, height: picture.height, format: AV_PIX_FMT_RGBA, timeBase: timeBase))
        }
        graph = try FilterGraph(edits.graphDescription, inputs: inputs)
        overlays = try pictures.map { picture throws(FFmpegError) in try MediaFrame(rgba: picture) }
        edited = try MediaFrame()
    }

    /// `picture` (its `pts` set) through the edits; each picture that comes out to `take`.
    func edit(_ picture: MediaFrame, take: (MediaFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        if !started {
            started = true
            for (index, overlay) in overlays.enumerated() {
                overlay.pointer.pointee.pts = picture.pointer.pointee.pts
                try graph.push(overlay, into: index + 1)
                try graph.push(nil, into: index + 1)
            }
        }
        try graph.push(picture)
        try drain(take)
    }

    /// What the graph still holds, at the end.
    func finish(take: (MediaFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        guard started else { return }
        try graph.push(nil)
        try drain(take)
    }

    private func drain(_ take: (MediaFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        while try graph.pull(into: edited) { try take(edited) }
    }
}
