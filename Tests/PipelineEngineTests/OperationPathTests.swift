import KilnApp
import PipelineEngine
import KilnTestSupport
import Testing

/// The URL form of operation lists, read into what a job would submit and
/// validated by the same registry.
@Suite(.ownThreads) struct OperationPathTests {
    func parse(_ path: String) throws -> JSONValue { try OperationPath.parse(path, registry: Stages.registry) }

    @Test func shortAndFullNamesGiveTheJobsList() throws {
        let list = try parse("thumbnail:w=320,h=320,fit=cover/encode:f=webp,q=80")
        #expect(list == [["op": "thumbnail", "width": 320, "height": 320, "fit": "cover"],
                         ["op": "encode", "format": "webp", "quality": 80]])
        // The list plans as a job's does.
        let steps = try Stages.registry.plan(operations: list, input: .image, at: JSONPointer())
        #expect(steps.map(\.op) == ["thumbnail", "encode"])
        #expect(try parse("resize:width=640,enlarge=true") == [["op": "resize", "width": 640, "enlarge": true]])
        #expect(try parse("blurhash") == [["op": "blurhash"]])
    }

    @Test func aWrongStepSaysWhereAndWhat() {
        func pointer(_ path: String) -> String? {
            do { _ = try parse(path); return nil } catch { return (error as? ValidationError)?.pointer.description }
        }
        #expect(pointer("thumbnail:w=wide") == "/0/width")
        #expect(pointer("thumbnail:w=400/nosuchop:x=1") == "/1/op")
        #expect(pointer("thumbnail:w=400/encode:colour=1") == "/1/colour")
        #expect(pointer("thumbnail:w=400,w=500") == "/0/width")
        #expect(pointer("thumbnail:w") == "/0")
        #expect(pointer("thumbnail:w=400//encode") == "/1")
        #expect(pointer("thumbnail:w=%ZZ") == "/0/width")
    }

    @Test func rangesAreTheRegistrysOnes() throws {
        let list = try parse("thumbnail:w=0")
        #expect(throws: ValidationError.self) { try Stages.registry.plan(operations: list, input: .image, at: JSONPointer()) }
    }

    @Test func theCanonicalFormIsOneSpellingOfEachList() throws {
        let a = try parse("thumbnail:h=320,w=320,fit=cover/encode:q=80,f=webp")
        let b = try parse("thumbnail:width=320,fit=cover,height=320/encode:format=webp,quality=80")
        #expect(OperationPath.canonical(a) == OperationPath.canonical(b))
        #expect(OperationPath.canonical(a) == "thumbnail:fit=cover,height=320,width=320/encode:format=webp,quality=80")
        // It reads back to the same list.
        #expect(try parse(OperationPath.canonical(a)) == a)
        let text = try parse("watermark:text=Hello%2C%20world%2Fyes")
        #expect(text == [["op": "watermark", "text": "Hello, world/yes"]])
        #expect(try parse(OperationPath.canonical(text)) == text)
    }
}
