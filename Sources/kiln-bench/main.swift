// `make bench`: Kiln's in-process libvips and FFmpeg calls against the
// command-line tools on the same input in the same run. Reports medians and
// the ratio (CLI time / Kiln time; above 1 means Kiln is faster).
import FFmpegBindings
import Foundation
import VipsBindings

struct Measurement {
    var name: String
    var kiln: Duration
    var cli: Duration
}

func median(_ runs: Int, _ body: () throws -> Void) rethrows -> Duration {
    var samples: [Duration] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try body()
        samples.append(ContinuousClock.now - start)
    }
    return samples.sorted()[runs / 2]
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

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2 else {
    print("usage: kiln-bench PHOTO.jpg VIDEO.mp4")
    exit(2)
}
let photo = arguments[arguments.startIndex]
let video = arguments[arguments.startIndex + 1]
let scratch = NSTemporaryDirectory() + "kiln-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }
try Vips.start()

var results: [Measurement] = []

// A 400 px JPEG thumbnail of a large photo: shrink-on-load in both.
let kilnThumb = try median(21) {
    try VipsImage.thumbnail(path: photo, width: 400, height: 400, fit: .inside).save(to: scratch + "/k.jpg", as: .jpeg(quality: 80, strip: true))
}
let cliThumb = try median(21) { try run("vipsthumbnail", [photo, "-s", "400", "-o", scratch + "/c.jpg[Q=80,strip]"]) }
results.append(Measurement(name: "thumbnail 400px JPEG (vs vipsthumbnail)", kiln: kilnThumb, cli: cliThumb))

// A 320x320 cover crop to WebP.
let kilnWebP = try median(21) {
    try VipsImage.thumbnail(path: photo, width: 320, height: 320, fit: .cover).save(to: scratch + "/k.webp", as: .webp(quality: 80, lossless: false, strip: true))
}
let cliWebP = try median(21) { try run("vipsthumbnail", [photo, "-s", "320x320", "-m", "centre", "-o", scratch + "/c.webp[Q=80,strip]"]) }
results.append(Measurement(name: "cover 320x320 WebP (vs vipsthumbnail --crop)", kiln: kilnWebP, cli: cliWebP))

// Probe: container and streams.
let kilnProbe = try median(51) { _ = try MediaProbe(path: video) }
let cliProbe = try median(21) { try run("ffprobe", ["-v", "error", "-show_format", "-show_streams", "-of", "json", video]) }
results.append(Measurement(name: "probe MP4 (vs ffprobe -show_format -show_streams)", kiln: kilnProbe, cli: cliProbe))

print("| operation | Kiln (in-process) | CLI | CLI / Kiln |")
print("| --- | --- | --- | --- |")
for r in results {
    print("| \(r.name) | \(milliseconds(r.kiln)) | \(milliseconds(r.cli)) | \(String(format: "%.1fx", r.cli / r.kiln)) |")
}
