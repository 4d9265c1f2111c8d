import PostgresNIO

extension JobStore {
    /// Whether `error` means PostgreSQL could not be reached or is restarting
    /// (so the call may succeed if retried), rather than a wrong query.
    public static func isUnavailable(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                // Class 08: connection exception; 53: insufficient resources (too many
                // connections, out of memory or disk); 57: operator intervention (shutdown, starting up).
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57")
            default:
                return false
            }
        }
        // The pool's own: the last connect failed moments ago, or the process is shutting down.
        return error is DatabasePool.PoolError
    }
}
