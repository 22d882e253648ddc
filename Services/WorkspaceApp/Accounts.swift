import Foundation
public import HSBWire
import HummingbirdBcrypt
import Synchronization

/// What a practitioner may do in the workspace. Every role acts only as its account's agency.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// Reads the cases and work of their agency, takes referrals and records events.
    case practitioner
    /// The partnership's operators: the services' health and the outbox, and no case.
    case ops
}

/// A local account: who signs in, for which agency, in which role, with which password.
public struct Account: Sendable, Equatable {
    public let username: String
    public let agency: Agency
    public let role: Role
    /// bcrypt, `$2b$cost$...` (60 characters).
    public let passwordHash: String

    public init(username: String, agency: Agency, role: Role, passwordHash: String) {
        self.username = username
        self.agency = agency
        self.role = role
        self.passwordHash = passwordHash
    }
}

public struct AccountsFileError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The accounts file: one account a line, `username agency role bcrypt-hash`, `#` comments.
/// The file is the deployment's (made by `workspace account add`); a line that is wrong stops the
/// workspace starting, with the line named, rather than leaving someone unable to sign in.
public enum AccountsFile {
    /// Names are lower-case letters, digits, dots, hyphens and underscores, 1-64 characters.
    public static func validUsername(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2e || byte == 0x2d || byte == 0x5f
            }
    }

    static func validHash(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == 0x24, bytes[1] == 0x32, bytes[3] == 0x24, bytes[6] == 0x24 else { return false }
        return [0x61, 0x62, 0x79].contains(bytes[2])
    }

    /// At most this many bytes are read: an accounts file is a few kilobytes.
    public static let maxBytes = 4 << 20

    public static func parse(_ text: String, source: String) throws(AccountsFileError) -> [String: Account] {
        guard text.utf8.count <= maxBytes else { throw AccountsFileError("\(source) is larger than \(maxBytes) bytes") }
        var accounts: [String: Account] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let where_ = "\(source) line \(index + 1)"
            let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count == 4 else {
                throw AccountsFileError("\(where_): expected 'username agency role bcrypt-hash', found \(parts.count) field(s)")
            }
            guard validUsername(parts[0]) else {
                throw AccountsFileError("\(where_): username \(ProtoJSON.quotedExcerpt(parts[0])) must be 1-64 of a-z, 0-9, '.', '-', '_'")
            }
            guard let agency = Agency(name: parts[1]) else {
                throw AccountsFileError("\(where_): \(ProtoJSON.quotedExcerpt(parts[1])) is not an agency of the suite")
            }
            guard let role = Role(rawValue: parts[2]) else {
                throw AccountsFileError(
                    "\(where_): role \(ProtoJSON.quotedExcerpt(parts[2])) is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard validHash(parts[3]) else { throw AccountsFileError("\(where_): the password hash is not a bcrypt hash") }
            guard accounts[parts[0]] == nil else { throw AccountsFileError("\(where_): \(parts[0]) is named twice") }
            accounts[parts[0]] = Account(username: parts[0], agency: agency, role: role, passwordHash: parts[3])
        }
        return accounts
    }

    public static func load(_ path: String) throws(AccountsFileError) -> [String: Account] {
        guard let data = FileManager.default.contents(atPath: path) else { throw AccountsFileError("cannot read the accounts file \(path)") }
        guard let text = String(data: data, encoding: .utf8) else { throw AccountsFileError("\(path) is not UTF-8 text") }
        return try parse(text, source: path)
    }

    /// The line for a new account, its password hashed with bcrypt at `cost`.
    public static func line(username: String, agency: Agency, role: Role, password: String, cost: UInt8) -> String {
        "\(username) \(agency.name) \(role.rawValue) \(Bcrypt.hash(password, cost: cost))"
    }
}

/// Locks a username out after repeated wrong passwords: `limit` failures within `window` lock it
/// for `lockout`, whether or not the account exists (so a lockout says nothing about which names
/// are real). Kept per workspace process.
public final class LoginThrottle: Sendable {
    public struct Policy: Sendable {
        public var limit: Int
        public var window: Int64
        public var lockout: Int64
        public init(limit: Int = 5, windowMillis: Int64 = 15 * 60_000, lockoutMillis: Int64 = 15 * 60_000) {
            self.limit = limit
            self.window = windowMillis
            self.lockout = lockoutMillis
        }
    }

    struct Entry {
        var failures: [Int64] = []
        var lockedUntil: Int64 = 0
    }

    public let policy: Policy
    /// At most this many names are tracked; the oldest are forgotten first.
    static let maxTracked = 100_000
    private let state = Mutex<[String: Entry]>([:])

    public init(policy: Policy = Policy()) { self.policy = policy }

    /// When the name is locked, the time the lock ends.
    public func lockedUntil(_ username: String, now: Int64) -> Int64? {
        state.withLock { entries in
            guard let until = entries[username]?.lockedUntil, until > now else { return nil }
            return until
        }
    }

    /// Records a wrong password; returns when the name is now locked until, if it is.
    @discardableResult
    public func failed(_ username: String, now: Int64) -> Int64? {
        state.withLock { entries in
            if entries.count >= Self.maxTracked, entries[username] == nil {
                let stale = entries.filter { $0.value.lockedUntil <= now && ($0.value.failures.last ?? 0) < now - policy.window }.map(\.key)
                for key in stale { entries[key] = nil }
                if entries.count >= Self.maxTracked { entries.removeAll(keepingCapacity: true) }
            }
            var entry = entries[username] ?? Entry()
            entry.failures = entry.failures.filter { $0 > now - policy.window } + [now]
            if entry.failures.count >= policy.limit {
                entry.lockedUntil = now + policy.lockout
                entry.failures = []
            }
            entries[username] = entry
            return entry.lockedUntil > now ? entry.lockedUntil : nil
        }
    }

    public func succeeded(_ username: String) {
        _ = state.withLock { $0.removeValue(forKey: username) }
    }
}
