import JustGateCore

/// A deferred call's delivery attempt as an audit record (`event: delivery`, issue 25 item 8), so what became
/// of a 202 is in the same tamper-evident chain as the request that got it: the deferral is that request's
/// record (outcome `deferred`), each attempt that reached a verdict is one of these, linked by `request_id`
/// and by the entry id in `note`. Only what the operator needs to follow the call: never its body (it holds
/// the user's address or phone) and never the token, which the entry does not hold anyway.
enum DeliveryAudit {
    /// The record for one settled attempt, or nil when no attempt was made (the breaker or the in-flight
    /// limit held the entry back: those repeat every second during an outage and would flood the chain).
    static func record(_ entry: OutboxEntry, verdict: DeliveryVerdict, update: OutboxUpdate, nowMs: Int64) -> AuditRecord? {
        if case .retry = verdict, update.attempts == entry.attempts { return nil }
        var record = about(entry, id: entry.id, nowMs: nowMs)
        switch verdict {
        case .delivered: record.outcome = "delivered"
        case .dead: record.outcome = "dead"
        case .retry: record.outcome = "retry"
        }
        record.upstreamStatus = update.lastStatus
        record.reason = update.lastFailure
        record.attempts = update.attempts
        return record
    }

    /// The record for an operator's retry or drop of an entry (`action`: `retried` or `dropped`), from the admin
    /// endpoints: `client` is the admin peer, `reason` `operator`, so a call that will never be delivered, or
    /// one sent again, is accounted for in the chain.
    /// `entry` is nil for an entry dropped while its record could not be read: the id alone is recorded.
    static func operatorRecord(_ entry: OutboxEntry?, id: String, action: String, peer: String, nowMs: Int64) -> AuditRecord {
        var record = about(entry, id: id, nowMs: nowMs)
        record.client = peer
        record.outcome = action
        record.reason = "operator"
        record.upstreamStatus = entry?.lastStatus
        record.attempts = entry?.attempts
        return record
    }

    /// What every delivery event says of its entry: the deferred request it came from and the entry's id.
    private static func about(_ entry: OutboxEntry?, id: String, nowMs: Int64) -> AuditRecord {
        var record = AuditRecord(time: AuditTime.format(unixMillis: nowMs), event: .delivery)
        record.requestID = entry?.requestID
        record.site = entry?.siteID
        record.operation = entry?.operationID
        record.method = entry?.method
        record.note = "outbox entry \(id)"
        return record
    }
}
