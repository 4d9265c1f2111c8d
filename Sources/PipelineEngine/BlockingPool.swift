import NIOPosix

/// The threads that run blocking C work (libvips, FFmpeg). Swift's cooperative
/// pool has one thread per core; a multi-second transcode there would starve
/// every other task in the process, HTTP included.
public final class BlockingPool: Sendable {
    private let pool: NIOThreadPool

    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
