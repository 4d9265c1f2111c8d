import Foundation
import HTTPAPI
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Bounds how many requests one process works on at once. A request in
/// flight costs ~40 KB (its async frames through the middleware chain and the
/// route, and its body read so far: heaptrack, 2,000 pending uploads), an idle
/// connection ~11 KB; 10,000 uploads at once peaked at 600-890 MB. Beyond
/// `limit`, a request's head is held here, unhandled, and its connection is not
/// read from (the rest of its body waits in the kernel's socket buffer) until
/// a request ends and hands over its place. Long-lived GETs (event streams,
/// long polls) are not counted: a crowd of watchers must not stall the API
/// (they are capped per key instead, `LongRequests`). A request with a body
/// that then waits (`POST /v1/jobs` with `Prefer: wait`) holds a place until
/// its body is in, never while it waits: so slow uploads cannot use `Prefer:
/// wait` to pass the bound.
final class RequestAdmission: Sendable {
    let limit: Int
    private struct State {
        var inFlight = 0
        /// A ring buffer: during a burst thousands wait here, and each place given back takes the oldest.
        var parked = CircularBuffer<(EventLoop, @Sendable () -> Void)>()
    }
    private let state = Mutex(State())

    init(limit: Int) { self.limit = max(1, limit) }

    var inFlight: Int { state.withLock { $0.inFlight } }

    /// Takes a place if there is one: the common case, with nothing allocated.
    func tryEnter() -> Bool {
        state.withLock { state in
            guard state.inFlight < limit else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Takes a place now (true), or parks `resume`, which runs on `loop` once a
    /// place is handed over to it (false).
    func enterOrPark(on loop: EventLoop, _ resume: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            if state.inFlight < limit {
                state.inFlight += 1
                return true
            }
            state.parked.append((loop, resume))
            return false
        }
    }

    /// Gives a place back, or hands it to the oldest parked request.
    func leave() {
        let next = state.withLock { state -> (EventLoop, @Sendable () -> Void)? in
            if state.parked.isEmpty {
                state.inFlight -= 1
                return nil
            }
            return state.parked.removeFirst()
        }
        if let (loop, resume) = next { loop.execute(resume) }
    }

    /// One per connection, after the HTTP codec.
    func handler() -> RequestAdmissionHandler { RequestAdmissionHandler(admission: self) }
}

final class RequestAdmissionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let admission: RequestAdmission
    /// Requests passed on whose response has not ended (more than one when
    /// pipelined), and whether each holds a place.
    private var open: [Bool] = []
    /// A request waiting for a place: its parts so far.
    private var parked: [NIOAny]?
    private var readHeld = false
    /// The request being read waits once its body is in, and gives its place back then.
    private var releaseWhenBodyEnds = false

    init(admission: RequestAdmission) { self.admission = admission }

    /// One socket read per readable event (NIO reads up to 4 by default, into buffers
    /// of 2, 4, 8 and 16 KB): otherwise a parked request's whole small body was read
    /// before `read` could be held, and 10,000 parked 26 KB uploads held ~30 KB each.
    /// Larger bodies lose nothing: the buffer still grows to 64 KB per read.
    func handlerAdded(context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.maxMessagesPerRead, value: 1).whenFailure { _ in }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if parked != nil {
            parked?.append(data)
            return
        }
        let part = unwrapInboundIn(data)
        if case .end = part, releaseWhenBodyEnds {
            // Its body is in: the wait that follows holds no place.
            releaseWhenBodyEnds = false
            if let last = open.indices.last, open[last] {
                open[last] = false
                admission.leave()
            }
        }
        if case let .head(request) = part {
            let waits = JobWait.staysOpen(request)
            let counts = !(waits && (request.method == .get || request.method == .head))
            releaseWhenBodyEnds = waits && counts
            if counts, !admission.tryEnter() {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let admitted = admission.enterOrPark(on: context.eventLoop) {
                    let (handler, context) = loopBound.value
                    handler.admitted(context: context)
                }
                if !admitted {
                    parked = [data]
                    return
                }
            }
            open.append(counts)
        }
        context.fireChannelRead(data)
    }

    /// A place was handed over to the parked request.
    private func admitted(context: ChannelHandlerContext) {
        guard let parts = parked else { return admission.leave() }
        parked = nil
        guard context.channel.isActive else { return admission.leave() }
        open.append(true)
        for part in parts { context.fireChannelRead(part) }
        if releaseWhenBodyEnds, parts.contains(where: { if case .end = unwrapInboundIn($0) { true } else { false } }),
           let last = open.indices.last, open[last] {
            releaseWhenBodyEnds = false
            open[last] = false
            admission.leave()
        }
        context.fireChannelReadComplete()
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if parked != nil {
            readHeld = true
            return
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), !open.isEmpty, open.removeFirst() {
            admission.leave()
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A parked request holds no place yet; when one is handed to it, `admitted` gives it back.
        for counts in open where counts { admission.leave() }
        open.removeAll()
        context.fireChannelInactive()
    }
}
