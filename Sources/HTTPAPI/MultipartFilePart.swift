import Foundation
import Hummingbird
import NIOCore

/// The body of the `file` part of a `multipart/form-data` request, as a stream:
/// each network chunk is parsed once and only the file's bytes come out.
struct MultipartFilePart<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let boundary: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var parser: MultipartParser
        var ready: [ByteBuffer] = []
        var inFilePart = false
        var sawFilePart = false
        var ended = false

        mutating func next() async throws -> ByteBuffer? {
            while ready.isEmpty {
                if ended { return nil }
                let events: [MultipartParser.Event]
                do {
                    if let chunk = try await base.next() {
                        events = try parser.feed(chunk)
                    } else {
                        ended = true
                        events = try parser.finish()
                    }
                } catch let error as MultipartParser.MalformedError {
                    throw APIError(.badRequest, code: "malformed_multipart", message: "The multipart body is malformed: \(error.reason)")
                }
                for event in events {
                    switch event {
                    case let .headers(headers):
                        // Only the first part named "file" is the upload; other fields are ignored.
                        inFilePart = !sawFilePart && Self.isFilePart(headers)
                        sawFilePart = sawFilePart || inFilePart
                    case let .body(bytes):
                        if inFilePart { ready.append(bytes) }
                    case .partEnd:
                        inFilePart = false
                    case .end:
                        ended = true
                    }
                }
                if ended && !sawFilePart {
                    throw APIError(.badRequest, code: "missing_file", message: "multipart/form-data needs a part named file")
                }
            }
            return ready.removeFirst()
        }

        static func isFilePart(_ headers: [MultipartParser.Header]) -> Bool {
            guard let disposition = headers.first(where: { $0.name == "content-disposition" })?.value else { return false }
            return disposition.split(separator: ";").dropFirst().contains { parameter in
                let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
                return pair.count == 2 && pair[0].lowercased() == "name" && pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == "file"
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), parser: MultipartParser(boundary: boundary))
    }

    /// The boundary of a `multipart/form-data` Content-Type, if it is one.
    static func boundary(of contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let boundary = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                // RFC 2046: 1 to 70 characters.
                return (1...70).contains(boundary.utf8.count) ? boundary : nil
            }
        }
        return nil
    }
}
