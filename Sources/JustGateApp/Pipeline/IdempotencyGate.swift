import JustGateCore
import JustGateHTTP
import JustGateUpstream

/// The `Idempotency-Key` step of `profile.create`, between the pipeline's decision to forward and
/// the upstream call.
///
/// Concurrent duplicates: a request whose key is still in flight (the first attempt has not
/// been answered) gets 409 with `Retry-After: 1` rather than waiting for the first, because the
/// first may be on another event loop, or another gateway, and a wait across them would need a
/// wake-up for a case that only a client retrying too eagerly produces. The retry after a second gets
/// the first answer.
///
/// Only upstream answers below 500 are remembered. A 5xx, a timeout or a failed connection leaves
/// nothing to replay, so the key is forgotten and a retry with it is forwarded again.
///
/// With `idempotency.backend: redis` the store's answer comes later, on this loop; while Redis cannot
/// be asked the request gets 503 and is not forwarded: forwarding it unchecked (or checking only this
/// gateway's memory) could create the second profile the key exists to prevent, while a 503 with the
/// same key retried a second later is safe.
struct IdempotencyGate {
    let backend: any IdempotencyBackend

    /// Header that marks an answer as the replay of an earlier one.
    static let replayedHeader = "Idempotent-Replayed"
    /// How long an in-flight mark outlives the call's deadline: a gateway killed mid-call frees the key
    /// after this, as a restart did when keys lived only in memory.
    static let leaseSlackMs: Int64 = 5000

    enum Step {
        /// Forward the call; pass its result to `done` when it ends, or nil when it was never sent (the
        /// client left meanwhile), which forgets the key. The result is the screened answer
        /// (`RelayedAnswer`), so what is stored holds no token.
        case forward(done: (Result<RelayedAnswer, UpstreamFailure>?) -> Void)
        /// Answer the first request's answer instead of calling upstream.
        case replay(IdempotentAnswer)
        /// Refuse the request (409, 422, or 503 when the shared store cannot be asked): thrown by the driver
        /// like every other refusal, so it is rendered and recorded once.
        case refuse(Problem)
    }

    /// Claims `key` for `call`; `then` runs on this loop once, at once (memory) or when Redis answers.
    func begin(key: String, call: UpstreamRequest, siteID: String, then: @escaping (Step) -> Void) {
        let fingerprint = IdempotencyTable.fingerprint(method: call.method, url: String(IdempotencyGate.pathAndQuery(of: call.url)),
                                                       body: call.body)
        let claim = IdempotencyClaim(siteID: siteID, key: key, fingerprint: fingerprint,
                                     leaseMs: Int64(call.timeoutMs ?? 10_000) + IdempotencyGate.leaseSlackMs)
        backend.claim(claim) { [backend] answer in
            switch answer {
            case .decided(.proceed):
                then(.forward(done: { result in
                    var answer: IdempotentAnswer?
                    if case .success(let response)? = result, response.status < 500 {
                        answer = IdempotentAnswer(status: response.status, contentType: response.contentType,
                                                  body: response.body, upstreamTokenRedacted: response.upstreamTokenRedacted)
                    }
                    backend.complete(claim, answer: answer)
                }))
            case .decided(.replay(let answer)):
                then(.replay(answer))
            case .decided(.mismatch):
                then(.refuse(IdempotencyGate.mismatch))
            case .decided(.inProgress):
                then(.refuse(IdempotencyGate.inProgress))
            case .unavailable:
                then(.refuse(IdempotencyGate.storeUnavailable))
            }
        }
    }

    /// The call's URL without its scheme and host: what makes two calls one request is the operation, its
    /// fields and body, not which base URL (`upstream.url`) a gateway reaches the upstream by, so gateways
    /// sharing a Redis with different upstream host names still agree.
    static func pathAndQuery(of url: String) -> Substring {
        guard let scheme = url.range(of: "://") else { return url[...] }
        let rest = url[scheme.upperBound...]
        return rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
    }

    /// A request whose key is still being answered (the first attempt has not ended).
    static let inProgress = Problem(
        .idempotencyConflict,
        detail: "A request with this Idempotency-Key is still being answered; retry in a second to get its answer.",
        headers: [HTTPHeader(name: "Retry-After", value: "1")])

    /// A key used before for a request with other fields.
    static let mismatch = Problem(
        .idempotencyMismatch,
        detail: "This Idempotency-Key was used for a request with other fields; use a new key for a new request.")

    /// The shared store cannot be asked: forwarding unchecked could create a second profile.
    static let storeUnavailable = Problem(
        .unavailable,
        detail: "The shared Idempotency-Key store cannot be reached, so this request was not sent; retry in a second with the same Idempotency-Key.",
        headers: [HTTPHeader(name: "Retry-After", value: "1")], outcome: .upstreamError)

    /// The first request's answer, replayed: `record` says so (outcome, and whether the stored answer was
    /// redacted when it was first relayed).
    static func replay(_ answer: IdempotentAnswer, record: inout RequestRecord) -> HTTPResponse {
        var headers = [HTTPHeader(name: "X-Request-Id", value: record.requestID),
                       HTTPHeader(name: IdempotencyGate.replayedHeader, value: "true")]
        if let contentType = answer.contentType { headers.insert(HTTPHeader(name: "Content-Type", value: contentType), at: 0) }
        record.outcome = .idempotentReplay
        record.upstreamTokenRedacted = answer.upstreamTokenRedacted
        record.status = answer.status
        return HTTPResponse(status: answer.status, headers: headers, body: answer.body)
    }

    /// The key a `profile.create` request carries, or a problem when it is malformed; nil when
    /// there is none. Keys are 1–255 visible ASCII characters (a UUID fits).
    static func key(in head: HTTPRequestHead) throws(Problem) -> String? {
        guard let value = head.value(for: "Idempotency-Key") else { return nil }
        let key = String(value.trimmingASCIISpaces())
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Problem(.badRequest, detail: "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID.")
        }
        return key
    }
}
