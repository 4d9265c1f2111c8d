import NIOCore

/// A streaming `multipart/form-data` parser (RFC 7578 / RFC 2046) that sees each
/// network chunk once and never holds a part's body: bodies come out as slices
/// while a delimiter split across two chunks is recognised all the same.
///
/// Written here because multipart-kit 4.7.1 traps (index out of range) on any
/// header-name byte above 127, so one hostile request killed the server.
struct MultipartParser {
    enum Event: Equatable {
        /// A part begins; header names are lower-cased.
        case headers([Header])
        case body(ByteBuffer)
        case partEnd
        /// The closing delimiter was seen; anything after it is ignored.
        case end
    }

    struct Header: Equatable {
        var name: String
        var value: String
    }

    struct MalformedError: Error, Equatable {
        var reason: String
    }

    private enum State { case preamble, afterDelimiter, headers, body, epilogue }

    static let maxHeaderBytes = 16 * 1024

    private let delimiter: [UInt8]
    private var buffer: ByteBuffer
    private var state = State.preamble

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body with no CRLF before it; a
        // virtual CRLF lets one search find it either way.
        buffer = ByteBuffer(bytes: [0x0D, 0x0A])
    }

    mutating func feed(_ chunk: ByteBuffer) throws(MalformedError) -> [Event] {
        buffer.discardReadBytes()
        var chunk = chunk
        buffer.writeBuffer(&chunk)
        return try drain()
    }

    /// Call when the body ended: a body without its closing delimiter is malformed.
    mutating func finish() throws(MalformedError) -> [Event] {
        let events = try drain()
        guard state == .epilogue else { throw MalformedError(reason: "the body ended before the closing boundary") }
        return events
    }

    private mutating func drain() throws(MalformedError) -> [Event] {
        var events: [Event] = []
        loop: while true {
            switch state {
            case .preamble:
                guard let index = buffer.firstIndex(of: delimiter) else {
                    buffer.moveReaderIndex(forwardBy: max(0, buffer.readableBytes - (delimiter.count - 1)))
                    break loop
                }
                buffer.moveReaderIndex(forwardBy: index + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { break loop }
                if first == 0x20 || first == 0x09 {  // transport padding
                    buffer.moveReaderIndex(forwardBy: 1)
                    continue
                }
                guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { break loop }
                switch (first, second) {
                case (0x2D, 0x2D):  // "--": the closing delimiter
                    buffer.moveReaderIndex(forwardBy: 2)
                    state = .epilogue
                    events.append(.end)
                case (0x0D, 0x0A):
                    buffer.moveReaderIndex(forwardBy: 2)
                    state = .headers
                default:
                    throw MalformedError(reason: "expected CRLF or -- after a boundary")
                }
            case .headers:
                let headers: [Header]
                if buffer.readableBytesView.starts(with: [0x0D, 0x0A]) {
                    buffer.moveReaderIndex(forwardBy: 2)
                    headers = []
                } else if let end = buffer.firstIndex(of: [0x0D, 0x0A, 0x0D, 0x0A]) {
                    headers = try Self.parseHeaders(buffer.readableBytesView.prefix(end))
                    buffer.moveReaderIndex(forwardBy: end + 4)
                } else {
                    if buffer.readableBytes > Self.maxHeaderBytes {
                        throw MalformedError(reason: "part headers exceed \(Self.maxHeaderBytes) bytes")
                    }
                    break loop
                }
                events.append(.headers(headers))
                state = .body
            case .body:
                if let index = buffer.firstIndex(of: delimiter) {
                    if index > 0, let slice = buffer.readSlice(length: index) { events.append(.body(slice)) }
                    buffer.moveReaderIndex(forwardBy: delimiter.count)
                    events.append(.partEnd)
                    state = .afterDelimiter
                } else {
                    // Keep a tail that could be the start of a delimiter split across chunks.
                    let safe = buffer.readableBytes - (delimiter.count - 1)
                    if safe > 0, let slice = buffer.readSlice(length: safe) { events.append(.body(slice)) }
                    break loop
                }
            case .epilogue:
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                break loop
            }
        }
        return events
    }

    private static func parseHeaders(_ bytes: ByteBufferView) throws(MalformedError) -> [Header] {
        var headers: [Header] = []
        for line in bytes.split(separator: 0x0D, omittingEmptySubsequences: true) {
            let trimmed = line.drop { $0 == 0x0A }
            guard !trimmed.isEmpty else { continue }
            guard let colon = trimmed.firstIndex(of: 0x3A) else { throw MalformedError(reason: "a part header has no colon") }
            let name = String(decoding: trimmed[trimmed.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: trimmed[trimmed.index(after: colon)...], as: UTF8.self)
            headers.append(Header(name: name.lowercased(), value: value.trimmingSpaces))
        }
        return headers
    }
}

extension ByteBuffer {
    /// Offset (from the reader index) of the first occurrence of `pattern`.
    func firstIndex(of pattern: [UInt8]) -> Int? {
        guard let first = pattern.first, readableBytes >= pattern.count else { return nil }
        return withUnsafeReadableBytes { bytes -> Int? in
            var start = 0
            let last = bytes.count - pattern.count
            while start <= last {
                guard let base = bytes.baseAddress,
                      let hit = memchr(base + start, Int32(first), last - start + 1) else { return nil }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + offset, pattern, pattern.count) == 0 { return offset }
                start = offset + 1
            }
            return nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}

#if canImport(Glibc)
import Glibc
#endif
