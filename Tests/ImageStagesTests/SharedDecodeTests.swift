import Foundation
import ImageStages
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Outputs of one job share one decode of the input, at the largest scale any needs.
@Suite(.ownThreads) struct SharedDecodeTests {
    func plan(_ request: JSONValue) throws -> JobPlan {
        var body = request.objectValue ?? [:]
        body["input"] = "med_x"
        let library = try PipelineLibrary(directory: Fixture.repositoryRoot + "/Pipelines")
        return try JobPlan(outputs: try JobRequest.parse(.object(body), pipelines: library).outputs, input: .image, registry: Stages.registry)
    }

    func photo(width: Int = 3000, height: Int = 2000) throws -> SourceFile {
        let path = NSTemporaryDirectory() + "shared-\(UUID().uuidString).jpg"
        try VipsImage.solid(width: width, height: height, bands: 3, value: 90).save(to: path, as: .jpeg(quality: 85, strip: true))
        return SourceFile(path: path, kind: .image, contentType: "image/jpeg")
    }

    @Test func productPhotoDecodesOnceAtTheLargestSize() throws {
        let shared = try #require(try ImageStages.sharedDecoder.decode(try photo(), for: plan(["pipeline": "product-photo"]).outputs, limits: .init()))
        #expect(shared.outputs == ["large-webp", "large-avif", "thumb-800", "thumb-400", "thumb-200", "placeholder"])
        guard case let .image(image) = shared.value else { Issue.record("not an image"); return }
        #expect(image.width == 2048 && image.height == 1365)
    }

    @Test func onlyOutputsThatCanUseItShare() throws {
        let outputs = try plan(["outputs": [
            "small": [["op": "thumbnail", "width": 100]],
            "crop": [["op": "crop", "x": 0, "y": 0, "width": 50, "height": 50]],
            "raw": [["op": "thumbnail", "width": 100, "autoRotate": false]],
            "facts": [["op": "metadata"]],
        ]]).outputs
        let shared = try #require(try ImageStages.sharedDecoder.decode(try photo(), for: outputs, limits: .init()))
        #expect(shared.outputs == ["small", "crop"])
        // crop needs every pixel: the shared decode is full size.
        guard case let .image(image) = shared.value else { Issue.record("not an image"); return }
        #expect(image.width == 3000)
        #expect(try ImageStages.sharedDecoder.decode(try photo(), for: [outputs[0]], limits: .init()) == nil)
    }

    @Test func aHugeSharedDecodeIsNotKept() throws {
        let outputs = try plan(["outputs": ["a": [["op": "flip"]], "b": [["op": "flop"]]]]).outputs
        #expect(try ImageStages.sharedDecoder.decode(try photo(width: 6000, height: 4500), for: outputs, limits: .init()) == nil)
    }
}
