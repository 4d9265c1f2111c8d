import Foundation
import HTTPAPI
import KilnTestSupport
import Testing

/// Signed image URLs: only the exact path a key signed opens, and only until it expires.
@Suite(.ownThreads) struct ImageURLSigningTests {
    let keys = APIKeys(parsing: "acme:key-acme,other:key-other")

    func check(_ path: String, now: Date = Date()) throws -> String {
        guard path.hasPrefix("/img/") else { throw ImageURLSigner.Failure.malformed("not /img/") }
        return try keys.imageURLSigner.verify(try ImageURLSigner.parse(path.dropFirst(5)), now: now)
    }

    @Test func aSignedPathOpensForItsTenant() throws {
        let rest = ImageURLSigner.rest(operations: "thumbnail:w=400/encode:f=webp", source: .media("med_abc"))
        let path = ImageURLSigner.sign(rest, apiKey: "key-acme")
        #expect(try check(path) == "acme")
        let request = try ImageURLSigner.parse(path.dropFirst(5))
        #expect(request.operations == "thumbnail:w=400/encode:f=webp" && request.source == .media("med_abc") && request.expires == nil)
        #expect(try check(ImageURLSigner.sign(rest, apiKey: "key-other")) == "other")
    }

    @Test func anyChangeOrAStrangersKeyIsForbidden() throws {
        let rest = ImageURLSigner.rest(operations: "thumbnail:w=400", source: .media("med_abc"))
        let path = ImageURLSigner.sign(rest, apiKey: "key-acme")
        func forbidden(_ path: String) -> Bool {
            do { _ = try check(path); return false } catch ImageURLSigner.Failure.forbidden { return true } catch { return false }
        }
        #expect(forbidden(path.replacingOccurrences(of: "w=400", with: "w=4000")), "a changed operation")
        #expect(forbidden(path.replacingOccurrences(of: "med_abc", with: "med_abd")), "another source")
        #expect(forbidden(ImageURLSigner.sign(rest, apiKey: "key-unknown")), "a key this deployment does not have")
        // Another tenant's key id with this mac, and this key id with another tenant's mac.
        let theirs = ImageURLSigner.sign(rest, apiKey: "key-other")
        let mine = path.split(separator: "/")[1].split(separator: "."), other = theirs.split(separator: "/")[1].split(separator: ".")
        #expect(forbidden(path.replacingOccurrences(of: String(mine[0]), with: String(other[0]))))
        #expect(forbidden(path.replacingOccurrences(of: String(mine[1]), with: String(other[1]))))
        let flipped = (mine[1].first == "A" ? "B" : "A") + mine[1].dropFirst()
        #expect(forbidden(path.replacingOccurrences(of: String(mine[1]), with: flipped)))
        // The last character carries two unused bits: a second spelling of the same mac is refused too.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = try #require(alphabet.firstIndex(of: mine[1].last!))
        #expect(last % 4 == 0, "the encoder leaves the unused bits 0")
        #expect(forbidden(path.replacingOccurrences(of: String(mine[1]), with: String(mine[1].dropLast()) + String(alphabet[last ^ 1]))))
        #expect(forbidden("/img/nonsense/thumbnail:w=400/med_abc"))
    }

    @Test func anExpiredURLIsForbiddenAndTheExpiryIsSigned() throws {
        let expires = Date(timeIntervalSince1970: 2_000_000_000)
        let rest = ImageURLSigner.rest(operations: "thumbnail:w=400", source: .url("https://cdn.example.com/a b.jpg"), expires: expires)
        let path = ImageURLSigner.sign(rest, apiKey: "key-acme")
        #expect(try check(path, now: expires.addingTimeInterval(-1)) == "acme")
        #expect(throws: ImageURLSigner.Failure.forbidden("the URL expired")) { try check(path, now: expires) }
        #expect(throws: ImageURLSigner.Failure.forbidden("the signature does not match")) {
            try check(path.replacingOccurrences(of: "exp:2000000000", with: "exp:2100000000"), now: expires.addingTimeInterval(-1))
        }
        let request = try ImageURLSigner.parse(path.dropFirst(5))
        #expect(request.source == .url("https://cdn.example.com/a b.jpg") && request.expires == expires && request.operations == "thumbnail:w=400")
    }

    @Test func malformedPathsAreNotImagePaths() {
        for path in ["abc", "sig/med_x", "sig/thumbnail:w=1/file.jpg", "sig/exp:soon/thumbnail/med_x", "sig/exp:1/med_x"] {
            #expect(throws: ImageURLSigner.Failure.self) { try ImageURLSigner.parse(Substring(path)) }
        }
    }
}
