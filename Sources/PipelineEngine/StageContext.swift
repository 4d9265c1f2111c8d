import Logging

/// Limits that protect a worker from hostile input; checked from headers before decoding.
public struct ProcessingLimits: Sendable {
    public var maxImagePixels: Int
    public var maxImageDimension: Int
    public var maxDurationSeconds: Double

    public init(maxImagePixels: Int = 100_000_000, maxImageDimension: Int = 30_000, maxDurationSeconds: Double = 4 * 3600) {
        self.maxImagePixels = maxImagePixels
        self.maxImageDimension = maxImageDimension
        self.maxDurationSeconds = maxDurationSeconds
    }
}

/// What a running step may use: where to write, how to report, when to stop.
public struct StageContext: Sendable {
    public var outputName: String
    /// The directory this output's files are written to; published as a whole.
    public var scratchDirectory: String
    public var stop: StopToken
    public var limits: ProcessingLimits
    public var logger: Logger
    /// Fraction (0...1) of the current step.
    public var reportProgress: @Sendable (Double) -> Void

    public init(
        outputName: String, scratchDirectory: String, stop: StopToken, limits: ProcessingLimits,
        logger: Logger, reportProgress: @escaping @Sendable (Double) -> Void
    ) {
        self.outputName = outputName
        self.scratchDirectory = scratchDirectory
        self.stop = stop
        self.limits = limits
        self.logger = logger
        self.reportProgress = reportProgress
    }
}
