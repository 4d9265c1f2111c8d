import CVips
import Foundation

extension VipsImage {
    /// A one-band 8-bit coverage mask of `text` set in `font` (a Pango
    /// description such as "DejaVu Sans Bold 24"), wrapped at `width` if given.
    /// `text` is plain: Pango markup in it is escaped, not obeyed.
    public static func textMask(_ text: String, font: String, wrapWidth: Int? = nil) throws(VipsError) -> VipsImage {
        try Vips.start()
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        return try produce("text") { kiln_vips_text($0, escaped, font, Int32(wrapWidth ?? 0)) }
    }

    /// An sRGB image shaped like this one with every pixel `values`.
    public func constant(_ values: [Double]) throws(VipsError) -> VipsImage {
        let made = try VipsImage.produce("new_from_image") { kiln_vips_constant_like(pointer, $0, values, Int32(values.count)) }
        return try VipsImage.produce("cast") { kiln_vips_cast(made.pointer, $0, VIPS_FORMAT_UCHAR) }
    }

    /// `overlay` drawn over this image with its top-left corner at (x, y), alpha-blended.
    public func composited(_ overlay: VipsImage, x: Int, y: Int) throws(VipsError) -> VipsImage {
        try VipsImage.produce("composite2") { kiln_vips_composite_over(pointer, overlay.pointer, $0, Int32(x), Int32(y)) }
    }

    /// `patch` written over this image with its top-left corner at (x, y), no blending.
    public func inserting(_ patch: VipsImage, x: Int, y: Int) throws(VipsError) -> VipsImage {
        try VipsImage.produce("insert") { kiln_vips_insert(pointer, patch.pointer, $0, Int32(x), Int32(y)) }
    }

    /// The image repeated `across` times horizontally and `down` times vertically.
    public func replicated(across: Int, down: Int) throws(VipsError) -> VipsImage {
        try VipsImage.produce("replicate") { kiln_vips_replicate(pointer, $0, Int32(across), Int32(down)) }
    }

    /// `images` (all the same size) tiled `across` to a row, left to right then top to bottom.
    public static func tiled(_ images: [VipsImage], across: Int) throws(VipsError) -> VipsImage {
        var pointers: [UnsafeMutablePointer<CVips.VipsImage>?] = images.map(\.pointer)
        return try withExtendedLifetime(images) { () throws(VipsError) -> VipsImage in
            try produce("arrayjoin") { out in kiln_vips_arrayjoin(&pointers, Int32(pointers.count), Int32(across), out) }
        }
    }

    /// Per band `in * factor + offset`, kept 8-bit.
    public func scaledBands(_ factors: [Double], offsets: [Double]) throws(VipsError) -> VipsImage {
        try VipsImage.produce("linear") { kiln_vips_linear(pointer, $0, factors, offsets, Int32(factors.count)) }
    }
}
