/// One Server-Sent Event.
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String

    public init(id: String?, event: String?, data: String) {
        self.id = id
        self.event = event
        self.data = data
    }
}

/// Parses `text/event-stream` as the WHATWG HTML standard defines it (§9.2.6):
/// lines end in LF, CRLF or CR; `field: value` lines (one space after the colon
/// dropped); a line starting with `:` is a comment; a blank line dispatches the
/// event, if it has data. Fed the bytes as they arrive, in any cut.
///
/// Written here because mattt/EventSource 1.1.1, the package at hand, does not
/// build on Linux (it reads with `URLSession.bytes`, which Foundation there lacks).
public struct ServerSentEventParser {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var data: [String] = []
    private var event: String?
    /// The last id seen, kept across events (what Last-Event-ID resumes from).
    public private(set) var lastEventID: String?

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if lastWasCR && byte == UInt8(ascii: "\n") {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let dispatched = endLine() { events.append(dispatched) }
            } else {
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer { data = []; event = nil }
            guard !data.isEmpty else { return nil }
            return ServerSentEvent(id: lastEventID, event: event, data: data.joined(separator: "\n"))
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring
        var value: Substring = ""
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(text)
        }
        switch field {
        case "data": data.append(String(value))
        case "event": event = String(value)
        case "id" where !value.contains("\0"): lastEventID = String(value)
        default: break
        }
        return nil
    }
}
