import CTurboJPEG
import CVips

/// JPEG chroma subsampling: `auto` is 4:2:0 below quality 90, else 4:4:4.
public enum ChromaSubsampling: String, Sendable, CaseIterable {
    case auto
    case yuv420 = "4:2:0"
    case yuv444 = "4:4:4"

    var vips: VipsForeignSubsample {
        switch self {
        case .auto: VIPS_FOREIGN_SUBSAMPLE_AUTO
        case .yuv420: VIPS_FOREIGN_SUBSAMPLE_ON
        case .yuv444: VIPS_FOREIGN_SUBSAMPLE_OFF
        }
    }
}

/// An output encoding and its options. `effort` trades CPU for size (WebP 0-6,
/// AVIF 0-9, GIF 1-10); `strip` drops EXIF, XMP and ICC metadata.
public enum ImageEncoding: Sendable, Equatable {
    case jpeg(quality: Int, progressive: Bool = false, subsampling: ChromaSubsampling = .auto, strip: Bool)
    case png(compression: Int, palette: Bool = false, progressive: Bool = false, strip: Bool)
    case webp(quality: Int, lossless: Bool, effort: Int = 4, strip: Bool)
    case avif(quality: Int, lossless: Bool = false, effort: Int = 2, strip: Bool)
    case gif(effort: Int = 7, strip: Bool)
    /// HEVC in HEIF, as phones store photos (libheif's x265 encoder).
    case heic(quality: Int, strip: Bool)
}

extension VipsImage {
    /// Encodes the image to a file. This is where a lazy pipeline is evaluated, so
    /// decode errors in the source (a truncated file) surface here.
    public func save(to path: String, as encoding: ImageEncoding, libjpegTurbo: Bool = true) throws(VipsError) {
        try save(to: path, as: encoding, watch: nil, libjpegTurbo: libjpegTurbo)
    }

    /// Encodes the image to a file while `watch` sees progress (0...100) and
    /// may return true to stop: libvips then abandons the evaluation between
    /// tiles and this throws. That is how a cancel reaches a long encode.
    ///
    /// With `libjpegTurbo`, a stripped 8-bit JPEG of at most `fastJPEGMaxBytes`
    /// of pixels is rendered once and written by libjpeg-turbo on this thread
    /// (`kiln_jpeg_save`), at the same settings; anything else is libvips'.
    public func save(to path: String, as encoding: ImageEncoding, watch: EvaluationWatch?, libjpegTurbo: Bool = true) throws(VipsError) {
        guard let watch else { return try saveUnwatched(to: path, as: encoding, libjpegTurbo: libjpegTurbo) }
        let box = Unmanaged.passRetained(watch)
        defer { box.release() }
        var hook = kiln_vips_eval_hook(
            fn: { context, percent in
                guard let context else { return 0 }
                return Unmanaged<EvaluationWatch>.fromOpaque(context).takeUnretainedValue().observe(Int(percent)) ? 1 : 0
            },
            context: box.toOpaque())
        let failure = withUnsafeMutablePointer(to: &hook) { hookPointer -> VipsError? in
            let handler = kiln_vips_watch_eval(pointer, hookPointer)
            defer { kiln_vips_unwatch_eval(pointer, handler) }
            do throws(VipsError) {
                try saveUnwatched(to: path, as: encoding, libjpegTurbo: libjpegTurbo)
                return nil
            } catch {
                return watch.stopped ? VipsError(operation: "save", message: "stopped") : error
            }
        }
        if let failure { throw failure }
    }

    /// The largest image `kiln_jpeg_save` renders whole (4 MiB: a 1.4 MP RGB thumbnail); a larger one streams through libvips.
    public static let fastJPEGMaxBytes = 4 << 20

    private func saveUnwatched(to path: String, as encoding: ImageEncoding, libjpegTurbo: Bool) throws(VipsError) {
        if libjpegTurbo, case let .jpeg(quality, progressive, subsampling, true) = encoding {
            let subsample: Int32 = switch subsampling {
            case .auto: 0
            case .yuv420: 1
            case .yuv444: 2
            }
            switch kiln_jpeg_save(UnsafeMutableRawPointer(pointer), path, Int32(quality), subsample, progressive ? 1 : 0, Self.fastJPEGMaxBytes) {
            case 0: return
            case 1: break
            default: throw VipsError.fromBuffer(operation: "save")
            }
        }
        let status: Int32 = switch encoding {
        case let .jpeg(quality, progressive, subsampling, strip):
            kiln_vips_jpegsave(pointer, path, Int32(quality), strip ? 1 : 0, progressive ? 1 : 0, subsampling.vips)
        case let .png(compression, palette, progressive, strip):
            kiln_vips_pngsave(pointer, path, Int32(compression), strip ? 1 : 0, palette ? 1 : 0, progressive ? 1 : 0)
        case let .webp(quality, lossless, effort, strip):
            kiln_vips_webpsave(pointer, path, Int32(quality), lossless ? 1 : 0, strip ? 1 : 0, Int32(effort))
        case let .avif(quality, lossless, effort, strip):
            kiln_vips_avifsave(pointer, path, Int32(quality), lossless ? 1 : 0, strip ? 1 : 0, Int32(effort))
        case let .gif(effort, strip):
            kiln_vips_gifsave(pointer, path, strip ? 1 : 0, Int32(effort))
        case let .heic(quality, strip):
            kiln_vips_heicsave(pointer, path, Int32(quality), strip ? 1 : 0)
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

/// Sees an evaluation's progress and decides whether it should stop.
/// `@unchecked Sendable`: libvips calls `observe` from its worker threads; the
/// closures it holds are themselves `@Sendable`, and `stopped` is written once.
public final class EvaluationWatch: @unchecked Sendable {
    private let progress: @Sendable (Int) -> Void
    private let shouldStop: @Sendable () -> Bool
    private(set) var stopped = false

    public init(progress: @escaping @Sendable (Int) -> Void = { _ in }, shouldStop: @escaping @Sendable () -> Bool) {
        self.progress = progress
        self.shouldStop = shouldStop
    }

    func observe(_ percent: Int) -> Bool {
        progress(percent)
        if shouldStop() { stopped = true }
        return stopped
    }
}
