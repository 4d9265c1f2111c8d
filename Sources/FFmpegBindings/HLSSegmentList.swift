/// One finished HLS segment: its file name beside its playlist, and how long it plays.
public struct HLSSegment: Sendable, Equatable {
    public var uri: String
    public var duration: Double

    public init(uri: String, duration: Double) {
        self.uri = uri
        self.duration = duration
    }
}

/// The segments of one rendition in order, and its fMP4 init section (`EXT-X-MAP`).
public struct HLSSegmentList: Sendable, Equatable {
    public var map: String?
    public var segments: [HLSSegment] = []

    public init(map: String? = nil, segments: [HLSSegment] = []) {
        self.map = map
        self.segments = segments
    }

    /// Adds the segments a version of the muxer's playlist names that the list
    /// does not have yet (the muxer's playlist is a sliding window).
    mutating func merge(playlist text: String) {
        var duration: Double?
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#EXTINF:") {
                duration = Double(line.dropFirst("#EXTINF:".count).prefix { $0 != "," })
            } else if line.hasPrefix("#EXT-X-MAP:"), let start = line.range(of: "URI=\"") {
                map = String(line[start.upperBound...].prefix { $0 != "\"" })
            } else if !line.hasPrefix("#"), !line.isEmpty, let length = duration {
                duration = nil
                let uri = String(line)
                if !segments.contains(where: { $0.uri == uri }) { segments.append(HLSSegment(uri: uri, duration: length)) }
            }
        }
    }
}
