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
    func build(_ context: RequestContext) {
        guard let fields = context.fields, let trace = context.trace else { return }
        let gateway = context.gateway
        var call = UpstreamRequestBuilder.build(operation: gateway.catalogue.operations[context.operationIndex], validated: fields,
                                                site: gateway.sites[context.siteIndex],
                                                requestID: context.record.recordedRequestID,
                                                accept: context.head.value(for: "Accept"), baseURL: gateway.upstreamBaseURL,
                                                trace: trace)
        // The request's deadline upstream, all attempts together (see `ResilientUpstream`).
        call.timeoutMs = gateway.upstreamTimeoutsMs[context.operationIndex]
        context.call = call
    }

    /// For a request with an `Idempotency-Key`: the key's claim, or the answer that replaces the call (a
    /// replay, 409, 422, or 503 when the shared store cannot be asked; `IdempotencyGate` sets the record's
    /// outcome). Waits when the store is shared (Redis); a client that left meanwhile gives its claim back
    /// (`resume`), so a retry with the key is forwarded.
    func claimIdempotencyKey(_ context: RequestContext) -> Step {
        guard let key = context.record.idempotencyKey, let call = context.call else { return .proceed }
        if context.idempotencyStep == nil {
            idempotency.begin(key: key, call: call, record: context.record) { [weak self] step in
                context.idempotencyStep = step
                self?.resume(context)
            }
            if context.idempotencyStep == nil { return .wait }
        }
        switch context.idempotencyStep {
        case .forward(_, let done)?:
            context.idempotencyDone = done
            return .proceed
        case .respond(let response, let record)?:
            context.record = record
            return .answer(response)
        case nil:
            return .wait
        }
    }

    /// The upstream call on this loop's client, with retries (for `OperationSpec.retrySafe` operations even
    /// after the request was sent), circuit breaker and in-flight limit. Waits for the answer, which is
    /// screened for the upstream token (`RelayedAnswer.screen`) before the idempotency store or the site
    /// sees it; a client that leaves cancels the call.
    func forward(_ context: RequestContext) -> Step {
        if context.upstreamResult != nil { return .proceed }
        guard let upstream, let call = context.call else { return .wait }
        // The token the call carries (the one the upstream sees, even if a reload rotates it meanwhile).
        let echoGuard = context.gateway.sites[context.siteIndex].upstreamTokenBytes
        let retrySafe = context.gateway.catalogue.operations[context.operationIndex].retrySafe
        context.upstreamStartedNanos = MonotonicInstant.now().nanoseconds
        let exchange = upstream.send(call, deadlineMs: call.timeoutMs ?? 10_000, idempotent: retrySafe) {
            [weak self] result, attempts in
            // The one place every upstream answer passes: screened before it is stored or relayed.
            let answer = RelayedAnswer.screen(result, token: echoGuard)
            context.idempotencyDone?(answer)
            context.idempotencyDone = nil
            context.record.attempts = attempts
            context.record.upstreamNanos = MonotonicInstant.now().nanoseconds &- context.upstreamStartedNanos
            context.upstreamResult = answer
            self?.resume(context)
        }
        // Answered at once (circuit open, too many in flight): the phase goes on with it.
        if context.upstreamResult != nil { return .proceed }
        context.responder?.onCancel { exchange.cancel() }
        return .wait
    }

    /// The upstream's answer as the site's answer (the `RateLimit` fields of an admitted request added), or
    /// its failure as a `Problem`. The answer was screened for the upstream token in `forward`; this only
    /// notes whether it was.
    func relay(_ context: RequestContext) throws(Problem) -> Step {
        switch context.upstreamResult {
        case .success(let answer)?:
            context.record.upstreamStatus = answer.status
            guard (100...599).contains(answer.status) else { throw Problem.badStatus(answer.status) }
            context.record.outcome = .forwarded
            if answer.status == 401 || answer.status == 403 {
                // The upstream refused the gateway's own token: relayed as it is, but the operator must act
                // (`RequestLog` writes it as a warning).
                context.record.outcome = .upstreamAuthFailed
                context.record.failureReason = .upstreamAuthFailed
            }
            if answer.upstreamTokenRedacted { context.record.upstreamTokenRedacted = true }
            let id = HTTPHeader(name: "X-Request-Id", value: context.record.requestID)
            var headers = answer.contentType.map { [HTTPHeader(name: "Content-Type", value: $0), id] } ?? [id]
            headers.append(contentsOf: context.record.addedHeaders)
            return .answer(HTTPResponse(status: answer.status, headers: headers, body: answer.body))
        case .failure(let failure)?:
            let hint = context.gateway.catalogue.operations[context.operationIndex].takesIdempotencyKey
                ? " (retry with the same Idempotency-Key)" : ""
            throw Problem.upstream(failure, attempts: context.record.attempts, retryHint: hint)
        case nil:
            // `forward` proceeds only with a result; the optional allows this, refused rather than trapped.
            throw Problem(.internalError, detail: "The upstream call ended without an answer; retry, and report it if it recurs.",
                          outcome: .upstreamError)
        }
    }
}
