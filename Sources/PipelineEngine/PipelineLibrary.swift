import Foundation

/// The named pipelines kept as JSON files in `Pipelines/` (file name = pipeline name).
public struct PipelineLibrary: Sendable {
    public struct Pipeline: Sendable {
        public var name: String
        public var description: String
        public var outputs: JSONValue
    }

    private let pipelines: [String: Pipeline]
    /// Where the files were read from; `assets/...` references resolve under it.
    public let directory: String?

    public init(pipelines: [Pipeline], directory: String? = nil) {
        self.pipelines = Dictionary(uniqueKeysWithValues: pipelines.map { ($0.name, $0) })
        self.directory = directory
    }

    /// Loads every `*.json` in `directory`; a file that is not valid JSON of the
    /// expected shape is an error, so a broken pipeline stops start-up loudly.
    public init(directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var loaded: [Pipeline] = []
        for file in files.sorted() where file.hasSuffix(".json") {
            let data = try Data(contentsOf: url.appendingPathComponent(file))
            let json = try JSONValue.decode(data)
            guard let outputs = json["outputs"] else {
                throw ValidationError(pointer: JSONPointer(["outputs"]), message: "pipeline \(file) has no outputs")
            }
            loaded.append(Pipeline(name: String(file.dropLast(5)), description: json["description"]?.stringValue ?? "", outputs: outputs))
        }
        self.init(pipelines: loaded, directory: directory)
    }

    public var names: [String] { pipelines.keys.sorted() }
    public var all: [Pipeline] { names.compactMap { pipelines[$0] } }
    public func pipeline(named name: String) -> Pipeline? { pipelines[name] }
}
