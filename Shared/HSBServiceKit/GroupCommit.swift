public import HSBRuntime
public import HSBStorage
public import Logging
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// Group commit for a service's store. Writes queue here; one drainer at a time takes everything
/// queued and commits it as one transaction (`RecordStore.performBatch`), so while one batch is
/// being flushed to disk the next one gathers. Each caller is answered only after the commit that
/// holds its write is durable; its own refusal comes back to it alone.
public final class GroupCommitter: Sendable {
    struct Queued {
        let write: RecordStore.Write
        let reply: CheckedContinuation<RecordStore.WriteResult, Never>
    }

    struct State {
        var queue: [Queued] = []
        var draining = false
        var commits: UInt64 = 0
        var writes: UInt64 = 0
        var largestBatch = 0
        var latencySum: Double = 0
        var latencyCount: UInt64 = 0
        var latencyMax: Double = 0
    }

    let store: RecordStore
    let threadPool: NIOThreadPool
    /// The most writes one commit takes; the rest wait for the next.
    public let maxBatch: Int
    private let state = Mutex(State())

    public init(store: RecordStore, threadPool: NIOThreadPool, maxBatch: Int = 256) {
        self.store = store
        self.threadPool = threadPool
        self.maxBatch = max(1, maxBatch)
    }

    /// Commits and writes so far, and the largest batch: writes / commits is how many writes share a flush.
    public var counts: (commits: UInt64, writes: UInt64, largestBatch: Int) {
        state.withLock { ($0.commits, $0.writes, $0.largestBatch) }
    }

    /// Seconds spent committing, and how many commits: their ratio is the mean commit latency.
    public var latency: (sum: Double, count: UInt64) { state.withLock { ($0.latencySum, $0.latencyCount) } }

    /// The longest commit since the last call (a scrape), then forgotten.
    public func takeMaxLatency() -> Double {
        state.withLock { state in
            defer { state.latencyMax = 0 }
            return state.latencyMax
        }
    }

    /// Writes waiting for a commit (not counting a batch being committed now).
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Queues `write` and waits until the commit holding it is durable (or it was refused).
    public func perform(_ write: RecordStore.Write) async -> RecordStore.WriteResult {
        await withCheckedContinuation { reply in
            let startDrainer = state.withLock { state in
                state.queue.append(Queued(write: write, reply: reply))
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startDrainer { startDraining() }
        }
    }

    private func startDraining() {
        Task {
            do {
                try await threadPool.runIfActive { self.drain() }
            } catch {
                // The pool is shutting down: nothing queued was written; each caller hears so.
                let stranded = state.withLock { state in
                    defer {
                        state.queue.removeAll()
                        state.draining = false
                    }
                    return state.queue
                }
                for queued in stranded {
                    queued.reply.resume(returning: .failure(.storage(StorageError(operation: "commit", message: "the service is shutting down"))))
                }
            }
        }
    }

    /// Runs on the thread pool: commits batches until the queue is empty.
    private func drain() {
        while true {
            let batch: [Queued] = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.draining = false
                    return []
                }
                let taken = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(taken.count)
                return taken
            }
            if batch.isEmpty { return }
            let started = ContinuousClock.now
            let results = store.performBatch(batch.map(\.write))
            let took = ContinuousClock.now - started
            let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
            state.withLock { state in
                state.latencySum += seconds
                state.latencyCount += 1
                state.latencyMax = max(state.latencyMax, seconds)
                state.commits += 1
                state.writes += UInt64(batch.count)
                state.largestBatch = max(state.largestBatch, batch.count)
            }
            for (queued, result) in zip(batch, results) { queued.reply.resume(returning: result) }
        }
    }
}

extension ServiceResources {
    /// Runs `body` as one write of the store's group commit and returns its reply: with an
    /// idempotency key, a key the caller used before returns the first reply and writes nothing.
    /// Returns once the write is durable; a refusal throws its own error.
    public func write(
        idempotencyKey: String, caller: String, method: String, now: Int64,
        _ body: @escaping @Sendable (RecordTransaction) throws(RecordStoreError) -> [UInt8]
    ) async throws(RecordStoreError) -> (reply: [UInt8], replayed: Bool) {
        try await committer.perform(RecordStore.Write(idempotencyKey: idempotencyKey, caller: caller, method: method, now: now, body)).get()
    }
}

/// Forgets idempotency keys older than the window (`--idempotency-window`, default 7 days), at
/// start and then hourly, a batch at a time, so the table holds about a window's worth of keys.
public final class IdempotencyPruner: Service, Sendable {
    let store: RecordStore
    let clock: any WallClock
    let window: Duration
    let interval: Duration
    let threadPool: NIOThreadPool
    let logger: Logger

    public init(
        store: RecordStore, windowDays: Int, clock: any WallClock = SystemWallClock(), interval: Duration = .seconds(3600),
        threadPool: NIOThreadPool = .singleton, logger: Logger
    ) {
        self.store = store
        self.clock = clock
        self.window = .seconds(Int64(windowDays) * 86_400)
        self.interval = interval
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Forgets every key older than the window as of now; returns how many.
    @discardableResult
    public func prune() async -> Int {
        let cutoff = clock.nowUnixMillis() - window.components.seconds * 1000
        let store = self.store
        var total = 0
        while true {
            let removed = (try? await threadPool.runIfActive { try store.pruneIdempotency(before: cutoff) }) ?? 0
            total += removed
            if removed < 10_000 { break }
        }
        if total > 0 { logger.info("idempotency keys past the window forgotten", metadata: ["count": "\(total)"]) }
        return total
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) { await self.prune() }
    }
}

/// Runs `work` now and then every `interval` until the service group shuts down (a background
/// job's loop: the idempotency pruner, retention).
func repeatUntilShutdown(every interval: Duration, _ work: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            await work()
            try? await Task.sleep(for: interval)
        }
    }
}
