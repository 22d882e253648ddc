public import NIOCore

/// Why a stream of bytes could not be cut into frames. The connection cannot continue after one.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The length prefix announces more than the configured maximum; nothing of that size was allocated.
    case frameTooLarge(length: Int, limit: Int)
    /// The stream ended inside a frame.
    case truncatedFrame(received: Int, expected: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the maximum frame size of \(limit) bytes"
        case .truncatedFrame(let received, let expected):
            return "connection ended inside a frame: \(received) of \(expected) bytes received"
        }
    }
}

/// The length-prefixed framing: a 4-byte big-endian length, then that many bytes of one message.
public enum Framing {
    /// Bytes taken by the length prefix.
    public static let headerSize = 4
    /// 4 MiB: large enough for any referral with its attachments' metadata, small enough to refuse abuse.
    public static let defaultMaxFrameSize = 4 * 1024 * 1024

    /// Writes `body` as one frame.
    public static func writeFrame(_ body: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(body.count), endianness: .big)
        buffer.writeBytes(body)
    }

    /// A new buffer holding `body` as one frame.
    public static func frame(_ body: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerSize + body.count)
        writeFrame(body, into: &buffer)
        return buffer
    }
}

/// Cuts an inbound byte stream into frame bodies.
///
/// The length is checked against `maxFrameSize` as soon as the 4-byte prefix has arrived, before
/// any buffer of that size exists; a partial frame waits for more bytes.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maxFrameSize: Int

    public init(maxFrameSize: Int = Framing.defaultMaxFrameSize) {
        precondition(maxFrameSize >= 0 && maxFrameSize <= Int(UInt32.max), "maxFrameSize out of range")
        self.maxFrameSize = maxFrameSize
    }

    /// The frame body at the front of `buffer`, if it has all arrived; throws when its length is refused.
    public func nextFrame(_ buffer: inout ByteBuffer) throws(FrameError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        let bodyLength = Int(length)
        guard bodyLength <= maxFrameSize else {
            throw .frameTooLarge(length: bodyLength, limit: maxFrameSize)
        }
        guard buffer.readableBytes >= Framing.headerSize + bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: Framing.headerSize)
        return buffer.readSlice(length: bodyLength)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let expected = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self).map { Int($0) + Framing.headerSize }
            throw FrameError.truncatedFrame(received: buffer.readableBytes, expected: expected ?? Framing.headerSize)
        }
        return .needMoreData
    }
}
