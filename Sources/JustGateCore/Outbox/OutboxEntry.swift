/// One deferred call in the outbox: everything needed to send it later, and what became of it so far.
///
/// It never holds the upstream token: the site's token is injected at delivery time from the config then
/// in force, so a token rotated while the call waits is used, and a segment file on disk gives away no
/// credential. The request's fields are already validated and normalised: `body` (or the query in `target`)
/// is exactly what the live call would have sent.
public struct OutboxEntry: Sendable, Equatable {
    /// Where an entry stands.
    public enum State: String, Sendable, CaseIterable {
        /// Waiting for its next attempt (or for the entries before it of its site and juid).
        case pending
        /// The upstream answered 2xx.
        case delivered
        /// The upstream said no (a 4xx other than 408 and 429), or `max_age_s` passed: no more attempts
        /// until an operator retries it.
        case dead
    }

    /// The most of the upstream's last answer kept (redacted); enough for its error message.
    public static let maxLastBodyBytes = 2048

    /// Unguessable id, 32 hex digits: the `Location` a site polls, so one site cannot guess another's.
    public var id: String
    /// This outbox's deferral order: entries of one site and juid are delivered in this order.
    public var sequence: UInt64
    public var siteID: String
    public var operationID: String
    /// The user the call is about; empty when the operation has no `juid` field (`utm.update`).
    public var juid: String
    /// Upstream method and path with query, without the base URL (which may change by reload).
    public var method: String
    public var target: String
    public var body: [UInt8]
    public var contentType: String?
    /// The request id of the call that was deferred, sent upstream as `X-Request-Id` on every attempt.
    public var requestID: String
    /// Wall-clock milliseconds when the call was deferred.
    public var createdAtMs: Int64
    /// Attempts made (upstream calls sent or tried; a call the circuit breaker held back is not one).
    public var attempts: Int
    /// Wall-clock milliseconds from which the next attempt may be made.
    public var nextAttemptAtMs: Int64
    public var state: State
    /// The upstream's status on the last attempt that got an answer.
    public var lastStatus: Int?
    /// The upstream's last answer body, screened like every relayed body and cut to `maxLastBodyBytes`.
    public var lastBody: [UInt8]
    /// Why the last attempt got no answer (an `UpstreamFailureReason` word such as `connect_refused`), or why
    /// the entry died (`max_age`).
    public var lastFailure: String?

    public init(id: String, sequence: UInt64, siteID: String, operationID: String, juid: String, method: String,
                target: String, body: [UInt8], contentType: String?, requestID: String, createdAtMs: Int64) {
        self.id = id
        self.sequence = sequence
        self.siteID = siteID
        self.operationID = operationID
        self.juid = juid
        self.method = method
        self.target = target
        self.body = body
        self.contentType = contentType
        self.requestID = requestID
        self.createdAtMs = createdAtMs
        self.attempts = 0
        self.nextAttemptAtMs = createdAtMs
        self.state = .pending
        self.lastStatus = nil
        self.lastBody = []
        self.lastFailure = nil
    }

    /// The calls that must not overtake each other: one site's calls about one user. A call without a juid
    /// (`utm.update`) is ordered with no other: all of a site's would otherwise share one key, drain one per
    /// round trip, and make every live `utm.update` wait behind any pending one.
    public var orderKey: OutboxOrderKey {
        OutboxOrderKey(siteID: siteID, juid: juid, unorderedEntryID: juid.isEmpty ? id : "")
    }

    /// What the entry counts against `outbox.max_bytes`: its bytes plus a fixed allowance for the rest.
    public var accountedBytes: Int {
        256 + body.count + target.utf8.count + lastBody.count + siteID.utf8.count + operationID.utf8.count
            + juid.utf8.count + requestID.utf8.count + (contentType?.utf8.count ?? 0)
    }

    /// Applies a recorded change (an attempt's result, a retry or a delivery).
    public mutating func apply(_ update: OutboxUpdate) {
        state = update.state
        attempts = update.attempts
        nextAttemptAtMs = update.nextAttemptAtMs
        lastStatus = update.lastStatus
        lastBody = update.lastBody
        lastFailure = update.lastFailure
    }
}

/// The key deliveries are ordered by: a later call of one site about one user never overtakes an earlier one
/// (a subscribe deferred during an outage, then an unsubscribe, must reach the upstream in that order).
public struct OutboxOrderKey: Hashable, Sendable {
    public var siteID: String
    public var juid: String
    /// An entry without a juid is a key of its own (nothing waits behind it); empty otherwise.
    public var unorderedEntryID: String

    public init(siteID: String, juid: String, unorderedEntryID: String = "") {
        self.siteID = siteID
        self.juid = juid
        self.unorderedEntryID = unorderedEntryID
    }
}

/// A change of an entry's delivery state, as the backends record it (the entry itself is written once).
public struct OutboxUpdate: Sendable, Equatable {
    public var id: String
    public var state: OutboxEntry.State
    public var attempts: Int
    public var nextAttemptAtMs: Int64
    public var lastStatus: Int?
    public var lastBody: [UInt8]
    public var lastFailure: String?

    public init(id: String, state: OutboxEntry.State, attempts: Int, nextAttemptAtMs: Int64, lastStatus: Int? = nil,
                lastBody: [UInt8] = [], lastFailure: String? = nil) {
        self.id = id
        self.state = state
        self.attempts = attempts
        self.nextAttemptAtMs = nextAttemptAtMs
        self.lastStatus = lastStatus
        self.lastBody = lastBody
        self.lastFailure = lastFailure
    }
}
