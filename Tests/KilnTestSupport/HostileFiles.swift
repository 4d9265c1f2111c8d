import Foundation

/// Files crafted to attack a decoder, written to a temporary path.
public enum HostileFiles {
    /// A valid PNG header that claims `width` x `height` RGB pixels, followed by
    /// one tiny IDAT and IEND: a decompression bomb as far as the header goes.
    public static func pngBomb(width: UInt32 = 50000, height: UInt32 = 50000) throws -> String {
        func be32(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(UInt32(data.count)) + body + be32(crc32(body))
        }
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        // zlib stream of a few zero bytes: far too little for the claimed size.
        let idat: [UInt8] = [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]
        let bytes = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
        return try write(bytes, suffix: "png")
    }

    /// An SVG that points at local files and the network.
    public static func svgWithExternalReferences() throws -> String {
        try write(Array("""
            <?xml version="1.0"?>
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">
              <image xlink:href="file:///etc/passwd" width="100" height="100"/>
              <image xlink:href="http://127.0.0.1:1/secret.png" width="100" height="100"/>
            </svg>
            """.utf8), suffix: "svg")
    }

    public static func write(_ bytes: [UInt8], suffix: String) throws -> String {
        let path = NSTemporaryDirectory() + "hostile-\(UUID().uuidString).\(suffix)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
