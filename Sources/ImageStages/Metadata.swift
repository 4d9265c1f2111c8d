import PipelineEngine
import VipsBindings

/// `metadata`: what the image is, as the output's `metadata` result: size as
/// displayed, format, orientation, alpha, colour space and profile, pages, and
/// an EXIF summary. From the input it reads headers only; no pixel is decoded.
public struct Metadata: Stage {
    public static let descriptor = StageDescriptor(
        name: "metadata",
        summary: "Size, format, orientation, alpha, ICC profile, frames and duration of an animation, and an EXIF summary, as the output's metadata result",
        accepts: [.source(.image), .image],
        produces: .product,
        parameters: [])

    /// EXIF fields worth showing, by libvips' field name. GPS position is
    /// reported only as present or not: a summary should not spread locations.
    static let exifFields: [(key: String, field: String)] = [
        ("make", "exif-ifd0-Make"), ("model", "exif-ifd0-Model"), ("software", "exif-ifd0-Software"),
        ("dateTimeOriginal", "exif-ifd2-DateTimeOriginal"), ("exposureTime", "exif-ifd2-ExposureTime"),
        ("fNumber", "exif-ifd2-FNumber"), ("iso", "exif-ifd2-ISOSpeedRatings"), ("focalLength", "exif-ifd2-FocalLength"),
        ("lensModel", "exif-ifd2-LensModel"),
    ]

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {}

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        let image: VipsImage
        var result: [String: JSONValue] = [:]
        if case let .source(file) = input {
            image = try SourceImage.header(file, limits: context.limits)
            result["format"] = image.loader.map { .string(Self.formatName(loader: $0)) } ?? .null
            result["contentType"] = .string(file.contentType)
        } else {
            image = try input.vipsImage(limits: context.limits)
        }
        let orientation = image.orientation
        let turned = orientation >= 5
        result["width"] = .number(Double(turned ? image.height : image.width))
        result["height"] = .number(Double(turned ? image.width : image.height))
        result["orientation"] = .number(Double(orientation))
        result["hasAlpha"] = .bool(image.hasAlpha)
        result["bands"] = .number(Double(image.bands))
        result["space"] = .string(image.interpretationName)
        result["pages"] = .number(Double(image.intField("n-pages") ?? 1))
        if case let .image(animation as Animation) = input {
            result.merge(animation.results) { _, new in new }
        } else if case let .source(file) = input, let animation = try Animation.header(of: file, image: image) {
            // From the header: how long each frame shows, no frame decoded.
            result["frames"] = .number(Double(animation.frames))
            result["duration"] = .number(animation.duration)
            result["loop"] = .number(Double(animation.loop))
        }
        result["iccProfile"] = image.iccProfile.flatMap(ICCProfileName.read).map(JSONValue.string) ?? .null
        var exif: [String: JSONValue] = [:]
        for (key, field) in Self.exifFields {
            if let value = image.stringField(field).map(Self.exifValue), !value.isEmpty { exif[key] = .string(value) }
        }
        if image.hasField("exif-data") { exif["hasGPS"] = .bool(image.hasField("exif-ifd3-GPSLatitude")) }
        result["exif"] = exif.isEmpty ? .null : .object(exif)
        return .product(OutputProduct(results: ["metadata": .object(result)]))
    }

    /// libvips writes EXIF values as `Canon (Canon, ASCII, 6 components, 6 bytes)`: keep the value.
    static func exifValue(_ raw: String) -> String {
        let value = raw.range(of: " (").map { String(raw[..<$0.lowerBound]) } ?? raw
        return value.trimmingCharacters(in: .whitespaces)
    }

    static func formatName(loader: String) -> String {
        let base = loader.replacingOccurrences(of: "load", with: "").replacingOccurrences(of: "_source", with: "")
        return base == "heif" ? "heif" : base
    }
}
