import ArgumentParser
import Foundation
import HTTPAPI
import KilnApp
import PipelineEngine

/// `kiln sign`: an image URL, signed with an API key, for a client to fetch
/// (or to hand to a browser or a CDN).
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a signed image URL: GET it to have the image rendered (and cached) on request.",
        discussion: """
            kiln sign 'thumbnail:w=400,h=400,fit=cover/encode:f=webp,q=80' med_…
            kiln sign 'thumbnail:w=320' med_… --expires-in 3600     (no encode step: the format follows Accept)
            The operations are a job's, written step/step, each name:param=value,…; w, h, q and f are short for
            width, height, quality and format; f=auto picks AVIF, WebP or JPEG from the client's Accept header.
            """)

    @OptionGroup var server: ServerOptions

    @Argument(help: "The operations in URL form.")
    var operations: String

    @Argument(help: "The source: a media id (med_…), or an http(s) URL under an origin the server allows.")
    var source: String

    @Option(help: "Seconds until the URL stops working (default: never).")
    var expiresIn: Int?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let key = server.key ?? environment["KILN_API_KEY"], !key.isEmpty else {
            throw ValidationError("Set KILN_API_KEY (or pass --key) to the API key whose tenant owns the source")
        }
        // Checked here as the server will, so a typo is found before the URL is handed out.
        do {
            let parsed = try OperationPath.parse(operations, registry: Stages.registry)
            _ = parsed
        } catch {
            throw ValidationError("\(operations): at \(error.pointer): \(error.message)")
        }
        let base = server.url ?? environment["KILN_URL"] ?? "http://127.0.0.1:8080"
        let origin: ImageURLSigner.Source = source.hasPrefix("med_") ? .media(source) : .url(source)
        let expires = expiresIn.map { Date().addingTimeInterval(TimeInterval($0)) }
        let rest = ImageURLSigner.rest(operations: operations, source: origin, expires: expires)
        print((base.hasSuffix("/") ? String(base.dropLast()) : base) + ImageURLSigner.sign(rest, apiKey: key))
    }
}
