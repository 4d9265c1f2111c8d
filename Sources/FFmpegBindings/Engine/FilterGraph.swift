import CFFmpeg

/// An `AVFilterGraph` owner with one video input and one output, for what
/// libavfilter does better than a hand loop (turning a picture a quarter turn
/// uses its SIMD transpose).
final class FilterGraph {
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var source: UnsafeMutablePointer<AVFilterContext>?
    private var sink: UnsafeMutablePointer<AVFilterContext>?

    /// `description` in libavfilter's syntax (e.g. `transpose=clock`), for
    /// frames of this size and pixel format.
    init(_ description: String, width: Int, height: Int, format: AVPixelFormat) throws(FFmpegError) {
        guard let graph = avfilter_graph_alloc() else { throw .outOfMemory("avfilter_graph_alloc") }
        self.graph = graph
        // One thread per graph: the job's encoders already use every core.
        graph.pointee.nb_threads = 1
        let arguments = "video_size=\(width)x\(height):pix_fmt=\(format.rawValue):time_base=1/1000:pixel_aspect=1/1"
        try check(avfilter_graph_create_filter(&source, avfilter_get_by_name("buffer"), "in", arguments, nil, graph), "buffer source")
        try check(avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", nil, nil, graph), "buffer sink")
        // As in FFmpeg's filtering_video.c: the lists name the graph's open ends, are
        // rewritten by the parser to what stayed unlinked, and are freed here.
        var outputs = avfilter_inout_alloc(), inputs = avfilter_inout_alloc()
        defer {
            avfilter_inout_free(&outputs)
            avfilter_inout_free(&inputs)
        }
        guard let outputList = outputs, let inputList = inputs else { throw .outOfMemory("avfilter_inout_alloc") }
        outputList.pointee.name = av_strdup("in")
        outputList.pointee.filter_ctx = source
        inputList.pointee.name = av_strdup("out")
        inputList.pointee.filter_ctx = sink
        let formatName = String(cString: av_get_pix_fmt_name(format))
        try check(avfilter_graph_parse_ptr(graph, description + ",format=" + formatName, &inputs, &outputs, nil), "parse filter graph")
        try check(avfilter_graph_config(graph, nil), "configure filter graph")
    }

    deinit { avfilter_graph_free(&graph) }

    /// Runs `frame` through the graph into `result` (unreferenced first), one frame out for one in.
    func filter(_ frame: MediaFrame, into result: MediaFrame) throws(FFmpegError) {
        result.unref()
        try check(av_buffersrc_add_frame_flags(source, frame.pointer, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)), "buffersrc")
        try check(av_buffersink_get_frame(sink, result.pointer), "buffersink")
    }

    /// A graph that turns a picture clockwise by `degrees` (90, 180 or 270).
    static func turning(_ degrees: Int, width: Int, height: Int, format: AVPixelFormat) throws(FFmpegError) -> FilterGraph {
        let description = switch degrees {
        case 90: "transpose=clock"
        case 270: "transpose=cclock"
        default: "hflip,vflip"
        }
        return try FilterGraph(description, width: width, height: height, format: format)
    }
}
