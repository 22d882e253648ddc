import HSBWire
import NIOCore

/// Closes a connection whose peer starts a frame and does not finish it within `frameTimeout`:
/// a peer trickling a byte at a time would otherwise dodge the idle timeout forever.
///
/// It follows frame boundaries by reading each 4-byte length as the bytes pass, so it costs a
/// few operations per frame, not per byte. Placed before the frame decoder; bytes pass unchanged.
final class SlowPeerGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let frameTimeout: TimeAmount
    private let onTimeout: () -> Void
    /// Header bytes still to come for the frame in progress (4 between frames).
    private var header: [UInt8] = []
    /// Body bytes still to come for the frame in progress.
    private var bodyRemaining = 0
    private var frameStarted: NIODeadline?
    private var check: Scheduled<Void>?
    /// Bytes of the frame in progress that have arrived, as reserved from `budget`.
    private var held = 0
    private let budget: BufferBudget?
    private let onOverBudget: () -> Void
    private var refused = false

    init(frameTimeout: TimeAmount, budget: BufferBudget? = nil, onOverBudget: @escaping () -> Void = {}, onTimeout: @escaping () -> Void) {
        self.frameTimeout = frameTimeout
        self.budget = budget
        self.onOverBudget = onOverBudget
        self.onTimeout = onTimeout
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        budget?.release(held)
        held = 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        let buffer = Self.unwrapInboundIn(data)
        let before = held
        track(buffer)
        if let budget {
            if held > before {
                if !budget.reserve(held - before) {
                    // Nothing of this read goes further: the connection is answered and closed.
                    held = before
                    refused = true
                    onOverBudget()
                    let reply = ResponseEnvelope(
                        requestID: 0, status: .resourceExhausted,
                        message: "the server is holding as many partial frames as it allows; the connection is closed, retry later")
                    if let frame = try? reply.encodedFrame(allocator: context.channel.allocator) {
                        context.writeAndFlush(NIOAny(frame)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                    } else {
                        context.close(promise: nil)
                    }
                    return
                }
            } else if held < before {
                budget.release(before - held)
            }
        }
        if frameStarted != nil && check == nil {
            scheduleCheck(context: context)
        }
        context.fireChannelRead(data)
    }

    private func track(_ buffer: ByteBuffer) {
        var index = buffer.readerIndex
        let end = buffer.writerIndex
        while index < end {
            if bodyRemaining > 0 {
                let take = min(bodyRemaining, end - index)
                bodyRemaining -= take
                index += take
                held += take
                if bodyRemaining == 0 && header.isEmpty {
                    frameStarted = nil
                    held = 0
                }
                continue
            }
            if frameStarted == nil { frameStarted = .now() }
            header.append(buffer.getInteger(at: index, as: UInt8.self)!)
            index += 1
            held += 1
            if header.count == 4 {
                bodyRemaining = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
                header.removeAll(keepingCapacity: true)
                if bodyRemaining == 0 {
                    frameStarted = nil
                    held = 0
                }
            }
        }
    }

    private func scheduleCheck(context: ChannelHandlerContext) {
        guard let started = frameStarted else { return }
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: started + frameTimeout) { [self] in
            self.check = nil
            guard let started = self.frameStarted else { return }
            if NIODeadline.now() >= started + self.frameTimeout {
                self.onTimeout()
                context.close(promise: nil)
            } else {
                self.scheduleCheck(context: context)
            }
        }
    }
}
