import Foundation
import HTTPAPI
import Synchronization

/// The metrics of `kiln serve`'s supervised workers (stage timings, attempts,
/// finished jobs), for the server's `/metrics`. Each worker writes its whole
/// exposition to its standard output every `interval`, framed by two marker
/// lines; the server keeps the latest of each, and when a worker ends, adds
/// its last counts to what earlier workers counted, so counters never go back.
final class WorkerMetricsBoard: Sendable {
    static let begin = "#kiln-metrics-begin"
    static let end = "#kiln-metrics-end"
    static let interval: Duration = .seconds(2)

    private let state = Mutex<(live: [ObjectIdentifier: String], retired: String)>(([:], ""))

    func update(_ child: ObjectIdentifier, text: String) { state.withLock { $0.live[child] = text } }

    /// Called once the worker's output has ended (it exited), after its last report was read.
    func retire(_ child: ObjectIdentifier) {
        state.withLock { state in
            guard let last = state.live.removeValue(forKey: child) else { return }
            state.retired = PrometheusText.merge([state.retired, last], keepGauges: false)
        }
    }

    /// What every worker counted, since the server started.
    var texts: [String] { state.withLock { [$0.retired] + Array($0.live.values) } }

    /// In a supervised worker: reports this process's metrics to its server until the process ends.
    static func reportToSupervisor() {
        Task.detached {
            while true {
                reportNow()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// After a job: a report now, or, when one went out less than `coalescing`
    /// ago, one report when that time is up. A worker ending hundreds of tiny
    /// jobs a second wrote (and its server parsed) a whole exposition per job:
    /// 2 % of the worker's CPU on header-only jobs.
    static func reportSoon() {
        let delay: Duration? = throttle.withLock { state in
            let now = ContinuousClock.now
            if state.trailing { return nil }
            if let last = state.last, now - last < coalescing {
                state.trailing = true
                return coalescing - (now - last)
            }
            state.last = now
            return .zero
        }
        guard let delay else { return }
        guard delay > .zero else { return reportNow() }
        Task.detached {
            try? await Task.sleep(for: delay)
            throttle.withLock { $0 = (last: .now, trailing: false) }
            reportNow()
        }
    }

    static let coalescing: Duration = .milliseconds(250)
    private static let throttle = Mutex<(last: ContinuousClock.Instant?, trailing: Bool)>((nil, false))

    /// One report, written whole: a report larger than a pipe's atomic write must not interleave with another.
    static func reportNow() {
        let text = String(decoding: Kiln.metrics.emitToBuffer(), as: UTF8.self)
        let framed = Data("\(begin)\n\(text)\(text.hasSuffix("\n") || text.isEmpty ? "" : "\n")\(end)\n".utf8)
        writing.withLock { _ in FileHandle.standardOutput.write(framed) }
    }

    private static let writing = Mutex(())

    /// Reads a worker's standard output until it ends: framed reports go to the
    /// board, any other line to this process's output.
    func read(from descriptor: Int32, child: ObjectIdentifier) {
        let report = Mutex<[String]?>(nil)  // touched by the reading thread only
        PipeLines.read(descriptor, thread: "kiln-worker-output", line: { [self] bytes in
            let line = String(decoding: bytes, as: UTF8.self)
            report.withLock { report in
                if line == Self.begin {
                    report = []
                } else if line == Self.end, let lines = report {
                    update(child, text: lines.joined(separator: "\n") + "\n")
                    report = nil
                } else if report != nil {
                    report?.append(line)
                } else {
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
            }
        }, ended: { [self] in retire(child) })
    }
}
