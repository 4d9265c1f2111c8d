import PipelineEngine

/// An image URL's operations made ready to render: parsed from their URL
/// form, ending in an `encode` (added, as `format=auto`, when the URL names
/// none), `auto` replaced by what the client's `Accept` allows, and validated
/// by the registry exactly as a job's list is.
struct ImageOperations: Sendable {
    /// The list with every default filled in, as a worker runs it.
    var list: JSONValue
    /// The canonical URL form of `list`, for the cache key.
    var canonical: String
    /// Whether the format came from `Accept`, so the answer varies by it.
    var negotiated: Bool

    init(list: JSONValue, canonical: String, negotiated: Bool) {
        self.list = list
        self.canonical = canonical
        self.negotiated = negotiated
    }

    /// `format`: what `negotiate` chose from the client's `Accept`.
    init(_ text: String, format: String?, input: MediaKind, registry: StageRegistry) throws(ValidationError) {
        var steps = try OperationPath.parse(text, registry: registry).arrayValue ?? []
        if steps.last?["op"]?.stringValue != "encode" { steps.append(["op": "encode", "format": "auto"]) }
        negotiated = false
        for index in steps.indices where steps[index]["op"]?.stringValue == "encode" && steps[index]["format"]?.stringValue == "auto" {
            var step = steps[index].objectValue ?? [:]
            if let format {
                step["format"] = .string(format)
            } else {
                // JPEG, or PNG for an image with alpha, as encode chooses; a lossy option asks for JPEG.
                let lossy = ["quality", "progressive", "chromaSubsampling"].contains { step[$0] != nil }
                step["format"] = lossy ? "jpeg" : nil
            }
            steps[index] = .object(step)
            negotiated = true
        }
        let plan = try JobPlan(outputs: [("default", .array(steps), JSONPointer())], input: input, registry: registry)
        list = .array(plan.outputs[0].steps.map(\.json))
        canonical = OperationPath.canonical(list)
    }

    /// AVIF, then WebP, when `Accept` lists them (with a quality above 0); nil otherwise.
    static func negotiate(_ accept: String?) -> String? {
        guard let accept else { return nil }
        var accepted: Set<String> = []
        for item in accept.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first else { continue }
            let refused = parts.dropFirst().contains { $0.hasPrefix("q=") && (Double($0.dropFirst(2)) ?? 1) <= 0 }
            if !refused { accepted.insert(type) }
        }
        if accepted.contains("image/avif") { return "avif" }
        if accepted.contains("image/webp") { return "webp" }
        return nil
    }
}
