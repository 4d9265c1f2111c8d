import CFFmpeg
import Foundation

/// Runs one encoder on a thread of its own, fed through a short queue of
/// pictures, so the rungs of a ladder encode at the same time as each other and
/// as the decoding. Each rung's encoder then runs single-threaded (x264's frame
/// threads cost CPU and memory that three encoders on a few cores do not need).
///
/// The pass's thread takes a spare picture, fills it and sends it; the encoder's
/// thread encodes it and hands it back. A failure on the encoder's thread is
/// thrown to the pass at its next `take`, `send` or `finish`. Released without
/// `finish` (the pass failed or stopped), the thread drops what is queued and
/// ends before the encoder is freed.
final class EncoderThread {
    /// What both threads touch, under `condition`.
    private final class Shared: @unchecked Sendable {
        let condition = NSCondition()
        var queue: [MediaFrame?] = []
        var spare: [MediaFrame] = []
        var made = 0
        var failure: FFmpegError?
        var abandoned = false
        var exited = false
    }

    /// The encoding work, moved to the encoder's thread once and only used there.
    private final class Work: @unchecked Sendable {
        let encode: (MediaFrame?) throws(FFmpegError) -> Void
        init(_ encode: @escaping (MediaFrame?) throws(FFmpegError) -> Void) { self.encode = encode }
    }

    private let shared = Shared()
    private let capacity: Int
    private let interrupt: InterruptFlag
    private let makePicture: () throws(FFmpegError) -> MediaFrame
    private var finished = false

    /// `encode` is called on the thread with each picture sent, then with nil at the end.
    /// `interrupt`: a stop ends a wait for a spare picture at once (an encoder at a slow
    /// preset may hold every picture for seconds), and the queued pictures are dropped.
    init(name: String, capacity: Int = 3, interrupt: InterruptFlag, makePicture: @escaping () throws(FFmpegError) -> MediaFrame,
         encode: @escaping (MediaFrame?) throws(FFmpegError) -> Void) {
        self.capacity = capacity
        self.interrupt = interrupt
        self.makePicture = makePicture
        let shared = shared
        let work = Work(encode)
        let thread = Thread {
            Self.loop(shared, work, interrupt)
        }
        thread.name = name
        thread.start()
    }

    private static func loop(_ shared: Shared, _ work: Work, _ interrupt: InterruptFlag) {
        while true {
            shared.condition.lock()
            while shared.queue.isEmpty && !shared.abandoned { shared.condition.wait() }
            if shared.abandoned {
                shared.exited = true
                shared.condition.broadcast()
                shared.condition.unlock()
                return
            }
            let picture = shared.queue.removeFirst()
            if picture != nil && interrupt.isStopped && shared.failure == nil { shared.failure = .interrupted }
            let failed = shared.failure != nil
            shared.condition.unlock()

            var failure: FFmpegError?
            if !failed {
                do throws(FFmpegError) { try work.encode(picture) } catch { failure = error }
            }

            shared.condition.lock()
            if let failure, shared.failure == nil { shared.failure = failure }
            if let picture { shared.spare.append(picture) }
            let ended = picture == nil
            if ended { shared.exited = true }
            shared.condition.broadcast()
            shared.condition.unlock()
            if ended { return }
        }
    }

    /// A picture to fill and send: a spare one (`MediaFrame.makeBlank` before writing
    /// into it), or a new one while fewer than `capacity` exist.
    func take() throws(FFmpegError) -> MediaFrame {
        shared.condition.lock()
        while shared.spare.isEmpty && shared.made >= capacity && shared.failure == nil {
            if interrupt.isStopped { shared.failure = .interrupted }
            else { _ = shared.condition.wait(until: Date().addingTimeInterval(0.05)) }
        }
        if let failure = shared.failure {
            shared.condition.unlock()
            throw failure
        }
        if let picture = shared.spare.popLast() {
            shared.condition.unlock()
            return picture
        }
        shared.made += 1
        shared.condition.unlock()
        return try makePicture()
    }

    func send(_ picture: MediaFrame) throws(FFmpegError) {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        if let failure = shared.failure { throw failure }
        shared.queue.append(picture)
        shared.condition.broadcast()
    }

    /// Encodes what is queued, flushes the encoder and waits for the thread to end.
    func finish() throws(FFmpegError) {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        guard !finished else { return }
        finished = true
        shared.queue.append(nil)
        shared.condition.broadcast()
        while !shared.exited { shared.condition.wait() }
        if let failure = shared.failure { throw failure }
    }

    deinit {
        shared.condition.lock()
        shared.abandoned = true
        shared.condition.broadcast()
        while !shared.exited { shared.condition.wait() }
        shared.condition.unlock()
    }
}
