// Exercises the libvips and FFmpeg bindings (success and failure paths) so
// `make leakcheck` can run them under valgrind. Swift Testing's runner crashes
// valgrind 3.19, so the same calls the binding tests make are driven from here.
import FFmpegBindings
import Foundation
import VipsBindings

let fixtures = CommandLine.arguments.dropFirst().first ?? "Fixtures"
let scratch = NSTemporaryDirectory() + "kiln-leakcheck-\(getpid())"
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }

var failures = 0
@MainActor func expect(_ condition: Bool, _ what: String) {
    if !condition {
        failures += 1
        print("FAIL: \(what)")
    }
}

for round in 0..<3 {
    for (name, encoding) in [("photo-exif6.jpg", ImageEncoding.jpeg(quality: 80, strip: true)),
                             ("alpha.png", .png(compression: 6, strip: true)),
                             ("gradient.webp", .webp(quality: 80, lossless: false, strip: true))] {
        let thumb = try VipsImage.thumbnail(path: "\(fixtures)/\(name)", width: 64, height: 64, fit: .cover)
        try thumb.save(to: "\(scratch)/\(round)-\(name)", as: encoding)
        let reread = try VipsImage.open(path: "\(scratch)/\(round)-\(name)")
        expect(reread.width == 64 && reread.height == 64, "thumbnail of \(name) is 64x64")
        _ = try thumb.materialized().pixel(x: 1, y: 1)
    }
    let truncated = try VipsImage.thumbnail(path: "\(fixtures)/truncated.jpg", width: 64, height: 64, fit: .inside)
    expect((try? truncated.save(to: "\(scratch)/t.jpg", as: .jpeg(quality: 80, strip: true))) == nil, "truncated JPEG fails")
    expect((try? VipsImage.open(path: "\(fixtures)/random.bin")) == nil, "random bytes refused by libvips")

    let big = try VipsImage.solid(width: 3000, height: 3000, bands: 3, value: 50)
    let killed = (try? big.save(to: "\(scratch)/killed.png", as: .png(compression: 9, strip: true),
                                watch: EvaluationWatch(shouldStop: { true }))) == nil
    expect(killed, "a watched save stops when asked")
    try big.save(to: "\(scratch)/watched.jpg", as: .jpeg(quality: 60, strip: true), watch: EvaluationWatch(shouldStop: { false }))

    let probe = try MediaProbe(path: "\(fixtures)/clip.mp4")
    expect(abs((probe.duration ?? 0) - 3) < 0.1, "clip.mp4 lasts 3 s")
    expect((try? MediaProbe(path: "\(fixtures)/truncated.mp4")) == nil, "truncated MP4 refused")
    expect((try? MediaProbe(path: "\(fixtures)/random.bin")) == nil, "random bytes refused by FFmpeg")
    let flag = InterruptFlag()
    flag.stop()
    expect((try? MediaProbe(path: "\(fixtures)/clip.mp4", interrupt: flag)) == nil, "interrupted probe stops")
}
// Everything above went out of scope: no libvips object may still be alive.
let live = Vips.liveObjectCount
expect(live == 0, "no libvips objects alive at the end (found \(live))")
Vips.shutdown()
print(failures == 0 ? "leakcheck workload: all checks passed" : "leakcheck workload: \(failures) checks failed")
exit(failures == 0 ? 0 : 1)
