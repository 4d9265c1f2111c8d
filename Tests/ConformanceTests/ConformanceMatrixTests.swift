import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Every operation of the registry over every corpus file of a kind it takes,
/// in process, two cells at a time (one per core). Each cell must succeed with an
/// output that decodes to what the file shows (size as displayed, upright, the
/// corner markers where they belong, duration and frames), or fail with one of
/// the codes documented for it below. The matrix is printed, so a regression
/// shows where it is.
@Suite(.ownThreads) struct ConformanceMatrixTests {
    struct Cell: Sendable {
        var variant: Variant
        var file: CorpusFile
        var name: String { "\(variant.label) on \(file.name)" }
    }

    enum Outcome: Sendable {
        case ok
        case failedAsDocumented(String)
        case wrong(String)
        /// Wrong, and listed in `knownWrong` with its cause: shown, not failed.
        case known(String)

        var mark: String {
            switch self {
            case .ok: "ok"
            case let .failedAsDocumented(code): code
            case .wrong: "WRONG"
            case .known: "KNOWN WRONG"
            }
        }
    }

    /// Cells that still come out wrong, with why, until their fix lands. A listed cell
    /// that comes out right fails the test, so this list cannot outlive the bug.
    static let knownWrong: [String: String] = [:]

    /// Cells allowed to fail, with the code they must fail with (SPEC: bad input fails with a clear code).
    static func documentedFailure(_ cell: Cell) -> String? {
        // A free rotation of a 50 MP photo would make a ~95 MP image: beyond the output limit.
        if cell.file.name == "jpeg-50mp.jpg", ["rotate 30", "rotate -45"].contains(cell.variant.label) { return "output_too_large" }
        return nil
    }

    static func cells(_ files: [CorpusFile], _ variants: [Variant]) -> [Cell] {
        variants.flatMap { variant in
            files.filter { variant.kinds.contains($0.kind) && (variant.only?($0) ?? true) }.map { Cell(variant: variant, file: $0) }
        }
    }

    static func run(_ cell: Cell, limits: ProcessingLimits = .init()) async -> (Outcome, Duration) {
        let clock = ContinuousClock(), started = clock.now
        let outcome: Outcome
        do {
            let outputs = try await runLocally(cell.file.path, ["operations": cell.variant.operations], limits: limits)
            defer { for output in outputs.values { cleanUp(output) } }
            guard let output = outputs["default"] else { return (.wrong("no output"), clock.now - started) }
            do {
                try cell.variant.check(cell.file, output)
                outcome = knownWrong[cell.name] == nil ? .ok : .wrong("listed in knownWrong, but came out right: take it off the list")
            } catch {
                outcome = knownWrong[cell.name].map { .known("\(error) (\($0))") } ?? .wrong("\(error)")
            }
        } catch let LocalRun.Failure.failed(_, error) {
            outcome = documentedFailure(cell) == error.code ? .failedAsDocumented(error.code) : .wrong("\(error.code): \(error.message)")
        } catch {
            outcome = .wrong("\(error)")
        }
        return (outcome, clock.now - started)
    }

    static func cleanUp(_ output: LocalRun.Output) {
        guard let first = output.files.first?.path else { return }
        // runLocally writes into a fresh directory per run: DIR/NAME/files.
        var directory = (first as NSString).deletingLastPathComponent
        while !(directory as NSString).lastPathComponent.hasPrefix("kiln-local-"), directory.count > 1 {
            directory = (directory as NSString).deletingLastPathComponent
        }
        if directory.count > 1 { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Runs the cells two at a time and prints the matrix: one row per operation
    /// list, one column per file, each cell ok / an error code / WRONG, with its time.
    static func runMatrix(_ title: String, _ cells: [Cell], limits: ProcessingLimits = .init()) async -> [(Cell, Outcome, Duration)] {
        var results: [(Cell, Outcome, Duration)] = []
        await withTaskGroup(of: (Int, Outcome, Duration).self) { group in
            var next = 0
            func start() {
                guard next < cells.count else { return }
                let index = next
                next += 1
                group.addTask { let (outcome, time) = await run(cells[index], limits: limits); return (index, outcome, time) }
            }
            start(); start()
            for await (index, outcome, time) in group {
                results.append((cells[index], outcome, time))
                start()
            }
        }
        print(report(title, results))
        return results
    }

    static func report(_ title: String, _ results: [(Cell, Outcome, Duration)]) -> String {
        let files = Array(Set(results.map(\.0.file.name))).sorted()
        let labels = results.map(\.0.variant.label).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        var text = "\n\(title): \(labels.count) operation lists x \(files.count) files = \(results.count) cells\n"
        for file in files {
            text += "\n\(file)\n"
            for label in labels {
                guard let (_, outcome, time) = results.first(where: { $0.0.file.name == file && $0.0.variant.label == label }) else { continue }
                let seconds = Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
                let detail = switch outcome {
                case let .wrong(why), let .known(why): "  " + why
                default: ""
                }
                text += "  \(label.padding(toLength: 26, withPad: " ", startingAt: 0)) \(outcome.mark.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(format: "%6.2f s", seconds))\(detail)\n"
            }
        }
        let wrong = results.filter { if case .wrong = $0.1 { true } else { false } }.count
        text += "\n\(results.count - wrong) of \(results.count) cells as they should be\n"
        return text
    }

    static func record(_ results: [(Cell, Outcome, Duration)]) {
        for (cell, outcome, _) in results {
            if case let .wrong(why) = outcome {
                Issue.record("\(cell.variant.label) on \(cell.file.name): \(why)")
            }
        }
    }

    @Test func everyImageOperationOnEveryImage() async throws {
        let files = try Corpus.files()
        Self.record(await Self.runMatrix("Images", Self.cells(files, MatrixVariants.images)))
    }

    /// JPEG thumbnails decode through TurboJPEG by default; the same cells through
    /// libvips' own loader must pass too, and the two paths must give the same
    /// pixels within rounding (both decode with libjpeg-turbo at the same scale).
    @Test func jpegThumbnailsMatchBetweenTurboJPEGAndLibvips() async throws {
        let jpegs = try Corpus.files().filter { $0.format == "jpeg" }
        let thumbnails = MatrixVariants.images.filter { $0.operations.arrayValue?.first?["op"] == "thumbnail" }
        var viaLibvips = ProcessingLimits()
        viaLibvips.turboJPEG = false
        Self.record(await Self.runMatrix("JPEG thumbnails decoded by libvips", Self.cells(jpegs, thumbnails), limits: viaLibvips))

        let decodedBefore = VipsImage.turboJPEGDecodes
        for file in jpegs {
            for operations: JSONValue in [
                [["op": "thumbnail", "width": 400], ["op": "encode", "format": "png"]],
                [["op": "thumbnail", "width": 900, "height": 900, "fit": "cover"], ["op": "encode", "format": "png"]],
            ] {
                let turbo = try VipsImage.open(path: try await runOperations(file.path, operations))
                let libvips = try VipsImage.open(path: try await runOperations(file.path, operations, limits: viaLibvips))
                #expect(turbo.width == libvips.width && turbo.height == libvips.height, "\(file.name): \(turbo.width)x\(turbo.height) vs \(libvips.width)x\(libvips.height)")
                let a = try turbo.rgbBytes(), b = try libvips.rgbBytes()
                guard a.count == b.count else { continue }
                var total = 0, largest = 0
                for index in a.indices {
                    let difference = abs(Int(a[index]) - Int(b[index]))
                    total += difference
                    largest = max(largest, difference)
                }
                let mean = Double(total) / Double(a.count)
                print("TurboJPEG vs libvips, \(file.name), \(operations.arrayValue?.first?["width"]?.intValue ?? 0) px: mean difference \(String(format: "%.3f", mean)), largest \(largest)")
                #expect(mean <= 0.5 && largest <= 16, "\(file.name) \(operations): mean difference \(mean), largest \(largest)")
            }
        }
        // Every JPEG but the CMYK one went through TurboJPEG for the 400 px thumbnail at least.
        #expect(VipsImage.turboJPEGDecodes - decodedBefore >= jpegs.count - 1)
    }

    @Test func everyMediaOperationOnEveryVideoAndAudioFile() async throws {
        let files = try Corpus.files()
        Self.record(await Self.runMatrix("Video and audio", Self.cells(files, MatrixVariants.media)))
    }
}
