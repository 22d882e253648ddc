internal import CHSBMemory
import HSBWire
public import NIOCore
import Synchronization

/// Bytes of partial frames held across every connection of one server. Each connection reserves
/// the bytes of its frame in progress as they arrive and gives them back when the frame is whole
/// or the connection ends; a reservation past the budget is refused and that connection closed, so
/// many peers each sending most of a large frame cannot pin the server's memory.
public final class BufferBudget: Sendable {
    public let limit: Int
    private let used = Atomic<Int>(0)
    /// Bytes released since the allocator was last asked to return free memory to the system.
    private let releasedSinceTrim = Atomic<Int>(0)

    public init(limit: Int) { self.limit = limit }

    public var inUse: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` from the budget; false (taking nothing) when that would exceed it.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        let after = used.wrappingAdd(bytes, ordering: .relaxed).newValue
        if after > limit {
            used.wrappingSubtract(bytes, ordering: .relaxed)
            return false
        }
        return true
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.wrappingSubtract(bytes, ordering: .relaxed)
        // Large partial frames freed by cut-off peers would otherwise stay in the allocator's
        // arenas; give them back to the system once 16 MiB have been released.
        let released = releasedSinceTrim.wrappingAdd(bytes, ordering: .relaxed).newValue
        if released >= 16 * 1024 * 1024 {
            releasedSinceTrim.store(0, ordering: .relaxed)
            hsb_release_free_memory()
        }
    }
}

/// Logs a kind of event at most once per interval, with how many were not logged in between:
/// a peer that sends a million bad requests writes a handful of lines, not a million.
public final class RateLimitedLog: Sendable {
    private struct Slot {
        var lastLogged: NIODeadline
        var suppressed: Int
    }
    private let interval: TimeAmount
    private let slots = Mutex<[String: Slot]>([:])

    public init(interval: TimeAmount = .seconds(1)) { self.interval = interval }

    /// Calls `log` with the count suppressed since the last line of this kind, or does nothing
    /// when one was logged within the interval.
    public func log(kind: String, now: NIODeadline = .now(), _ log: (_ suppressed: Int) -> Void) {
        let suppressed: Int? = slots.withLock { slots in
            if var slot = slots[kind] {
                if now - slot.lastLogged < interval {
                    slot.suppressed += 1
                    slots[kind] = slot
                    return nil
                }
                let count = slot.suppressed
                slots[kind] = Slot(lastLogged: now, suppressed: 0)
                return count
            }
            if slots.count >= 64 { slots.removeAll() }
            slots[kind] = Slot(lastLogged: now, suppressed: 0)
            return 0
        }
        if let suppressed { log(suppressed) }
    }
}

/// A connection admitted past a limit (the server's, or its peer's) for health checks only:
/// `Health/Check` is answered so that probes and the orchestrator's readiness keep working while
/// the server is full; any other request gets RESOURCE_EXHAUSTED. The connection is closed after
/// `lifetime`.
final class HealthOnlyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: Dispatcher
    private let reason: String
    private let lifetime: TimeAmount
    private let decodeLimits: DecodeLimits
    private var closer: Scheduled<Void>?

    init(dispatcher: Dispatcher, reason: String, lifetime: TimeAmount, decodeLimits: DecodeLimits) {
        self.dispatcher = dispatcher
        self.reason = reason
        self.lifetime = lifetime
        self.decodeLimits = decodeLimits
    }

    func channelActive(context: ChannelHandlerContext) {
        dispatcher.metrics.connectionRefused()
        closer = context.eventLoop.assumeIsolated().scheduleTask(in: lifetime) { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { closer?.cancel() }

    /// On TLS, the agency of the peer's verified certificate (a health check needs none, but a
    /// credential it carries is checked against it).
    private var link: LinkIdentity = .plaintext

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let identified = event as? PeerIdentified else { return context.fireUserInboundEventTriggered(event) }
        switch identified.agency {
        case .success(let agency): link = .certificate(agency)
        case .failure: context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard let request = try? RequestEnvelope(decoding: frame, limits: decodeLimits) else {
            dispatcher.metrics.frameRefused(reason: "undecodable")
            context.close(promise: nil)
            return
        }
        guard request.method == HealthService.check.fullName, let route = dispatcher.route(for: request.method) else {
            reply(
                ResponseEnvelope(
                    requestID: request.requestID, status: .resourceExhausted, message: "\(reason); only health checks are answered; retry later"),
                context: context)
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let dispatcher = self.dispatcher
        let link = self.link
        context.eventLoop.makeFutureWithTask {
            await dispatcher.respond(to: request, route: route, deadline: nil, link: link)
        }.whenSuccess { response in
            let (handler, context) = bound.value
            handler.reply(response, context: context)
        }
    }

    private func reply(_ response: ResponseEnvelope, context: ChannelHandlerContext) {
        guard context.channel.isActive, let frame = try? response.encodedFrame(allocator: context.channel.allocator) else { return }
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
