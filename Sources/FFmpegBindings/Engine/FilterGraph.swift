import CFFmpeg

/// An `AVFilterGraph` owner with labelled inputs and one output, for what
/// libavfilter does better than a hand loop: turning a picture a quarter
/// turn (its SIMD transpose), cropping, laying a picture over video, and
/// changing the tempo of sound without changing its pitch.
final class FilterGraph {
    /// One open input of the graph: a buffer source of pictures or of samples.
    struct Input {
        var label: String
        /// `buffer` (pictures) or `abuffer` (samples).
        var filter: String
        /// The buffer source's arguments (size and format, or rate, format and layout; the time base).
        var arguments: String

        static func pictures(_ label: String, width: Int, height: Int, format: AVPixelFormat, timeBase: AVRational) -> Input {
            Input(label: label, filter: "buffer", arguments:
                "video_size=\(width)x\(height):pix_fmt=\(format.rawValue):time_base=\(timeBase.num)/\(timeBase.den):pixel_aspect=1/1")
        }
    }

    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var sources: [UnsafeMutablePointer<AVFilterContext>?] = []
    private var sink: UnsafeMutablePointer<AVFilterContext>?

    /// `description` in libavfilter's syntax, whose open ends are `inputs`'
    /// labels and `[out]` (e.g. `[in]transpose=clock[out]`).
    init(_ description: String, inputs: [Input], audio: Bool = false) throws(FFmpegError) {
        guard let graph = avfilter_graph_alloc() else { throw .outOfMemory("avfilter_graph_alloc") }
        self.graph = graph
        // One thread per graph: the job's encoders already use every core.
        graph.pointee.nb_threads = 1
        for input in inputs {
            var source: UnsafeMutablePointer<AVFilterContext>?
            try check(avfilter_graph_create_filter(&source, avfilter_get_by_name(input.filter), input.label, input.arguments, nil, graph),
                      "\(input.filter) source")
            sources.append(source)
        }
        try check(avfilter_graph_create_filter(&sink, avfilter_get_by_name(audio ? "abuffersink" : "buffersink"), "out", nil, nil, graph), "buffer sink")
        // As in FFmpeg's filtering_video.c: the lists name the graph's open ends, are
        // rewritten by the parser to what stayed unlinked, and are freed here.
        var outputs: UnsafeMutablePointer<AVFilterInOut>?
        for (input, source) in zip(inputs, sources).reversed() {
            guard let link = avfilter_inout_alloc() else {
                avfilter_inout_free(&outputs)
                throw .outOfMemory("avfilter_inout_alloc")
            }
            link.pointee.name = av_strdup(input.label)
            link.pointee.filter_ctx = source
            link.pointee.next = outputs
            outputs = link
        }
        var end = avfilter_inout_alloc()
        defer {
            avfilter_inout_free(&outputs)
            avfilter_inout_free(&end)
        }
        guard let endLink = end else { throw .outOfMemory("avfilter_inout_alloc") }
        endLink.pointee.name = av_strdup("out")
        endLink.pointee.filter_ctx = sink
        try check(avfilter_graph_parse_ptr(graph, description, &end, &outputs, nil), "parse filter graph")
        try check(avfilter_graph_config(graph, nil), "configure filter graph")
    }

    deinit { avfilter_graph_free(&graph) }

    /// Hands `frame` to input `index` (its reference kept by the caller); nil ends that input.
    func push(_ frame: MediaFrame?, into index: Int = 0) throws(FFmpegError) {
        try check(av_buffersrc_add_frame_flags(sources[index], frame?.pointer, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)), "buffersrc")
    }

    /// The next frame out into `result` (unreferenced first); false when the
    /// graph needs more input first, or has ended.
    func pull(into result: MediaFrame) throws(FFmpegError) -> Bool {
        result.unref()
        let status = av_buffersink_get_frame(sink, result.pointer)
        if status == kiln_averror(EAGAIN) || status == kiln_averror_eof() { return false }
        try check(status, "buffersink")
        return true
    }

    /// libavfilter's chain for a clockwise turn of `degrees` (90, 180 or 270).
    static func turn(_ degrees: Int) -> String {
        switch degrees {
        case 90: "transpose=clock"
        case 270: "transpose=cclock"
        default: "hflip,vflip"
        }
    }
}
