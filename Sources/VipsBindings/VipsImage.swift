import CVips

/// An owned libvips image. Each instance holds exactly one GObject reference and
/// releases it in `deinit`.
///
/// `@unchecked Sendable`: libvips images are immutable once built and libvips is
/// thread-safe for concurrent reads of one image; the pointer is never exposed.
public final class VipsImage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<CVips.VipsImage>

    init(owning pointer: UnsafeMutablePointer<CVips.VipsImage>) {
        self.pointer = pointer
    }

    deinit {
        kiln_g_object_unref(pointer)
    }

    public var width: Int { Int(vips_image_get_width(pointer)) }
    public var height: Int { Int(vips_image_get_height(pointer)) }
    public var bands: Int { Int(vips_image_get_bands(pointer)) }
    public var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }

    /// The loader libvips chose, e.g. `jpegload`, or nil for images built in memory.
    public var loader: String? {
        var out: UnsafePointer<CChar>? = nil
        guard vips_image_get_string(pointer, "vips-loader", &out) == 0, let out else {
            vips_error_clear()
            return nil
        }
        return String(cString: out)
    }

    /// Whether a metadata field (`exif-data`, `icc-profile-data`, `xmp-data`, ...) is attached.
    public func hasField(_ name: String) -> Bool { vips_image_get_typeof(pointer, name) != 0 }

    /// EXIF orientation (1...8), 1 when absent.
    public var orientation: Int {
        var value: Int32 = 1
        if vips_image_get_typeof(pointer, "orientation") != 0,
           vips_image_get_int(pointer, "orientation", &value) == 0 {
            return Int(value)
        }
        return 1
    }

    /// Runs a libvips call that produces one image and wraps its result.
    static func produce(
        _ operation: String,
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CVips.VipsImage>?>) -> Int32
    ) throws(VipsError) -> VipsImage {
        var out: UnsafeMutablePointer<CVips.VipsImage>? = nil
        let status = body(&out)
        guard status == 0, let out else {
            if let out { kiln_g_object_unref(out) }
            throw VipsError.fromBuffer(operation: operation)
        }
        return VipsImage(owning: out)
    }
}
