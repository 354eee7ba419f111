import JustGateCore
import JustGateHTTP
import JustGateReactor
import Logging

/// What the admin endpoints need of an outbox, completion-based because with Redis each is a round trip on
/// the admin loop (`RedisOutboxStore`); the file store answers at once (`OutboxFileStore+Admin`).
protocol OutboxAdminStore: AnyObject {
    /// Up to `limit` entries in `state` (of `site`, when given), oldest first; nil when the outbox cannot be reached.
    func list(state: OutboxEntry.State, site: String?, limit: Int, completion: @escaping ([OutboxEntry]?) -> Void)
    func entry(id: String, completion: @escaping (OutboxLookup) -> Void)
    /// Whether the entry was dead and is pending again; nil when the outbox cannot be reached.
    func retry(id: String, completion: @escaping (Bool?) -> Void)
    /// Retries the dead entries among `ids`, in order; nil when the outbox could not be reached before the
    /// first. One call for many, so a store that answers at once loops instead of nesting a completion per entry.
    func retry(ids: [String], completion: @escaping (BulkRetryOutcome?) -> Void)
    /// Whether the entry was known and is gone; nil when the outbox cannot be reached.
    func drop(id: String, completion: @escaping (Bool?) -> Void)
}

/// What a bulk retry did: the ids made pending again, and whether the outbox became unreachable part-way.
struct BulkRetryOutcome {
    var retried: [String] = []
    var interrupted = false
}

/// The outbox's admin endpoints (issue 25 item 8), on the admin listener behind its token:
/// `GET /outbox?state=pending|dead|delivered[&site=S]` (JSON, oldest first, at most 1,000), `GET /outbox/<id>`,
/// `POST /outbox/<id>/retry` (a dead entry is pending again, due now), `POST /outbox/retry[?site=S]` (every
/// dead entry, or every dead entry of one site: the replay after an outage outlived `max_age_s` or a wrong
/// token made the upstream refuse a day's calls) and `DELETE /outbox/<id>`.
///
/// Entries are shown without their bodies: a body holds the user's e-mail address or phone number, which an
/// operator deciding whether to retry does not need (the upstream's answer and the attempt count say why it
/// died). The juid is shown: it is what the site's own records are keyed by.
///
/// An operator's retry and drop change what reaches the upstream, so each is an audit event (`delivery`,
/// outcome `retried` or `dropped`, `client` the admin peer), in the same chain as the call's deferral and
/// its attempts: a dropped subscription is never silently gone.
///
/// One per admin loop (its store may be that loop's Redis connection); `respond` runs on that loop.
struct OutboxAdmin {
    static let listLimit = 1000
    /// Dead entries one `POST /outbox/retry` retries at most.
    static let bulkRetryLimit = 10_000

    let store: any OutboxAdminStore
    /// Puts a record in the audit chain (false when it could not be queued); nil without an audit log.
    var audit: (@Sendable (AuditRecord) -> Bool)?
    var wallClockMs: @Sendable () -> Int64 = { OutboxFileStore.wallClockMs() }
    /// Where an audit record that could not be queued is reported.
    var logger: Logger?

    /// Answers `method` on `path` (starting with `/outbox`) from `peer` through `respond`; false when the path
    /// is not the outbox's (nothing is answered then).
    func answer(method: String, path: Substring, query: String?, peer: String,
                respond: @escaping (HTTPResponse) -> Void) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.first == "outbox" else { return false }
        let site = query.flatMap { Self.parameter("site", in: $0) }
        if let site, !SiteIDRule.isValid(site) {
            respond(text(400, "site must be a site id from the config (a-z, 0-9, '.', '_', '-'), e.g. ?site=horoscope-daily\n"))
            return true
        }
        switch (method, parts.count) {
        case ("GET", 1), ("HEAD", 1):
            let wanted = query.flatMap { Self.parameter("state", in: $0) } ?? "pending"
            guard let state = OutboxEntry.State(rawValue: wanted) else {
                respond(text(400, "state must be pending, dead or delivered, e.g. /outbox?state=dead\n"))
                return true
            }
            store.list(state: state, site: site, limit: Self.listLimit) { entries in
                guard let entries else { return respond(unreachable) }
                var body: [UInt8] = []
                JSONBytesWriter.appendRaw("{\"entries\":[", to: &body)
                for (index, entry) in entries.enumerated() {
                    if index > 0 { body.append(UInt8(ascii: ",")) }
                    Self.appendSummary(entry, to: &body)
                }
                JSONBytesWriter.appendRaw("]}", to: &body)
                respond(json(body))
            }
        case ("POST", 2) where parts[1] == "retry":
            retryDead(site: site, peer: peer, respond: respond)
        case ("GET", 2), ("HEAD", 2):
            store.entry(id: String(parts[1])) { lookup in
                guard case .found(let entry) = lookup else { return respond(lookup.isUnavailable ? unreachable : notFound) }
                var body: [UInt8] = []
                Self.appendSummary(entry, to: &body)
                respond(json(body))
            }
        case ("POST", 3) where parts[2] == "retry":
            let id = String(parts[1])
            let store = self.store
            store.entry(id: id) { lookup in
                guard case .found(let entry) = lookup else { return respond(lookup.isUnavailable ? unreachable : notFound) }
                store.retry(id: id) { retried in
                    switch retried {
                    case true?:
                        record(entry, id: id, action: "retried", peer: peer)
                        respond(text(200, "retrying \(id): pending again, due now\n"))
                    case false?:
                        respond(text(409, "only a dead entry can be retried; this one is \(entry.state.rawValue)\n"))
                    case nil: respond(unreachable)
                    }
                }
            }
        case ("DELETE", 2):
            // Looked up first for the audit record; an entry that is there but cannot be read (a damaged
            // record in Redis, which the log tells the operator to drop) is dropped all the same.
            let id = String(parts[1])
            let store = self.store
            store.entry(id: id) { lookup in
                guard !lookup.isUnavailable else { return respond(unreachable) }
                let entry: OutboxEntry? = if case .found(let entry) = lookup { entry } else { nil }
                store.drop(id: id) { dropped in
                    switch dropped {
                    case true?:
                        record(entry, id: id, action: "dropped", peer: peer)
                        respond(text(200, "dropped \(id)\n"))
                    case false?: respond(notFound)
                    case nil: respond(unreachable)
                    }
                }
            }
        default:
            respond(text(405, """
                the outbox endpoints are GET /outbox?state=pending|dead|delivered[&site=S], GET /outbox/<id>, \
                POST /outbox/<id>/retry, POST /outbox/retry[?site=S] and DELETE /outbox/<id>
                """ + "\n"))
        }
        return true
    }

    /// Retries the dead entries (of `site`) as they are when the request comes, oldest first, at most
    /// `bulkRetryLimit` of them: an entry that dies again meanwhile (the upstream still refuses) is not retried
    /// twice by one request, and the request ends within a few seconds even on Redis (a round trip or two per
    /// entry). The answer says when more may be dead, so the operator runs it again.
    private func retryDead(site: String?, peer: String, respond: @escaping (HTTPResponse) -> Void) {
        let of = site.map { " of site \($0)" } ?? ""
        store.list(state: .dead, site: site, limit: Self.bulkRetryLimit) { [self] entries in
            guard let entries else { return respond(unreachable) }
            store.retry(ids: entries.map(\.id)) { [self] outcome in
                guard let outcome else { return respond(unreachable) }
                let byID = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                for id in outcome.retried { record(byID[id], id: id, action: "retried", peer: peer) }
                var answer = "retried \(outcome.retried.count) dead entries\(of): pending again, due now"
                if outcome.interrupted {
                    answer += "; then the outbox could not be reached: run it again for the rest"
                    return respond(text(503, answer + "\n"))
                }
                if outcome.retried.count < entries.count {
                    answer += "; \(entries.count - outcome.retried.count) were no longer dead (retried or dropped meanwhile)"
                }
                if entries.count == Self.bulkRetryLimit {
                    answer += "; more may be dead: run it again for the rest"
                }
                respond(text(200, answer + "\n"))
            }
        }
    }

    /// Puts the operator's action in the audit chain; a record the writer refuses (its queue full, or stopped)
    /// is logged, so an unaudited drop is at least in the log.
    private func record(_ entry: OutboxEntry?, id: String, action: String, peer: String) {
        guard let audit else { return }
        let record = DeliveryAudit.operatorRecord(entry, id: id, action: action, peer: peer, nowMs: wallClockMs())
        if !audit(record) {
            logger?.error("an operator's outbox action could not be recorded in the audit log",
                          metadata: ["outbox_entry": .string(id), "action": .string(action), "client": .string(peer)])
        }
    }

    private static func parameter(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&") where pair.hasPrefix(name + "=") {
            return String(pair.dropFirst(name.count + 1))
        }
        return nil
    }

    private static func appendSummary(_ entry: OutboxEntry, to out: inout [UInt8]) {
        JSONBytesWriter.appendRaw("{\"id\":", to: &out)
        JSONBytesWriter.appendQuoted(entry.id, to: &out)
        JSONBytesWriter.appendRaw(",\"site\":", to: &out)
        JSONBytesWriter.appendQuoted(entry.siteID, to: &out)
        JSONBytesWriter.appendRaw(",\"operation\":", to: &out)
        JSONBytesWriter.appendQuoted(entry.operationID, to: &out)
        JSONBytesWriter.appendRaw(",\"juid\":", to: &out)
        JSONBytesWriter.appendQuoted(entry.juid, to: &out)
        JSONBytesWriter.appendRaw(",\"request_id\":", to: &out)
        JSONBytesWriter.appendQuoted(entry.requestID, to: &out)
        JSONBytesWriter.appendRaw(",\"created_at\":", to: &out)
        JSONBytesWriter.appendQuoted(AuditTime.format(unixMillis: entry.createdAtMs), to: &out)
        DeliveryStatus(entry).appendMembers(to: &out)
        JSONBytesWriter.appendRaw(",\"last_failure\":", to: &out)
        if let failure = entry.lastFailure { JSONBytesWriter.appendQuoted(failure, to: &out) } else {
            JSONBytesWriter.appendRaw("null", to: &out)
        }
        JSONBytesWriter.appendRaw("}", to: &out)
    }

    private var unreachable: HTTPResponse {
        text(503, "the outbox cannot be reached (Redis for the outbox is down); try again when it is back\n")
    }

    private var notFound: HTTPResponse { text(404, "no outbox entry with this id (delivered ones are forgotten after a while)\n") }

    private func json(_ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "application/json")], body: body)
    }

    private func text(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8")],
                     body: Array(body.utf8))
    }
}

/// The file store answers the admin endpoints from memory, at once.
extension OutboxFileStore: OutboxAdminStore {
    func list(state: OutboxEntry.State, site: String?, limit: Int, completion: @escaping ([OutboxEntry]?) -> Void) {
        completion(list(state: state, site: site, limit: limit))
    }

    func entry(id: String, completion: @escaping (OutboxLookup) -> Void) {
        completion(entry(id: id).map(OutboxLookup.found) ?? .unknown)
    }

    func retry(id: String, completion: @escaping (Bool?) -> Void) { completion(retry(id: id)) }

    func retry(ids: [String], completion: @escaping (BulkRetryOutcome?) -> Void) {
        completion(BulkRetryOutcome(retried: ids.filter { retry(id: $0) }))
    }

    func drop(id: String, completion: @escaping (Bool?) -> Void) { completion(drop(id: id)) }
}
