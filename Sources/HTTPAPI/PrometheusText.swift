import Foundation

/// Prometheus text expositions added together series by series: counters and
/// histograms (buckets, sums, counts) from several processes sum into one
/// family each, as if one process had counted everything. `kiln serve` serves
/// its own metrics merged with its supervised workers' this way. A gauge is
/// taken from the first text that has it (summing levels means nothing).
public enum PrometheusText {
    struct Family {
        var type: String?
        var help: String?
        var order: [String] = []
        var values: [String: Double] = [:]
    }

    public static func merge(_ texts: [String], keepGauges: Bool = true) -> String {
        var families: [String: Family] = [:]
        var order: [String] = []
        for text in texts {
            var current: String?
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                    let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                    guard parts.count >= 3 else { continue }
                    let name = String(parts[2])
                    if families[name] == nil { families[name] = Family(); order.append(name) }
                    let rest = parts.count > 3 ? String(parts[3]) : ""
                    if parts[1] == "TYPE" { families[name]?.type = rest } else if families[name]?.help == nil { families[name]?.help = rest }
                    current = name
                    continue
                }
                if line.hasPrefix("#") { continue }
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                let series = String(line[..<space]).trimmingCharacters(in: .whitespaces)
                let name = String(series.prefix { $0 != "{" })
                let family: String
                if let current, name.hasPrefix(current) {
                    family = current
                } else {
                    family = name
                    if families[name] == nil { families[name] = Family(); order.append(name) }
                }
                let isGauge = families[family]?.type == "gauge"
                if isGauge && !keepGauges { continue }
                if families[family]?.values[series] == nil {
                    families[family]?.order.append(series)
                    families[family]?.values[series] = value
                } else if !isGauge {
                    families[family]?.values[series]! += value
                }
            }
        }
        var out = ""
        for name in order {
            guard let family = families[name], !family.order.isEmpty else { continue }
            if let help = family.help { out += "# HELP \(name) \(help)\n" }
            if let type = family.type { out += "# TYPE \(name) \(type)\n" }
            for series in family.order {
                let value = family.values[series] ?? 0
                out += "\(series) \(value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value))\n"
            }
        }
        return out
    }
}
