import Hummingbird

/// Per-request state: who is calling. Set by `AuthMiddleware` on `/v1` routes.
public struct KilnRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var tenant: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        tenant = nil
    }

    /// JSON bodies (job submissions) are small; uploads stream and never collect.
    public var maxUploadSize: Int { 1024 * 1024 }

    /// The authenticated tenant; routes behind `AuthMiddleware` always have one.
    func requireTenant() throws -> String {
        guard let tenant else { throw APIError.unauthorized }
        return tenant
    }
}
