import JustGateCore
import JustGateHTTP

/// The outbox's admin endpoints (issue 25 item 8), on the admin listener behind its token:
/// `GET /outbox?state=pending|dead|delivered` (JSON, oldest first, at most 1,000), `GET /outbox/<id>`,
/// `POST /outbox/<id>/retry` (a dead entry is pending again, due now) and `DELETE /outbox/<id>`.
///
/// Entries are shown without their bodies: a body holds the user's e-mail address or phone number, which an
/// operator deciding whether to retry does not need (the upstream's answer and the attempt count say why it
/// died). The juid is shown: it is what the site's own records are keyed by.
struct OutboxAdmin: Sendable {
    static let listLimit = 1000

    let store: OutboxFileStore

    /// The answer for `method` on `path` (starting with `/outbox`), or nil when the path is not the outbox's.
    func answer(method: String, path: Substring, query: String?) -> HTTPResponse? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.first == "outbox" else { return nil }
        switch (method, parts.count) {
        case ("GET", 1), ("HEAD", 1):
            let wanted = query.flatMap(Self.stateParameter) ?? "pending"
            guard let state = OutboxEntry.State(rawValue: wanted) else {
                return text(400, "state must be pending, dead or delivered, e.g. /outbox?state=dead\n")
            }
            let entries = store.list(state: state, limit: Self.listLimit)
            var body: [UInt8] = []
            JSONBytesWriter.appendRaw("{\"entries\":[", to: &body)
            for (index, entry) in entries.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                Self.appendSummary(entry, to: &body)
            }
            JSONBytesWriter.appendRaw("]}", to: &body)
            return json(body)
        case ("GET", 2), ("HEAD", 2):
            guard let entry = store.entry(id: String(parts[1])) else { return notFound }
            var body: [UInt8] = []
            Self.appendSummary(entry, to: &body)
            return json(body)
        case ("POST", 3) where parts[2] == "retry":
            let id = String(parts[1])
            guard let entry = store.entry(id: id) else { return notFound }
            guard store.retry(id: id) else {
                return text(409, "only a dead entry can be retried; this one is \(entry.state.rawValue)\n")
            }
            return text(200, "retrying \(id): pending again, due now\n")
        case ("DELETE", 2):
            let id = String(parts[1])
            return store.drop(id: id) ? text(200, "dropped \(id)\n") : notFound
        default:
            return text(405, """
                the outbox endpoints are GET /outbox?state=pending|dead|delivered, GET /outbox/<id>, \
                POST /outbox/<id>/retry and DELETE /outbox/<id>
                """ + "\n")
        }
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

    private var notFound: HTTPResponse { text(404, "no outbox entry with this id (delivered ones are forgotten after a while)\n") }

    private func json(_ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "application/json")], body: body)
    }

    private func text(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8")],
                     body: Array(body.utf8))
    }
}
