import Foundation

/// Integrated loudness by ITU-R BS.1770-4 / EBU R128: K-weighting (a high
/// shelf, then a high-pass), mean square in 400 ms blocks overlapping by 75%,
/// an absolute gate at -70 LUFS and a relative gate 10 LU below the mean.
/// Up to two channels, each weighted 1 (BS.1770's weights for L and R).
public struct LoudnessMeter: Sendable {
    /// One biquad section, transposed direct form II.
    struct Biquad: Sendable {
        var b0, b1, b2, a1, a2: Double
        var z1 = 0.0, z2 = 0.0

        mutating func process(_ x: Double) -> Double {
            let y = b0 * x + z1
            z1 = b1 * x - a1 * y + z2
            z2 = b2 * x - a2 * y
            return y
        }
    }

    let sampleRate: Double
    let channels: Int
    var filters: [(shelf: Biquad, highPass: Biquad)]
    /// Sum of squares per channel for each 100 ms step; blocks are four steps.
    var steps: [Double] = []
    var current: [Double]
    var inStep = 0
    let stepLength: Int
    public private(set) var samplePeak: Double = 0

    public init(sampleRate: Int, channels: Int) {
        self.sampleRate = Double(sampleRate)
        self.channels = max(1, min(2, channels))
        stepLength = max(1, sampleRate / 10)
        current = Array(repeating: 0, count: self.channels)
        let (shelf, highPass) = Self.kWeighting(sampleRate: Double(sampleRate))
        filters = Array(repeating: (shelf, highPass), count: self.channels)
    }

    /// The two K-weighting stages for any sample rate (the published 48 kHz
    /// filters re-derived from their analogue prototypes, as libebur128 does).
    static func kWeighting(sampleRate fs: Double) -> (Biquad, Biquad) {
        var f0 = 1681.974450955533, q = 0.7071752369554196
        let g = 3.999843853973347
        var k = tan(Double.pi * f0 / fs)
        let vh = pow(10, g / 20), vb = pow(vh, 0.4996667741545416)
        var a0 = 1 + k / q + k * k
        let shelf = Biquad(b0: (vh + vb * k / q + k * k) / a0, b1: 2 * (k * k - vh) / a0, b2: (vh - vb * k / q + k * k) / a0,
                           a1: 2 * (k * k - 1) / a0, a2: (1 - k / q + k * k) / a0)
        f0 = 38.13547087602444; q = 0.5003270373238773
        k = tan(Double.pi * f0 / fs)
        a0 = 1 + k / q + k * k
        let highPass = Biquad(b0: 1, b1: -2, b2: 1, a1: 2 * (k * k - 1) / a0, a2: (1 - k / q + k * k) / a0)
        return (shelf, highPass)
    }

    /// Adds interleaved samples (`channels` per frame).
    public mutating func add(interleaved samples: UnsafeBufferPointer<Float>) {
        let frames = samples.count / channels
        for frame in 0..<frames {
            for channel in 0..<channels {
                let x = Double(samples[frame * channels + channel])
                samplePeak = max(samplePeak, abs(x))
                let y = filters[channel].highPass.process(filters[channel].shelf.process(x))
                current[channel] += y * y
            }
            inStep += 1
            if inStep == stepLength {
                steps.append(current.reduce(0, +) / Double(stepLength))
                current = Array(repeating: 0, count: channels)
                inStep = 0
            }
        }
    }

    /// Integrated loudness in LUFS; nil for silence or less than 400 ms.
    public var integrated: Double? {
        guard steps.count >= 4 else { return nil }
        let blocks = (0...(steps.count - 4)).map { start in steps[start..<start + 4].reduce(0, +) / 4 }
        func loudness(_ power: Double) -> Double { -0.691 + 10 * log10(power) }
        let audible = blocks.filter { $0 > 0 && loudness($0) > -70 }
        guard !audible.isEmpty else { return nil }
        let relativeGate = loudness(audible.reduce(0, +) / Double(audible.count)) - 10
        let gated = audible.filter { loudness($0) > relativeGate }
        guard !gated.isEmpty else { return nil }
        return loudness(gated.reduce(0, +) / Double(gated.count))
    }
}
