@testable import HTTPAPI
import Testing

/// A record read while its deletion was being heard is not cached after it.
@Suite struct ReadCacheTests {
    @Test func aRemovalDuringTheReadKeepsTheReadOut() {
        let cache = ReadCache<String>(capacity: 4)
        let mark = cache.mark()
        cache.remove(id: "med_a")  // the NOTIFY of its deletion, heard while the row was being read
        cache.put(tenant: "t", id: "med_a", "stale", readAt: mark)
        #expect(cache.get(tenant: "t", id: "med_a") == nil)
        // Another id's removal does not keep this one out.
        cache.remove(id: "med_b")
        cache.put(tenant: "t", id: "med_c", "fresh", readAt: mark)
        #expect(cache.get(tenant: "t", id: "med_c") == "fresh")
        // Read after the removal: kept.
        cache.put(tenant: "t", id: "med_a", "new", readAt: cache.mark())
        #expect(cache.get(tenant: "t", id: "med_a") == "new")
    }

    @Test func pastCapacityOldReadsAreKeptOut() {
        let cache = ReadCache<String>(capacity: 2)
        let mark = cache.mark()
        for id in ["x", "y", "z"] { cache.remove(id: id) }  // the removal record is cleared and forgets what it held
        cache.put(tenant: "t", id: "x", "stale", readAt: mark)
        #expect(cache.get(tenant: "t", id: "x") == nil)
        cache.put(tenant: "t", id: "w", "fresh", readAt: cache.mark())
        #expect(cache.get(tenant: "t", id: "w") == "fresh")
    }
}
