import FFmpegBindings
import Foundation
import PipelineEngine
import StageSupport
import VipsBindings

/// `encode` of an animation as `mp4` or `webm`: the silent looping video feeds
/// show instead of a GIF (players loop it with `<video loop muted autoplay>`).
/// Each frame keeps its delay to the millisecond; transparency is laid on white.
enum AnimationVideo {
    /// H.264 at libx264's default constant quality; VP9 at the level libvpx's guide gives for this size.
    static func crf(_ format: PictureSequenceVideo.Format) -> Int { format == .mp4 ? 23 : 32 }

    static func write(_ animation: Animation, as format: PictureSequenceVideo.Format, context: StageContext) throws(StageError) -> OutputProduct {
        let name = "\(context.outputName).\(format.rawValue)"
        let path = context.scratchDirectory + "/" + name
        let delays = animation.delays.sorted()
        do {
            let video = try PictureSequenceVideo(path: path, format: format, width: animation.width, height: animation.height,
                                                 crf: crf(format), typicalDelay: delays[delays.count / 2])
            for (index, frame) in animation.frames.enumerated() {
                try context.stop.check()
                let rgb = try withVips("encode") { try frame.flattened(on: [255, 255, 255]).rgbBytes() }
                try video.append(rgb: rgb, milliseconds: animation.delays[index])
                context.reportProgress(Double(index + 1) / Double(animation.frames.count))
            }
            try video.finish()
            let file = ProducedFile(name: name, contentType: format.contentType, size: fileSize(atPath: path) ?? 0,
                                    width: video.width, height: video.height, duration: animation.duration)
            var results = animation.results
            results["codec"] = .string(format.codecName)
            return OutputProduct(files: [file], results: results)
        } catch let error as StageError {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw StageError(code: "encode_failed", message: "encode \(format.rawValue): \(error)")
        }
    }
}
