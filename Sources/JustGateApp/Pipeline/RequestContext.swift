import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream
import W3CTraceContext

/// The phases of one request, in the order `RequestDriver` runs them. A phase either passes the request
/// on (to `following`), ends it (an answer or a thrown `Problem`), or waits for an answer that arrives
/// later on the loop and is then entered again with that answer in the `RequestContext`. Every request
/// leaves through the driver's one exit (`RequestDriver.finish`), which records it: log line, audit record,
/// metrics.
enum RequestPhase {
    /// From the head alone: the trace, authentication (site, key, request ids) and the route (operation,
    /// path parameter). For a request with a body this runs before the body is invited or read.
    case screen
    /// The `Idempotency-Key` of an operation that takes one, then the fields: decoded and validated.
    case validate
    /// The site's rate-limit policies for the operation. Waits when the limiter is shared (Redis).
    case limit
    /// The canonical upstream call, rebuilt from the validated fields.
    case build
    /// The `Idempotency-Key` claim (`IdempotencyGate`): may answer with a replay, 409 or 422 instead.
    case idempotency
    /// Defers the call without calling upstream when the site asked (`Prefer: respond-async`) or earlier calls
    /// of its user wait in the outbox (`RequestDriver+Deferral.swift`). Waits for the entry to be durable.
    case deferInstead
    /// The upstream call. Waits for its answer.
    case forward
    /// Defers a call the upstream could not take now (circuit open, unreachable, 502/503/504, …). Waits.
    case deferOnFailure
    /// The upstream's answer (or failure) turned into the site's answer.
    case relay
    /// `GET /justgate/v1/deliveries/<id>`: the state of a deferred call, answered by the gateway itself.
    case deliveryStatus

    /// The phase after this one; `relay` ends every request that gets this far.
    var following: RequestPhase {
        switch self {
        case .screen: .deliveryStatus
        case .deliveryStatus: .validate
        case .validate: .limit
        case .limit: .build
        case .build: .idempotency
        case .idempotency: .deferInstead
        case .deferInstead: .forward
        case .forward: .deferOnFailure
        case .deferOnFailure, .relay: .relay
        }
    }
}

/// Everything one request has learned so far, made once (by the screen for a request with a body, by
/// `handle` otherwise) and carried through every phase to the exit, so no phase recomputes what an
/// earlier one found: one snapshot of the config, one key hash, one route match, one record.
///
/// A class: one allocation per request, handed from phase to phase (and from the screen through the
/// connection to `handle`) as one reference, and the record inside it is written in place, never copied
/// between phases. Confined to the loop that made it.
final class RequestContext {
    /// The phase to run next (or, while waiting, the phase waiting for its answer).
    var phase: RequestPhase = .screen
    /// A phase returned `.wait` and its answer has not arrived yet (`RequestDriver.resume`).
    var isWaiting = false
    /// The config the request is served under, read once: a reload while the request is in flight does not
    /// change it halfway.
    let gateway: GatewayContext
    let head: HTTPRequestHead
    var body: [UInt8] = []
    /// What the log line, the audit record and the metrics are written from.
    var record: RequestRecord

    /// Filled by `screen`: the authenticated site and key (indices into `gateway`), the operation and its
    /// path parameter, the trace. Indices, not copies: a site or an operation is a struct of many references,
    /// so phases read the one field they need through `gateway`.
    var siteIndex = 0
    var keyIndex = 0
    var operationIndex = 0
    var pathParameter: String?
    var trace: TraceContext?
    /// Filled by `validate`.
    var fields: ValidatedRequest?
    /// Filled by `build`.
    var call: UpstreamRequest?

    /// The answers waiting phases wait for, set when they arrive.
    var quotaAnswer: QuotaGate.Answer?
    var upstreamResult: Result<RelayedAnswer, UpstreamFailure>?
    /// The `Idempotency-Key` store's answer (at once from memory, later from Redis).
    var idempotencyStep: IdempotencyGate.Step?
    /// Told how the upstream call ended, when the request holds an `Idempotency-Key` claim; nil when the
    /// call was never made (the client left), which gives the claim back.
    var idempotencyDone: ((Result<RelayedAnswer, UpstreamFailure>?) -> Void)?
    var upstreamStartedNanos: UInt64 = 0
    /// Set when the call is being kept in the outbox (`RequestDriver+Deferral.swift`).
    var deferral: Deferral?
    /// Set by the screen for `GET /justgate/v1/deliveries/<id>`: the id asked about.
    var deliveryID: String?

    /// The way back to the client; nil while screening, and in tests that drive phases without sockets
    /// (whose answer is then kept in `answer`).
    var responder: Responder?
    var answer: HTTPResponse?

    init(gateway: GatewayContext, head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) {
        self.gateway = gateway
        self.head = head
        record = RequestRecord(requestID: "", method: head.method, path: String(head.path), clientAddress: remoteAddress,
                               receivedAtNanos: receivedAtNanos)
    }

    /// Whether the client still waits for the answer (a context without a responder is a test's, always waiting).
    var clientWaits: Bool { responder?.isActive ?? true }
}
