import JustGateCore
import JustGateHTTP
import JustGateServer

/// The admin endpoints, on their own listener so they can stay on loopback while sites are served
/// elsewhere: `GET /healthz` (alive), `GET /readyz` (ready to serve, or 503 with the reasons),
/// `GET /metrics` (Prometheus text), `GET /keys` (each site key's last use and expiry, for `justgate sites`),
/// `POST /reload` (as SIGHUP) and the outbox's (`OutboxAdmin`). When a token hash is configured
/// every endpoint demands `Authorization: Bearer <token>`. `POST /reload` refuses what a browser sends
/// (`BrowserRequestGuard`), and no endpoint reads a request body.
final class AdminHandler: HTTPHandler {
    /// What the admin endpoints act on, supplied by the runtime.
    struct Actions: Sendable {
        /// Whether the gateway wants traffic, and what an operator should know either way.
        var readiness: @Sendable () -> Readiness
        /// The Prometheus exposition.
        var metrics: @Sendable () -> [UInt8]
        /// Reloads config and secrets for the admin peer at this address (its audit record names it); the
        /// outcome in words, and whether it was applied.
        var reload: @Sendable (_ peer: String) -> (applied: Bool, message: String)
        /// `GET /keys`: each site key's last use and expiry, as JSON (`SiteKeyUsage.json`).
        var keys: @Sendable () -> [UInt8] = { Array("{\"keys\":[]}".utf8) }
    }

    private let actions: Actions
    private let tokenHash: [UInt8]?
    /// `/outbox…`: the outbox's endpoints on this loop; nil when no site defers anything.
    private let outbox: OutboxAdmin?

    init(actions: Actions, tokenHash: [UInt8]?, outbox: OutboxAdmin? = nil) {
        self.actions = actions
        self.tokenHash = tokenHash
        self.outbox = outbox
    }

    func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
        let head = request.head
        // The outbox answers later when its store is Redis (a round trip on this loop).
        if refusal(head) == nil, let outbox, head.path == "/outbox" || head.path.hasPrefix("/outbox/"),
           outbox.answer(method: head.method, path: head.path, query: head.query, peer: request.remoteAddress,
                         respond: { responder.respond($0) }) {
            return
        }
        responder.respond(answer(head, peer: request.remoteAddress))
    }

    /// Nothing recorded: the admin listener serves operators, not sites, and its requests are no site's traffic
    /// (no request log line, audit record or `justgate_requests_total` count, as for its answered requests).
    func serverAnswered(_ answer: ServerAnswer) {}

    /// No admin endpoint takes a body, so a request that announces one is answered from its head and its
    /// body is never read: a client that announces a body and sends it slowly cannot hold an admin
    /// connection for the body timeout.
    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> HeadScreening {
        if let refused = refusal(head) { return .answer(refused) }
        return .answer(text(413, "The admin endpoints take no request body; send \(ProblemText.excerpt(head.method)) "
                    + "\(ProblemText.excerpt(head.path)) without one (curl -X POST http://ADMIN/reload, no -d).\n"))
    }

    func answer(_ head: HTTPRequestHead, peer: String) -> HTTPResponse {
        if let refused = refusal(head) { return refused }
        let path = head.path
        switch (head.method, path) {
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            return text(200, "ok\n")
        case ("GET", "/readyz"), ("HEAD", "/readyz"):
            let readiness = actions.readiness()
            let notes = readiness.notes.map { "note: \($0)\n" }.joined()
            return readiness.reasons.isEmpty ? text(200, "ready\n" + notes)
                : text(503, readiness.reasons.map { "not ready: \($0)\n" }.joined() + notes)
        case ("GET", "/metrics"), ("HEAD", "/metrics"):
            return HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")],
                                body: actions.metrics())
        case ("GET", "/keys"), ("HEAD", "/keys"):
            return HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "application/json")],
                                body: actions.keys())
        case ("POST", "/reload"):
            let outcome = actions.reload(peer)
            return text(outcome.applied ? 200 : 422, outcome.message + "\n")
        case (_, _) where path == "/outbox" || path.hasPrefix("/outbox/"):
            // With an outbox, `handle` has answered already.
            return text(404, outbox == nil ? "No outbox: no site lists operations in defer (README, \"Store and forward\").\n"
                        : "No admin endpoint here.\n")
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"), (_, "/keys"), (_, "/reload"):
            let allowed = path == "/reload" ? "POST" : "GET, HEAD"
            return text(405, "\(path) takes \(allowed).\n", extra: [HTTPHeader(name: "Allow", value: allowed)])
        default:
            return text(404, "No admin endpoint here; there are /healthz, /readyz, /metrics, /keys, /reload and /outbox.\n")
        }
    }

    /// The refusals that come before any endpoint runs: no admin token, or `POST /reload` from a browser.
    private func refusal(_ head: HTTPRequestHead) -> HTTPResponse? {
        if let tokenHash, !presentsToken(head, hash: tokenHash) {
            return text(401, "Send the admin token as Authorization: Bearer <token>.\n",
                        extra: [HTTPHeader(name: "WWW-Authenticate", value: "Bearer realm=\"justgate-admin\"")])
        }
        if head.method == "POST" || head.method == "DELETE", head.path.hasPrefix("/outbox/"),
           let sign = BrowserRequestGuard.browserSign(head) {
            return text(403, "\(head.method) \(ProblemText.excerpt(String(head.path))) refused: \(sign), so it may come from a "
                        + "web page rather than from you. Use curl (no Origin).\n")
        }
        if head.method == "POST", head.path == "/reload", let sign = BrowserRequestGuard.browserSign(head) {
            return text(403, "POST /reload refused: \(sign), so it may come from a web page rather than from you. "
                        + "Reload with curl -X POST http://ADMIN/reload (no body, no Origin), or send SIGHUP to justgate.\n")
        }
        return nil
    }

    private func presentsToken(_ head: HTTPRequestHead, hash: [UInt8]) -> Bool {
        guard let header = head.value(for: "Authorization") else { return false }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        return SiteKeyTable(hashes: [hash]).match(presentedKey: String(parts[1]), now: 0) == .site(0)
    }

    private func text(_ status: Int, _ body: String, extra: [HTTPHeader] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8")] + extra,
                     body: Array(body.utf8))
    }
}

/// `/readyz`'s answer. Readiness means "send me traffic": it is for a load balancer choosing among gateways,
/// so it turns false only for what is wrong with this gateway (draining, refusing every request for want of
/// Redis or of its audit log), never for a shared upstream that fails for every gateway alike: that would
/// take them all out of rotation at once and replace justgate's own 503 with `Retry-After` by the balancer's
/// error page. What the balancer should not act on is still said, as notes.
struct Readiness: Sendable, Equatable {
    /// Why the gateway is not ready; empty when it is.
    var reasons: [String] = []
    /// Facts shown whether ready or not (the upstream circuit's state).
    var notes: [String] = []
}
