import Foundation
import NIOSSL
import PostgresNIO

/// Turns `postgres://user:password@host:port/database` into a connection
/// configuration. As with libpq, `?host=/dir` selects a unix socket in `/dir`.
enum DatabaseURL {
    /// Where the server listens, for a socket-level reachability check.
    enum Endpoint: Equatable {
        case unix(path: String)
        case tcp(host: String, port: Int)
    }

    static func endpoint(_ url: String) -> Endpoint? {
        guard let components = URLComponents(string: url) else { return nil }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let port = components.port ?? Int(query["port"] ?? "") ?? 5432
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") { return .unix(path: socketDirectory + "/.s.PGSQL.\(port)") }
        return .tcp(host: components.host ?? "localhost", port: port)
    }

    static func configuration(_ url: String, schema: String?) throws -> PostgresConnection.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw KilnConfiguration.ConfigurationError.invalid("DATABASE_URL", "expected postgres://user:password@host:port/database")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        let database = components.path.isEmpty ? nil : String(components.path.dropFirst())
        let port = components.port ?? Int(query["port"] ?? "") ?? 5432
        var configuration: PostgresConnection.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            configuration = .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS = switch query["sslmode"] ?? "prefer" {
            case "disable": .disable
            case "require", "verify-ca", "verify-full": .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: components.host ?? "localhost", port: port, username: user, password: password, database: database, tls: tls)
        }
        if let schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        return configuration
    }
}
