import Foundation

/// The web console's static files (HTML, CSS, ES modules), shipped as package
/// resources and read once: no build step, nothing fetched from elsewhere.
public enum ConsoleFiles {
    public struct File: Sendable {
        public let bytes: Data
        public let contentType: String
    }

    /// Every file by its path under the console (`index.html`, `js/main.js`, …).
    public static let all: [String: File] = {
        // Found through index.html: where the copied `Resources` folder lands in the
        // bundle differs by platform (corelibs Foundation treats it as the resource directory).
        guard let root = (Bundle.module.url(forResource: "index", withExtension: "html")
                ?? Bundle.module.url(forResource: "index", withExtension: "html", subdirectory: "Resources"))?.deletingLastPathComponent().path,
              let walker = FileManager.default.enumerator(atPath: root) else { return [:] }
        var files: [String: File] = [:]
        while let path = walker.nextObject() as? String {
            guard walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular,
                  let bytes = FileManager.default.contents(atPath: root + "/" + path) else { continue }
            files[path] = File(bytes: bytes, contentType: contentType(of: path))
        }
        return files
    }()

    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "application/octet-stream"
        }
    }
}
