import Foundation
import PipelineEngine

/// Draws a job's progress, a bar per output. On a terminal the bars are
/// redrawn in place; otherwise (a pipe, a log) each change is one line.
public struct ProgressDisplay {
    struct OutputLine: Equatable {
        var status: String
        var progress: Double
        var playable = false
    }

    let interactive: Bool
    let width = 30
    var outputs: [String: OutputLine] = [:]
    var order: [String] = []
    var jobStatus = "queued"
    var drawnLines = 0
    var lastPrinted: [String: String] = [:]
    var lastPrintedStatus: String?

    public init(interactive: Bool = isatty(STDOUT_FILENO) == 1) {
        self.interactive = interactive
    }

    /// Takes the job as `GET /v1/jobs/{id}` shows it (the starting picture).
    public mutating func show(job: JSONValue) {
        jobStatus = job["status"]?.stringValue ?? jobStatus
        for (name, output) in (job["outputs"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            update(name, status: output["status"]?.stringValue, progress: output["progress"]?.doubleValue,
                   playable: output["playableAt"]?.stringValue != nil)
        }
        draw()
    }

    /// Takes one event of `/v1/jobs/{id}/events`.
    public mutating func apply(type: String?, data: JSONValue) {
        switch type {
        case "job":
            jobStatus = data["status"]?.stringValue ?? jobStatus
        case "progress", "output":
            if let name = data["output"]?.stringValue {
                let progress = type == "output" && data["status"] == "succeeded" ? 1.0 : data["progress"]?.doubleValue
                update(name, status: data["status"]?.stringValue, progress: progress, playable: data["playable"]?.boolValue ?? false)
            }
        default:
            return
        }
        draw()
    }

    mutating func update(_ name: String, status: String?, progress: Double?, playable: Bool) {
        if outputs[name] == nil { order.append(name) }
        var line = outputs[name] ?? OutputLine(status: "queued", progress: 0)
        line.status = status ?? line.status
        line.progress = progress ?? line.progress
        line.playable = line.playable || playable
        outputs[name] = line
    }

    public static func bar(_ progress: Double, width: Int) -> String {
        let filled = Int((max(0, min(1, progress)) * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
    }

    func render(_ name: String, _ line: OutputLine, nameWidth: Int) -> String {
        let padded = name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        let percent = String(format: "%3d%%", Int((line.progress * 100).rounded(.down)))
        return "\(padded)  \(Self.bar(line.progress, width: width)) \(percent)  \(line.status)\(line.playable && line.status == "running" ? " (playable)" : "")"
    }

    mutating func draw() {
        let nameWidth = max(6, order.map(\.count).max() ?? 0)
        if interactive {
            // Move up over the previous drawing and redraw every line.
            var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)F" : ""
            for name in order { text += "\u{1B}[2K" + render(name, outputs[name]!, nameWidth: nameWidth) + "\n" }
            text += "\u{1B}[2Kjob: \(jobStatus)\n"
            FileHandle.standardOutput.write(Data(text.utf8))
            drawnLines = order.count + 1
        } else {
            for name in order {
                let text = render(name, outputs[name]!, nameWidth: nameWidth)
                if lastPrinted[name] != text {
                    print(text)
                    lastPrinted[name] = text
                }
            }
            if lastPrintedStatus != jobStatus {
                print("job: \(jobStatus)")
                lastPrintedStatus = jobStatus
            }
        }
    }
}
