import NIOCore
import NIOHTTPTypes

/// Time limits on what a client sends, so that a connection cannot hold the
/// server's memory, a request slot or a lock by sending slowly or not at all:
/// - `headSeconds`: from the connection's start, or the end of its last
///   response, to a complete request head (an idle keep-alive connection, or a
///   head sent a byte at a time, is closed then);
/// - `bodyStallSeconds`: while a request body is wanted, the longest pause
///   between two of its bytes;
/// - `minBodyBytesPerSecond`: the slowest average a body may arrive at, over
///   each `bodyStallSeconds` window (a byte every few seconds is not a body).
/// Time a request spends parked by `RequestAdmission` (its reads held back on
/// purpose) does not count: this handler sits between the network and
/// admission and only times reads that admission let through.
public struct ConnectionDeadlines: Sendable {
    public var headSeconds: Double = 30
    public var bodyStallSeconds: Double = 30
    public var minBodyBytesPerSecond: Double = 1024

    public init() {}

    func handler() -> ConnectionDeadlinesHandler { ConnectionDeadlinesHandler(deadlines: self) }
}

final class ConnectionDeadlinesHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        /// Waiting for a request head.
        case awaitingHead
        /// Reading a request's body.
        case readingBody
        /// The request was read whole: the server works on it (no client deadline).
        case answering
    }

    let deadlines: ConnectionDeadlines
    private var phase = Phase.awaitingHead
    /// Requests read whole whose responses have not ended (pipelining).
    private var unanswered = 0
    private var timer: Scheduled<Void>?
    /// The body's bytes and the time a read was wanted, in the current window.
    private var windowBytes = 0
    private var windowStart: NIODeadline?
    private var lastBodyByte = NIODeadline.now()
    private var readWanted = false

    init(deadlines: ConnectionDeadlines) { self.deadlines = deadlines }

    func channelActive(context: ChannelHandlerContext) {
        awaitHead(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { awaitHead(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            timer?.cancel()
            timer = nil
            phase = .readingBody
            windowBytes = 0
            windowStart = readWanted ? .now() : nil
            lastBodyByte = .now()
            watchBody(context: context)
        case let .body(buffer):
            windowBytes += buffer.readableBytes
            lastBodyByte = .now()
        case .end:
            timer?.cancel()
            timer = nil
            phase = .answering
            unanswered += 1
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readWanted = false
        context.fireChannelReadComplete()
    }

    /// A read let through by admission: from now the client is expected to send.
    func read(context: ChannelHandlerContext) {
        if !readWanted {
            readWanted = true
            if phase == .readingBody {
                if windowStart == nil { windowStart = .now() }
                lastBodyByte = max(lastBodyByte, .now())
            }
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), unanswered > 0 {
            unanswered -= 1
            if unanswered == 0 && phase == .answering { awaitHead(context: context) }
        }
        context.write(data, promise: promise)
    }

    private func awaitHead(context: ChannelHandlerContext) {
        phase = .awaitingHead
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(deadlines.headSeconds * 1e9))) {
            let (handler, context) = loopBound.value
            guard handler.phase == .awaitingHead else { return }
            context.close(promise: nil)
        }
    }

    /// Checks the body's progress every second while it is read.
    private func watchBody(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .seconds(1)) {
            let (handler, context) = loopBound.value
            guard handler.phase == .readingBody else { return }
            if handler.tooSlow() {
                context.close(promise: nil)
            } else {
                handler.watchBody(context: context)
            }
        }
    }

    private func tooSlow() -> Bool {
        // Parked by admission, or the application not reading: the client is not at fault.
        guard readWanted, let start = windowStart else {
            windowStart = nil
            windowBytes = 0
            return false
        }
        let now = NIODeadline.now()
        if now - lastBodyByte > .nanoseconds(Int64(deadlines.bodyStallSeconds * 1e9)) { return true }
        let elapsed = Double((now - start).nanoseconds) / 1e9
        if elapsed >= deadlines.bodyStallSeconds {
            if Double(windowBytes) / elapsed < deadlines.minBodyBytesPerSecond { return true }
            windowStart = now
            windowBytes = 0
        }
        return false
    }
}
