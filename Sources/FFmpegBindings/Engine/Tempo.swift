import CFFmpeg

/// Sound played faster or slower at the same pitch: libavfilter's `atempo`
/// (a waveform-similarity overlap-add), from and to one sample format, rate
/// and layout. Frames out do not match frames in; `take` gets what is ready.
final class Tempo {
    private let graph: FilterGraph
    private let output: MediaFrame
    private var samplesIn: Int64 = 0

    /// - Parameter factor: 2 plays twice as fast. `atempo` takes 0.5 to 100 a
    ///   filter, so slower factors chain several.
    init(factor: Double, format: AVSampleFormat, rate: Int, layout: AVChannelLayout) throws(FFmpegError) {
        var steps: [String] = []
        var rest = factor
        while rest < 0.5 {
            steps.append("atempo=0.5")
            rest /= 0.5
        }
        steps.append("atempo=\(rest)")
        var described = [CChar](repeating: 0, count: 128)
        var copy = layout
        _ = av_channel_layout_describe(&copy, &described, described.count)
        let layoutName = String(cString: described)
        let formatName = String(cString: av_get_sample_fmt_name(format))
        let arguments = "time_base=1/\(rate):sample_rate=\(rate):sample_fmt=\(formatName):channel_layout=\(layoutName)"
        graph = try FilterGraph(
            "[in]" + steps.joined(separator: ",") + ",aformat=sample_fmts=\(formatName):sample_rates=\(rate):channel_layouts=\(layoutName)[out]",
            inputs: [FilterGraph.Input(label: "in", filter: "abuffer", arguments: arguments)], audio: true)
        output = try MediaFrame()
    }

    /// Plays `frame` (nil: the end) through and hands every frame ready to `take`.
    func convert(_ frame: MediaFrame?, take: (MediaFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        if let frame {
            frame.pointer.pointee.pts = samplesIn
            samplesIn += Int64(frame.sampleCount)
        }
        try graph.push(frame)
        while try graph.pull(into: output) { try take(output) }
    }
}
