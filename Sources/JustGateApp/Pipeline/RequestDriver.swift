import JustGateCore
import JustGateHTTP
import JustGateReactor
import JustGateServer
import JustGateUpstream

/// The gateway's handler on one event loop: runs every request through the phases of `RequestPhase`,
/// each over the request's one `RequestContext`, and lets every request leave through one exit
/// (`finish`), where its log line, audit record and metrics are written, exactly once.
///
/// The walk of one request, top to bottom:
/// 1. `screen` (a request with a body, before the body is read) or `handle` (a request without one) makes
///    the context; the screen's context comes back to `handle` through the connection (`ServerRequest.screened`).
/// 2. `run` calls the phases in order (`RequestPhase.following`); the admit phases are in
///    `RequestDriver+Admit.swift`, the upstream ones in `RequestDriver+Upstream.swift`.
/// 3. A phase that waits for an answer arriving later on this loop (the shared rate limiter, the upstream)
///    returns `.wait` after arranging for the answer to be stored in the context and `resume` to be called;
///    `resume` ends the request as 499 when the client left meanwhile, else enters the phase again. Adding
///    a waiting phase is one case in `RequestPhase` and one function here: the driver needs no other change.
/// 4. A phase ends a request by returning `.answer` (an upstream answer, a replay) or throwing a `Problem`;
///    either way `finish` records it and the answer is sent. The server's own answers (400/408/413/414/431,
///    503 at `server.max_connections`) reach the same exit through `serverAnswered`.
///
/// One driver per loop, confined to it: its id and trace generators need no lock.
final class RequestDriver: HTTPHandler {
    /// What a phase did.
    enum Step {
        /// Go on with the following phase.
        case proceed
        /// An answer is on its way. The phase has arranged for it to be stored in the context and for
        /// `resume(context)` to be called then, on this loop; `resume` enters the phase again, which finds the
        /// answer. A phase that waits for a store, say, reads:
        ///
        ///     if context.claim == nil {
        ///         store.claim(key) { [weak self] answer in context.claim = answer; self?.resume(context) }
        ///         if context.claim == nil { return .wait }  // not answered at once
        ///     }
        ///     // … decide from context.claim
        case wait
        /// The request ends with this answer (its record's outcome already set by the phase).
        case answer(HTTPResponse)
    }

    let contextStore: GatewayContextStore
    let quota: QuotaGate
    /// Nil only in tests that drive the phases without a loop: the request then stops at `forward`.
    let upstream: ResilientUpstream?
    let idempotency: IdempotencyGate
    let exit: RequestExit
    /// This loop's way into the outbox (issue 25): nil when no site defers calls (`RequestDriver+Deferral`).
    var outbox: OutboxLane?
    let wallClock: @Sendable () -> Int64
    var requestIDs = RequestIDGenerator()
    var traces = TracePropagation()

    init(contextStore: GatewayContextStore, quota: QuotaGate, upstream: ResilientUpstream?, idempotency: IdempotencyGate,
         exit: RequestExit, wallClock: @escaping @Sendable () -> Int64) {
        self.contextStore = contextStore
        self.quota = quota
        self.upstream = upstream
        self.idempotency = idempotency
        self.exit = exit
        self.wallClock = wallClock
    }

    // MARK: - Entries

    /// Runs the screen phase from the head alone, so a request without a valid key or for no operation is
    /// answered before its body is invited or read; otherwise its context travels on to `handle`.
    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> HeadScreening {
        let context = RequestContext(gateway: contextStore.current, head: head, remoteAddress: remoteAddress,
                                     receivedAtNanos: receivedAtNanos)
        do throws(Problem) {
            try screen(context)
            context.phase = RequestPhase.screen.following
            return .proceed(carrying: context)
        } catch {
            return .answer(finish(context, error) ?? HTTPResponse(status: error.status))
        }
    }

    func handle(_ request: ServerRequest, responder: Responder) {
        let context: RequestContext
        if let screened = request.screened as? RequestContext {
            context = screened
        } else {
            context = RequestContext(gateway: contextStore.current, head: request.head, remoteAddress: request.remoteAddress,
                                     receivedAtNanos: request.receivedAtNanos)
        }
        context.body = request.body
        context.responder = responder
        guard exit.admits() else {
            deliver(context, finish(context, .auditUnavailable))
            return
        }
        run(context)
    }

    /// A request the server answered by itself: recorded from what the server knew of it.
    func serverAnswered(_ answer: ServerAnswer) {
        let requestID = answer.response.headers.first { $0.name == "X-Request-Id" }?.value ?? ""
        var record = RequestRecord(requestID: requestID, method: answer.method ?? "", path: answer.path ?? "",
                                   clientAddress: answer.remoteAddress, receivedAtNanos: answer.receivedAtNanos)
        record.status = answer.response.status
        record.outcome = Problem.serverOutcome(status: record.status)
        exit.ended(&record)
    }

    // MARK: - The driver

    /// Runs the request's phases from `context.phase` until one waits or the request ends.
    func run(_ context: RequestContext) {
        do throws(Problem) {
            while true {
                let step: Step
                switch context.phase {
                case .screen: try screen(context); step = .proceed
                case .validate: step = try validate(context)
                case .limit: step = try limit(context)
                case .build: build(context); step = .proceed
                case .idempotency: step = claimIdempotencyKey(context)
                case .deferInstead: step = try deferInstead(context)
                case .forward: step = forward(context)
                case .deferOnFailure: step = try deferOnFailure(context)
                case .relay: step = try relay(context)
                case .deliveryStatus: step = try deliveryStatus(context)
                }
                switch step {
                case .proceed:
                    context.phase = context.phase.following
                case .wait:
                    context.isWaiting = true
                    return
                case .answer(let response):
                    deliver(context, finish(context, response))
                    return
                }
            }
        } catch {
            deliver(context, finish(context, error))
        }
    }

    /// Carries a request on once the answer its phase waited for is in the context. A client that left
    /// meanwhile is not served further (what the answer cost, a counted quota, is spent). An answer that
    /// arrives while its phase is still running (a call refused at once) is found by the phase itself.
    func resume(_ context: RequestContext) {
        guard context.isWaiting else { return }
        context.isWaiting = false
        guard context.clientWaits else {
            // A claim the client no longer needs is given back: nothing was sent with it.
            if case .forward(_, let done)? = context.idempotencyStep, context.upstreamResult == nil { done(nil) }
            _ = finish(context, .clientGone)
            return
        }
        run(context)
    }

    // MARK: - The exit

    /// Ends a request with a problem: its record takes the problem's status, outcome and reason.
    private func finish(_ context: RequestContext, _ problem: Problem) -> HTTPResponse? {
        context.record.status = problem.status
        context.record.outcome = problem.outcome
        if let reason = problem.failureReason { context.record.failureReason = reason }
        if context.record.requestID.isEmpty { context.record.requestID = requestIDs.next() }
        let response = problem.response(requestID: context.record.requestID)
        exit.ended(&context.record)
        return response
    }

    /// Ends a request with an answer a phase made (its outcome set by that phase).
    private func finish(_ context: RequestContext, _ response: HTTPResponse) -> HTTPResponse {
        context.record.status = response.status
        exit.ended(&context.record)
        return response
    }

    /// Sends the answer; a test's context (no responder) keeps it.
    private func deliver(_ context: RequestContext, _ response: HTTPResponse?) {
        guard let response else { return }
        if let responder = context.responder {
            responder.respond(response)
        } else {
            context.answer = response
        }
    }
}
