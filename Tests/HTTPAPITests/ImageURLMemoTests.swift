import Foundation
@testable import HTTPAPI
import PipelineEngine
import Testing

/// What an image URL's memo gives back, and when it must not.
@Suite struct ImageURLMemoTests {
    static func entry(generation: Int) throws -> ImageURLMemo.Entry {
        let operations = ImageOperations(list: [["op": "thumbnail", "width": 1]], canonical: "thumbnail:width=1", negotiated: false)
        return ImageURLMemo.Entry(tenant: "tenant-a", expires: nil, source: .media("med_x"), operations: operations, keysGeneration: generation)
    }

    @Test func anEntryVerifiedUnderOtherKeysIsNotUsed() throws {
        let memo = ImageURLMemo(capacity: 4)
        let key = ImageURLMemo.key(path: "sig/thumbnail:w=1/med_x", format: "webp")
        memo.put(key, try Self.entry(generation: 3))
        #expect(memo.get(key, keysGeneration: 3)?.tenant == "tenant-a")
        #expect(memo.get(key, keysGeneration: 4) == nil, "the keys were replaced since: verify again")
        #expect(memo.get(ImageURLMemo.key(path: "sig/thumbnail:w=1/med_x", format: nil), keysGeneration: 3) == nil,
                "another negotiated format is another entry")
    }

    @Test func aFullMemoStartsAfresh() throws {
        let memo = ImageURLMemo(capacity: 2)
        for index in 0..<3 { memo.put("k\(index)", try Self.entry(generation: 0)) }
        #expect(memo.get("k0", keysGeneration: 0) == nil && memo.get("k2", keysGeneration: 0) != nil)
    }

    @Test func negotiationPrefersAVIFThenWebPAndHonoursQZero() {
        #expect(ImageOperations.negotiate("image/avif,image/webp,*/*") == "avif")
        #expect(ImageOperations.negotiate("image/webp, image/avif;q=0") == "webp")
        #expect(ImageOperations.negotiate("image/AVIF;q=0.5") == "avif")
        #expect(ImageOperations.negotiate("*/*") == nil)
        #expect(ImageOperations.negotiate(nil) == nil)
    }
}
