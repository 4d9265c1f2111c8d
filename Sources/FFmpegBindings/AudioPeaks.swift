/// The shape of a sound for drawing: the lowest and highest sample of each of
/// `points` equal spans, mixed to mono (BBC audiowaveform's min/max pairs).
public struct AudioPeaks: Sendable {
    public var sampleRate: Int
    public var samplesPerPoint: Int
    /// One (min, max) pair a point, each -1...1.
    public var peaks: [(min: Float, max: Float)]
    /// Mono samples seen.
    public var samples: Int

    /// Decodes the best audio stream of `path` once, from start to end.
    public init(path: String, points: Int, maxSeconds: Double = .infinity, interrupt: InterruptFlag = InterruptFlag(),
                progress: (Double) -> Void = { _ in }) throws(FFmpegError) {
        var builder: Builder?
        try AudioSamples.decode(path: path, channels: 1, maxSeconds: maxSeconds, interrupt: interrupt, start: { format in
            builder = Builder(points: points, format: format)
        }) { samples in
            builder?.add(samples)
            if let builder { progress(builder.progress) }
        }
        guard let builder else { throw .invalidData(message: "no audio stream") }
        self = builder.peaks
    }

    /// Takes mono samples as they come (from a file's own decode or a shared pass).
    public final class Builder {
        private let points: Int
        private let perPoint: Int
        private let expected: Int
        private let rate: Int
        private var values: [(min: Float, max: Float)]
        private var index = 0

        /// `format.duration` (the container's) spreads the points; the sound may run a little past it.
        public init(points: Int, format: AudioSamples.Format) {
            self.points = points
            rate = format.sampleRate
            expected = max(1, Int((format.duration * Double(format.sampleRate)).rounded(.up)))
            perPoint = max(1, (expected + points - 1) / points)
            values = Array(repeating: (0, 0), count: points)
        }

        public func add(_ samples: UnsafeBufferPointer<Float>) {
            for value in samples {
                let point = min(points - 1, index / perPoint)
                if value < values[point].min { values[point].min = value }
                if value > values[point].max { values[point].max = value }
                index += 1
            }
        }

        public var progress: Double { min(1, Double(index) / Double(expected)) }

        public var peaks: AudioPeaks { AudioPeaks(sampleRate: rate, samplesPerPoint: perPoint, peaks: values, samples: index) }
    }

    init(sampleRate: Int, samplesPerPoint: Int, peaks: [(min: Float, max: Float)], samples: Int) {
        self.sampleRate = sampleRate
        self.samplesPerPoint = samplesPerPoint
        self.peaks = peaks
        self.samples = samples
    }
}
