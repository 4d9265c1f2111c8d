import CVips
import Foundation

/// Process-wide libvips set-up. libvips must be initialised once before any call;
/// `Vips.start()` is idempotent and cheap after the first call.
public enum Vips {
    private static let initialised: Result<Void, VipsError> = {
        guard kiln_vips_init("kiln") == 0 else {
            return .failure(VipsError.fromBuffer(operation: "vips_init"))
        }
        // The operation cache keys on file names and keeps memory and descriptors
        // alive between jobs; a server wants neither.
        vips_cache_set_max(0)
        vips_cache_set_max_mem(0)
        vips_cache_set_max_files(0)
        // Loaders libvips marks as untrusted (ImageMagick, PDF, SVG, matrix, ...)
        // are never offered hostile uploads.
        vips_block_untrusted_set(1)
        // Only the loaders of the formats Kiln accepts (MediaSniffer) may decode: fewer
        // parsers, less surface, whatever reaches a stage. (libvips 8.14 still asks
        // every loader whether a file is theirs before refusing a blocked one, so this
        // does not save the probing: openslide opening each file as SQLite shows in
        // a profile of tiny jobs.)
        vips_operation_block_set("VipsForeignLoad", 1)
        for loader in allowedLoaders { vips_operation_block_set(loader, 0) }
        // No ORC run-time code generation: Debian 12's liborc 0.4.33 is not thread-safe
        // (fixed in 0.4.34), and a server running jobs side by side crashed in
        // ORC-generated code (seen here: SIGSEGV in liborc under 16 clients of
        // tiny thumbnails; also lovell/sharp#3677). VIPS_NOVECTOR does the same.
        // KILN_VIPS_ORC=1 leaves it on, to measure the difference.
        if ProcessInfo.processInfo.environment["KILN_VIPS_ORC"] != "1" { vips_vector_set_enabled(0) }
        return .success(())
    }()

    /// JPEG, PNG, GIF, WebP and HEIF/AVIF: what `MediaSniffer` lets in as images.
    static let allowedLoaders = ["VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadNsgif", "VipsForeignLoadWebp", "VipsForeignLoadHeif"]

    /// Initialises libvips once; throws if the library cannot start.
    public static func start() throws(VipsError) {
        try initialised.get()
    }

    /// Live libvips objects. libvips keeps each one reachable from a global
    /// table, so valgrind calls a leaked image "still reachable"; this count
    /// is how a leaked `VipsImage` shows.
    public static var liveObjectCount: Int { Int(kiln_vips_live_objects()) }

    /// Frees libvips' global state at the end of a process, so a leak checker
    /// sees only real leaks. libvips cannot be used afterwards.
    public static func shutdown() { vips_shutdown() }

    /// Threads libvips uses inside one operation (`vips_concurrency_set`).
    /// A server running one job per core sets 1, so jobs do not oversubscribe
    /// the cores; `VIPS_CONCURRENCY` in the environment still wins.
    public static func setThreadsPerOperation(_ threads: Int) throws(VipsError) {
        try start()
        if ProcessInfo.processInfo.environment["VIPS_CONCURRENCY"] == nil { vips_concurrency_set(Int32(max(1, threads))) }
    }

    public static var threadsPerOperation: Int { Int(vips_concurrency_get()) }

    public static var version: String {
        String(cString: vips_version_string())
    }
}
