import JustGateCore
import JustGateHTTP
import JustGateReactor
import JustGateServer
import JustGateUpstream

/// The phases that call the upstream: `build` the canonical call, claim its `Idempotency-Key`, `forward`
/// it, `relay` the answer.
extension RequestDriver {
    /// The upstream call, rebuilt from the validated fields only. The upstream gets the id that is written
    /// (`recordedRequestID`), never another site's credential.
    func build(_ context: RequestContext, _ state: inout RequestState, _ fields: consuming ValidatedRequest) -> RequestPhase {
        var call = UpstreamRequestBuilder.build(operation: context.gateway.catalogue.operations[state.operationIndex],
                                                validated: fields, site: context.gateway.sites[state.siteIndex],
                                                requestID: state.record.recordedRequestID,
                                                accept: context.head.value(for: "Accept"),
                                                baseURL: context.gateway.upstreamBaseURL, trace: context.trace)
        // The request's deadline upstream, all attempts together (see `ResilientUpstream`).
        call.timeoutMs = context.gateway.upstreamTimeoutsMs[state.operationIndex]
        if outbox != nil { state.juid = fields.value(of: "juid") ?? "" }
        return .idempotency(call)
    }

    /// For a request with an `Idempotency-Key`: claims the key in its store, which answers at once (memory) or
    /// later on this loop (Redis); `claimed` takes the answer.
    func claimIdempotencyKey(_ context: RequestContext, _ state: inout RequestState, _ call: consuming UpstreamRequest) -> Step {
        guard let key = state.record.idempotencyKey else { return .next(.deferInstead(call, claim: nil)) }
        idempotency.begin(key: key, call: call, siteID: state.record.siteID ?? "") { [self, call = copy call] step in
            arrive(context, at: .claimed(call, step))
        }
        return awaitArrival(context)
    }

    /// The key store's answer: forward with the claim, replay the first answer, or refuse (409, 422, or 503
    /// when the shared store cannot be asked) with the gate's `Problem`. A
    /// client that left while the store answered gives its claim back, so a retry with the key is forwarded.
    func claimed(_ context: RequestContext, _ state: inout RequestState, _ call: consuming UpstreamRequest,
                 _ step: IdempotencyGate.Step) throws(Problem) -> Step {
        switch step {
        case .forward(let done):
            guard context.client.isActive else {
                done(nil)
                throw Problem.clientGone
            }
            return .next(.deferInstead(call, claim: done))
        case .replay(let answer):
            return .answer(IdempotencyGate.replay(answer, record: &state.record))
        case .refuse(let problem):
            throw problem
        }
    }

    /// The upstream call on this loop's client, with retries (for `OperationSpec.retrySafe` operations even
    /// after the request was sent), circuit breaker and in-flight limit. Waits for the answer, which is
    /// screened for the upstream token (`RelayedAnswer.screen`) before the idempotency store or the site
    /// sees it; a client that leaves cancels the call (the call then ends as `.cancelled`, recorded as 499).
    func forward(_ context: RequestContext, _ state: inout RequestState, _ call: consuming UpstreamRequest,
                 claim: IdempotencyCompletion?) -> Step {
        // The token the call carries (the one the upstream sees, even if a reload rotates it meanwhile).
        let echoGuard = context.gateway.sites[state.siteIndex].upstreamTokenBytes
        let retrySafe = context.gateway.catalogue.operations[state.operationIndex].retrySafe
        let startedNanos = MonotonicInstant.now().nanoseconds
        // `self` strongly: the driver outlives every context (see the type's comment).
        let exchange = upstream.start(call, deadlineMs: call.timeoutMs ?? 10_000, idempotent: retrySafe) { [self, call = copy call] result, attempts in
            // The one place every upstream answer passes: screened before it is stored or relayed.
            let answer = RelayedAnswer.screen(result, token: echoGuard)
            claim?(answer)
            arrive(context, at: .deferOnFailure(call, UpstreamOutcome(result: answer, attempts: attempts,
                                                       upstreamNanos: MonotonicInstant.now().nanoseconds &- startedNanos)))
        }
        let step = awaitArrival(context)
        // Still waiting: a client that leaves now cancels the call. An answer that came at once (circuit open,
        // too many in flight) goes on to `relay`.
        if case .wait = step { context.client.onCancel { exchange.cancel() } }
        return step
    }

    /// The upstream's answer as the site's answer (the `RateLimit` fields of an admitted request added), or
    /// its failure as a `Problem`. The answer was screened for the upstream token in `forward`; this only
    /// notes whether it was. Runs whether or not the client is still there (the responder drops an answer
    /// for a client that left), so the record keeps the upstream's status and the outcome.
    func relay(_ context: RequestContext, _ state: inout RequestState, _ outcome: consuming UpstreamOutcome) throws(Problem) -> Step {
        state.record.attempts = outcome.attempts
        state.record.upstreamNanos = outcome.upstreamNanos
        switch outcome.result {
        case .success(let answer):
            state.record.upstreamStatus = answer.status
            guard (100...599).contains(answer.status) else { throw Problem.badStatus(answer.status) }
            state.record.outcome = .forwarded
            if answer.status == 401 || answer.status == 403 {
                // The upstream refused the gateway's own token: relayed as it is, but the operator must act
                // (`RequestLog` writes it as a warning).
                state.record.outcome = .upstreamAuthFailed
                state.record.failureReason = .upstreamAuthFailed
            }
            if answer.upstreamTokenRedacted { state.record.upstreamTokenRedacted = true }
            let id = HTTPHeader(name: "X-Request-Id", value: state.record.requestID)
            var headers = answer.contentType.map { [HTTPHeader(name: "Content-Type", value: $0), id] } ?? [id]
            headers.append(contentsOf: state.record.addedHeaders)
            return .answer(HTTPResponse(status: answer.status, headers: headers, body: answer.body))
        case .failure(let failure):
            let advice: Problem.RetryAdvice =
                state.record.idempotencyKey != nil ? .sameKey
                : context.gateway.catalogue.operations[state.operationIndex].takesIdempotencyKey ? .sendKeyNextTime
                : .checkFirst
            throw Problem.upstream(failure, attempts: outcome.attempts, advice: advice)
        }
    }
}
