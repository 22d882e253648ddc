import HSBRuntime
import HSBWire
import NIOCore
import Testing

/// Every transition of a server connection, without a socket: the actions the handler is told to take.
@Suite("The connection state machine: requests, deadlines, idle, drain and close")
struct ConnectionStateMachineTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let idle = TimeAmount.seconds(300)

    func machine() -> ConnectionStateMachine { ConnectionStateMachine(now: start, idleTimeout: idle) }

    @Test func aRequestWithoutADeadlineIsDispatchedWithNone() {
        var m = machine()
        #expect(m.requestReceived(id: 1, timeoutMillis: 0, now: start) == .dispatch(deadline: nil))
        #expect(m.inFlight == [1])
        #expect(m.state == .active)
    }

    @Test func aRequestsDeadlineCountsFromReceiptAndIsHeldToADay() {
        var m = machine()
        #expect(m.requestReceived(id: 1, timeoutMillis: 1500, now: start) == .dispatch(deadline: start + .milliseconds(1500)))
        // A caller's Int64.max milliseconds neither traps nor wraps: it is a day.
        #expect(m.requestReceived(id: 2, timeoutMillis: .max, now: start) == .dispatch(deadline: start + .hours(24)))
        // A negative timeout is no deadline, as zero is.
        #expect(m.requestReceived(id: 3, timeoutMillis: -5, now: start) == .dispatch(deadline: nil))
        #expect(m.inFlight == [1, 2, 3])
    }

    @Test func aRequestIDAlreadyInFlightIsRejectedAndTheFirstKeepsGoing() {
        var m = machine()
        _ = m.requestReceived(id: 7, timeoutMillis: 0, now: start)
        #expect(
            m.requestReceived(id: 7, timeoutMillis: 0, now: start)
                == .reject(.invalidArgument, "request_id 7 is already in flight on this connection"))
        #expect(m.inFlight == [7])
        // Once answered, the id may be used again.
        #expect(m.requestFinished(id: 7, countsAsActivity: true, now: start) == .reply(close: false))
        #expect(m.requestReceived(id: 7, timeoutMillis: 0, now: start) == .dispatch(deadline: nil))
    }

    @Test func aFinishedRequestIsRepliedToAndCountsAsActivityOnlyWhenItShould() {
        var m = machine()
        _ = m.requestReceived(id: 1, timeoutMillis: 0, now: start)
        _ = m.requestReceived(id: 2, timeoutMillis: 0, now: start)
        #expect(m.requestFinished(id: 1, countsAsActivity: false, now: start + .seconds(10)) == .reply(close: false))
        #expect(m.lastActivity == start, "an unproven credential or unknown method does not keep a connection open")
        #expect(m.requestFinished(id: 2, countsAsActivity: true, now: start + .seconds(20)) == .reply(close: false))
        #expect(m.lastActivity == start + .seconds(20))
        #expect(m.inFlight.isEmpty)
    }

    @Test func aDeadlineAnswersOnceAndTheLateWorkIsDropped() {
        var m = machine()
        _ = m.requestReceived(id: 1, timeoutMillis: 100, now: start)
        #expect(m.deadlineReached(id: 1) == .cancelAndReply(close: false))
        #expect(m.inFlight.isEmpty)
        #expect(m.requestFinished(id: 1, countsAsActivity: true, now: start + .seconds(1)) == .drop)
        #expect(m.lastActivity == start, "a reply that was never sent is not activity")
        // And a deadline after the reply does nothing.
        _ = m.requestReceived(id: 2, timeoutMillis: 100, now: start)
        _ = m.requestFinished(id: 2, countsAsActivity: true, now: start)
        #expect(m.deadlineReached(id: 2) == .none)
    }

    @Test func anIdleConnectionClosesAfterTheTimeoutAndABusyOneNever() {
        var m = machine()
        #expect(m.idleCheck(now: start + .seconds(100)) == .checkAgain(at: start + idle))
        #expect(m.idleCheck(now: start + idle) == .close)
        _ = m.requestReceived(id: 1, timeoutMillis: 0, now: start)
        #expect(m.idleCheck(now: start + .seconds(400)) == .checkAgain(at: start + .seconds(400) + idle), "work in flight is never idle")
        _ = m.requestFinished(id: 1, countsAsActivity: true, now: start + .seconds(500))
        #expect(m.idleCheck(now: start + .seconds(600)) == .checkAgain(at: start + .seconds(500) + idle))
        #expect(m.idleCheck(now: start + .seconds(800)) == .close)
    }

    @Test func drainingWithNothingInFlightClosesAtOnce() {
        var m = machine()
        #expect(m.drainBegan() == .close)
        #expect(m.state == .draining)
        #expect(m.drainBegan() == .none, "a second drain changes nothing")
    }

    @Test func drainingLetsWorkInFlightFinishRefusesNewWorkAndClosesAfterTheLastReply() {
        var m = machine()
        _ = m.requestReceived(id: 1, timeoutMillis: 0, now: start)
        _ = m.requestReceived(id: 2, timeoutMillis: 50, now: start)
        #expect(m.drainBegan() == .waitForInFlight)
        #expect(
            m.requestReceived(id: 3, timeoutMillis: 0, now: start)
                == .reject(.unavailable, "the service is shutting down; retry the request (it is safe to: the idempotency key is kept)"))
        // A health check is still answered, so a probe learns NOT_SERVING.
        #expect(m.requestReceived(id: 4, timeoutMillis: 0, servedWhileDraining: true, now: start) == .dispatch(deadline: nil))
        #expect(m.requestFinished(id: 4, countsAsActivity: true, now: start) == .reply(close: false))
        #expect(m.requestFinished(id: 1, countsAsActivity: true, now: start) == .reply(close: false))
        #expect(m.deadlineReached(id: 2) == .cancelAndReply(close: true), "the last answer of a drain closes the connection")
    }

    @Test func aClosedConnectionCancelsItsWorkAndCountsItFinishedWhenItEnds() {
        var m = machine()
        _ = m.requestReceived(id: 1, timeoutMillis: 0, now: start)
        _ = m.requestReceived(id: 2, timeoutMillis: 0, now: start)
        #expect(m.closed() == [1, 2])
        #expect(m.state == .closed)
        #expect(m.closed().isEmpty, "closing twice cancels nothing twice")
        #expect(m.requestReceived(id: 3, timeoutMillis: 0, now: start) == .ignore)
        #expect(m.deadlineReached(id: 1) == .none)
        #expect(m.idleCheck(now: start + .seconds(1000)) == .stop)
        #expect(m.drainBegan() == .none)
        #expect(m.requestFinished(id: 1, countsAsActivity: true, now: start) == .discard)
        #expect(m.requestFinished(id: 2, countsAsActivity: true, now: start) == .discard)
        #expect(m.requestFinished(id: 2, countsAsActivity: true, now: start) == .drop)
        #expect(m.inFlight.isEmpty)
    }
}
