import NIOCore
import Testing
@testable import HTTPAPI

/// The streaming multipart parser: the same result however the body is cut
/// into chunks, and an error (never a crash) for hostile bodies.
@Suite struct MultipartParserTests {
    static let boundary = "XyZ-boundary-123"
    static let file = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } + Array("\r\n--XyZ-boundar".utf8)  // a near-delimiter inside the data

    static var body: [UInt8] {
        var bytes = Array("preamble to ignore\r\n".utf8)
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        bytes += file
        bytes += Array("\r\n--\(boundary)--\r\nepilogue".utf8)
        return bytes
    }

    /// Parses `bytes` cut at `cuts`; returns each part's headers and body.
    func parse(_ bytes: [UInt8], cuts: [Int]) throws -> [(headers: [MultipartParser.Header], body: [UInt8])] {
        var parser = MultipartParser(boundary: Self.boundary)
        var events: [MultipartParser.Event] = []
        var start = 0
        for cut in cuts.sorted() + [bytes.count] where cut >= start {
            events += try parser.feed(ByteBuffer(bytes: bytes[start..<cut]))
            start = cut
        }
        events += try parser.finish()
        var parts: [(headers: [MultipartParser.Header], body: [UInt8])] = []
        for event in events {
            switch event {
            case let .headers(h): parts.append((h, []))
            case let .body(b): parts[parts.count - 1].body += Array(b.readableBytesView)
            case .partEnd, .end: break
            }
        }
        return parts
    }

    @Test func partsComeOutWhole() throws {
        let parts = try parse(Self.body, cuts: [])
        #expect(parts.count == 2)
        #expect(parts[0].headers == [.init(name: "content-disposition", value: "form-data; name=\"note\"")])
        #expect(parts[0].body == Array("hello".utf8))
        #expect(parts[1].headers.count == 2)
        #expect(parts[1].body == Self.file)
    }

    @Test func everySingleCutGivesTheSameParts() throws {
        let body = Self.body
        for cut in stride(from: 1, to: body.count, by: 7) {
            let parts = try parse(body, cuts: [cut])
            #expect(parts.count == 2 && parts[1].body == Self.file, "cut at \(cut)")
        }
    }

    @Test func byteAtATimeGivesTheSameParts() throws {
        let body = Self.body
        let parts = try parse(body, cuts: Array(1..<body.count))
        #expect(parts.count == 2 && parts[1].body == Self.file)
    }

    @Test func randomChunkingGivesTheSameParts() throws {
        var generator = SystemRandomNumberGenerator()
        let body = Self.body
        for _ in 0..<50 {
            let cuts = (0..<Int.random(in: 1...20, using: &generator)).map { _ in Int.random(in: 1..<body.count, using: &generator) }
            #expect(try parse(body, cuts: cuts)[1].body == Self.file)
        }
    }

    @Test func hostileBodiesAreErrorsNotCrashes() {
        let b = Self.boundary
        let cases: [[UInt8]] = [
            Array("--\(b)\r\n".utf8) + [0xFF, 0xFE, 0x80, 0x3A, 0x20, 0x41] + Array("\r\n\r\ndata\r\n--\(b)--".utf8),  // non-ASCII header name
            Array("--\(b)\r\nno colon here\r\n\r\ndata\r\n--\(b)--".utf8),
            Array("--\(b)XX".utf8),
            Array("--\(b)\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nnever closed".utf8),
            Array("--\(b)\r\n".utf8) + Array(repeating: 0x41, count: MultipartParser.maxHeaderBytes + 10),
            [],
        ]
        for (i, body) in cases.enumerated() {
            var parser = MultipartParser(boundary: b)
            var threw = false
            do {
                _ = try parser.feed(ByteBuffer(bytes: body))
                _ = try parser.finish()
            } catch {
                threw = true
            }
            // The non-ASCII header name is tolerated (decoded lossily); every other case is malformed.
            if i == 0 { continue }
            #expect(threw, "case \(i) should be malformed")
        }
    }
}
