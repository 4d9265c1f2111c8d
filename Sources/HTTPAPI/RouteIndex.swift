import Hummingbird
import Synchronization

/// The registered routes, so an unmatched request on a known path with another
/// method gets 405 and an `Allow` header instead of a bare 404.
final class RouteIndex: Sendable {
    private let routes = Mutex<[(segments: [Substring], method: HTTPRequest.Method)]>([])

    func load(_ descriptions: [Router<KilnRequestContext>.RouteDescription]) {
        routes.withLock { $0 = descriptions.map { ($0.path.description.split(separator: "/"), $0.method) } }
    }

    /// Methods registered for a template that matches `path`, sorted; empty if none.
    func methods(matching path: String) -> [String] {
        let segments = path.split(separator: "/")
        let matching = routes.withLock { routes in routes.filter { Self.matches($0.segments, segments) }.map(\.method.rawValue) }
        return Set(matching).sorted()
    }

    static func matches(_ template: [Substring], _ segments: [Substring]) -> Bool {
        for (index, part) in template.enumerated() {
            if part == "**" { return segments.count > index }
            guard index < segments.count else { return false }
            if part.hasPrefix("{") || part.hasPrefix(":") { continue }
            if part != segments[index] { return false }
        }
        return template.count == segments.count
    }
}
