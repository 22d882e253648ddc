package import HSBWire
package import NIOCore

/// The state of one server connection, as a pure value: which requests are in flight, when the
/// connection was last active, whether it is draining or closed. Each event returns the action the
/// channel handler must take (dispatch, reply, cancel, close, check again); the handler owns the
/// side effects (tasks, timers, writes) and nothing else. Every transition is unit tested without
/// a socket (`ConnectionStateMachineTests`).
package struct ConnectionStateMachine: Sendable {
    package enum State: Sendable, Hashable {
        /// Serving requests.
        case active
        /// The server is shutting down: requests in flight finish, new ones are refused, and the
        /// connection closes once none is left.
        case draining
        /// Closed: nothing more is done for it.
        case closed
    }

    package private(set) var state: State = .active
    /// The requests in flight, by the caller's request id.
    package private(set) var inFlight: Set<UInt64> = []
    /// When the connection last carried a request that counts as activity (see ``requestFinished``).
    package private(set) var lastActivity: NIODeadline
    package let idleTimeout: TimeAmount
    /// The longest deadline a caller may ask for; longer ones are held to it.
    package static let longestDeadline: TimeAmount = .hours(24)

    package init(now: NIODeadline, idleTimeout: TimeAmount) {
        lastActivity = now
        self.idleTimeout = idleTimeout
    }

    // MARK: Requests

    package enum ReceiveAction: Sendable, Hashable {
        /// Serve it; abandon it at `deadline` when there is one.
        case dispatch(deadline: NIODeadline?)
        /// Answer at once with this status, serving nothing.
        case reject(StatusCode, String)
        /// Nothing: the connection is closed.
        case ignore
    }

    /// A request has been decoded. `timeoutMillis` is the caller's deadline (0: none).
    /// `servedWhileDraining` marks a request a draining server still answers (a health check, so
    /// that a probe on an open connection learns NOT_SERVING rather than nothing).
    package mutating func requestReceived(id: UInt64, timeoutMillis: Int64, servedWhileDraining: Bool = false, now: NIODeadline) -> ReceiveAction {
        switch state {
        case .closed:
            return .ignore
        case .draining where !servedWhileDraining:
            return .reject(.unavailable, "the service is shutting down; retry the request (it is safe to: the idempotency key is kept)")
        case .active, .draining:
            guard !inFlight.contains(id) else {
                return .reject(.invalidArgument, "request_id \(id) is already in flight on this connection")
            }
            inFlight.insert(id)
            guard timeoutMillis > 0 else { return .dispatch(deadline: nil) }
            // Checked: the caller chooses the number; a deadline past a day is held to a day.
            let asked = TimeAmount.milliseconds(timeoutMillis)
            return .dispatch(deadline: now + min(asked, Self.longestDeadline))
        }
    }

    package enum FinishAction: Sendable, Hashable {
        /// Write the reply; then close the connection when `close` is set (a drain's last request).
        case reply(close: Bool)
        /// The connection closed while the work ran: it is finished, and there is no one to tell.
        case discard
        /// The request was already answered (its deadline passed): drop this second answer.
        case drop
    }

    /// A request's work has finished. `countsAsActivity` is false for replies that do not keep a
    /// connection open (an unproven credential, an unknown method).
    package mutating func requestFinished(id: UInt64, countsAsActivity: Bool, now: NIODeadline) -> FinishAction {
        guard inFlight.remove(id) != nil else { return .drop }
        if state == .closed { return .discard }
        if countsAsActivity { lastActivity = now }
        return .reply(close: state == .draining && inFlight.isEmpty)
    }

    package enum DeadlineAction: Sendable, Hashable {
        /// Cancel the work and answer DEADLINE_EXCEEDED; then close when `close` is set.
        case cancelAndReply(close: Bool)
        /// The request has already been answered.
        case none
    }

    /// A request's deadline has passed.
    package mutating func deadlineReached(id: UInt64) -> DeadlineAction {
        guard state != .closed, inFlight.remove(id) != nil else { return .none }
        return .cancelAndReply(close: state == .draining && inFlight.isEmpty)
    }

    // MARK: The connection

    package enum IdleAction: Sendable, Hashable {
        /// Idle for the whole timeout with nothing in flight: close it.
        case close
        /// Check again at this time.
        case checkAgain(at: NIODeadline)
        /// Closed already: no more checks.
        case stop
    }

    /// The idle timer has fired.
    package mutating func idleCheck(now: NIODeadline) -> IdleAction {
        guard state != .closed else { return .stop }
        if !inFlight.isEmpty { return .checkAgain(at: now + idleTimeout) }
        if now - lastActivity >= idleTimeout { return .close }
        return .checkAgain(at: lastActivity + idleTimeout)
    }

    package enum DrainAction: Sendable, Hashable {
        /// Nothing in flight: close now.
        case close
        /// Close when the last request in flight is answered.
        case waitForInFlight
        /// Draining or closed already.
        case none
    }

    /// The server has begun to drain.
    package mutating func drainBegan() -> DrainAction {
        guard state == .active else { return .none }
        state = .draining
        return inFlight.isEmpty ? .close : .waitForInFlight
    }

    /// The connection has closed (either side): the requests still in flight, whose work to
    /// cancel. Each stays in flight until its work ends (``requestFinished`` says `.discard`), so
    /// a draining server waits for the work, not only for the socket.
    package mutating func closed() -> Set<UInt64> {
        guard state != .closed else { return [] }
        state = .closed
        return inFlight
    }
}
