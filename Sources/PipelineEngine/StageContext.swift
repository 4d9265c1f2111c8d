import Foundation
import Logging
import Synchronization

/// Limits that protect a worker from hostile input; checked from headers before decoding.
public struct ProcessingLimits: Sendable {
    /// Largest input image, in pixels and per side.
    public var maxImagePixels: Int
    public var maxImageDimension: Int
    /// Largest image any step may make, in pixels and per side.
    public var maxOutputPixels: Int
    public var maxOutputDimension: Int
    public var maxDurationSeconds: Double
    /// Largest animation (GIF, WebP): frames, and pixels over all its frames.
    public var maxAnimationFrames = 1_000
    public var maxAnimationPixels = 100_000_000
    /// JPEGs shrunk on load are decoded by TurboJPEG (false: by libvips, as the
    /// corpus matrix does to compare the two paths).
    public var turboJPEG = true

    /// Largest side a request may name; the registry's parameter ranges use it.
    public static let largestRequestableSide = 16384

    public init(maxImagePixels: Int = 50_000_000, maxImageDimension: Int = 30_000,
                maxOutputPixels: Int = 50_000_000, maxOutputDimension: Int = ProcessingLimits.largestRequestableSide,
                maxDurationSeconds: Double = 4 * 3600) {
        self.maxImagePixels = maxImagePixels
        self.maxImageDimension = maxImageDimension
        self.maxOutputPixels = maxOutputPixels
        self.maxOutputDimension = maxOutputDimension
        self.maxDurationSeconds = maxDurationSeconds
    }
}

/// What a running step may use: where to write, how to report, when to stop.
public struct StageContext: Sendable {
    public var outputName: String
    /// The directory this output's files are written to; published as a whole.
    /// Made (with its parents) when first asked for: most header-only steps
    /// write no file (see `ScratchDirectory`).
    public var scratchDirectory: String {
        get { directory.made() }
        set { directory = ScratchDirectory(newValue) }
    }
    private var directory: ScratchDirectory
    public var stop: StopToken
    public var limits: ProcessingLimits
    public var logger: Logger
    /// Fraction (0...1) of the current step.
    public var reportProgress: @Sendable (Double) -> Void
    /// Local paths of the files steps refer to (`assetReferences`), fetched before the job runs.
    public var assets: [String: String]
    /// Set when the output may be served before it completes (an `hls` output
    /// in a job); nil where nobody is watching (`kiln run`, tests).
    public var publisher: (any ProgressivePublisher)?

    public init(
        outputName: String, scratchDirectory: String, stop: StopToken, limits: ProcessingLimits,
        logger: Logger, assets: [String: String] = [:], publisher: (any ProgressivePublisher)? = nil,
        reportProgress: @escaping @Sendable (Double) -> Void
    ) {
        self.assets = assets
        self.publisher = publisher
        self.outputName = outputName
        self.directory = ScratchDirectory(scratchDirectory)
        self.stop = stop
        self.limits = limits
        self.logger = logger
        self.reportProgress = reportProgress
    }
}

/// Publishes files of a running output, so clients can fetch them before it
/// completes (the segments and EVENT playlists of an HLS stream).
public protocol ProgressivePublisher: Sendable {
    /// Snapshots `files` (paths relative to the output's scratch directory) at
    /// once and publishes them in order, in the background: list a segment
    /// before the playlist that names it. A file published again replaces the
    /// earlier copy; the output's final publication skips the fixed files
    /// already published unchanged (segments) and replaces the live ones
    /// (playlists). Once a `.playbackEntry` file is published the output is
    /// playable (`playableAt`).
    func publish(_ files: [ProducedFile])
}

/// A directory made on first use. A worker running header-only jobs spent
/// about a tenth of its CPU making and removing each job's directories (ext4
/// allocating and freeing inodes; `make bench`, stop 30), for steps that never
/// wrote a file there.
final class ScratchDirectory: Sendable {
    let path: String
    private let exists = Atomic<Bool>(false)

    init(_ path: String) { self.path = path }

    /// The path, made first if it is not yet. A failure to make it is left to the
    /// write that follows, which reports it with the file it could not write.
    func made() -> String {
        if !exists.load(ordering: .acquiring) {
            if (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil {
                exists.store(true, ordering: .releasing)
            }
        }
        return path
    }
}
