/// The shape of a sound for drawing: the lowest and highest sample of each of
/// `points` equal spans, mixed to mono (BBC audiowaveform's min/max pairs).
public struct AudioPeaks: Sendable {
    public var sampleRate: Int
    public var samplesPerPoint: Int
    /// One (min, max) pair a point, each -1...1.
    public var peaks: [(min: Float, max: Float)]

    /// Decodes the best audio stream of `path` once, from start to end.
    public init(path: String, points: Int, maxSeconds: Double = .infinity, interrupt: InterruptFlag = InterruptFlag(),
                progress: (Double) -> Void = { _ in }) throws(FFmpegError) {
        var peaks = [(min: Float, max: Float)](repeating: (0, 0), count: points)
        var rate = 0, perPoint = 1, expected = 1, sampleIndex = 0
        try AudioSamples.decode(path: path, channels: 1, maxSeconds: maxSeconds, interrupt: interrupt, start: { format in
            rate = format.sampleRate
            expected = max(1, Int((format.duration * Double(format.sampleRate)).rounded(.up)))
            perPoint = max(1, (expected + points - 1) / points)
        }) { samples in
            for value in samples {
                let point = min(points - 1, sampleIndex / perPoint)
                if value < peaks[point].min { peaks[point].min = value }
                if value > peaks[point].max { peaks[point].max = value }
                sampleIndex += 1
            }
            progress(min(1, Double(sampleIndex) / Double(expected)))
        }
        sampleRate = rate
        samplesPerPoint = perPoint
        self.peaks = peaks
    }
}
