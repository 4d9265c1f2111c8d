import Foundation
import ImageStages
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Hostile images fail their step with an error code; nothing crashes and no
/// memory is spent on pixels a header only claims.
@Suite(.ownThreads) struct HostileImageTests {
    @Test func aHeaderBombIsRefusedFromItsHeader() async throws {
        let bomb = try HostileFiles.pngBomb()
        for operations: JSONValue in [[["op": "thumbnail", "width": 64]], [["op": "encode"]], [["op": "resize", "width": 100]], [["op": "blurhash"]]] {
            let failure = await stageFailure(bomb, operations)
            #expect(failure?.code == "input_too_large", "\(operations): \(String(describing: failure))")
        }
    }

    @Test func aFormatKilnDoesNotAcceptIsRefusedByTheDecodersVerdict() throws {
        // A TIFF reaching a stage as an "image" (the sniffer would have refused it at upload).
        let tiff = NSTemporaryDirectory() + "x-\(UUID().uuidString).tif"
        try runVipsTool(["copy", Fixture.path("gradient.webp"), tiff])
        let encode = try Encode(parameters: Parameters([:]), at: .root)
        let context = StageContext(outputName: "x", scratchDirectory: NSTemporaryDirectory(), stop: StopToken(), limits: .init(),
                                   logger: TestEnvironment.logger(), reportProgress: { _ in })
        #expect(throws: StageError.self) { _ = try encode.run(.source(SourceFile(path: tiff, kind: .image, contentType: "image/jpeg")), context: context) }
        do {
            _ = try encode.run(.source(SourceFile(path: tiff, kind: .image, contentType: "image/jpeg")), context: context)
        } catch {
            #expect(error.code == "unsupported_format", "\(error.message)")
        }
    }

    @Test func truncatedAndRandomInputsFail() async throws {
        let truncated = await stageFailure("truncated.jpg", [["op": "resize", "width": 64], ["op": "encode", "format": "webp"]])
        #expect(truncated?.code == "invalid_input")
        let random = try HostileFiles.write([0xFF, 0xD8, 0xFF, 0xE0] + (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 37) }, suffix: "jpg")
        let failure = await stageFailure(random, [["op": "thumbnail", "width": 64]])
        #expect(failure?.code == "invalid_input", "\(String(describing: failure))")
    }
}
