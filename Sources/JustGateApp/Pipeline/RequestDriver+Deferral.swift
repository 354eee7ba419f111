import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream

/// Why a call is being kept in the outbox instead of answered now.
enum DeferralCause: Equatable {
    /// The site asked (`Prefer: respond-async`), or earlier calls of its user wait.
    case beforeCalling
    /// The upstream (or a proxy in front of it) answered 502, 503 or 504.
    case upstreamStatus(Int)
    /// No answer, and the call may be sent again: the record's `reason`.
    case failure(UpstreamFailureReason)
}

/// The store-and-forward phases (issue 25 items 2 and 3): a call of an operation the site lists in
/// `sites[].defer` is kept in the outbox and answered `202 Accepted` instead of being lost, when
/// - the site asks for it (`Prefer: respond-async`, RFC 7240) or earlier calls of the same site and `juid`
///   still wait, so this one must not overtake them (`deferInstead`, before the upstream is called), or
/// - the upstream cannot take it now (`deferOnFailure`, after the live attempt): circuit open, connection
///   refused, too many calls in flight, upstream 502/503/504, or a timeout before a byte was sent; a timeout
///   after sending only for the state-setting operations (`DeferralTrait.isSafeToDeliverTwice`).
/// Either way the request waits, like the `Idempotency-Key` claim, until the outbox says the entry is on disk
/// (`kept`): the 202 is only sent for a durable entry. An outbox that cannot take it (full, unwritable) is a
/// 503, never a silent drop.
extension RequestDriver {
    func deferInstead(_ context: RequestContext, _ state: inout RequestState, _ call: consuming UpstreamRequest,
                      claim: IdempotencyCompletion?) -> Step {
        guard let outbox, isDeferrable(context, state) else { return .next(.forward(call, claim: claim)) }
        if PreferHeader.asksRespondAsync(context.head.values(for: "Prefer")) {
            return keep(context, &state, call, cause: .beforeCalling)
        }
        let siteID = context.gateway.sites[state.siteIndex].id
        // The file backend answers at once; Redis after a round trip (`arrive` takes either).
        outbox.mustWait(siteID: siteID, juid: state.juid) { [self] answer in
            arrive(context, at: .mustWaitAnswered(call, claim: claim, answer))
        }
        return awaitArrival(context)
    }

    /// Defers behind the calls that wait, forwards when none do, and answers 503 when the outbox cannot say
    /// (Redis down): forwarding then could overtake a call kept earlier, and a later call must never do that.
    func mustWaitAnswered(_ context: RequestContext, _ state: inout RequestState, _ call: UpstreamRequest,
                          claim: IdempotencyCompletion?, _ answer: Result<Bool, OutboxRefusal>) throws(Problem) -> Step {
        switch answer {
        case .success(true): return keep(context, &state, call, cause: .beforeCalling)
        case .success(false): return .next(.forward(call, claim: claim))
        case .failure(let refusal): return try kept(context, &state, .failure(refusal), .beforeCalling)
        }
    }

    func deferOnFailure(_ context: RequestContext, _ state: inout RequestState, _ call: consuming UpstreamRequest,
                        _ outcome: consuming UpstreamOutcome) -> Step {
        guard outbox != nil, isDeferrable(context, state),
              let cause = RequestDriver.undeliverable(
                outcome.result, trait: context.gateway.catalogue.operations[state.operationIndex].deferral)
        else { return .next(.relay(outcome)) }
        state.record.attempts = outcome.attempts
        state.record.upstreamNanos = outcome.upstreamNanos
        switch cause {
        case .upstreamStatus(let status): state.record.upstreamStatus = status
        case .failure(let reason): state.record.failureReason = reason
        case .beforeCalling: break
        }
        return keep(context, &state, call, cause: cause)
    }

    /// Why a live call's result means the call should wait in the outbox, or nil when the result is the
    /// site's answer (any other status; a failure after the request may have been carried out).
    static func undeliverable(_ result: Result<RelayedAnswer, UpstreamFailure>, trait: DeferralTrait) -> DeferralCause? {
        switch result {
        case .success(let answer):
            // The upstream (or a proxy in front of it) could not take the call now.
            return [502, 503, 504].contains(answer.status) ? .upstreamStatus(answer.status) : nil
        case .failure(let failure):
            switch failure {
            case .circuitOpen, .overloaded, .unreachable, .connectTimedOut:
                return .failure(failure.reason)  // nothing was sent
            case .timedOut:
                return trait.isSafeToDeliverTwice ? .failure(failure.reason) : nil
            case .connectionLost, .responseTooLarge, .failed, .cancelled:
                return nil
            }
        }
    }

    /// Hands the call to the outbox; `kept` takes its answer once the entry is durable (or refused).
    private func keep(_ context: RequestContext, _ state: inout RequestState, _ call: UpstreamRequest,
                      cause: DeferralCause) -> Step {
        guard let outbox,
              let deferred = DeferredCall(call, baseURL: context.gateway.upstreamBaseURL,
                                          siteID: context.gateway.sites[state.siteIndex].id,
                                          operationID: context.gateway.catalogue.operations[state.operationIndex].id,
                                          juid: state.juid, requestID: state.record.recordedRequestID)
        else {
            return .next(.kept(.failure(.unavailable("the call could not be prepared for the outbox")), cause))
        }
        outbox.keep(deferred) { [self] result in
            arrive(context, at: .kept(result, cause))
        }
        return awaitArrival(context)
    }

    /// The outbox's answer: 202 with the delivery's `Location` for a durable entry, or 503 when it was not kept.
    func kept(_ context: RequestContext, _ state: inout RequestState, _ result: Result<OutboxEntry, OutboxRefusal>,
              _ cause: DeferralCause) throws(Problem) -> Step {
        switch result {
        case .success(let entry):
            state.record.outcome = .deferred
            var headers = [HTTPHeader(name: "Content-Type", value: "application/json"),
                           HTTPHeader(name: "Location", value: DeliveryStatus.location(of: entry.id)),
                           HTTPHeader(name: "X-Request-Id", value: state.record.requestID)]
            if PreferHeader.asksRespondAsync(context.head.values(for: "Prefer")) {
                headers.append(HTTPHeader(name: "Preference-Applied", value: "respond-async"))
            }
            headers.append(contentsOf: state.record.addedHeaders)
            return .answer(HTTPResponse(status: 202, headers: headers, body: DeliveryStatus.acceptedJSON(id: entry.id)))
        case .failure(.outcomeUnknown(let id)):
            // The keep may have happened: the would-be Location lets the site find out instead of sending twice.
            throw Problem(.unavailable,
                          detail: "Whether this call was kept for later delivery is unknown (Redis for the outbox did not answer); "
                              + "GET its Location: a state means it was kept and will be delivered, 404 means it was not (send it again).",
                          headers: [HTTPHeader(name: "Retry-After", value: "5"),
                                    HTTPHeader(name: "Location", value: DeliveryStatus.location(of: id))],
                          outcome: .upstreamError, failureReason: state.record.failureReason)
        case .failure(let refusal):
            let upstream = cause == .beforeCalling ? "nothing was sent upstream" : "the upstream cannot take it now either"
            throw Problem(.unavailable,
                          detail: "This call could not be kept for later delivery (\(refusal.description)), and \(upstream); retry later.",
                          headers: [HTTPHeader(name: "Retry-After", value: "5")], outcome: .upstreamError,
                          failureReason: state.record.failureReason)
        }
    }

    /// Whether the site lists the operation in `defer` (and its trait allows it: `profile.create` and the
    /// reads never defer, whatever the request prefers).
    private func isDeferrable(_ context: RequestContext, _ state: RequestState) -> Bool {
        let operation = context.gateway.catalogue.operations[state.operationIndex]
        return operation.deferral.mayDefer
            && context.gateway.sites[state.siteIndex].config.deferredOperations.contains(operation.id)
    }
}
