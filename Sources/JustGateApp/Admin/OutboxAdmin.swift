import JustGateCore
import JustGateHTTP
import JustGateReactor

/// What the admin endpoints need of an outbox, completion-based because with Redis each is a round trip on
/// the admin loop (`RedisOutboxStore`); the file store answers at once (`OutboxFileStore+Admin`).
protocol OutboxAdminStore: AnyObject {
    func list(state: OutboxEntry.State, limit: Int, completion: @escaping ([OutboxEntry]?) -> Void)
    func entry(id: String, completion: @escaping (OutboxLookup) -> Void)
    /// Whether the entry was dead and is pending again; nil when the outbox cannot be reached.
    func retry(id: String, completion: @escaping (Bool?) -> Void)
    /// Whether the entry was known and is gone; nil when the outbox cannot be reached.
    func drop(id: String, completion: @escaping (Bool?) -> Void)
}

/// The outbox's admin endpoints (issue 25 item 8), on the admin listener behind its token:
/// `GET /outbox?state=pending|dead|delivered` (JSON, oldest first, at most 1,000), `GET /outbox/<id>`,
/// `POST /outbox/<id>/retry` (a dead entry is pending again, due now) and `DELETE /outbox/<id>`.
///
/// Entries are shown without their bodies: a body holds the user's e-mail address or phone number, which an
/// operator deciding whether to retry does not need (the upstream's answer and the attempt count say why it
/// died). The juid is shown: it is what the site's own records are keyed by.
///
/// One per admin loop (its store may be that loop's Redis connection); `respond` runs on that loop.
struct OutboxAdmin {
    static let listLimit = 1000

    let store: any OutboxAdminStore

    /// Answers `method` on `path` (starting with `/outbox`) through `respond`; false when the path is not
    /// the outbox's (nothing is answered then).
    func answer(method: String, path: Substring, query: String?, respond: @escaping (HTTPResponse) -> Void) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.first == "outbox" else { return false }
        switch (method, parts.count) {
        case ("GET", 1), ("HEAD", 1):
            let wanted = query.flatMap(Self.stateParameter) ?? "pending"
            guard let state = OutboxEntry.State(rawValue: wanted) else {
                respond(text(400, "state must be pending, dead or delivered, e.g. /outbox?state=dead\n"))
                return true
            }
            store.list(state: state, limit: Self.listLimit) { entries in
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
                    case true?: respond(text(200, "retrying \(id): pending again, due now\n"))
                    case false?:
                        respond(text(409, "only a dead entry can be retried; this one is \(entry.state.rawValue)\n"))
                    case nil: respond(unreachable)
                    }
                }
            }
        case ("DELETE", 2):
            let id = String(parts[1])
            store.drop(id: id) { dropped in
                switch dropped {
                case true?: respond(text(200, "dropped \(id)\n"))
                case false?: respond(notFound)
                case nil: respond(unreachable)
                }
            }
        default:
            respond(text(405, """
                the outbox endpoints are GET /outbox?state=pending|dead|delivered, GET /outbox/<id>, \
                POST /outbox/<id>/retry and DELETE /outbox/<id>
                """ + "\n"))
        }
        return true
    }

    private static func stateParameter(_ query: String) -> String? {
        for pair in query.split(separator: "&") where pair.hasPrefix("state=") {
            return String(pair.dropFirst(6))
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
    func list(state: OutboxEntry.State, limit: Int, completion: @escaping ([OutboxEntry]?) -> Void) {
        completion(list(state: state, limit: limit))
    }

    func entry(id: String, completion: @escaping (OutboxLookup) -> Void) {
        completion(entry(id: id).map(OutboxLookup.found) ?? .unknown)
    }

    func retry(id: String, completion: @escaping (Bool?) -> Void) { completion(retry(id: id)) }

    func drop(id: String, completion: @escaping (Bool?) -> Void) { completion(drop(id: id)) }
}
