import HSBWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("Length-prefixed framing")
struct FramingTests {
    func frame(_ body: [UInt8]) -> ByteBuffer {
        Framing.frame(body, allocator: ByteBufferAllocator())
    }

    @Test func decoderIsProvenByteByByteWholeAndSplit() throws {
        let bodies: [[UInt8]] = [[], [1], Array(0..<200).map(UInt8.init), try Fixtures.request.encoded()]
        var expected: [(ByteBuffer, [ByteBuffer])] = []
        for body in bodies {
            expected.append((frame(body), [ByteBuffer(bytes: body)]))
        }
        // Two frames arriving in one read give two messages.
        var both = frame([7, 7])
        both.writeImmutableBuffer(frame([8]))
        expected.append((both, [ByteBuffer(bytes: [7, 7]), ByteBuffer(bytes: [8])]))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: expected) {
            FrameDecoder(maxFrameSize: 1024)
        }
    }

    @Test func anOversizedLengthIsRefusedBeforeTheBodyArrives() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        var header = ByteBuffer()
        header.writeInteger(UInt32(0x7FFF_FFFF))
        #expect(throws: FrameError.frameTooLarge(length: 0x7FFF_FFFF, limit: 1024)) {
            try channel.writeInbound(header)
        }
        _ = try? channel.finish()
    }

    @Test func aPartialFrameWaitsForMoreBytes() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        var whole = frame([1, 2, 3, 4, 5])
        let first = whole.readSlice(length: 6)!
        try channel.writeInbound(first)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(whole)
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        #expect(try channel.finish().isClean)
    }

    @Test func aStreamEndingInsideAFrameIsATruncatedFrame() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        var partial = frame(Array(repeating: 9, count: 10))
        partial.moveWriterIndex(to: 8)
        try channel.writeInbound(partial)
        #expect(throws: FrameError.truncatedFrame(received: 8, expected: 14)) {
            try channel.finish()
        }
    }

    @Test func theLimitIsInclusive() throws {
        var buffer = frame(Array(repeating: 1, count: 16))
        let exact = FrameDecoder(maxFrameSize: 16)
        #expect(try exact.nextFrame(&buffer)?.readableBytes == 16)
        var over = frame(Array(repeating: 1, count: 17))
        #expect(throws: FrameError.frameTooLarge(length: 17, limit: 16)) { try exact.nextFrame(&over) }
    }
}
