import Foundation
import KilnTestSupport

/// One file of the real-media corpus (`scripts/corpus.py`), as its manifest describes it.
struct CorpusFile: Decodable, Sendable, CustomStringConvertible {
    enum Kind: String, Decodable, Sendable { case image, video, audio }

    var name: String
    var kind: Kind
    var size: Int
    var format: String?
    /// As displayed: EXIF orientation and display matrices applied.
    var width: Int?
    var height: Int?
    var duration: Double?
    var frames: Int?
    var audioStreams: Int?
    var channels: Int?
    var sampleRate: Int?
    /// Red, green, blue and yellow squares in the corners (as displayed).
    var markers: Bool?
    var alpha: Bool?
    var colourTolerance: Double?
    /// Where the corner colours are not sRGB's pure ones (CMYK cannot show them): what
    /// libvips' own conversion through the embedded profile gives, by marker name.
    var markerColours: [String: [Double]]?
    var changesSize: Bool?
    /// The size of the frame in the middle, where it is not the stream's (a clip of another size joined on).
    var middleFrame: [Int]?
    var changesFormat: Bool?
    var changesLayout: Bool?

    var path: String { Corpus.directory + "/" + name }
    var description: String { name }
    var displayed: (width: Int, height: Int) { (width ?? 0, height ?? 0) }
    /// What a frame from the middle shows.
    var middle: (width: Int, height: Int) { middleFrame.map { ($0[0], $0[1]) } ?? displayed }
    var hasMarkers: Bool { markers ?? false }
    var hasAudio: Bool { kind == .audio || (audioStreams ?? 0) > 0 }
    /// Decoding this file meets a change of picture size, pixel format or channel layout mid-stream.
    var changesMidStream: Bool { (changesSize ?? false) || (changesFormat ?? false) || (changesLayout ?? false) }
}

enum Corpus {
    static let directory = Fixture.corpusDirectory

    /// The corpus, made first if it is missing or its script changed (a no-op otherwise).
    static func files() throws -> [CorpusFile] {
        try Fixture.makeCorpus()
        struct Manifest: Decodable { var files: [CorpusFile] }
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data).files
    }
}
