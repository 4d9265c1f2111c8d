import CVips

/// An output encoding and its options.
public enum ImageEncoding: Sendable, Equatable {
    case jpeg(quality: Int, strip: Bool)
    case png(compression: Int, strip: Bool)
    case webp(quality: Int, lossless: Bool, strip: Bool)
}

extension VipsImage {
    /// Encodes the image to a file. This is where a lazy pipeline is evaluated, so
    /// decode errors in the source (a truncated file) surface here.
    public func save(to path: String, as encoding: ImageEncoding) throws(VipsError) {
        let status: Int32 = switch encoding {
        case let .jpeg(quality, strip):
            kiln_vips_jpegsave(pointer, path, Int32(quality), strip ? 1 : 0)
        case let .png(compression, strip):
            kiln_vips_pngsave(pointer, path, Int32(compression), strip ? 1 : 0)
        case let .webp(quality, lossless, strip):
            kiln_vips_webpsave(pointer, path, Int32(quality), lossless ? 1 : 0, strip ? 1 : 0)
        }
        guard status == 0 else { throw VipsError.fromBuffer(operation: "save") }
    }

    /// Mean of all pixels over all bands.
    public func average() throws(VipsError) -> Double {
        var value = 0.0
        guard kiln_vips_avg(pointer, &value) == 0 else { throw VipsError.fromBuffer(operation: "avg") }
        return value
    }

    /// The band values of one pixel.
    public func pixel(x: Int, y: Int) throws(VipsError) -> [Double] {
        var vector: UnsafeMutablePointer<Double>? = nil
        var count: Int32 = 0
        guard kiln_vips_getpoint(pointer, &vector, &count, Int32(x), Int32(y)) == 0, let vector else {
            throw VipsError.fromBuffer(operation: "getpoint")
        }
        defer { kiln_g_free(vector) }
        return Array(UnsafeBufferPointer(start: vector, count: Int(count)))
    }
}
