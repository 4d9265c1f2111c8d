import AsyncHTTPClient

extension EgressPolicy.Destination {
    /// Runs `body` with an HTTP client that reaches only this judged address,
    /// whatever the name resolves to by the time it connects (TLS still
    /// verifies the name): no redirect is followed (a redirect's target was
    /// never judged), nothing is decompressed (sizes are the sender's), and a
    /// read gives up after `readSeconds`. The client is shut down after.
    /// Webhook deliveries and image origins both fetch through this.
    public func withClient<Result: Sendable>(
        readSeconds: Double, retryConnecting: Bool = true, _ body: (HTTPClient) async throws -> Result
    ) async throws -> Result {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(Int64(readSeconds)))
        configuration.decompression = .disabled
        configuration.connectionPool.retryConnectionEstablishment = retryConnecting
        if IPAddress(host) == nil { configuration.dnsOverride = [host: address.description] }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
