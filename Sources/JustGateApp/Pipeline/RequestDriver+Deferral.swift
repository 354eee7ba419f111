import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream

/// What the deferral phases know of one request whose call is being kept in the outbox. A class: the
/// outbox's answer arrives later on the loop and is stored here by the completion.
final class Deferral {
    /// Why the call is deferred.
    enum Cause: Equatable {
        /// The site asked (`Prefer: respond-async`), or earlier calls of its user wait.
        case beforeCalling
        /// The upstream (or a proxy in front of it) answered 502, 503 or 504.
        case upstreamStatus(Int)
        /// No answer, and the call may be sent again: the record's `reason`.
        case failure(UpstreamFailureReason)
    }

    let cause: Cause
    /// The outbox was asked; the answer is on its way (or in `kept`).
    var asked = false
    /// The outbox's answer: the durable entry (202) or why it was not kept (503).
    var kept: Result<OutboxEntry, OutboxRefusal>?

    init(_ cause: Cause) {
        self.cause = cause
    }
}

/// The store-and-forward phases (issue 25 items 2 and 3): a call of an operation the site lists in
/// `sites[].defer` is kept in the outbox and answered `202 Accepted` instead of being lost, when
/// - the site asks for it (`Prefer: respond-async`, RFC 7240) or earlier calls of the same site and `juid`
///   still wait, so this one must not overtake them (`deferInstead`, before the upstream is called), or
/// - the upstream cannot take it now (`deferOnFailure`, after the live attempt): circuit open, connection
///   refused, too many calls in flight, upstream 502/503/504, or a timeout before a byte was sent; a timeout
///   after sending only for the state-setting operations (`DeferralTrait.isSafeToDeliverTwice`).
/// Either way the phase waits, like `claimIdempotencyKey`, until the entry is on disk: the 202 is only sent
/// for a durable entry. An outbox that cannot take it (full, unwritable) is a 503, never a silent drop.
extension RequestDriver {
    func deferInstead(_ context: RequestContext) throws(Problem) -> Step {
        if context.deferral == nil {
            guard let outbox, deferrableOperation(context) != nil else { return .proceed }
            let preferred = PreferHeader.asksRespondAsync(context.head.values(for: "Prefer"))
            let siteID = context.gateway.sites[context.siteIndex].id
            guard preferred || outbox.mustWait(siteID: siteID, juid: juid(context)) else { return .proceed }
            context.deferral = Deferral(.beforeCalling)
        }
        return try keep(context)
    }

    func deferOnFailure(_ context: RequestContext) throws(Problem) -> Step {
        if context.deferral == nil {
            guard outbox != nil, let operation = deferrableOperation(context), let result = context.upstreamResult,
                  let cause = RequestDriver.undeliverable(result, trait: operation.deferral) else { return .proceed }
            switch cause {
            case .upstreamStatus(let status): context.record.upstreamStatus = status
            case .failure(let reason): context.record.failureReason = reason
            case .beforeCalling: break
            }
            context.deferral = Deferral(cause)
        }
        return try keep(context)
    }

    /// Why a live call's result means the call should wait in the outbox, or nil when the result is the
    /// site's answer (any other status; a failure after the request may have been carried out).
    static func undeliverable(_ result: Result<RelayedAnswer, UpstreamFailure>, trait: DeferralTrait) -> Deferral.Cause? {
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

    /// Keeps the call and waits for the outbox's answer; then answers 202 with the delivery's `Location`, or
    /// throws 503 when it was not kept.
    private func keep(_ context: RequestContext) throws(Problem) -> Step {
        guard let deferral = context.deferral, let outbox else { return .proceed }
        if deferral.kept == nil {
            if !deferral.asked {
                deferral.asked = true
                guard let call = context.call,
                      let deferred = DeferredCall(call, baseURL: context.gateway.upstreamBaseURL,
                                                  siteID: context.gateway.sites[context.siteIndex].id,
                                                  operationID: context.gateway.catalogue.operations[context.operationIndex].id,
                                                  juid: juid(context), requestID: context.record.recordedRequestID)
                else {
                    throw Problem(.internalError, detail: "The call could not be kept for later delivery; retry, and report it if it recurs.",
                                  outcome: .upstreamError)
                }
                outbox.keep(deferred) { [weak self] result in
                    deferral.kept = result
                    self?.resume(context)
                }
            }
            if deferral.kept == nil { return .wait }
        }
        switch deferral.kept {
        case .success(let entry)?:
            context.record.outcome = .deferred
            var headers = [HTTPHeader(name: "Content-Type", value: "application/json"),
                           HTTPHeader(name: "Location", value: DeliveryStatus.location(of: entry.id)),
                           HTTPHeader(name: "X-Request-Id", value: context.record.requestID)]
            if PreferHeader.asksRespondAsync(context.head.values(for: "Prefer")) {
                headers.append(HTTPHeader(name: "Preference-Applied", value: "respond-async"))
            }
            headers.append(contentsOf: context.record.addedHeaders)
            return .answer(HTTPResponse(status: 202, headers: headers, body: DeliveryStatus.acceptedJSON(id: entry.id)))
        case .failure(let refusal)?:
            let upstream = deferral.cause == .beforeCalling ? "nothing was sent upstream" : "the upstream cannot take it now either"
            throw Problem(.unavailable,
                          detail: "This call could not be kept for later delivery (\(refusal.description)), and \(upstream); retry later.",
                          headers: [HTTPHeader(name: "Retry-After", value: "5")], outcome: .upstreamError,
                          failureReason: context.record.failureReason)
        case nil:
            return .wait
        }
    }

    /// The operation when the site lists it in `defer` (and its trait allows it: `profile.create` and the
    /// reads never defer, whatever the request prefers).
    private func deferrableOperation(_ context: RequestContext) -> OperationSpec? {
        let operation = context.gateway.catalogue.operations[context.operationIndex]
        guard operation.deferral.mayDefer,
              context.gateway.sites[context.siteIndex].config.deferredOperations.contains(operation.id) else { return nil }
        return operation
    }

    /// The user the call is about: the order key of the outbox (empty for an operation without one).
    private func juid(_ context: RequestContext) -> String {
        context.fields?.value(of: "juid") ?? ""
    }
}
