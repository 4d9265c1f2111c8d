import Foundation

/// The human name of an ICC profile: its `desc` tag, stored as `desc` text (ICC
/// v2) or as a multi-localised `mluc` record (ICC v4, first record).
enum ICCProfileName {
    static func read(_ profile: Data) -> String? {
        let bytes = [UInt8](profile)
        func u32(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 4 <= bytes.count else { return nil }
            return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard let count = u32(128), count < 1000 else { return nil }
        for index in 0..<count {
            let entry = 132 + index * 12
            guard let signature = u32(entry), let offset = u32(entry + 4), let size = u32(entry + 8),
                  signature == 0x6465_7363, offset + size <= bytes.count, size >= 12 else { continue }  // 'desc'
            let type = u32(offset)
            if type == 0x6465_7363, let length = u32(offset + 8), length > 0, offset + 12 + length <= bytes.count {  // 'desc'
                let text = bytes[(offset + 12)..<(offset + 12 + length)].prefix { $0 != 0 }
                return String(decoding: text, as: UTF8.self)
            }
            if type == 0x6D6C_7563, let records = u32(offset + 8), records > 0,  // 'mluc'
               let length = u32(offset + 20), let start = u32(offset + 24), offset + start + length <= bytes.count {
                let utf16 = stride(from: offset + start, to: offset + start + length - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
                return String(decoding: utf16, as: UTF16.self)
            }
        }
        return nil
    }
}
