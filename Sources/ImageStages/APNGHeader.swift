import Foundation
import PipelineEngine

/// What an animated PNG says of itself, read from its chunks without decoding
/// a pixel: the canvas, the frame count and plays (`acTL`, which must come
/// before the first image data) and each frame's delay (its `fcTL`).
struct APNGHeader: Equatable {
    var width: Int
    var height: Int
    var frames: Int
    /// 0 plays for ever.
    var plays: Int
    /// Milliseconds per frame, as the file gives them (before `Animation.playable`).
    var delays: [Int]

    /// The header of `path`, or nil for a PNG that does not animate (no
    /// `acTL` before the image data, or a single frame).
    static func read(path: String) throws(StageError) -> APNGHeader? {
        guard let file = FileHandle(forReadingAtPath: path) else { throw StageError.invalidInput("the PNG cannot be read") }
        defer { try? file.close() }
        func bytes(_ count: Int) -> [UInt8]? {
            guard let data = try? file.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        func number(_ b: [UInt8], _ at: Int, _ size: Int) -> Int { (at..<at + size).reduce(0) { $0 << 8 | Int(b[$1]) } }
        guard bytes(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        var header = APNGHeader(width: 0, height: 0, frames: 0, plays: 0, delays: [])
        var animated = false, offset: UInt64 = 8
        // A hostile file may hold any number of empty chunks: the walk is bounded.
        for _ in 0..<1_000_000 {
            guard let head = bytes(8) else { break }
            let length = number(head, 0, 4), type = String(decoding: head[4..<8], as: UTF8.self)
            guard length <= 0x7FFF_FFFF else { throw StageError.invalidInput("a PNG chunk claims \(length) bytes") }
            switch type {
            case "IHDR":
                guard length >= 8, let body = bytes(8) else { throw StageError.invalidInput("a PNG without its IHDR") }
                header.width = number(body, 0, 4)
                header.height = number(body, 4, 4)
            case "acTL":
                guard length >= 8, let body = bytes(8) else { throw StageError.invalidInput("a damaged acTL chunk") }
                header.frames = number(body, 0, 4)
                header.plays = number(body, 4, 4)
                animated = true
            case "IDAT" where !animated:
                return nil
            case "fcTL":
                guard length >= 26, let body = bytes(26) else { throw StageError.invalidInput("a damaged fcTL chunk") }
                let numerator = number(body, 20, 2), denominator = number(body, 22, 2)
                // A zero denominator means hundredths (the APNG specification).
                header.delays.append(numerator * 1000 / (denominator == 0 ? 100 : denominator))
            case "IEND":
                return animated && header.frames > 1 ? header : nil
            default:
                break
            }
            offset += 12 + UInt64(length)
            do { try file.seek(toOffset: offset) } catch { break }
        }
        return animated && header.frames > 1 ? header : nil
    }
}
