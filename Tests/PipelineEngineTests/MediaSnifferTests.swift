import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

@Suite(.ownThreads) struct MediaSnifferTests {
    func prefix(_ fixture: String) throws -> [UInt8] { Array(try Fixture.data(fixture).prefix(MediaSniffer.prefixLength)) }

    @Test(arguments: [("photo-exif6.jpg", "image/jpeg"), ("alpha.png", "image/png"), ("gradient.webp", "image/webp"),
                      ("clip.mp4", "video/mp4"), ("tone.mp3", "audio/mpeg")])
    func fixturesAreRecognised(_ fixture: String, _ contentType: String) throws {
        #expect(MediaSniffer.sniff(try prefix(fixture))?.contentType == contentType)
    }

    @Test func bareMPEGAudioNeedsItsSecondFrame() throws {
        // tone.mp3 without its ID3v2 tag (10-byte header + syncsafe size) starts with a frame.
        let bytes = Array(try Fixture.data("tone.mp3"))
        let tagSize = bytes[6...9].reduce(0) { $0 << 7 | Int($1 & 0x7F) }
        let bare = Array(bytes[(10 + tagSize)...])
        #expect(MediaSniffer.sniff(Array(bare.prefix(MediaSniffer.prefixLength)))?.contentType == "audio/mpeg")
        // The same first frame header followed by anything but a second frame is not MPEG audio.
        #expect(MediaSniffer.sniff(Array(bare.prefix(4)) + Array(repeating: 0, count: 4092)) == nil)
        #expect(MediaSniffer.sniff([0xFF, 0xFB, 0x90, 0x64] + Array(repeating: 0, count: 2000)) == nil)
    }

    func ftyp(_ major: String, _ compatible: [String]) -> [UInt8] {
        let brands = [major, "\0\0\0\0"] + compatible
        let size = 8 + brands.count * 4
        return [0, 0, 0, UInt8(size)] + Array("ftyp".utf8) + brands.flatMap { Array($0.utf8) } + Array(repeating: 0, count: 64)
    }

    @Test func isoBrandsDecideTheKind() {
        #expect(MediaSniffer.sniff(ftyp("isom", ["isom", "avc1"]))?.contentType == "video/mp4")
        #expect(MediaSniffer.sniff(ftyp("qt  ", []))?.contentType == "video/quicktime")
        #expect(MediaSniffer.sniff(ftyp("M4A ", ["M4A ", "mp42"]))?.kind == .audio)
        #expect(MediaSniffer.sniff(ftyp("mif1", ["mif1", "avif"]))?.contentType == "image/avif")
        #expect(MediaSniffer.sniff(ftyp("heic", ["mif1"]))?.contentType == "image/heic")
        #expect(MediaSniffer.sniff(ftyp("zzzz", ["yyyy"])) == nil, "an unknown brand is not taken for video")
    }

    @Test func textFormatsAreRefused() {
        for text in ["<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"file:///etc/passwd\"/></svg>", "%PDF-1.7\n", "#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"] {
            #expect(MediaSniffer.sniff(Array(text.utf8)) == nil, "\(text.prefix(10))")
        }
    }
}
