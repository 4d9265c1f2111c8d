import Foundation
import Synchronization
import KilnTestSupport
import Testing
import VipsBindings

@Suite(.ownThreads) struct VipsLogTests {
    /// Every line reaches the sink, and the last reaches it as directly as the
    /// first. A handler re-wrapped on each read (issue 6) ran each line through
    /// a longer chain of thunks: the stack at the sink sank with every line
    /// until, thousands of jobs later, the server overflowed it and crashed.
    @Test func manyLinesReachTheSinkAtTheSameDepth() throws {
        let marker = "kiln-log-test-\(UUID().uuidString)"
        let depths = Mutex<[Int]>([])
        let token = Vips.addLogSink { line in
            guard line.contains(marker) else { return }
            var local = 0
            let address = withUnsafeMutablePointer(to: &local) { Int(bitPattern: $0) }
            depths.withLock { $0.append(address) }
        }
        defer { Vips.removeLogSink(token) }
        for index in 0..<20_000 { Vips.logWarning("\(marker) \(index)") }
        let seen = depths.withLock { $0 }
        #expect(seen.count == 20_000)
        let sunk = (seen.first ?? 0) - (seen.last ?? 0)
        #expect(abs(sunk) < 4096, "the sink ran \(sunk) bytes deeper in the stack after 20,000 lines")
    }
}
