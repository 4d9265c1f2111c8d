import CHeapStats
import Foundation
import JobStore
import KilnApp
import Logging
import PostgresNIO

// Counts what the database path keeps: live heap bytes (glibc's mallinfo2)
// before and after a loop of JobStore reads, in a process of its own so that
// nothing else allocates meanwhile. Prints one JSON object.
//
//   kiln-soak DATABASE_URL [--schema S] [--queries N] [--concurrency C] [--settle SECONDS]
//
// `--settle` waits before each count, so what is counted is what the reads
// keep, not what is still in flight.

struct Options {
    var url = ""
    var schema: String?
    var queries = 20_000
    var concurrency = 8
    var settleSeconds = 0.0

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            switch argument {
            case "--schema": schema = rest.popFirst()
            case "--queries": queries = rest.popFirst().flatMap(Int.init) ?? queries
            case "--concurrency": concurrency = rest.popFirst().flatMap(Int.init) ?? concurrency
            case "--settle": settleSeconds = rest.popFirst().flatMap(Double.init) ?? settleSeconds
            default: url = argument
            }
        }
    }
}

func liveHeapBytes() -> Int { Int(kiln_live_heap_bytes()) }

/// `total` reads of a job and a media record that do not exist (each a full
/// round trip through the pool), spread over `concurrency` tasks.
func reads(_ store: JobStore, total: Int, concurrency: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<concurrency {
            group.addTask {
                for index in stride(from: task, to: total, by: concurrency) {
                    if index.isMultiple(of: 2) {
                        _ = try await store.job(id: "job_missing", tenant: "soak")
                    } else {
                        _ = try await store.media(id: "med_missing", tenant: "soak")
                    }
                }
            }
        }
        try await group.waitForAll()
    }
}

let options = Options(CommandLine.arguments)
var logger = Logger(label: "kiln.soak")
logger.logLevel = .warning
let client = try DatabaseClient.make(url: options.url, schema: options.schema, poolSize: options.concurrency, logger: logger)
let store = JobStore(client: client, logger: logger)
try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await client.run() }
    try await Migrator(client: client, logger: logger).migrate(schema: options.schema)
    // Warm-up: connections open, allocator caches fill.
    try await reads(store, total: max(2_000, options.queries / 10), concurrency: options.concurrency)
    try await Task.sleep(for: .seconds(options.settleSeconds))
    let before = liveHeapBytes()
    let started = ContinuousClock.now
    try await reads(store, total: options.queries, concurrency: options.concurrency)
    let seconds = (ContinuousClock.now - started) / .seconds(1)
    let rightAfter = liveHeapBytes()
    try await Task.sleep(for: .seconds(options.settleSeconds))
    let after = liveHeapBytes()
    let result: [String: Any] = [
        "queries": options.queries, "concurrency": options.concurrency, "seconds": seconds,
        "liveBytesBefore": before, "liveBytesRightAfter": rightAfter, "liveBytesAfter": after, "bytesPerQuery": Double(after - before) / Double(options.queries),
    ]
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
    group.cancelAll()
}
