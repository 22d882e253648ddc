internal import CProtobufC
internal import HSBProtoC

/// Asks whether a server, or one service it hosts, is serving (`hsb.health.v1.HealthCheckRequest`).
public struct HealthCheckRequest: Sendable, Hashable {
    /// Empty: the whole server.
    public var service: String

    public init(service: String = "") {
        self.service = service
    }
}

extension HealthCheckRequest: WireMessage, CBacked {
    typealias CMessage = Hsb__Health__V1__HealthCheckRequest
    public static let protoName = "hsb.health.v1.HealthCheckRequest"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__health__v1__health_check_request__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__health__v1__health_check_request__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__health__v1__health_check_request__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__health__v1__health_check_request__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.service = try arena.cString(service, field: "\(Self.protoName).service")
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(service: try CCodec.string(m.pointee.service, field: "\(Self.protoName).service"))
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// Whether the server or service is serving (`hsb.health.v1.HealthCheckResponse`).
public struct HealthCheckResponse: Sendable, Hashable {
    public enum ServingStatus: Int32, Sendable, Hashable, CaseIterable {
        case unknown = 0
        case serving = 1
        case notServing = 2
    }

    public var status: ServingStatus

    public init(status: ServingStatus) {
        self.status = status
    }
}

extension HealthCheckResponse: WireMessage, CBacked {
    typealias CMessage = Hsb__Health__V1__HealthCheckResponse
    public static let protoName = "hsb.health.v1.HealthCheckResponse"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__health__v1__health_check_response__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__health__v1__health_check_response__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int {
        hsb__health__v1__health_check_response__pack(m, out)
    }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__health__v1__health_check_response__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.status = Hsb__Health__V1__HealthCheckResponse__ServingStatus(rawValue: UInt32(bitPattern: status.rawValue))
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(status: try CCodec.enumValue(m.pointee.status.rawValue, field: "\(Self.protoName).status"))
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}
