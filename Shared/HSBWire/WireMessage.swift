public import NIOCore

/// A message of the suite's wire contract: a Swift value in, protobuf bytes out, and back.
///
/// Decoding is safe on hostile bytes: protobuf-c unpacks with an allocator held to a budget
/// tied to the input size, and every failure is a ``WireError`` naming what was wrong.
public protocol WireMessage: Sendable, Hashable {
    /// The full protobuf name, e.g. `hsb.rpc.v1.Request`.
    static var protoName: String { get }
    /// The protobuf encoding of this value. Throws when a string holds U+0000.
    func encoded() throws(WireError) -> [UInt8]
    /// Decodes a value from protobuf bytes, checking enums, UTF-8 and required fields.
    init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError)
}

extension WireMessage {
    @inlinable
    public init(decoding bytes: [UInt8], limits: DecodeLimits = .default) throws(WireError) {
        do {
            self = try bytes.withUnsafeBytes { raw in try Self(decoding: raw, limits: limits) }
        } catch let error as WireError {
            throw error
        } catch {
            preconditionFailure("decoding throws only WireError, not \(error)")
        }
    }

    @inlinable
    public init(decoding buffer: ByteBuffer, limits: DecodeLimits = .default) throws(WireError) {
        do {
            self = try buffer.withUnsafeReadableBytes { raw in try Self(decoding: raw, limits: limits) }
        } catch let error as WireError {
            throw error
        } catch {
            preconditionFailure("decoding throws only WireError, not \(error)")
        }
    }
}
