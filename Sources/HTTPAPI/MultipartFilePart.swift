import Hummingbird
import MultipartKit
import NIOCore

/// The body of the `file` part of a `multipart/form-data` request, as a stream:
/// the parser sees each network chunk once and only the file's bytes come out.
struct MultipartFilePart<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let boundary: String

    /// Shared with the parser's callbacks, which are synchronous.
    final class State {
        var headers: [(String, String)] = []
        var inFilePart = false
        var sawFilePart = false
        var finishedFilePart = false
        var output: [ByteBuffer] = []
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let parser: MultipartParser
        let state: State
        var ready: [ByteBuffer] = []
        var ended = false

        mutating func next() async throws -> ByteBuffer? {
            while ready.isEmpty {
                if ended { return nil }
                guard let chunk = try await base.next() else {
                    ended = true
                    guard state.sawFilePart else {
                        throw APIError(.badRequest, code: "missing_file", message: "multipart/form-data needs a part named file")
                    }
                    return nil
                }
                try parser.execute(chunk)
                ready = state.output
                state.output.removeAll()
            }
            return ready.removeFirst()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let parser = MultipartParser(boundary: boundary)
        let state = State()
        parser.onHeader = { name, value in
            state.headers.append((name.lowercased(), value))
        }
        parser.onBody = { buffer in
            if !state.inFilePart && !state.finishedFilePart {
                let disposition = state.headers.first { $0.0 == "content-disposition" }?.1 ?? ""
                if disposition.contains("name=\"file\"") || disposition.contains("name=file;") || disposition.hasSuffix("name=file") {
                    state.inFilePart = true
                    state.sawFilePart = true
                }
            }
            if state.inFilePart { state.output.append(buffer) }
        }
        parser.onPartComplete = {
            if state.inFilePart { state.finishedFilePart = true }
            state.inFilePart = false
            state.headers.removeAll()
        }
        return AsyncIterator(base: base.makeAsyncIterator(), parser: parser, state: state)
    }

    /// The boundary of a `multipart/form-data` Content-Type, if it is one.
    static func boundary(of contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}

import Foundation
