import CVips

extension VipsImage {
    /// An sRGB image made from packed 8-bit RGB bytes (`width * height * 3`), copied.
    public static func fromRGB(_ bytes: [UInt8], width: Int, height: Int) throws(VipsError) -> VipsImage {
        try fromPacked(bytes, width: width, height: height, bands: 3)
    }

    /// An sRGB image with alpha made from straight-alpha RGBA bytes (`width * height * 4`), copied.
    public static func fromRGBA(_ bytes: [UInt8], width: Int, height: Int) throws(VipsError) -> VipsImage {
        try fromPacked(bytes, width: width, height: height, bands: 4)
    }

    /// Tagged sRGB: an image made from memory has only libvips' guess, which for
    /// four bands is not sRGB (and broke the conversions that follow).
    private static func fromPacked(_ bytes: [UInt8], width: Int, height: Int, bands: Int) throws(VipsError) -> VipsImage {
        try Vips.start()
        guard bytes.count == width * height * bands else {
            throw VipsError(operation: "new_from_memory", message: "expected \(width * height * bands) bytes")
        }
        guard let image = bytes.withUnsafeBytes({
            vips_image_new_from_memory_copy($0.baseAddress, $0.count, Int32(width), Int32(height), Int32(bands), VIPS_FORMAT_UCHAR)
        }) else {
            throw VipsError.fromBuffer(operation: "new_from_memory")
        }
        let made = VipsImage(owning: image)
        return try produce("copy") { kiln_vips_as_srgb(made.pointer, $0) }
    }

    /// The image's 8-bit sRGB colour values, row by row, three bytes a pixel
    /// (alpha dropped). Renders the whole image: meant for small ones.
    public func rgbBytes() throws(VipsError) -> [UInt8] {
        try inSRGB().splitAlpha().colour.bytes()
    }

    /// The image's 8-bit sRGB values with alpha (opaque where it had none),
    /// row by row, four bytes a pixel.
    public func rgbaBytes() throws(VipsError) -> [UInt8] {
        let srgb = try inSRGB()
        return try (srgb.hasAlpha ? srgb : srgb.addingAlpha()).bytes()
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
