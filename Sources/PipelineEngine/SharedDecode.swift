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
    /// The output to run first: the one whose step runs the shared pass and
    /// publishes while it runs (an HLS ladder), so the others only collect.
    public var leader: String?

    public init(value: StageValue, outputs: Set<String>, leader: String? = nil) {
        self.value = value
        self.outputs = outputs
        self.leader = leader
    }

    /// `outputs` in the order to run them: the leader first, the rest as planned.
    public func ordered(_ outputs: [JobPlan.Output]) -> [JobPlan.Output] {
        guard let leader else { return outputs }
        return outputs.filter { $0.name == leader } + outputs.filter { $0.name != leader }
    }
}

/// One pass over a job's input that several outputs' steps share (a video
/// decoded once for a ladder, a fallback, a poster and a storyboard).
public protocol SharedPass: AnyObject, Sendable {}

/// A step that reads the input and can start from a downscaled decode of it.
public protocol SourceScaling {
    /// The smallest scale (at most 1) of the upright input this step needs to
    /// produce its result at full quality.
    func sourceScale(width: Int, height: Int) -> Double
}

/// Several shared decoders, each for its own kind of input: the first with an answer wins.
public struct SharedDecoders: SharedDecoder {
    let decoders: [any SharedDecoder]

    public init(_ decoders: [any SharedDecoder]) { self.decoders = decoders }

    public func decode(_ source: SourceFile, for outputs: [JobPlan.Output], limits: ProcessingLimits) throws(StageError) -> SharedDecode? {
        for decoder in decoders {
            if let shared = try decoder.decode(source, for: outputs, limits: limits) { return shared }
        }
        return nil
    }
}
