import CVips
import Foundation

extension VipsImage {
    /// A string field as libvips holds it, e.g. `exif-ifd0-Make`.
    public func stringField(_ name: String) -> String? {
        guard hasField(name) else { return nil }
        var out: UnsafeMutablePointer<CChar>? = nil
        guard vips_image_get_as_string(pointer, name, &out) == 0, let out else {
            vips_error_clear()
            return nil
        }
        defer { kiln_g_free(out) }
        return String(cString: out)
    }

    /// An integer field, e.g. `n-pages`.
    public func intField(_ name: String) -> Int? {
        guard hasField(name) else { return nil }
        var value: Int32 = 0
        guard vips_image_get_int(pointer, name, &value) == 0 else {
            vips_error_clear()
            return nil
        }
        return Int(value)
    }

    /// The attached ICC profile's bytes.
    public var iccProfile: Data? {
        guard hasICCProfile else { return nil }
        var data: UnsafeRawPointer? = nil
        var length = 0
        guard vips_image_get_blob(pointer, "icc-profile-data", &data, &length) == 0, let data else {
            vips_error_clear()
            return nil
        }
        return Data(bytes: data, count: length)
    }

    /// libvips' name for the pixels' colour space: `srgb`, `b-w`, `cmyk`, `rgb16`, ...
    public var interpretationName: String {
        String(cString: vips_enum_nick(vips_interpretation_get_type(), Int32(vips_image_get_interpretation(pointer).rawValue)))
    }
}
