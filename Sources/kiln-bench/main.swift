// `make bench`: Kiln in-process against the command-line tools on the same
// inputs in the same run. Reports medians and the ratio (CLI time / Kiln time;
// above 1 means Kiln is faster). The CLI times include starting a process,
// which is what a service that shells out pays per request.
import FFmpegBindings
import Foundation
import KilnApp
import Logging
import KilnTestSupport
import PipelineEngine
import VipsBindings

struct Measurement {
    var name: String
    var kiln: Duration
    var cli: Duration
}

func median(_ runs: Int, _ body: () async throws -> Void) async rethrows -> Duration {
    var samples: [Duration] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try await body()
        samples.append(ContinuousClock.now - start)
    }
    return samples.sorted()[runs / 2]
}

/// Medians of `runs` runs of each, taken in turns (Kiln, CLI, Kiln, ...): the
/// long video rows last minutes, and the machine's speed drifts more than that
/// between two blocks of runs.
func interleavedMedians(_ runs: Int, kiln: () async throws -> Void, cli: () async throws -> Void) async rethrows -> (kiln: Duration, cli: Duration) {
    var kilnSamples: [Duration] = [], cliSamples: [Duration] = []
    for _ in 0..<runs {
        var start = ContinuousClock.now
        try await kiln()
        kilnSamples.append(ContinuousClock.now - start)
        start = ContinuousClock.now
        try await cli()
        cliSamples.append(ContinuousClock.now - start)
    }
    return (kilnSamples.sorted()[runs / 2], cliSamples.sorted()[runs / 2])
}

func run(_ tool: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw BenchError("\(tool) \(arguments.joined(separator: " ")) failed") }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func milliseconds(_ d: Duration) -> String {
    let (s, atto) = d.components
    return String(format: "%.1f ms", Double(s) * 1000 + Double(atto) / 1e15)
}

/// Peak resident memory of this process so far (VmHWM), in MB.
func peakRSS() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}

/// CPU seconds (user + system, every thread) this process has used so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

// `kiln-bench --thumbnail-cost PHOTO [WIDTH]`: what one 400 px (or WIDTH) JPEG thumbnail costs in
// process, one at a time: the median wall time, and the mean CPU time over every
// thread. The service bench divides the cores by the CPU time for the CPU limit
// of thumbnails a second, and compares a job's in-job time with the wall time.
if CommandLine.arguments.count >= 3 && CommandLine.arguments[1] == "--thumbnail-cost" {
    try Vips.start()
    let input = CommandLine.arguments[2]
    let directory = NSTemporaryDirectory() + "kiln-bench-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let library = try PipelineLibrary(directory: "Pipelines")
    let width = CommandLine.arguments.count > 3 ? Double(CommandLine.arguments[3]) ?? 400 : 400
    var request: JSONValue = ["operations": [["op": "thumbnail", "width": .number(width)], ["op": "encode", "format": "jpeg", "quality": 80]]]
    // Another list in its place, to see what a part of the work costs (KILN_BENCH_OPERATIONS='[{"op":"metadata"}]').
    if let raw = ProcessInfo.processInfo.environment["KILN_BENCH_OPERATIONS"], let operations = try? JSONValue.decode(Data(raw.utf8)) {
        request = ["operations": operations]
    }
    let runs = Int(ProcessInfo.processInfo.environment["KILN_BENCH_RUNS"] ?? "") ?? 40
    // Median wall time and mean CPU time (every thread) of one thumbnail, decoded by TurboJPEG, then by libvips.
    var costs: [(wall: Double, cpu: Double)] = []
    // As a worker slot or a render child runs it: one job at a time, libvips at one thread per operation.
    try Vips.setThreadsPerOperation(1)
    // KILN_BENCH_TURBO_ONLY=1 skips the libvips-decode runs, for a profile of the TurboJPEG path alone.
    let turboOnly = ProcessInfo.processInfo.environment["KILN_BENCH_TURBO_ONLY"] == "1"
    for turbo in turboOnly ? [true] : [true, false] {
        var limits = ProcessingLimits()
        limits.turboJPEG = turbo
        let local = LocalRun(limits: limits, pool: BlockingPool(threads: 1))
        for _ in 0..<5 { _ = try await local.run(input: input, request: request, pipelines: library, directory: directory) }
        let cpuBefore = cpuSeconds()
        let wall = try await median(runs) { _ = try await local.run(input: input, request: request, pipelines: library, directory: directory) }
        let (s, atto) = wall.components
        costs.append((Double(s) * 1000 + Double(atto) / 1e15, (cpuSeconds() - cpuBefore) / Double(runs) * 1000))
    }
    let turbo = costs[0], libvips = costs.last!
    // libjpeg-turbo's own tool decoding at 1/8, in a process of its own each time (as a user runs it), output thrown away.
    func childCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
    var djpeg = -1.0
    if FileManager.default.isExecutableFile(atPath: "/usr/bin/djpeg") {
        try run("djpeg", ["-scale", "1/8", "-outfile", "/dev/null", input])
        let before = childCPU()
        for _ in 0..<runs { try run("djpeg", ["-scale", "1/8", "-outfile", "/dev/null", input]) }
        djpeg = (childCPU() - before) / Double(runs) * 1000
    }
    print(String(format: "{\"wallMs\": %.2f, \"cpuMs\": %.2f, \"libvipsDecodeCpuMs\": %.2f, \"djpegCpuMs\": %.2f}", turbo.wall, turbo.cpu, libvips.cpu, djpeg))
    exit(0)
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 4 else {
    print("usage: kiln-bench PHOTO.jpg VIDEO.mp4 VIDEO1080.mp4 LADDER1080.mp4")
    exit(2)
}
let photo = arguments[arguments.startIndex]
let video = arguments[arguments.startIndex + 1]
let video1080 = arguments[arguments.startIndex + 2]
let ladder1080 = arguments[arguments.startIndex + 3]
let scratch = NSTemporaryDirectory() + "kiln-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }
try Vips.start()
let library = try PipelineLibrary(directory: "Pipelines")
// One pool for every run, as a worker keeps one: a run measures the job, not starting threads.
let engine = LocalRun(pool: BlockingPool(threads: 8))

/// One job through Kiln's engine (validation, registry, runner, stages), as a worker runs it.
func kiln(_ request: JSONValue, directory: String = scratch + "/k") async throws {
    _ = try await engine.run(input: photo, request: request, pipelines: library, directory: directory)
}

var results: [Measurement] = []
let header = try VipsImage.open(path: photo)
let size = (try? FileManager.default.attributesOfItem(atPath: photo)[.size] as? Int) ?? 0
print("photo: \(header.width)x\(header.height) JPEG, \(size / 1024) KiB; video: \(video)\n")

// KILN_BENCH_ONLY=video skips the image rows and stops after the video ones.
let only = ProcessInfo.processInfo.environment["KILN_BENCH_ONLY"]
if only != "video" {
    results.append(Measurement(
        name: "thumbnail 400 px, JPEG q80 (vs vipsthumbnail)",
        kiln: try await median(15) { try await kiln(["operations": [["op": "thumbnail", "width": 400], ["op": "encode", "format": "jpeg", "quality": 80]]]) },
        cli: try await median(15) { try run("vipsthumbnail", [photo, "-s", "400", "-o", scratch + "/c.jpg[Q=80,strip]"]) }))

    results.append(Measurement(
        name: "resize to 1920 wide, WebP q80 (vs vips thumbnail)",
        kiln: try await median(9) { try await kiln(["operations": [["op": "resize", "width": 1920, "fit": "inside"], ["op": "encode", "format": "webp", "quality": 80]]]) },
        cli: try await median(9) { try run("vips", ["thumbnail", photo, scratch + "/c.webp[Q=80,strip]", "1920"]) }))

    results.append(Measurement(
        name: "encode full size, JPEG q80 (vs vips copy)",
        kiln: try await median(9) { try await kiln(["operations": [["op": "encode", "format": "jpeg", "quality": 80]]]) },
        cli: try await median(9) { try run("vips", ["copy", photo, scratch + "/c.jpg[Q=80,strip,optimize_coding]"]) }))

    results.append(Measurement(
        name: "cover 320x320, WebP q80 (vs vipsthumbnail --crop)",
        kiln: try await median(15) {
            try await kiln(["operations": [["op": "thumbnail", "width": 320, "height": 320, "fit": "cover"], ["op": "encode", "format": "webp", "quality": 80]]])
        },
        cli: try await median(15) { try run("vipsthumbnail", [photo, "-s", "320x320", "-m", "centre", "-o", scratch + "/c.webp[Q=80,strip]"]) }))

    // Five sizes from one photo: Kiln shares one decode; the CLI decodes per size.
    let sizes = [2048, 1200, 800, 400, 200]
    results.append(Measurement(
        name: "five WebP sizes 2048...200 px (vs five vips thumbnail runs)",
        kiln: try await median(7) {
            try await kiln(["outputs": .object(Dictionary(uniqueKeysWithValues: sizes.map {
                ("s\($0)", [["op": "thumbnail", "width": .number(Double($0))], ["op": "encode", "format": "webp", "quality": 80]] as JSONValue)
            }))])
        },
        cli: try await median(7) { for side in sizes { try run("vips", ["thumbnail", photo, scratch + "/c\(side).webp[Q=80,strip]", "\(side)"]) } }))
}

// KILN_BENCH_ONLY=images stops here: the image rows alone, for a quick comparison.
if only == "images" {
    print("| operation | Kiln (in-process) | CLI | CLI / Kiln |")
    print("| --- | --- | --- | --- |")
    for r in results { print("| \(r.name) | \(milliseconds(r.kiln)) | \(milliseconds(r.cli)) | \(String(format: "%.2fx", r.cli / r.kiln)) |") }
    exit(0)
}

// Probe: container and streams.
results.append(Measurement(
    name: "probe MP4 (vs ffprobe -show_format -show_streams)",
    kiln: try await median(51) { _ = try MediaProbe(path: video) },
    cli: try await median(21) { try run("ffprobe", ["-v", "error", "-show_format", "-show_streams", "-of", "json", video]) }))

// 1080p -> 720p H.264 + AAC, the same settings on both sides.
let transcodeSettings = VideoSettings(container: .mp4, codec: .h264, width: 1280, height: 720, crf: 23, preset: "veryfast", audioBitRate: 128_000)
let transcodeTimes = try await interleavedMedians(3,
    kiln: { try VideoTranscode.run(input: video1080, output: scratch + "/k720.mp4", settings: transcodeSettings) },
    cli: {
        try run("ffmpeg", ["-y", "-v", "error", "-i", video1080, "-vf", "scale=1280:720", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                           "-g", "60", "-keyint_min", "60", "-x264-params", "scenecut=0:open-gop=0", "-pix_fmt", "yuv420p",
                           "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", scratch + "/c720.mp4"])
    })
results.append(Measurement(name: "transcode 10 s 1080p -> 720p H.264 veryfast crf 23 + AAC (vs ffmpeg)",
                            kiln: transcodeTimes.kiln, cli: transcodeTimes.cli))

// A 3-rung HLS ladder (1080p, 720p, 480p + one AAC rendition, 6 s TS segments,
// veryfast crf 23 with the same peak caps) from a 30 s 1080p source: Kiln
// decodes once and cascades its scalers; ffmpeg splits one decode into three scalers.
final class FirstPlayable: ProgressivePublisher, @unchecked Sendable {
    let started = ContinuousClock.now
    var at: Duration?
    func publish(_ files: [ProducedFile]) { if files.contains(where: { $0.publication == .playbackEntry }) && at == nil { at = ContinuousClock.now - started } }
}
let ladderRequest: JSONValue = ["op": "hls", "renditions": [["height": 1080], ["height": 720], ["height": 480]], "segmentSeconds": 6]
let ladderPlan = try JobPlan(outputs: [(name: "hls", operations: [ladderRequest], pointer: .root)], input: .video, registry: Stages.registry)
let ladderStage = ladderPlan.outputs[0].steps[0].stage
var firstPlayable: [Duration] = []
let rssBeforeLadder = peakRSS()
let ladderTimes = try await interleavedMedians(3,
    kiln: {
        let directory = scratch + "/hls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let watcher = FirstPlayable()
        let context = StageContext(outputName: "hls", scratchDirectory: directory, stop: StopToken(), limits: ProcessingLimits(),
                                   logger: Logger(label: "bench"), publisher: watcher, reportProgress: { _ in })
        _ = try ladderStage.run(.source(SourceFile(path: ladder1080, kind: .video, contentType: "video/mp4")), context: context)
        if let at = watcher.at { firstPlayable.append(at) }
    },
    cli: {
        let directory = scratch + "/cli-hls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try run("ffmpeg", ["-y", "-v", "error", "-i", ladder1080,
                           "-filter_complex", "[0:v]split=3[a][b][c];[a]scale=1920:1080[v0];[b]scale=1280:720[v1];[c]scale=854:480[v2]",
                           "-map", "[v0]", "-map", "[v1]", "-map", "[v2]", "-map", "0:a",
                           "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                           "-maxrate:v:0", "6500k", "-bufsize:v:0", "13000k", "-maxrate:v:1", "3500k", "-bufsize:v:1", "7000k",
                           "-maxrate:v:2", "1800k", "-bufsize:v:2", "3600k",
                           "-force_key_frames", "expr:gte(t,n_forced*6)", "-x264-params", "scenecut=0:open-gop=0",
                           "-c:a", "aac", "-b:a", "128k", "-ac", "2",
                           "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_filename", directory + "/%v/seg_%05d.ts",
                           "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,agroup:aud v:1,agroup:aud v:2,agroup:aud a:0,agroup:aud",
                           directory + "/%v/index.m3u8"])
    })
results.append(Measurement(name: "HLS ladder of 30 s 1080p: 1080p/720p/480p + AAC, 6 s TS (vs one ffmpeg command)",
                            kiln: ladderTimes.kiln, cli: ladderTimes.cli))
let ladderRSS = peakRSS()

// The video-feed pipeline (a 720/480/360 ladder, a poster, its BlurHash, a storyboard and
// an MP4 fallback) against its ladder alone, on the same 30 s 1080p clip: what the
// outputs beside the ladder cost once one decode feeds them all.
let feedLadder: JSONValue = ["outputs": ["stream": [["op": "hls", "renditions": [["height": 720], ["height": 480], ["height": 360]], "segmentSeconds": 6]]]]
let ladderAlone = try await median(3) {
    _ = try await engine.run(input: ladder1080, request: feedLadder, pipelines: library, directory: scratch + "/feed-ladder-\(UUID().uuidString)")
}
let wholeFeed = try await median(3) {
    _ = try await engine.run(input: ladder1080, request: ["pipeline": "video-feed"], pipelines: library, directory: scratch + "/feed-\(UUID().uuidString)")
}

print("| operation | Kiln (in-process) | CLI | CLI / Kiln |")
print("| --- | --- | --- | --- |")
for r in results {
    print("| \(r.name) | \(milliseconds(r.kiln)) | \(milliseconds(r.cli)) | \(String(format: "%.2fx", r.cli / r.kiln)) |")
}

// Costs with no command-line counterpart.
if let first = firstPlayable.sorted().dropFirst(firstPlayable.count / 2).first {
    print("\nHLS ladder: first playable (every rendition's first segment and the master published) after \(milliseconds(first)); "
          + String(format: "peak RSS %.0f MB after the ladder runs (%.0f MB before)", ladderRSS, rssBeforeLadder))
}
print("\nvideo-feed pipeline on the 30 s 1080p clip: \(milliseconds(wholeFeed)), its ladder alone \(milliseconds(ladderAlone)) ("
      + String(format: "%.2fx", wholeFeed / ladderAlone) + ")")
if only == "video" { exit(0) }
let bomb = try HostileFiles.pngBomb()
let refusal = try await median(21) {
    do {
        _ = try await engine.run(input: bomb, request: ["operations": [["op": "thumbnail", "width": 64]]], pipelines: library, directory: scratch + "/b")
    } catch LocalRun.Failure.failed(_, let error) where error.code == "input_too_large" {}
}
print("\nrefusing a PNG whose header claims 50000x50000: \(milliseconds(refusal)) (median of 21, peak RSS so far \(Int(peakRSS())) MB)")
let faces = try await median(9) { try await kiln(["operations": [["op": "redact"], ["op": "encode", "format": "jpeg"]]]) }
let plain = try await median(9) { try await kiln(["operations": [["op": "encode", "format": "jpeg"]]]) }
print("redact (face detection on a 512 px downscale) + JPEG of the 4K photo: \(milliseconds(faces)), against \(milliseconds(plain)) for the JPEG alone")

// Memory: eight product-photo jobs on the 4K photo at once, as a worker with
// KILN_WORKER_CONCURRENCY=8 would run them.
let before = peakRSS()
let started = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    for index in 0..<8 { group.addTask { try await kiln(["pipeline": "product-photo"], directory: scratch + "/p\(index)") } }
    try await group.waitForAll()
}
print("\n8 concurrent product-photo jobs (4K input, six outputs each): \(milliseconds(ContinuousClock.now - started)) wall, "
      + String(format: "peak RSS %.0f MB (%.0f MB before)", peakRSS(), before))

