import HSBWire
import NIOCore

/// Cuts a server connection's bytes into frames and decodes each straight to a request envelope,
/// in one step (NIO's single-step decoder). The length is checked before anything of that size is
/// held; an envelope that does not decode is passed on as such, to be answered, not thrown.
struct RequestFrameDecoder: NIOSingleStepByteToMessageDecoder {
    enum Frame {
        case request(RequestEnvelope)
        case undecodable(WireError)
    }

    typealias InboundOut = Frame

    let framing: FrameDecoder
    let limits: DecodeLimits

    init(maxFrameSize: Int, limits: DecodeLimits) {
        framing = FrameDecoder(maxFrameSize: maxFrameSize)
        self.limits = limits
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        guard let body = try framing.nextFrame(&buffer) else { return nil }
        do {
            return .request(try RequestEnvelope(decoding: body, limits: limits))
        } catch {
            return .undecodable(error)
        }
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 {
            let expected = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self).map { Int($0) + Framing.headerSize }
            throw FrameError.truncatedFrame(received: buffer.readableBytes, expected: expected ?? Framing.headerSize)
        }
        return nil
    }
}
