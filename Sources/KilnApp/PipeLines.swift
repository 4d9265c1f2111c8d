import Foundation

/// The lines of a pipe between `kiln serve` and its children (metric reports,
/// inspection requests and answers), read until the writer closes it.
enum PipeLines {
    /// Calls `line` with each line (without its newline) until end of file; blocking.
    static func forEach(_ descriptor: Int32, _ line: (Data) -> Void) {
        var pending = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                line(Data(pending[pending.startIndex..<newline]))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
    }

    /// `forEach` on a thread of its own; then closes the descriptor and calls `ended`.
    static func read(_ descriptor: Int32, thread name: String, line: @escaping @Sendable (Data) -> Void,
                     ended: @escaping @Sendable () -> Void) {
        let thread = Thread {
            forEach(descriptor, line)
            close(descriptor)
            ended()
        }
        thread.name = name
        thread.start()
    }
}
