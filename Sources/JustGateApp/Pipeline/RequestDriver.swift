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
///    the context; the screen's context comes back to `handle` through the connection (`screened`), and is
///    screened again under the new config if a reload came in between.
/// 2. `run` calls the phases in order, each naming the next; the admit phases are in
///    `RequestDriver+Admit.swift`, the upstream ones in `RequestDriver+Upstream.swift`.
/// 3. A phase that waits for an answer arriving later on this loop (the shared rate limiter, the upstream)
///    arranges for `arrive(context, at: phase)` to be called with the phase that takes the answer (the answer
///    in its case), then returns `awaitArrival(context)`. Adding a waiting phase is one case in
///    `RequestPhase` (the phase that takes the answer), one function, and one arm in `walk`'s switch.
/// 4. A phase ends a request by returning `.answer` (an upstream answer, a replay) or throwing a `Problem`;
///    either way `finish` records it and the answer is sent. The server's own answers (400/408/413/414/431,
///    503 at `server.max_connections`) reach the same exit through `serverAnswered`.
///
/// One driver per loop, confined to it: its id and trace generators need no lock. It is the loop's handler,
/// dropped only after every connection of the loop is closed, so it outlives every request's context: the
/// closures a waiting phase leaves with the limiter or the upstream hold it strongly.
final class RequestDriver: HTTPHandler {
    /// What a phase did.
    enum Step {
        /// Go on with this phase.
        case next(RequestPhase)
        /// An answer is on its way: `arrive` will enter the phase that takes it (`awaitArrival`).
        case wait
        /// The request ends with this answer (its record's outcome already set by the phase).
        case answer(HTTPResponse)
    }

    let contextStore: GatewayContextStore
    let quota: QuotaGate
    let upstream: any UpstreamCalls
    let idempotency: IdempotencyGate
    let exit: RequestExit
    /// This loop's way into the outbox (issue 25): nil when no site defers calls (`RequestDriver+Deferral`).
    var outbox: OutboxLane?
    let wallClock: @Sendable () -> Int64
    /// Mutable and module-internal only because the phases in the extension files draw ids from them.
    var requestIDs = RequestIDGenerator()
    private var traces = TracePropagation()

    init(contextStore: GatewayContextStore, quota: QuotaGate, upstream: any UpstreamCalls, idempotency: IdempotencyGate,
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
        let context = makeContext(contextStore.current, head, remoteAddress: remoteAddress, receivedAtNanos: receivedAtNanos,
                                  client: NotYetConnected())
        do throws(Problem) {
            try screen(context, &context.state)
            return .proceed(carrying: context)
        } catch {
            // The screen never ends a request as `clientGone`: there is always someone to answer.
            return .answer(ended(&context.state.record, by: error))
        }
    }

    func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
        handle(request, screened: screened, client: responder)
    }

    /// `handle` with the way back to the client as any `ClientLink` (the connection's `Responder`, a test's stub).
    func handle(_ request: ServerRequest, screened: AnyObject?, client: any ClientLink) {
        let gateway = contextStore.current
        let context: RequestContext
        let start: RequestPhase
        if let screened = screened as? RequestContext, screened.gateway === gateway {
            context = screened
            context.client = client
            start = context.state.afterScreen
        } else {
            // No screen, or a reload came between the head and the body: the request is screened again under
            // the config now in force, so a key revoked, a token rotated or a limit changed by the reload
            // applies to it (one pointer compare when nothing changed). The first screen's record is dropped
            // unwritten: nothing of it was sent, and the request is recorded once, from this context.
            context = makeContext(gateway, request.head, remoteAddress: request.remoteAddress,
                                  receivedAtNanos: request.receivedAtNanos, client: client)
            start = .screen
        }
        context.state.body = request.body
        guard exit.admits() else {
            finish(context, &context.state, .auditUnavailable)
            return
        }
        run(context, from: start)
    }

    /// A request the server answered by itself: recorded from what the server knew of it, counted but not
    /// timed (`RequestExit.ended`).
    func serverAnswered(_ answer: ServerAnswer) {
        let requestID = answer.response.headers.first { $0.name == "X-Request-Id" }?.value ?? ""
        var record = RequestRecord(requestID: requestID, method: answer.method ?? "", path: answer.path ?? "",
                                   clientAddress: answer.remoteAddress, receivedAtNanos: answer.receivedAtNanos)
        record.status = answer.response.status
        record.outcome = Problem.serverOutcome(status: record.status)
        exit.ended(&record, timed: false)
    }

    private func makeContext(_ gateway: GatewayContext, _ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64,
                             client: any ClientLink) -> RequestContext {
        RequestContext(gateway: gateway, head: head, trace: traces.context(for: head), remoteAddress: remoteAddress,
                       receivedAtNanos: receivedAtNanos, client: client)
    }

    // MARK: - The driver

    /// Runs the request's phases from `phase` until one waits or the request ends.
    func run(_ context: RequestContext, from phase: RequestPhase) {
        walk(context, from: phase, &context.state)
    }

    /// The phases over the request's state, lent once for the whole walk: the phases write it in place. An
    /// answer that arrives while a phase runs goes to `context.arrivedEarly`, never into `state`.
    ///
    /// Each phase is consumed as it runs, and phases take what their case carries as `consuming`: the validated
    /// fields and the upstream call move from phase to phase instead of being copied (and released) at each.
    private func walk(_ context: RequestContext, from start: RequestPhase, _ state: inout RequestState) {
        var phase = start
        do throws(Problem) {
            while true {
                let step: Step
                switch consume phase {
                case .screen: try screen(context, &state); step = .next(state.afterScreen)
                case .validate: step = try validate(context, &state)
                case .limit(let fields): step = try limit(context, &state, fields)
                case .limited(let fields, let decision): step = try limited(context, &state, fields, decision)
                case .build(let fields): step = .next(build(context, &state, fields))
                case .idempotency(let call): step = claimIdempotencyKey(context, &state, call)
                case .claimed(let call, let answer): step = try claimed(context, &state, call, answer)
                case .forward(let call, let claim): step = forward(context, &state, call, claim: claim)
                case .deferInstead(let call, let claim): step = deferInstead(context, &state, call, claim: claim)
                case .mustWaitAnswered(let call, let claim, let answer):
                    step = try mustWaitAnswered(context, &state, call, claim: claim, answer)
                case .deferOnFailure(let call, let outcome): step = deferOnFailure(context, &state, call, outcome)
                case .kept(let result, let cause): step = try kept(context, &state, result, cause)
                case .deliveryStatus(let id): step = deliveryStatus(context, &state, id)
                case .deliveryStatusRead(let status): step = try deliveryStatusRead(context, &state, status)
                case .relay(let outcome): step = try relay(context, &state, outcome)
                }
                switch consume step {
                case .next(let following):
                    phase = following
                case .wait:
                    context.isWaiting = true
                    return
                case .answer(let response):
                    state.record.status = response.status
                    exit.ended(&state.record)
                    context.client.respond(response)
                    return
                }
            }
        } catch {
            finish(context, &state, error)
        }
    }

    /// Called with the phase that takes an answer a waiting phase arranged for, when it arrives: carries the
    /// request on from there. An answer that arrives while its phase still runs is left for that phase.
    func arrive(_ context: RequestContext, at phase: RequestPhase) {
        guard context.isWaiting else {
            context.arrivedEarly = phase
            return
        }
        context.isWaiting = false
        run(context, from: phase)
    }

    /// What a phase returns once it has arranged for its answer: the answer if it came at once, else wait.
    func awaitArrival(_ context: RequestContext) -> Step {
        guard let early = context.arrivedEarly else { return .wait }
        context.arrivedEarly = nil
        return .next(early)
    }

    // MARK: - The exit

    /// Ends a request with a problem: its record takes the problem's status, outcome and reason, and the
    /// client gets the problem's answer, unless it left (`clientGone`: recorded as 499, nothing sent).
    private func finish(_ context: RequestContext, _ state: inout RequestState, _ problem: Problem) {
        guard problem.outcome != .clientGone else {
            record(&state.record, endedBy: problem)
            return
        }
        context.client.respond(ended(&state.record, by: problem))
    }

    /// Records the request as ended by `problem`; the answer that says so.
    private func ended(_ record: inout RequestRecord, by problem: Problem) -> HTTPResponse {
        self.record(&record, endedBy: problem)
        return problem.response(requestID: record.requestID)
    }

    private func record(_ record: inout RequestRecord, endedBy problem: Problem) {
        record.status = problem.status
        record.outcome = problem.outcome
        if let reason = problem.failureReason { record.failureReason = reason }
        if record.requestID.isEmpty { record.requestID = requestIDs.next() }
        exit.ended(&record)
    }
}
