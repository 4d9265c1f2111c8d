import Hummingbird
import NIOCore

/// Per-request state: who is calling. Set by `AuthMiddleware` on `/v1` routes.
public struct KilnRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var tenant: String?
    /// The public id of the API key used (`key_…`), for the audit log and rate limits.
    public var keyID: String?
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        tenant = nil
        keyID = nil
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's address as the audit log records it (no port).
    var clientAddress: String? { remoteAddress?.ipAddress }

    /// JSON bodies (job submissions) are small; uploads stream and never collect.
    public var maxUploadSize: Int { 1024 * 1024 }

    /// The authenticated tenant; routes behind `AuthMiddleware` always have one.
    func requireTenant() throws -> String {
        guard let tenant else { throw APIError.unauthorized }
        return tenant
    }
}
