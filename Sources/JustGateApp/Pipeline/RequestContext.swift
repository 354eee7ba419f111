import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream
import W3CTraceContext

/// The phases of one request, in the order `RequestDriver` runs them. A phase either names the phase that
/// follows (carrying what that phase needs in its case, so no later phase can find it missing), ends the
/// request (an answer or a thrown `Problem`), or waits for an answer that arrives later on the loop, which
/// then enters the phase named with that answer. Every request leaves through the driver's one exit
/// (`RequestDriver.finish`), which records it: log line, audit record, metrics.
enum RequestPhase {
    /// From the head alone: authentication (site, key, request ids) and the route (operation, path
    /// parameter). For a request with a body this runs before the body is invited or read.
    case screen
    /// The `Idempotency-Key` of an operation that takes one, then the fields: decoded and validated.
    case validate
    /// The site's rate-limit policies for the operation. Waits when the limiter is shared (Redis).
    case limit(ValidatedRequest)
    /// The shared limiter's decision, arrived after `limit` waited for it.
    case limited(ValidatedRequest, QuotaGate.Decision)
    /// The canonical upstream call, rebuilt from the validated fields.
    case build(ValidatedRequest)
    /// The `Idempotency-Key` claim (`IdempotencyGate`). Waits when the key store is shared (Redis).
    case idempotency(UpstreamRequest)
    /// The key store's answer, arrived after `idempotency` asked: forward, or a replay, 409, 422 or 503 instead.
    /// `indirect` (boxed), like `kept`: the key store's step carries a whole `RequestRecord`, and inline it made
    /// every phase value ~450 bytes, copied at every step of every request for the few that take a key or defer.
    indirect case claimed(UpstreamRequest, IdempotencyGate.Step)
    /// Defers the call without calling upstream when the site asked (`Prefer: respond-async`) or earlier calls
    /// of its user wait in the outbox (`RequestDriver+Deferral.swift`); otherwise goes on to `forward`.
    case deferInstead(UpstreamRequest, claim: IdempotencyCompletion?)
    /// The outbox's answer to "do earlier calls of this user wait?", arrived after `deferInstead` asked (a
    /// round trip with `outbox.backend: redis`): defer, forward, or 503 when it cannot be known.
    case mustWaitAnswered(UpstreamRequest, claim: IdempotencyCompletion?, Result<Bool, OutboxRefusal>)
    /// The upstream call, with the claim to tell how it ended (nil without an `Idempotency-Key`). Waits.
    case forward(UpstreamRequest, claim: IdempotencyCompletion?)
    /// The upstream's answer: a call the upstream could not take now (circuit open, unreachable, 502/503/504,
    /// …) is deferred, when the site lets it wait; anything else goes on to `relay`.
    case deferOnFailure(UpstreamRequest, UpstreamOutcome)
    /// The outbox's answer for a deferred call, arrived once the entry is durable (or refused): 202 or 503.
    indirect case kept(Result<OutboxEntry, OutboxRefusal>, DeferralCause)
    /// `GET /justgate/v1/deliveries/<id>`: the state of a deferred call, answered by the gateway itself.
    case deliveryStatus(String)
    /// The delivery's state as the outbox read it (nil: unknown here, or another site's).
    case deliveryStatusRead(Result<DeliveryStatus?, OutboxRefusal>)
    /// The upstream's answer (or failure) turned into the site's answer.
    case relay(UpstreamOutcome)
}

/// Told how the upstream call ended, for a request that holds an `Idempotency-Key` claim; nil when the call
/// was never made (the client left), which gives the claim back.
typealias IdempotencyCompletion = (Result<RelayedAnswer, UpstreamFailure>?) -> Void

/// How an upstream call ended, as `forward` hands it to `relay`.
struct UpstreamOutcome {
    /// Already screened for the upstream token (`RelayedAnswer.screen`).
    var result: Result<RelayedAnswer, UpstreamFailure>
    var attempts: Int
    var upstreamNanos: UInt64
}

/// What the phases of one request write as they go: its record and what the screen found. A struct held in
/// one field of `RequestContext`, so the driver lends it to the phases once per walk (`inout`, one dynamic
/// exclusivity check) instead of each write to a class property paying its own.
struct RequestState {
    /// What the log line, the audit record and the metrics are written from.
    var record: RequestRecord
    /// The body, until `validate` has decoded it.
    var body: [UInt8] = []
    /// Filled by `screen`: the authenticated site and key (indices into the context's `gateway`), the
    /// operation and its path parameter. Indices, not copies: a site or an operation is a struct of many
    /// references, so phases read the one field they need through `gateway`.
    var siteIndex = 0
    var keyIndex = 0
    var operationIndex = 0
    var pathParameter: String?
    /// Set by the screen for `GET /justgate/v1/deliveries/<id>`: the id asked about.
    var deliveryID: String?
    /// The user a deferrable call is about (its `juid`, empty without one): the outbox's order key. Set by
    /// `build` only when this loop has an outbox.
    var juid = ""

    /// The phase after the screen: the deliveries read, or the fields of an operation.
    var afterScreen: RequestPhase { deliveryID.map { .deliveryStatus($0) } ?? .validate }
}

/// Everything one request has learned so far, made once (by the screen for a request with a body, by
/// `handle` otherwise) and carried through every phase to the exit, so no phase recomputes what an
/// earlier one found: one snapshot of the config, one key hash, one route match, one record.
///
/// A class: one allocation per request, handed from phase to phase (and from the screen through the
/// connection to `handle`) as one reference. Confined to the loop that made it.
final class RequestContext {
    /// The config the request is served under. `handle` screens a request again when a reload came between
    /// its head and its body (`RequestDriver.handle`), so a revoked key or a rotated token applies to it.
    let gateway: GatewayContext
    let head: HTTPRequestHead
    /// The request's trace (`TracePropagation`), made with the context.
    let trace: TraceContext
    var state: RequestState
    /// The way back to the client (`NotYetConnected` while only the head has been screened).
    var client: any ClientLink
    /// A phase returned `.wait` and its answer has not arrived yet (`RequestDriver.arrive`).
    var isWaiting = false
    /// An answer that arrived while its phase was still running (a call refused at once): the phase takes it.
    var arrivedEarly: RequestPhase?

    init(gateway: GatewayContext, head: HTTPRequestHead, trace: TraceContext, remoteAddress: String, receivedAtNanos: UInt64,
         client: any ClientLink) {
        self.gateway = gateway
        self.head = head
        self.trace = trace
        self.client = client
        // Made in place: a record built in a local and then stored was copied (a retain and a release per field).
        state = RequestState(record: RequestRecord(requestID: "", method: head.method, path: String(head.path),
                                                   clientAddress: remoteAddress, receivedAtNanos: receivedAtNanos))
        state.record.traceID = trace.traceID.hexText
    }
}
