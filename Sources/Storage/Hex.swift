/// Lower-case hex of bytes (digests, ETags, SigV4 signatures). Not `String(format: "%02x")`
/// per byte: that goes through Foundation's varargs formatting, and made on every
/// request (the API key id) it was ~10% of a cached status read's CPU (perf).
/// Here, the lowest target that needs it, so the API and the S3 signer share it.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
