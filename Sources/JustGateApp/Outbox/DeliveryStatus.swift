import JustGateCore

/// What `GET /justgate/v1/deliveries/<id>` answers about one deferred call (issue 25 item 3), and the small
/// body of the 202 that defers it.
public struct DeliveryStatus: Sendable, Equatable {
    public var id: String
    public var state: OutboxEntry.State
    public var attempts: Int
    /// Wall-clock milliseconds of the next attempt; nil unless pending.
    public var nextAttemptAtMs: Int64?
    public var upstreamStatus: Int?
    /// The upstream's last body, already screened (`RelayedAnswer.screen`) and cut when it was recorded.
    public var upstreamBody: [UInt8]

    public init(_ entry: OutboxEntry) {
        id = entry.id
        state = entry.state
        attempts = entry.attempts
        nextAttemptAtMs = entry.state == .pending ? entry.nextAttemptAtMs : nil
        upstreamStatus = entry.lastStatus
        upstreamBody = entry.lastBody
    }

    /// The path a site polls for this delivery (the 202's `Location`).
    public static func location(of id: String) -> String { "/justgate/v1/deliveries/" + id }

    /// `{"id", "state", "attempts", "next_attempt_at", "upstream_status", "upstream_body"}`; the body as text
    /// (invalid UTF-8 replaced), null when there is none.
    public var json: [UInt8] {
        var out: [UInt8] = []
        JSONBytesWriter.appendRaw("{\"id\":", to: &out)
        JSONBytesWriter.appendQuoted(id, to: &out)
        appendMembers(to: &out)
        JSONBytesWriter.appendRaw("}", to: &out)
        return out
    }

    /// `,"state":…,"upstream_body":…`: every member but the id, for objects that say more about the entry.
    func appendMembers(to out: inout [UInt8]) {
        JSONBytesWriter.appendRaw(",\"state\":", to: &out)
        JSONBytesWriter.appendQuoted(state.rawValue, to: &out)
        JSONBytesWriter.appendRaw(",\"attempts\":", to: &out)
        JSONBytesWriter.appendInteger(attempts, to: &out)
        JSONBytesWriter.appendRaw(",\"next_attempt_at\":", to: &out)
        if let nextAttemptAtMs {
            JSONBytesWriter.appendQuoted(AuditTime.format(unixMillis: nextAttemptAtMs), to: &out)
        } else {
            JSONBytesWriter.appendRaw("null", to: &out)
        }
        JSONBytesWriter.appendRaw(",\"upstream_status\":", to: &out)
        if let upstreamStatus { JSONBytesWriter.appendInteger(upstreamStatus, to: &out) } else { JSONBytesWriter.appendRaw("null", to: &out) }
        JSONBytesWriter.appendRaw(",\"upstream_body\":", to: &out)
        if upstreamBody.isEmpty {
            JSONBytesWriter.appendRaw("null", to: &out)
        } else {
            JSONBytesWriter.appendQuoted(String(decoding: upstreamBody, as: UTF8.self), to: &out)
        }
    }

    /// The 202's body: `{"id", "state": "pending"}`.
    public static func acceptedJSON(id: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONBytesWriter.appendRaw("{\"id\":", to: &out)
        JSONBytesWriter.appendQuoted(id, to: &out)
        JSONBytesWriter.appendRaw(",\"state\":\"pending\"}", to: &out)
        return out
    }
}
