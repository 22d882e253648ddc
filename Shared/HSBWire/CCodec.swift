package import CProtobufC
internal import HSBProtoC
package import NIOCore

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Owns every C allocation made while building one message for packing, and frees them all
/// when it goes away: on success and on every error path alike. Allocations are carved first
/// from a block the caller lends (on its stack), then from 4 KiB chunks: a typical message
/// needs no malloc at all.
package final class Arena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var block: UnsafeMutableRawPointer?
    private var blockSize = 0
    private var blockUsed = 0
    static let chunkSize = 4096

    /// An arena that carves `firstBlock` before it mallocs; the block must outlive the arena.
    package init(firstBlock: UnsafeMutableRawBufferPointer) {
        block = firstBlock.baseAddress
        blockSize = firstBlock.count
    }

    deinit {
        for chunk in chunks { free(chunk) }
    }

    package func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let size = Swift.max(1, MemoryLayout<T>.stride * count)
        let alignment = Swift.max(MemoryLayout<T>.alignment, 8)
        var offset = (blockUsed + alignment - 1) & ~(alignment - 1)
        if block == nil || offset + size > blockSize {
            let chunkSize = Swift.max(Self.chunkSize, size + alignment)
            guard let raw = malloc(chunkSize) else { fatalError("out of memory allocating \(chunkSize) bytes") }
            chunks.append(raw)
            block = raw
            blockSize = chunkSize
            offset = 0
        }
        blockUsed = offset + size
        return (block! + offset).bindMemory(to: T.self, capacity: count)
    }

    /// A NUL-terminated copy of `string`; refuses U+0000, which C would silently cut at.
    package func cString(_ string: String, field: @autoclosure () -> String) throws(WireError) -> UnsafeMutablePointer<CChar> {
        if string.isEmpty { return emptyCString }
        var copy = string
        let result: UnsafeMutablePointer<CChar>? = copy.withUTF8 { utf8 in
            if memchr(utf8.baseAddress!, 0, utf8.count) != nil { return nil }
            let pointer = allocate(CChar.self, count: utf8.count + 1)
            memcpy(pointer, utf8.baseAddress!, utf8.count)
            pointer[utf8.count] = 0
            return pointer
        }
        guard let result else { throw .invalidString(field: field(), reason: "contains U+0000 (NUL), which cannot be sent") }
        return result
    }

    package func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        if bytes.isEmpty { return ProtobufCBinaryData(len: 0, data: nil) }
        let pointer = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { _ = memcpy(pointer, $0.baseAddress!, bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: pointer)
    }

    package func strings(
        _ values: [String], field: @autoclosure () -> String
    ) throws(WireError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            array[index] = try cString(value, field: "\(field())[\(index)]")
        }
        return (values.count, array)
    }

    /// A copy of repeated numbers.
    package func scalars<T>(_ values: [T]) -> (Int, UnsafeMutablePointer<T>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(T.self, count: values.count)
        for (index, value) in values.enumerated() { array[index] = value }
        return (values.count, array)
    }

    package func message<M: CBacked>(_ value: M) throws(WireError) -> UnsafeMutablePointer<M.CMessage> {
        let pointer = allocate(M.CMessage.self, count: 1)
        M.cInit(pointer)
        try value.fill(pointer, arena: self)
        return pointer
    }

    package func messages<M: CBacked>(_ values: [M]) throws(WireError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            array[index] = try message(value)
        }
        return (values.count, array)
    }
}

/// One shared empty C string, never freed (protobuf-c's own default for proto3 strings is the same idea).
nonisolated(unsafe) private let emptyCString: UnsafeMutablePointer<CChar> = {
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return pointer
}()

/// A Swift value backed by one generated protobuf-c message type.
package protocol CBacked {
    associatedtype CMessage
    /// The full protobuf name, e.g. `hsb.rpc.v1.Request`.
    static var protoName: String { get }
    static func cInit(_ message: UnsafeMutablePointer<CMessage>)
    static func cPackedSize(_ message: UnsafePointer<CMessage>) -> Int
    static func cPack(_ message: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int
    static func cUnpack(
        _ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ length: Int, _ data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>?
    /// Writes this value into a freshly initialised C message; memory comes from `arena`.
    func fill(_ message: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError)
    /// Reads a value out of an unpacked C message, validating enums, strings and required fields.
    init(c message: UnsafePointer<CMessage>) throws(WireError)
}

nonisolated(unsafe) private let zeroByte: UnsafeMutablePointer<UInt8> = {
    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return pointer
}()

extension CBacked {
    package static var cMessageSize: Int { MemoryLayout<CMessage>.size }
}

/// Every message type of the wire contract.
enum WireSchema {
    static let messageSizes: [Int] = generatedMessageSizes

    /// The largest C struct any message unpacks into.
    static let largestMessageSize: Int = messageSizes.max() ?? 0
}

package enum CCodec {
    package static func encode<M: CBacked>(_ value: M) throws(WireError) -> [UInt8] {
        try packing(value) { message, size in
            if size == 0 { return [] }
            return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                count = M.cPack(message, buffer.baseAddress!)
            }
        }
    }

    /// `value` packed straight into a new buffer as one frame (length prefix, then the message):
    /// no intermediate array.
    package static func encodeFrame<M: CBacked>(_ value: M, allocator: ByteBufferAllocator) throws(WireError) -> ByteBuffer {
        try packing(value) { message, size in
            var buffer = allocator.buffer(capacity: Framing.headerSize + size)
            buffer.writeInteger(UInt32(size), endianness: .big)
            if size > 0 {
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                    M.cPack(message, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            return buffer
        }
    }

    /// Builds `value`'s C message in an arena that starts on the stack and hands it, with its
    /// packed size, to `body`; everything is released when `body` returns.
    private static func packing<M: CBacked, R>(
        _ value: M, _ body: (UnsafeMutablePointer<M.CMessage>, Int) -> R
    ) throws(WireError) -> R {
        // Typed throws all the way down: the value is returned in place, never wrapped in a Result
        // and copied out again (a large message's copy and destroy cost as much as its decode).
        try withUnsafeTemporaryAllocation(byteCount: inlineArenaBytes, alignment: 16) { (block) throws(WireError) -> R in
            let arena = Arena(firstBlock: block)
            let message = try arena.message(value)
            return body(message, M.cPackedSize(message))
        }
    }

    /// Bytes of stack the decoder's arena starts with; most messages need no malloc at all.
    static let inlineArenaBytes = 4096

    package static func decode<M: CBacked>(_ type: M.Type, from bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) -> M {
        let limit = limits.budget(forInputCount: bytes.count)
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(zeroByte)
        try scan(M.self, data: data, count: bytes.count, limits: limits)
        return try withUnsafeTemporaryAllocation(byteCount: inlineArenaBytes, alignment: 16) { (block) throws(WireError) -> M in
            var budget = hsb_alloc_budget()
            var allocator = ProtobufCAllocator()
            return try withUnsafeMutablePointer(to: &budget) { (budget) throws(WireError) -> M in
                try withUnsafeMutablePointer(to: &allocator) { (allocator) throws(WireError) -> M in
                    hsb_budget_allocator_init(allocator, budget, limit, block.baseAddress, block.count)
                    // The arena owns everything unpack allocated: released at once, on every path.
                    defer { hsb_arena_release(budget) }
                    guard let message = M.cUnpack(allocator, bytes.count, data) else {
                        if budget.pointee.refused != 0 {
                            throw .allocationBudgetExceeded(message: M.protoName, budget: limit)
                        }
                        throw .malformed(message: M.protoName, byteCount: bytes.count)
                    }
                    return try M(c: UnsafePointer(message))
                }
            }
        }
    }

    /// Walks the bytes before protobuf-c unpacks them, allocating nothing: a NUL in any string
    /// (which C would cut at), an over-long string, too many entries in a repeated field or
    /// hostile nesting is refused here, naming the field, before any memory is spent on it.
    package static func scan<M: CBacked>(_ type: M.Type, data: UnsafePointer<UInt8>, count: Int, limits: DecodeLimits) throws(WireError) {
        let descriptor = descriptor(of: M.self)
        var result = hsb_scan_result()
        let status = hsb_wire_scan(
            descriptor, data, count, limits.maxRepeatedEntries, limits.maxStringBytes, UInt32(clamping: limits.maxDepth), &result)
        func fieldName() -> String {
            let message = result.message.map { String(cString: $0) } ?? M.protoName
            return result.field.map { "\(message).\(String(cString: $0))" } ?? message
        }
        switch status {
        case HSB_SCAN_OK: return
        case HSB_SCAN_NUL_IN_STRING: throw .invalidString(field: fieldName(), reason: "contains U+0000 (NUL), which is not allowed in text")
        case HSB_SCAN_TOO_MANY_ENTRIES:
            throw .tooManyEntries(field: fieldName(), count: result.count, limit: limits.maxRepeatedEntries)
        case HSB_SCAN_STRING_TOO_LONG: throw .stringTooLong(field: fieldName(), bytes: result.count, limit: limits.maxStringBytes)
        case HSB_SCAN_TOO_DEEP: throw .nestedTooDeeply(message: M.protoName, limit: limits.maxDepth)
        default: throw .malformed(message: M.protoName, byteCount: count)
        }
    }

    /// A wire date that exists in the calendar, within the years the suite accepts.
    static func date(
        _ pointer: UnsafeMutablePointer<Hsb__Common__V1__Date>?, field: @autoclosure () -> String
    ) throws(WireError)
        -> CalendarDate?
    {
        guard let date = try message(CalendarDate.self, pointer) else { return nil }
        if let problem = date.problem { throw .outOfRange(field: field(), reason: problem) }
        return date
    }

    /// A number within the bounds its `.proto` comment declares (`range LO..HI`).
    package static func ranged<T: FixedWidthInteger>(_ value: T, _ bounds: ClosedRange<T>, field: @autoclosure () -> String) throws(WireError) -> T {
        guard bounds.contains(value) else {
            throw .outOfRange(field: field(), reason: "is \(value); it must be between \(bounds.lowerBound) and \(bounds.upperBound)")
        }
        return value
    }

    /// Reads a C string as validated UTF-8.
    package static func string(_ pointer: UnsafePointer<CChar>?, field: @autoclosure () -> String) throws(WireError) -> String {
        guard let pointer else { return "" }
        if pointer.pointee == 0 { return "" }
        guard let string = String(validatingCString: pointer) else {
            throw .invalidString(field: field(), reason: "is not valid UTF-8")
        }
        return string
    }

    package static func strings(
        _ count: Int, _ array: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, field: @autoclosure () -> String
    ) throws(WireError) -> [String] {
        guard count > 0, let array else { return [] }
        var result: [String] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            result.append(try string(array[index], field: "\(field())[\(index)]"))
        }
        return result
    }

    package static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let pointer = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: data.len))
    }

    package static func message<M: CBacked>(_ type: M.Type, _ pointer: UnsafeMutablePointer<M.CMessage>?) throws(WireError) -> M? {
        guard let pointer else { return nil }
        return try M(c: UnsafePointer(pointer))
    }

    package static func messages<M: CBacked>(
        _ type: M.Type, _ count: Int, _ array: UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?, field: @autoclosure () -> String
    ) throws(WireError) -> [M] {
        guard count > 0, let array else { return [] }
        var result: [M] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let element = array[index] else { throw .missingFields(["\(field())[\(index)]"]) }
            result.append(try M(c: UnsafePointer(element)))
        }
        return result
    }

    /// A message member of a oneof: set when the oneof's case says so.
    package static func requiredMessage<M: CBacked>(
        _ type: M.Type, _ pointer: UnsafeMutablePointer<M.CMessage>?, field: @autoclosure () -> String
    )
        throws(WireError) -> M
    {
        guard let value = try message(type, pointer) else { throw .missingFields([field()]) }
        return value
    }

    package static func scalars<T>(_ count: Int, _ array: UnsafeMutablePointer<T>?) -> [T] {
        guard count > 0, let array else { return [] }
        return Array(UnsafeBufferPointer(start: array, count: count))
    }

    /// The generated descriptor of `M`, from an initialised struct (the descriptor globals are C
    /// constants Swift would copy to a temporary).
    package static func descriptor<M: CBacked>(of type: M.Type) -> UnsafePointer<ProtobufCMessageDescriptor>? {
        withUnsafeTemporaryAllocation(of: M.CMessage.self, capacity: 1) { message in
            M.cInit(message.baseAddress!)
            return UnsafeRawPointer(message.baseAddress!).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor
        }
    }

    /// protobuf-c's generic packing, for nested messages (which have no packing functions of their own).
    package static func packedSize<T>(_ message: UnsafePointer<T>) -> Int {
        protobuf_c_message_get_packed_size(UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self))
    }

    package static func pack<T>(_ message: UnsafePointer<T>, _ out: UnsafeMutablePointer<UInt8>) -> Int {
        protobuf_c_message_pack(UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self), out)
    }

    package static func unpack<M: CBacked>(
        _ type: M.Type, _ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ length: Int, _ data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<M.CMessage>? {
        guard let descriptor = descriptor(of: M.self) else { return nil }
        return protobuf_c_message_unpack(descriptor, allocator, length, data).map {
            UnsafeMutableRawPointer($0).assumingMemoryBound(to: M.CMessage.self)
        }
    }

    package static func enumValue<E: RawRepresentable>(_ raw: UInt32, field: @autoclosure () -> String) throws(WireError) -> E
    where E.RawValue == Int32 {
        let value = Int32(bitPattern: raw)
        guard let result = E(rawValue: value) else { throw .enumOutOfRange(field: field(), value: value) }
        return result
    }
}

/// Collects the names of required fields that are unset, and throws them all at once.
package struct RequiredFields {
    private var missing: [String] = []
    private let message: String

    package init(_ message: String) { self.message = message }

    package mutating func require(_ present: Bool, _ field: String) {
        if !present { missing.append("\(message).\(field)") }
    }

    package func check() throws(WireError) {
        if !missing.isEmpty { throw .missingFields(missing) }
    }
}
