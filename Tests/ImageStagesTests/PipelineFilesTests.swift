import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Every file in Pipelines/ validates against the real registry, and the image
/// pipelines produce what their descriptions promise.
@Suite(.ownThreads) struct PipelineFilesTests {
    let library: PipelineLibrary

    init() throws {
        library = try PipelineLibrary(directory: Fixture.repositoryRoot + "/Pipelines")
    }

    @Test func everyPipelineValidatesForSomeInput() throws {
        #expect(library.names.count >= 5)
        for pipeline in library.all {
            #expect(!pipeline.description.isEmpty, "\(pipeline.name) has no description")
            let kinds = MediaKind.allCases.filter { kind in
                let request = try? JobRequest.parse(["input": "med_x", "pipeline": .string(pipeline.name)], pipelines: library)
                return request.flatMap { try? JobPlan(outputs: $0.outputs, input: kind, registry: Stages.registry) } != nil
            }
            #expect(!kinds.isEmpty, "\(pipeline.name) validates for no input kind")
        }
    }

    /// A 3000x2000 landscape JPEG.
    func photo() throws -> String {
        let path = NSTemporaryDirectory() + "photo-\(UUID().uuidString).jpg"
        try VipsImage.solid(width: 3000, height: 2000, bands: 3, value: 90).save(to: path, as: .jpeg(quality: 85, strip: true))
        return path
    }

    func size(_ output: LocalRun.Output?) throws -> (Int, Int) {
        let file = try #require(output?.files.first)
        let image = try VipsImage.open(path: file.path)
        return (image.width, image.height)
    }

    @Test func productPhotoMakesEverySize() async throws {
        let outputs = try await runLocally(try photo(), ["pipeline": "product-photo"])
        #expect(try size(outputs["large-webp"]) == (2048, 1365))
        #expect(try size(outputs["large-avif"]) == (2048, 1365))
        #expect(try size(outputs["thumb-800"]) == (800, 533))
        #expect(try size(outputs["thumb-400"]) == (400, 267))
        #expect(try size(outputs["thumb-200"]) == (200, 200))
        #expect(outputs["placeholder"]?.results["blurhash"]?.stringValue?.count == 28)
        #expect(outputs["large-avif"]?.files.first?.file.contentType == "image/avif")
    }

    /// A sticker from a 12 MP phone photo (orientation 6, no alpha): exactly 512×512, the photo
    /// upright inside transparent padding, within 100 KB; a 96×96 tray icon.
    @Test func aStickerFitsTheChatAppsRules() async throws {
        let outputs = try await runLocally("corpus/jpeg-12mp-o6.jpg", ["pipeline": "sticker"])
        let sticker = try #require(outputs["sticker"]?.files.first)
        #expect(sticker.file.contentType == "image/webp" && sticker.file.size <= 100_000, "\(sticker.file)")
        let image = try VipsImage.open(path: sticker.path).materialized()
        #expect(image.width == 512 && image.height == 512 && image.hasAlpha)
        // Portrait after rotation: the padding is left and right, clear; the middle is opaque.
        let (left, right) = (try image.pixel(x: 2, y: 256)[3], try image.pixel(x: 509, y: 256)[3])
        let (middle, top) = (try image.pixel(x: 256, y: 256)[3], try image.pixel(x: 256, y: 2)[3])
        #expect(left == 0 && right == 0 && middle == 255 && top == 255, "alpha left \(left), right \(right), middle \(middle), top \(top)")
        #expect(outputs["sticker"]?.results["quality"]?.doubleValue ?? 0 >= 30)
        let tray = try VipsImage.open(path: try #require(outputs["tray"]?.files.first).path)
        #expect(tray.width == 96 && tray.height == 96 && tray.hasAlpha && tray.loader == "pngload")
    }

    /// An animated GIF as an animated sticker: every frame, each at its delay, 512×512 with clear padding, within 500 KB.
    @Test func anAnimatedStickerKeepsEveryFrame() async throws {
        let source = try VipsImage.openAllPages(path: Fixture.path("corpus/animated.gif"), loader: "gifload")
        let outputs = try await runLocally("corpus/animated.gif", ["pipeline": "animated-sticker"])
        let sticker = try #require(outputs["sticker"]?.files.first)
        #expect(sticker.file.contentType == "image/webp" && sticker.file.size <= 500_000, "\(sticker.file)")
        let header = try VipsImage.open(path: sticker.path)
        let stacked = try VipsImage.openAllPages(path: sticker.path, loader: try #require(header.loader))
        #expect(header.loader == "webpload" && stacked.pageCount == source.pageCount && stacked.frameDelays == source.frameDelays)
        let frames = try stacked.pages()
        #expect(frames.allSatisfy { $0.width == 512 && $0.height == 512 && $0.hasAlpha })
        // 16:9 in a square: clear above and below, opaque in the middle, in the last frame as in the first.
        let last = try #require(frames.last).materialized()
        #expect(try last.pixel(x: 256, y: 2)[3] == 0 && last.pixel(x: 256, y: 509)[3] == 0 && last.pixel(x: 256, y: 256)[3] == 255)
        let tray = try VipsImage.open(path: try #require(outputs["tray"]?.files.first).path)
        #expect(tray.width == 96 && tray.height == 96 && tray.hasAlpha && tray.loader == "pngload" && tray.pageCount == 1)
    }

    @Test func avatarAndFiltersRun() async throws {
        let avatar = try await runLocally(try photo(), ["pipeline": "avatar"])
        #expect(try size(avatar["avatar"]) == (256, 256))
        #expect(try size(avatar["avatar-jpeg"]) == (256, 256))
        #expect(try size(avatar["small"]) == (64, 64))
        #expect(avatar["placeholder"]?.results["blurhash"] != nil)
        let filters = try await runLocally(try photo(), ["pipeline": "filters"])
        #expect(filters.count == 6)
        for (name, output) in filters { #expect(try size(output) == (640, 427), "\(name)") }
    }
}
