@preconcurrency import Crypto
import Foundation
public import HSBWire
import Synchronization

/// A shared secret for one calling agency: at least 32 random bytes.
public struct AgencySecret: Sendable, Hashable {
    public static let minimumLength = 32
    public let bytes: [UInt8]

    /// A secret from its hex form (64 hex digits or more); nil when malformed or too short.
    public init?(hex: String) {
        let text = hex.trimmingWhitespace()
        guard text.count % 2 == 0, text.count / 2 >= Self.minimumLength else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.bytes = bytes
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count >= Self.minimumLength, "a secret needs at least \(Self.minimumLength) bytes")
        self.bytes = bytes
    }

    /// A new random secret from the system's cryptographic generator.
    public static func random() -> AgencySecret {
        AgencySecret(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    public var hex: String { bytes.hexString }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

/// A secret as an HMAC-SHA256 key (swift-crypto), shared by every request it signs or checks.
/// The keyed state is made once and copied per message (HMAC is a value type), and each message
/// is gathered into one buffer and fed in one update: re-keying and a dozen small generic updates
/// per request cost about 15 µs each side.
final class HMACKey: Sendable {
    private let keyed: HMAC<SHA256>

    convenience init(_ secret: AgencySecret) { self.init(keyBytes: secret.bytes) }

    /// Any key length, as HMAC allows (a secret's own minimum is enforced by ``AgencySecret``).
    init(keyBytes: [UInt8]) { keyed = HMAC<SHA256>(key: SymmetricKey(data: keyBytes)) }

    /// The MAC of the concatenation of what `body` appends.
    func mac(sizeHint: Int, _ body: (_ append: (UnsafeRawBufferPointer) -> Void) -> Void) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(sizeHint)
        body { bytes in message.append(contentsOf: bytes) }
        var hmac = keyed
        hmac.update(data: message)
        return Array(hmac.finalize())
    }
}

/// What a credential's signature covers: every field of the request but the signature, each
/// length-prefixed so that no two different requests share the signed bytes.
enum CanonicalRequest {
    static func signature(
        _ request: RequestEnvelope, agency: Agency, user: String, signedAt: Int64, acting: RelayedActor?, key: HMACKey
    ) -> [UInt8] {
        key.mac(sizeHint: 128 + request.method.utf8.count + request.idempotencyKey.utf8.count + request.purpose.utf8.count + request.payload.count) {
            update in
            func field(_ bytes: UnsafeRawBufferPointer) {
                withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { update($0) }
                update(bytes)
            }
            func field(_ string: String) {
                var copy = string
                copy.withUTF8 { field(UnsafeRawBufferPointer($0)) }
            }
            func field(_ value: UInt64) {
                withUnsafeBytes(of: value.bigEndian) { update($0) }
            }
            field("hsb.rpc.v1/hmac-sha256")
            field(request.requestID)
            field(request.method)
            field(UInt64(bitPattern: request.timeoutMillis))
            field(request.idempotencyKey)
            field(request.purpose)
            field(UInt64(UInt32(bitPattern: agency.rawValue)))
            field(user)
            field(UInt64(bitPattern: signedAt))
            request.payload.withUnsafeBytes { field($0) }
            // A relayed act signs for whom it is relayed (absent fields add nothing, so a request
            // that relays nothing signs as it always did).
            if let acting {
                field("acting")
                field(UInt64(UInt32(bitPattern: acting.agency.rawValue)))
                field(acting.user)
                if let proof = acting.proof, let bytes = try? proof.encoded() {
                    field("act-proof")
                    bytes.withUnsafeBytes { field($0) }
                }
            }
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count, !a.isEmpty else { return false }
        // Every byte is compared whatever the first difference: no timing tells how much matched.
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// Signs outgoing requests as one agency.
public struct RequestSigner: Sendable {
    public let agency: Agency
    public let user: String
    /// Nil on mutually authenticated TLS, where the link proves the agency and nothing is signed.
    private let key: HMACKey?
    private let clock: any WallClock

    public init(agency: Agency, secret: AgencySecret, user: String = "", clock: any WallClock = SystemWallClock()) {
        self.agency = agency
        self.key = HMACKey(secret)
        self.user = user
        self.clock = clock
    }

    /// A credential for a mutually authenticated TLS link: the agency (which must be the one the
    /// client certificate names), the person and any relayed actor, with no signature.
    public init(agency: Agency, user: String = "", clock: any WallClock = SystemWallClock()) {
        self.agency = agency
        self.key = nil
        self.user = user
        self.clock = clock
    }

    /// Sets `request.credential` to a fresh signature over the request as it stands; `acting`
    /// names the agency and person an act is relayed for; `user` names the person for this
    /// request instead of the signer's own.
    public func sign(_ request: inout RequestEnvelope, acting: RelayedActor? = nil, user: String? = nil) {
        let user = user ?? self.user
        let now = clock.nowUnixMillis()
        request.credential = Credential(
            agency: agency, user: user, signedAtUnixMillis: now,
            signature: key.map { CanonicalRequest.signature(request, agency: agency, user: user, signedAt: now, acting: acting, key: $0) } ?? [],
            actingAgency: acting?.agency ?? .unspecified, actingUser: acting?.user ?? "", actProof: acting?.proof)
    }
}

/// Who may call a method.
public enum AccessPolicy: Sendable, Hashable {
    /// No credential needed (health checks).
    case anyone
    /// Any agency whose secret this service holds.
    case anyAuthenticated
    /// Only these agencies.
    case agencies(Set<Agency>)

    func permits(_ agency: Agency) -> Bool {
        switch self {
        case .anyone, .anyAuthenticated: true
        case .agencies(let set): set.contains(agency)
        }
    }

    /// Whether `agency` may do this itself, as a relayed act's actor (a relaying agency is no actor).
    func permitsDirectly(_ agency: Agency) -> Bool {
        agency != .orchestrator && permits(agency)
    }
}

/// The caller a request was proven to come from.
public struct AuthenticatedCaller: Sendable, Hashable {
    public var agency: Agency
    public var user: String
    /// For a relayed act: the agency and person it is relayed for, already authorised for the
    /// method by the same policy as a direct call.
    public var actingFor: RelayedActor?

    public init(agency: Agency, user: String, actingFor: RelayedActor? = nil) {
        self.agency = agency
        self.user = user
        self.actingFor = actingFor
    }

    /// The agency the act is done for: the relayed actor's, or the caller's own.
    public var actingAgency: Agency { actingFor?.agency ?? agency }
}

/// Checks credentials: a known agency, a valid signature, a timestamp inside the window, and a
/// signature not seen before within that window.
public final class Authenticator: Sendable {
    /// The agencies whose secret this service holds.
    public let agencies: Set<Agency>
    /// Agencies that may relay an act for another agency.
    public static let relayers: Set<Agency> = [.orchestrator]
    private var relayers: Set<Agency> { Self.relayers }
    private let keys: [Agency: HMACKey]
    /// How far a signing time may be from this service's clock, either way.
    public let window: Duration
    private let clock: any WallClock
    private let seen = Mutex<ReplayCache>(ReplayCache())
    /// Where accepted signatures are recorded so that a restart does not forget them; nil keeps
    /// them in memory only (tests, and callers that accept replays across restarts).
    private let journal: ReplayJournal?

    /// Where the CAs that sign agencies' act certificates come from: a relayed act must carry its
    /// agency's own signature (``ActSignature``) when this is set (a service on mutual TLS).
    /// Nil on plaintext (loopback development): the orchestrator's word is taken.
    public let actTrust: TLSMaterial?

    /// A relayed act's proof that its agency did it, when this service requires one: checked
    /// against the act as it arrived (method and payload) and the relayed actor.
    public func verifyRelayedAct(_ request: RequestEnvelope, caller: AuthenticatedCaller) async throws(RPCError) {
        guard let actTrust, let actor = caller.actingFor else { return }
        try await ActSignature.verify(
            actor.proof, actor: actor, caseID: nil, method: request.method, payload: request.payload, trusted: actTrust.trustedCAs,
            now: Date(timeIntervalSince1970: Double(clock.nowUnixMillis()) / 1000))
    }

    /// The window in milliseconds, clamped to a day so that no arithmetic on it can overflow.
    private let windowMillis: Int64

    public init(
        secrets: [Agency: AgencySecret], window: Duration = .seconds(300), clock: any WallClock = SystemWallClock(), journal: ReplayJournal? = nil,
        actTrust: TLSMaterial? = nil
    ) {
        self.actTrust = actTrust
        self.journal = journal
        self.agencies = Set(secrets.keys)
        self.keys = secrets.mapValues { HMACKey($0) }
        self.window = window
        let seconds = min(max(window.components.seconds, 0), 86_400)
        self.windowMillis = seconds * 1000 + min(window.components.attoseconds / 1_000_000_000_000_000, 999)
        if let journal {
            let now = clock.nowUnixMillis()
            let windowMillis = self.windowMillis
            seen.withLock { cache in
                for entry in journal.load(nowUnixMillis: now) { _ = cache.insert(entry, windowMillis: windowMillis, now: now) }
            }
        }
        self.clock = clock
    }

    /// The proven caller, or UNAUTHENTICATED naming what is wrong. Policy `.anyone` passes with or
    /// without a credential (a credential that is present must still be valid).
    ///
    /// On a mutually authenticated TLS link (`link` is `.certificate`), the caller is the agency
    /// the verified certificate names: the credential must name the same agency (it carries the
    /// person, the purpose and any relayed actor) and no per-request signature is needed, since
    /// TLS already proves where each byte came from and that none was replayed. On a plaintext
    /// link the credential's HMAC is checked as before.
    public func authenticate(
        _ request: RequestEnvelope, policy: AccessPolicy, link: LinkIdentity = .plaintext
    ) throws(RPCError) -> AuthenticatedCaller? {
        guard let credential = request.credential else {
            if policy == .anyone { return nil }
            throw RPCError(.unauthenticated, "request \(request.method) carries no credential; sign it with your agency's secret")
        }
        let acting: RelayedActor? =
            credential.actingAgency == .unspecified && credential.actingUser.isEmpty
            ? nil : RelayedActor(agency: credential.actingAgency, user: credential.actingUser, proof: credential.actProof)
        switch link {
        case .certificate(let agency):
            guard credential.agency == agency else {
                throw RPCError(
                    .unauthenticated,
                    "the request is signed as \(credential.agency.name) but the connection's certificate is \(agency.name)'s; an agency acts only as itself"
                )
            }
        case .plaintext:
            try checkSignature(request, credential: credential, acting: acting)
        }
        guard policy.permits(credential.agency) else {
            throw RPCError(.permissionDenied, "agency \(credential.agency.name) may not call \(request.method)")
        }
        if let acting {
            // Only the orchestrator relays acts; the act is authorised for the agency that did it,
            // by the same policy a direct call meets (no agency gains through the orchestrator
            // what it would be refused directly).
            guard relayers.contains(credential.agency) else {
                throw RPCError(.permissionDenied, "agency \(credential.agency.name) may not relay acts for another agency")
            }
            guard acting.agency != .unspecified, acting.agency != credential.agency, policy.permitsDirectly(acting.agency) else {
                throw RPCError(
                    .permissionDenied, "agency \(acting.agency.name) may not do \(request.method), directly or through \(credential.agency.name)")
            }
        }
        return AuthenticatedCaller(agency: credential.agency, user: credential.user, actingFor: acting)
    }

    /// A plaintext link's proof: the HMAC over the request with the agency's secret, a signing
    /// time inside the window, and a signature not seen before.
    private func checkSignature(_ request: RequestEnvelope, credential: Credential, acting: RelayedActor?) throws(RPCError) {
        guard let key = keys[credential.agency] else {
            throw RPCError(.unauthenticated, "agency \(credential.agency.name) has no credential registered with this service")
        }
        // Nothing is computed from the credential's numbers until its signature has been checked,
        // and then only with checked arithmetic: a hostile signing time is a refusal, never a trap.
        guard credential.signature.count == 32 else {
            throw RPCError(.unauthenticated, "signature is \(credential.signature.count) bytes; an HMAC-SHA256 signature is 32")
        }
        let expected = CanonicalRequest.signature(
            request, agency: credential.agency, user: credential.user, signedAt: credential.signedAtUnixMillis, acting: acting, key: key)
        guard CanonicalRequest.constantTimeEqual(expected, credential.signature) else {
            throw RPCError(.unauthenticated, "signature does not match for agency \(credential.agency.name); check the shared secret")
        }
        let now = clock.nowUnixMillis()
        let windowMillis = self.windowMillis
        let (skew, overflow) = credential.signedAtUnixMillis.subtractingReportingOverflow(now)
        guard !overflow, skew.magnitude <= UInt64(windowMillis) else {
            throw RPCError(
                .unauthenticated,
                overflow
                    ? "request signing time is outside any window; the window is \(windowMillis / 1000)s (check the caller's clock)"
                    : "request signed \(skew / 1000)s from this service's clock; the window is \(windowMillis / 1000)s (check the caller's clock)")
        }
        let entry = ReplayJournal.Entry(second: credential.signedAtUnixMillis / 1000, prefix: ReplayCache.prefix(credential.signature))
        let fresh = seen.withLock { $0.insert(entry, windowMillis: windowMillis, now: now) }
        guard fresh else {
            throw RPCError(.unauthenticated, "request replayed: this signature was already used")
        }
        if let journal, !journal.append(entry, nowUnixMillis: now) {
            throw RPCError(.unavailable, "the service cannot record the request against replay; retry later")
        }
    }
}

/// How the link a request came over identifies its sender.
public enum LinkIdentity: Sendable, Hashable {
    /// No identity from the link (plaintext TCP, or in-process): the credential's signature proves it.
    case plaintext
    /// Mutual TLS: the agency the verified client certificate names.
    case certificate(Agency)
}

/// Signatures seen within the replay window, grouped by the second they were signed in so that
/// a whole second is forgotten at once when it leaves the window: O(1) per request.
///
/// Each signature is kept as its first 8 bytes: an HMAC-SHA256 output is uniform, so two
/// different requests share a prefix with negligible probability.
struct ReplayCache {
    private var seconds: [Int64: Set<UInt64>] = [:]
    private var oldest: Int64 = .max

    static func prefix(_ signature: [UInt8]) -> UInt64 {
        var prefix: UInt64 = 0
        for byte in signature.prefix(8) { prefix = prefix << 8 | UInt64(byte) }
        return prefix
    }

    /// Records `signature`, signed at `signedAt`; false when it was seen before.
    mutating func insert(_ signature: [UInt8], signedAt: Int64, windowMillis: Int64, now: Int64) -> Bool {
        insert(ReplayJournal.Entry(second: signedAt / 1000, prefix: Self.prefix(signature)), windowMillis: windowMillis, now: now)
    }

    /// Records a signature (its second and prefix); false when it was seen before.
    mutating func insert(_ entry: ReplayJournal.Entry, windowMillis: Int64, now: Int64) -> Bool {
        let horizon = (now - windowMillis) / 1000 - 1
        if oldest < horizon {
            seconds = seconds.filter { $0.key >= horizon }
            oldest = seconds.keys.min() ?? .max
        }
        oldest = min(oldest, entry.second)
        return seconds[entry.second, default: []].insert(entry.prefix).inserted
    }

    var count: Int { seconds.values.reduce(0) { $0 + $1.count } }
}
