import Glibc
import Histogram

/// One timed run: how many operations finished, over how long, and their latencies (HdrHistogram,
/// nanoseconds, three significant digits).
public struct RunResult: Sendable {
    public var operations: Int
    public var seconds: Double
    public var latency: Histogram<UInt64>
    /// CPU time (user + system) this whole process used during the run: client and server alike
    /// when both are in the process. Steadier than a rate on a shared machine.
    public var cpuSeconds: Double = 0

    public var rate: Double { Double(operations) / seconds }
    /// This process's CPU time per operation, in microseconds.
    public var cpuMicrosPerOperation: Double { operations > 0 ? cpuSeconds * 1e6 / Double(operations) : 0 }
    /// The latency at `percentile` (0-100), in microseconds.
    public func micros(_ percentile: Double) -> Double { Double(latency.valueAtPercentile(percentile)) / 1000 }
}

public func newHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// Runs `workers` loops, each making calls back to back, for `seconds`; `call(worker)` is one operation.
public func load(workers: Int, seconds: Double, call: @escaping @Sendable (Int) async throws -> Void) async throws -> RunResult {
    let stop = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    let started = ContinuousClock.now
    let cpuBefore = processCPUSeconds()
    let merged = try await withThrowingTaskGroup(of: (Int, Histogram<UInt64>).self) { tasks in
        for worker in 0..<workers {
            tasks.addTask {
                var histogram = newHistogram()
                var count = 0
                while ContinuousClock.now < stop {
                    let t0 = ContinuousClock.now
                    try await call(worker)
                    _ = histogram.record(nanoseconds(ContinuousClock.now - t0))
                    count += 1
                }
                return (count, histogram)
            }
        }
        var total = 0
        var all = newHistogram()
        for try await (count, histogram) in tasks {
            total += count
            all.add(histogram)
        }
        return (total, all)
    }
    return RunResult(
        operations: merged.0, seconds: secondsOf(ContinuousClock.now - started), latency: merged.1, cpuSeconds: processCPUSeconds() - cpuBefore)
}

/// User + system CPU time of this process so far, every thread included.
public func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

public func nanoseconds(_ duration: Duration) -> UInt64 {
    UInt64(max(0, duration.components.seconds)) * 1_000_000_000 + UInt64(max(0, duration.components.attoseconds / 1_000_000_000))
}

public func secondsOf(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

/// `0.83x`
public func ratio(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)x"
}

/// `12,345`
public func grouped(_ value: Double) -> String {
    let whole = Int(value.rounded())
    let digits = Array(String(abs(whole)))
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return (whole < 0 ? "-" : "") + out
}

/// `1.2` (one decimal)
public func oneDecimal(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
}

/// A contender's rounds, for the medians a table quotes.
public struct Rounds: Sendable {
    public var results: [RunResult] = []
    public init() {}
    public var rate: Double { median(results.map(\.rate)) }
    public var cpuMicrosPerOperation: Double { median(results.map(\.cpuMicrosPerOperation)) }
    public func micros(_ percentile: Double) -> Double { median(results.map { $0.micros(percentile) }) }
}

public func argument(_ index: Int, default value: Double) -> Double {
    CommandLine.arguments.count > index ? Double(CommandLine.arguments[index]) ?? value : value
}
