import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The replay cache's record on disk, so that a signature accepted before a restart is still
/// refused after it.
///
/// Each accepted signature is appended (16 bytes: the second it was signed in and its 8-byte
/// prefix) with one `write(2)` before the request is answered. Two files take turns: when the one
/// being written is older than two windows, the other (whose entries, even from a caller whose
/// clock runs a window ahead, have all left the window) is emptied and becomes the one written. On start both are read, and what is still inside the
/// window is loaded into the cache. A write reaches the kernel before the reply, so it survives the
/// process being killed; it is not synced to the disk per request, so a power failure of the host
/// can lose the last few seconds (docs/SECURITY.md).
public final class ReplayJournal: Sendable {
    struct Entry: Hashable {
        var second: Int64
        var prefix: UInt64
    }

    private struct State {
        var descriptor: Int32
        /// 0 or 1: which file is being written.
        var current: Int
        /// The second the current file was started in.
        var startedSecond: Int64
    }

    private let paths: [String]
    private let windowSeconds: Int64
    private let state: Mutex<State>

    /// Opens (creating, mode 0600) the journal's two files in `folder`, named for `service` (services
    /// may share a data folder).
    public init(folder: String, service: String = "service", windowSeconds: Int64, nowUnixMillis: Int64) throws(JournalError) {
        self.paths = ["\(folder)/\(service).replay-journal.0", "\(folder)/\(service).replay-journal.1"]
        self.windowSeconds = max(windowSeconds, 1)
        let now = nowUnixMillis / 1000
        // Write to the file last written (the larger), so the other keeps the previous window.
        let sizes = paths.map { path -> Int in
            var info = stat()
            return stat(path, &info) == 0 ? Int(info.st_size) : 0
        }
        let current = sizes[1] > sizes[0] ? 1 : 0
        let descriptor = open(paths[current], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw JournalError(path: paths[current], errno: errno) }
        fchmod(descriptor, 0o600)
        self.state = Mutex(State(descriptor: descriptor, current: current, startedSecond: now))
    }

    deinit {
        state.withLock { _ = close($0.descriptor) }
    }

    /// Every entry of both files signed within the window before `nowUnixMillis` (or after it).
    func load(nowUnixMillis: Int64) -> [Entry] {
        let horizon = nowUnixMillis / 1000 - windowSeconds - 1
        var entries: [Entry] = []
        for path in paths {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: 16 * 4096)
            var carry: [UInt8] = []
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                carry += buffer[0..<count]
                var offset = 0
                while carry.count - offset >= 16 {
                    var second: UInt64 = 0
                    var prefix: UInt64 = 0
                    for index in 0..<8 { second = second << 8 | UInt64(carry[offset + index]) }
                    for index in 8..<16 { prefix = prefix << 8 | UInt64(carry[offset + index]) }
                    let entry = Entry(second: Int64(bitPattern: second), prefix: prefix)
                    if entry.second >= horizon { entries.append(entry) }
                    offset += 16
                }
                carry.removeFirst(offset)
            }
        }
        return entries
    }

    /// Appends one accepted signature; false when the write failed (the request is then refused,
    /// since a replay of it could not be recognised after a restart).
    func append(_ entry: Entry, nowUnixMillis: Int64) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 16)
        let second = UInt64(bitPattern: entry.second)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: second >> (56 - 8 * UInt64(index)))
            bytes[8 + index] = UInt8(truncatingIfNeeded: entry.prefix >> (56 - 8 * UInt64(index)))
        }
        return state.withLock { state in
            let now = nowUnixMillis / 1000
            // The other file's entries were written before the current one began; a caller's clock
            // may run up to a window ahead, so they can be signed up to a window after that. Once
            // two windows have passed every one of them is outside the window: it becomes current.
            if now - state.startedSecond > 2 * windowSeconds + 1 {
                let next = 1 - state.current
                let descriptor = open(paths[next], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
                if descriptor >= 0 {
                    close(state.descriptor)
                    state = State(descriptor: descriptor, current: next, startedSecond: now)
                }
            }
            let written = bytes.withUnsafeBytes { write(state.descriptor, $0.baseAddress, 16) }
            return written == 16
        }
    }
}

/// The replay journal could not be opened.
public struct JournalError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot open the replay journal \(path): \(String(cString: strerror(errno)))" }
}
