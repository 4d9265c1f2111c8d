import CResample
import CTurboJPEG
import CVips
import Synchronization

/// How a thumbnail's box constrains the image (libvips `VipsSize` plus crop).
public enum ThumbnailFit: String, Sendable, CaseIterable {
    /// Fit inside the box, keep aspect ratio, never enlarge.
    case inside
    /// Fill the box and crop the overflow (centre crop).
    case cover
    /// Fill the box and crop the overflow around the most interesting region.
    case attention
    /// Fit inside the box, keep aspect ratio, enlarge when smaller.
    case contain
}

extension VipsImage {
    /// Thumbnails a file with libvips' shrink-on-load: JPEG and WebP decode at a
    /// reduced scale, so a large photo never lands in memory at full size.
    /// EXIF orientation is applied unless `autoRotate` is false.
    public static func thumbnail(
        path: String, width: Int, height: Int, fit: ThumbnailFit, autoRotate: Bool = true
    ) throws(VipsError) -> VipsImage {
        try Vips.start()
        let (size, crop) = fit.vipsOptions
        return try produce("thumbnail") {
            kiln_vips_thumbnail(path, $0, Int32(width), Int32(height), size, crop, autoRotate ? 0 : 1)
        }.owningProfile()
    }

    /// A JPEG file thumbnailed from a decode at 1/`shrink` of its size (2, 4 or
    /// 8; the caller makes sure that still covers `scaledWidth` x `scaledHeight`),
    /// resized to exactly that size, then cropped to the final size for `cover`
    /// and `attention`.
    ///
    /// With `header` (the file opened by libvips) and `turbo`, the decode is
    /// TurboJPEG's, straight to pixels with the header's metadata attached
    /// (orientation, ICC profile, EXIF): libvips' own JPEG loader costs ~10 %
    /// more for the same libjpeg-turbo decode. CMYK files, decodes above
    /// `turboJPEGMaxBytes` (TurboJPEG decodes whole, libvips streams) and any
    /// file TurboJPEG warns about go through libvips, which reports what is wrong.
    public static func thumbnailJPEG(
        path: String, header: VipsImage? = nil, turbo: Bool = true, shrink: Int, scaledWidth: Int, scaledHeight: Int,
        finalWidth: Int, finalHeight: Int, fit: ThumbnailFit, autoRotate: Bool = true
    ) throws(VipsError) -> VipsImage {
        try Vips.start()
        let (_, crop) = fit.vipsOptions
        var loaded: UnsafeMutableRawPointer?
        if turbo, let header,
           kiln_turbojpeg_load(path, UnsafeMutableRawPointer(header.pointer), Int32(shrink), turboJPEGMaxBytes, &loaded) == 0 {
            turboJPEGDecodeCount.add(1, ordering: .relaxed)
        } else {
            var decoder: UnsafeMutablePointer<CVips.VipsImage>?
            guard kiln_vips_jpegload_shrunk(path, &decoder, Int32(shrink)) == 0, let decoder else {
                throw VipsError.fromBuffer(operation: "jpegload")
            }
            loaded = UnsafeMutableRawPointer(decoder)
        }
        // Both decodes end in the same resize, rotation and crop, so they give the same pixels.
        return try produce("thumbnail") { out in
            out.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 1) {
                kiln_resample_thumbnail(loaded, $0, Int32(scaledWidth), Int32(scaledHeight), Int32(finalWidth), Int32(finalHeight),
                                        Int32(crop.rawValue), autoRotate ? 0 : 1, UInt(turboJPEGMaxBytes))
            }
        }
    }

    /// Decodes made by TurboJPEG in this process, for tests that must know which path ran.
    public static var turboJPEGDecodes: Int { turboJPEGDecodeCount.load(ordering: .relaxed) }

    /// The largest decode TurboJPEG makes (16 MiB: 5.6 MP of RGB); a larger one streams through libvips.
    public static let turboJPEGMaxBytes = 16 << 20

    /// Thumbnails an image already in the pipeline (no shrink-on-load possible).
    public func thumbnail(width: Int, height: Int, fit: ThumbnailFit) throws(VipsError) -> VipsImage {
        let (size, crop) = fit.vipsOptions
        return try VipsImage.produce("thumbnail_image") {
            kiln_vips_thumbnail_image(pointer, $0, Int32(width), Int32(height), size, crop, 1)
        }
    }

    /// Renders the lazy pipeline into memory once, so it can be read several times.
    public func materialized() throws(VipsError) -> VipsImage {
        try VipsImage.produce("copy_memory") { kiln_vips_copy_memory(pointer, $0) }
    }

    /// This image, readable in any order.
    ///
    /// Inputs are opened for sequential access: a loader decodes rows top to
    /// bottom as the pipeline pulls them and keeps only a few, which is what lets
    /// a 50 MP JPEG stream through a resize and an encode in a few megabytes. An
    /// operation that asks for rows out of that order (a rotation, a top-to-bottom
    /// mirror, a smart crop that scores the image then cuts it) fails on such a
    /// pipeline with "out of order read". Those operations, here in the bindings
    /// and nowhere else, take their input through this: the pipeline so far is
    /// rendered top to bottom into memory once (a no-op for an image already
    /// there), at the size it has at that step, which after a thumbnail is small.
    /// imgproxy and sharp make the same copy before the same operations.
    public func randomAccessible() throws(VipsError) -> VipsImage {
        try materialized()
    }
}

extension ThumbnailFit {
    var vipsOptions: (VipsSize, VipsInteresting) {
        switch self {
        case .inside: (VIPS_SIZE_DOWN, VIPS_INTERESTING_NONE)
        case .contain: (VIPS_SIZE_BOTH, VIPS_INTERESTING_NONE)
        case .cover: (VIPS_SIZE_BOTH, VIPS_INTERESTING_CENTRE)
        case .attention: (VIPS_SIZE_BOTH, VIPS_INTERESTING_ATTENTION)
        }
    }
}

private let turboJPEGDecodeCount = Atomic<Int>(0)
