import CVips

extension VipsImage {
    /// Opens an image lazily: only the header is read, so width, height and loader are
    /// known without decoding a pixel. Truncated data fails when pixels are read.
    public static func open(path: String) throws(VipsError) -> VipsImage {
        try Vips.start()
        var failed: Int32 = 0
        guard let image = kiln_vips_image_new_from_file_header(path, &failed), failed == 0 else {
            throw VipsError.fromBuffer(operation: "load")
        }
        return try VipsImage(owning: image).owningProfile()
    }

    /// Opens an image lazily through the named loader (`jpegload`, `pngload`, …),
    /// without asking every loader whether the file is theirs.
    public static func open(path: String, loader: String) throws(VipsError) -> VipsImage {
        try Vips.start()
        var failed: Int32 = 0
        guard let image = kiln_vips_image_load_with(loader, path, &failed), failed == 0 else {
            throw VipsError.fromBuffer(operation: loader)
        }
        return try VipsImage(owning: image).owningProfile()
    }

    /// This image with its ICC profile in memory of its own (see `kiln_vips_own_profile`):
    /// every loader's image goes through here.
    func owningProfile() throws(VipsError) -> VipsImage {
        guard hasICCProfile else { return self }
        return try VipsImage.produce("copy") { kiln_vips_own_profile(pointer, $0) }
    }

    /// Builds a solid image; used for tests and generated assets.
    public static func solid(width: Int, height: Int, bands: Int, value: Double) throws(VipsError) -> VipsImage {
        try Vips.start()
        let black = try produce("black") { kiln_vips_black($0, Int32(width), Int32(height), Int32(bands)) }
        let lit = try produce("linear") { kiln_vips_linear1(black.pointer, $0, 1, value) }
        return try produce("cast") { kiln_vips_cast_uchar(lit.pointer, $0) }
    }
}
