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

    // Geometry, colour and composition: every binding the image stages use.
    let photo = try VipsImage.open(path: "\(fixtures)/photo-exif6.jpg").autoRotated().materialized()
    expect(photo.width == 240 && photo.height == 320, "autorot turns the photo upright")
    let worked = try photo.resized(xScale: 0.5, yScale: 0.5, kernel: .lanczos3)
        .cropped(x: 10, y: 10, width: 100, height: 100)
        .smartCropped(width: 80, height: 80, interesting: .attention)
        .placed(on: 120, 90, at: .centre, background: [255, 0, 0])
        .rotated(quarterTurns: 1).rotated(degrees: 30, background: [0, 0, 0]).mirrored(horizontal: true)
        .colourTransformed(matrix: [[0.5, 0.5, 0], [0, 1, 0], [0, 0, 1]], offset: [10, 0, 0])
        .blurred(sigma: 2).sharpened(sigma: 1).addingAlpha()
    let mark = try VipsImage.textMask("kiln <&>", font: "DejaVu Sans 12")
    let ink = try mark.constant([255, 255, 255]).joiningAlpha(try mark.scaledBands([0.5], offsets: [0]))
    let marked = try worked.composited(ink, x: 2, y: 2).composited(try ink.replicated(across: 2, down: 2), x: 0, y: 0)
        .inserting(try ink.cropped(x: 0, y: 0, width: 4, height: 4), x: 1, y: 1)
    expect(try marked.rgbBytes().count == marked.width * marked.height * 3, "rgb bytes cover the image")
    expect(try marked.greyBytes().count == marked.width * marked.height, "grey bytes cover the image")
    for (index, encoding) in [ImageEncoding.avif(quality: 40, strip: true), .gif(strip: true),
                              .jpeg(quality: 70, progressive: true, subsampling: .yuv444, strip: false),
                              .png(compression: 3, palette: true, strip: true)].enumerated() {
        try marked.save(to: "\(scratch)/marked-\(index)", as: encoding)
    }
    _ = (photo.stringField("exif-ifd0-Orientation"), photo.intField("n-pages"), photo.iccProfile, photo.interpretationName)
    expect((try? VipsImage.textMask("x", font: "DejaVu Sans 12").iccToSRGB()) == nil, "an image without a profile cannot be transformed from it")

    let probe = try MediaProbe(path: "\(fixtures)/clip.mp4")
    expect(abs((probe.duration ?? 0) - 3) < 0.1, "clip.mp4 lasts 3 s")
    expect((try? MediaProbe(path: "\(fixtures)/truncated.mp4")) == nil, "truncated MP4 refused")
    expect((try? MediaProbe(path: "\(fixtures)/random.bin")) == nil, "random bytes refused by FFmpeg")
    let frame = try FrameGrabber.grab(path: "\(fixtures)/clip.mp4", at: .seconds(1.5), maxPixels: 10_000_000)
    let picture = try VipsImage.fromRGB(frame.bytes, width: frame.width, height: frame.height)
    expect(picture.width == 320 && abs(frame.time - 1.5) < 0.05, "frame at 1.5 s of clip.mp4")
    expect((try? FrameGrabber.grab(path: "\(fixtures)/clip.mp4", at: .seconds(1), maxPixels: 100)) == nil, "frame pixel limit")
    expect((try? FrameGrabber.grab(path: "\(fixtures)/tone.mp3", at: .seconds(1), maxPixels: 10_000_000)) == nil, "no frame in audio")
    var grabbed = 0
    try FrameGrabber.grab(path: "\(fixtures)/clip.mp4", at: [.seconds(2.5), .fraction(0.1), .seconds(9)], maxPixels: 10_000_000) { _ in grabbed += 1 }
    expect(grabbed == 3, "three frames from one opening")
    let peaks = try AudioPeaks(path: "\(fixtures)/tone.mp3", points: 40)
    expect(peaks.peaks.count == 40 && peaks.sampleRate > 0, "waveform peaks of tone.mp3")
    expect((try? AudioPeaks(path: "\(fixtures)/photo-exif6.jpg", points: 40)) == nil, "no peaks from an image")
    for format in AudioOutput.allCases {
        try AudioTranscode.run(input: "\(fixtures)/clip.mp4", output: "\(scratch)/a.\(format.fileExtension)", as: format,
                               bitRate: 64000, sampleRate: nil, channels: nil, start: 0.5, duration: 1)
    }
    try AudioTranscode.run(input: "\(fixtures)/tone.mp3", output: "\(scratch)/g.mp3", as: .mp3, bitRate: 64000, sampleRate: nil,
                           channels: 1, gain: 1.5)
    var meter: LoudnessMeter?
    try AudioSamples.decode(path: "\(fixtures)/tone.mp3", channels: nil, start: { meter = LoudnessMeter(sampleRate: $0.sampleRate, channels: $0.channels) }) {
        meter?.add(interleaved: $0)
    }
    expect(meter?.integrated != nil, "tone.mp3 has a loudness")
    expect((try MediaProbe.coverArt(path: "\(fixtures)/tone.mp3")) == nil, "tone.mp3 has no cover art")
    try VideoTranscode.run(input: "\(fixtures)/clip.mp4", output: "\(scratch)/v.mp4",
                           settings: VideoSettings(container: .mp4, codec: .h264, width: 160, height: 120, crf: 30, preset: "ultrafast",
                                                   start: 0.5, duration: 1))
    try VideoTranscode.run(input: "\(fixtures)/clip.mp4", output: "\(scratch)/v.webm",
                           settings: VideoSettings(container: .webm, codec: .vp9, width: 96, height: 72, crf: 40, mute: true))
    let stopVideo = InterruptFlag()
    var videoSteps = 0
    expect((try? VideoTranscode.run(input: "\(fixtures)/clip.mp4", output: "\(scratch)/stopped.mp4",
                                    settings: VideoSettings(container: .mp4, codec: .h264, width: 160, height: 120, crf: 30, preset: "ultrafast"),
                                    interrupt: stopVideo, progress: { _ in videoSteps += 1; if videoSteps == 2 { stopVideo.stop() } })) == nil,
           "a stopped video transcode fails")
    expect(!FileManager.default.fileExists(atPath: "\(scratch)/stopped.mp4"), "a stopped video transcode leaves no file")
    // An HLS ladder (TS and fMP4, with the audio rendition), whole and stopped after its first segments.
    for type in [HLSSettings.SegmentType.mpegts, .fmp4] {
        let ladder = HLSSettings(directory: "\(scratch)/hls-\(type.rawValue)", rungs: [
            .init(name: "120p", width: 160, height: 120, crf: 30, maxRate: 500_000, bufferSize: 1_000_000),
            .init(name: "60p", width: 80, height: 60, crf: 30),
        ], segmentSeconds: 1, segmentType: type, preset: "ultrafast")
        var finished: [Int] = []
        let facts = try HLSLadder.run(input: "\(fixtures)/clip.mp4", settings: ladder, segmentsFinished: { lists, _ in finished = lists.map(\.segments.count) })
        expect(facts.videoCodecs.count == 2 && facts.audioCodec == "mp4a.40.2", "the ladder's codecs")
        expect(facts.segmentLists.map(\.segments.count) == finished, "the facts list every finished segment: \(facts.segmentLists)")
        expect(finished.count == 3 && finished.allSatisfy { $0 >= 3 }, "every rendition of the 3 s clip has its 1 s segments: \(finished)")
        let stopLadder = InterruptFlag()
        expect((try? HLSLadder.run(input: "\(fixtures)/clip.mp4", settings: HLSSettings(directory: "\(scratch)/hls-stopped", rungs: ladder.rungs,
                                                                                      segmentSeconds: 1, segmentType: type, preset: "ultrafast"),
                                    interrupt: stopLadder, segmentsFinished: { _, _ in stopLadder.stop() })) == nil, "a stopped ladder fails")
        expect(!FileManager.default.fileExists(atPath: "\(scratch)/hls-stopped"), "a stopped ladder leaves nothing")
    }
    let cancelled = InterruptFlag()
    var steps = 0
    expect((try? AudioTranscode.run(input: "\(fixtures)/clip.mp4", output: "\(scratch)/c.m4a", as: .aac, bitRate: 64000, sampleRate: nil,
                                    channels: nil, interrupt: cancelled, progress: { _ in steps += 1; if steps == 3 { cancelled.stop() } })) == nil,
           "a cancelled transcode stops")
    expect(!FileManager.default.fileExists(atPath: "\(scratch)/c.m4a"), "a cancelled transcode leaves no file")
    let flag = InterruptFlag()
    flag.stop()
    expect((try? MediaProbe(path: "\(fixtures)/clip.mp4", interrupt: flag)) == nil, "interrupted probe stops")
}
// Streams that change mid-way (made by scripts/leakcheck.sh): each frame is scaled from its own
// size and format, each audio frame resampled from its own layout; valgrind sees every read.
if let changes = CommandLine.arguments.dropFirst(2).first {
    for name in ["size-change", "format-change"] {
        try VideoTranscode.run(input: "\(changes)/\(name).mp4", output: "\(scratch)/\(name).mp4",
                               settings: VideoSettings(container: .mp4, codec: .h264, width: 160, height: 120, crf: 30, preset: "ultrafast"))
        let ladder = HLSSettings(directory: "\(scratch)/\(name)-hls", rungs: [.init(name: "120p", width: 160, height: 120, crf: 30)],
                                 segmentSeconds: 1, segmentType: .mpegts, preset: "ultrafast")
        _ = try HLSLadder.run(input: "\(changes)/\(name).mp4", settings: ladder)
        expect((try? MediaProbe(path: "\(scratch)/\(name).mp4")) != nil, "\(name) transcoded")
    }
    try AudioTranscode.run(input: "\(changes)/layout-change.aac", output: "\(scratch)/layout.m4a", as: .aac, bitRate: 64000, sampleRate: nil, channels: nil)
    try VideoTranscode.run(input: "\(changes)/rotated.mp4", output: "\(scratch)/rotated.webm",
                           settings: VideoSettings(container: .webm, codec: .vp9, width: 96, height: 160, crf: 40, mute: true))
    _ = try HLSLadder.run(input: "\(changes)/rotated.mp4", settings: HLSSettings(
        directory: "\(scratch)/rotated-hls", rungs: [.init(name: "160p", width: 96, height: 160, crf: 30), .init(name: "80p", width: 48, height: 80, crf: 30)],
        segmentSeconds: 1, segmentType: .fmp4, preset: "ultrafast"))
    let turned = try MediaProbe(path: "\(scratch)/rotated-hls/160p/init.mp4")
    expect(turned.video?.width == 96 && turned.video?.height == 160, "the ladder turns a rotated source upright")
    let peaks = try AudioPeaks(path: "\(changes)/layout-change.aac", points: 64)
    expect(peaks.peaks.count == 64, "peaks of a stream that turns stereo")
}
// Everything above went out of scope: no libvips object may still be alive.
let live = Vips.liveObjectCount
expect(live == 0, "no libvips objects alive at the end (found \(live))")
Vips.shutdown()
print(failures == 0 ? "leakcheck workload: all checks passed" : "leakcheck workload: \(failures) checks failed")
exit(failures == 0 ? 0 : 1)
