import CVips

extension VipsImage {
    /// The image's 8-bit sRGB colour values, row by row, three bytes a pixel
    /// (alpha dropped). Renders the whole image: meant for small ones.
    public func rgbBytes() throws(VipsError) -> [UInt8] {
        try inSRGB().splitAlpha().colour.bytes()
    }

    /// The image's 8-bit grey values, row by row, one byte a pixel (alpha dropped).
    public func greyBytes() throws(VipsError) -> [UInt8] {
        try inGrey().splitAlpha().colour.bytes()
    }

    private func bytes() throws(VipsError) -> [UInt8] {
        let rgb = self
        var size = 0
        guard let memory = vips_image_write_to_memory(rgb.pointer, &size) else {
            throw VipsError.fromBuffer(operation: "write_to_memory")
        }
        defer { kiln_g_free(memory) }
        return Array(UnsafeBufferPointer(start: memory.assumingMemoryBound(to: UInt8.self), count: size))
    }
}
