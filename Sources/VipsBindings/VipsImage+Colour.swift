import CVips

extension VipsImage {
    /// Whether the pixels are 8-bit sRGB (or 8-bit grey), the form filters and encoders expect.
    public var isEightBitSRGB: Bool {
        let interpretation = vips_image_get_interpretation(pointer)
        return vips_image_get_format(pointer) == VIPS_FORMAT_UCHAR
            && (interpretation == VIPS_INTERPRETATION_sRGB || interpretation == VIPS_INTERPRETATION_B_W)
    }

    public var isGrey: Bool { vips_image_get_interpretation(pointer) == VIPS_INTERPRETATION_B_W }

    /// The image as 8-bit sRGB (alpha kept): CMYK, 16-bit, Lab and grey all convert.
    public func inSRGB() throws(VipsError) -> VipsImage {
        if isEightBitSRGB && !isGrey { return self }
        return try VipsImage.produce("colourspace") { kiln_vips_colourspace(pointer, $0, VIPS_INTERPRETATION_sRGB) }
    }

    /// The image as grey (one band plus alpha).
    public func inGrey() throws(VipsError) -> VipsImage {
        if isGrey { return self }
        return try VipsImage.produce("colourspace") { kiln_vips_colourspace(pointer, $0, VIPS_INTERPRETATION_B_W) }
    }

    /// `out = matrix · in + offset` on the colour bands of an sRGB image
    /// (alpha untouched), clipped back to 8 bits.
    public func colourTransformed(matrix: [[Double]], offset: [Double]) throws(VipsError) -> VipsImage {
        let (colour, alpha) = try splitAlpha()
        let flat = matrix.flatMap { $0 }
        let mixed = try VipsImage.produce("recomb") {
            kiln_vips_affine_colour(colour.pointer, $0, flat, Int32(matrix.count), offset)
        }
        let clipped = try VipsImage.produce("cast") { kiln_vips_cast(mixed.pointer, $0, VIPS_FORMAT_UCHAR) }
        return try clipped.joiningAlpha(alpha)
    }

    public func blurred(sigma: Double) throws(VipsError) -> VipsImage {
        try VipsImage.produce("gaussblur") { kiln_vips_gaussblur(pointer, $0, sigma) }
    }

    public func sharpened(sigma: Double) throws(VipsError) -> VipsImage {
        let sharp = try VipsImage.produce("sharpen") { kiln_vips_sharpen(pointer, $0, sigma) }
        // sharpen works in LabS and hands back 16-bit RGB for 8-bit input.
        return try sharp.inSRGB()
    }

    /// The image over a solid `background` (band values, e.g. 255, 255, 255), without alpha.
    public func flattened(on background: [Double]) throws(VipsError) -> VipsImage {
        guard hasAlpha else { return self }
        return try VipsImage.produce("flatten") { kiln_vips_flatten(pointer, $0, background, Int32(background.count)) }
    }

    /// The colour bands and, when present, the alpha band.
    public func splitAlpha() throws(VipsError) -> (colour: VipsImage, alpha: VipsImage?) {
        guard hasAlpha else { return (self, nil) }
        let colour = try VipsImage.produce("extract_band") { kiln_vips_extract_band(pointer, $0, 0, Int32(bands - 1)) }
        let alpha = try VipsImage.produce("extract_band") { kiln_vips_extract_band(pointer, $0, Int32(bands - 1), 1) }
        return (colour, alpha)
    }

    public func joiningAlpha(_ alpha: VipsImage?) throws(VipsError) -> VipsImage {
        guard let alpha else { return self }
        return try VipsImage.produce("bandjoin") { kiln_vips_bandjoin2(pointer, alpha.pointer, $0) }
    }

    /// Converts embedded-profile colour to sRGB, so stripping the profile keeps colours right.
    public func iccToSRGB() throws(VipsError) -> VipsImage {
        try VipsImage.produce("icc_transform") { kiln_vips_icc_transform_srgb(pointer, $0) }
    }

    /// Whether an ICC profile is attached.
    public var hasICCProfile: Bool { vips_image_get_typeof(pointer, "icc-profile-data") != 0 }
}
