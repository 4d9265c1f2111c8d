/// One decode of a job's input feeding several outputs: a 4K JPEG is not
/// decoded once per thumbnail. The engine knows only this protocol; the
/// image stages supply the decoder.
public protocol SharedDecoder: Sendable {
    /// A decoded value for the outputs it names, or nil when sharing would not
    /// pay (one output, or outputs that each need something different).
    /// Blocking: runs on the engine's thread pool.
    func decode(_ source: SourceFile, for outputs: [JobPlan.Output], limits: ProcessingLimits) throws(StageError) -> SharedDecode?
}

public struct SharedDecode: Sendable {
    /// What the named outputs' first steps receive instead of the input file.
    public var value: StageValue
    public var outputs: Set<String>

    public init(value: StageValue, outputs: Set<String>) {
        self.value = value
        self.outputs = outputs
    }
}

/// A step that reads the input and can start from a downscaled decode of it.
public protocol SourceScaling {
    /// The smallest scale (at most 1) of the upright input this step needs to
    /// produce its result at full quality.
    func sourceScale(width: Int, height: Int) -> Double
}
