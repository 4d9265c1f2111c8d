import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// Operation lists are validated whole against the real registry, and every
/// error names the offending field with a JSON pointer.
@Suite(.ownThreads) struct ValidationTests {
    let registry = Stages.registry

    func plan(_ outputs: JSONValue, input: MediaKind = .image) throws(ValidationError) -> JobPlan {
        let request = try JobRequest.parse(["input": "med_x", "outputs": outputs], pipelines: PipelineLibrary(pipelines: []))
        return try JobPlan(outputs: request.outputs, input: input, registry: registry)
    }

    func error(_ outputs: JSONValue, input: MediaKind = .image) -> ValidationError? {
        do {
            _ = try plan(outputs, input: input)
            return nil
        } catch {
            return error
        }
    }

    @Test func validListIsPlannedWithDefaults() throws {
        let plan = try plan(["thumb": [["op": "thumbnail", "width": 320, "height": 320, "fit": "cover"], ["op": "encode", "format": "webp"]]])
        let steps = try #require(plan.outputs.first?.steps)
        #expect(steps.map(\.op) == ["thumbnail", "encode"])
        #expect(steps[1].parameters.bool("stripMetadata") == true)
        #expect(plan.normalized["thumb"]?.arrayValue?[1]["stripMetadata"] == true)
        #expect(plan.normalized["thumb"]?.arrayValue?[0]["fit"] == "cover")
    }

    @Test func outputEndingInAnImageGetsAnEncodeStep() throws {
        let plan = try plan(["small": [["op": "thumbnail", "width": 100]]])
        #expect(plan.outputs[0].steps.map(\.op) == ["thumbnail", "encode"])
    }

    @Test func autoRotateBelongsToTheFirstStepOnly() throws {
        let e = error(["thumb": [["op": "resize", "width": 10], ["op": "encode", "autoRotate": false]]])
        #expect(e?.pointer.description == "/outputs/thumb/1/autoRotate")
        // The stored form keeps it where it means something, and plans again.
        let planned = try plan(["thumb": [["op": "resize", "width": 10, "autoRotate": false], ["op": "flip"]]])
        #expect(planned.normalized["thumb"]?.arrayValue?[0]["autoRotate"] == false)
        #expect(planned.normalized["thumb"]?.arrayValue?[1]["autoRotate"] == nil)
        #expect(planned.normalized["thumb"]?.arrayValue?[2]["autoRotate"] == nil)
        _ = try JobPlan(stored: planned.normalized, input: .image, registry: registry)
    }

    @Test func coloursAreChecked() {
        let e = error(["pad": [["op": "resize", "width": 10, "height": 10, "fit": "contain", "background": "#12345"]]])
        #expect(e?.pointer.description == "/outputs/pad/0/background")
        #expect(e?.message.contains("colour") == true)
    }

    @Test func badQualityPointsAtTheField() {
        let e = error(["thumb": [["op": "thumbnail", "width": 10], ["op": "encode", "format": "webp", "quality": 0]]])
        #expect(e?.pointer.description == "/outputs/thumb/1/quality")
        #expect(e?.message == "Expected integer between 1 and 100 for quality but received 0")
    }

    @Test func unknownFormatPointsAtTheField() {
        let e = error(["thumb": [["op": "encode", "format": "bmp"]]])
        #expect(e?.pointer.description == "/outputs/thumb/0/format")
    }

    @Test func unknownOperationPointsAtOp() {
        let e = error(["x": [["op": "explode"]]])
        #expect(e?.pointer.description == "/outputs/x/0/op")
        #expect(e?.message.contains("thumbnail") == true)
    }

    @Test func unknownParameterIsRefused() {
        let e = error(["x": [["op": "thumbnail", "width": 10, "widht": 5]]])
        #expect(e?.pointer.description == "/outputs/x/0/widht")
    }

    @Test func stepsMustAcceptWhatThePreviousOneYields() {
        // probe yields a finished output: nothing may follow it.
        let e = error(["x": [["op": "probe"], ["op": "encode"]]], input: .video)
        #expect(e?.pointer.description == "/outputs/x/1/op")
        // An image job cannot be probed.
        #expect(error(["x": [["op": "probe"]]], input: .image)?.pointer.description == "/outputs/x/0/op")
        // Audio has no picture to thumbnail; a video has (its frame).
        #expect(error(["x": [["op": "thumbnail", "width": 10]]], input: .audio)?.pointer.description == "/outputs/x/0/op")
        #expect(error(["x": [["op": "thumbnail", "width": 10, "percent": 20]]], input: .video) == nil)
        #expect(error(["x": [["op": "resize", "width": 10]]], input: .video)?.pointer.description == "/outputs/x/0/op")
    }

    @Test func crossFieldRulesAreChecked() {
        #expect(error(["x": [["op": "thumbnail"]]])?.pointer.description == "/outputs/x/0")
        #expect(error(["x": [["op": "thumbnail", "width": 10, "fit": "cover"]]])?.pointer.description == "/outputs/x/0/fit")
        #expect(error(["x": [["op": "encode", "format": "jpeg", "lossless": true]]])?.pointer.description == "/outputs/x/0/lossless")
    }

    @Test func outputNamesArePathSafe() {
        #expect(error(["../etc": [["op": "thumbnail", "width": 10]]])?.pointer.description == "/outputs/..~1etc")
    }

    @Test func emptyAndOverlongListsAreRefused() {
        #expect(error(["x": []])?.pointer.description == "/outputs/x")
        let many = JSONValue.array(Array(repeating: ["op": "thumbnail", "width": 10], count: 40))
        #expect(error(["x": many])?.pointer.description == "/outputs/x")
    }

    @Test func requestShapeErrorsPointAtTheirField() {
        let library = PipelineLibrary(pipelines: [])
        func shape(_ body: JSONValue) -> String? {
            do { _ = try JobRequest.parse(body, pipelines: library); return nil } catch { return error.pointer.description }
        }
        #expect(shape(["outputs": ["a": [["op": "probe"]]]]) == "/input")
        #expect(shape(["input": "med_x"]) == "")
        #expect(shape(["input": "med_x", "pipeline": "nope"]) == "/pipeline")
        #expect(shape(["input": "med_x", "operations": [], "colour": 1]) == "/colour")
        #expect(shape(["input": "med_x", "operations": [["op": "probe"]], "webhook": "ftp://x"]) == "/webhook")
    }

    @Test func operationsShorthandIsTheDefaultOutput() throws {
        let request = try JobRequest.parse(["input": "med_x", "operations": [["op": "thumbnail", "width": 5]]], pipelines: PipelineLibrary(pipelines: []))
        #expect(request.outputs.map(\.name) == ["default"])
        #expect(request.outputs[0].pointer.description == "/operations")
    }

    @Test func everyNamedPipelineIsValidForSomeInput() throws {
        let library = try PipelineLibrary(directory: Fixture.repositoryRoot + "/Pipelines")
        #expect(!library.names.isEmpty)
        for pipeline in library.all {
            let request = try JobRequest.parse(["input": "med_x", "pipeline": .string(pipeline.name)], pipelines: library)
            let validFor = MediaKind.allCases.filter { kind in (try? JobPlan(outputs: request.outputs, input: kind, registry: registry)) != nil }
            #expect(!validFor.isEmpty, "pipeline \(pipeline.name) is valid for no input kind")
        }
    }
}

@Suite(.ownThreads) struct OperationSchemaTests {
    @Test func schemaDescribesEveryOperationAndItsParameters() throws {
        let document = OperationSchema.document(for: Stages.registry, id: "http://x/v1/schema/operations.json")
        let variants = try #require(document["oneOf"]?.arrayValue)
        #expect(variants.count == Stages.registry.descriptors.count)
        let thumbnail = try #require(variants.first { $0["properties"]?["op"]?["const"] == "thumbnail" })
        #expect(thumbnail["properties"]?["width"]?["maximum"] == 16384)
        #expect(thumbnail["properties"]?["fit"]?["enum"]?.arrayValue?.contains("cover") == true)
        #expect(thumbnail["additionalProperties"] == false)
        let encode = try #require(variants.first { $0["properties"]?["op"]?["const"] == "encode" })
        #expect(encode["properties"]?["stripMetadata"]?["default"] == true)
        #expect(encode["properties"]?["format"]?["enum"]?.arrayValue?.contains("avif") == true)
    }
}
