import JustGateCore
import JustGateHTTP
import JustGateServer

/// `GET /justgate/v1/deliveries/<id>` on the site listener (issue 25 item 3): the state of a call this site
/// deferred, the `Location` of its 202. The gateway answers it itself, so it is routed by the screen beside
/// the catalogue (which lists upstream operations only), and recorded by the one exit like any request.
extension RequestDriver {
    /// The path prefix of the deliveries a site polls (`DeliveryStatus.location`).
    static let deliveriesPrefix = "/justgate/v1/deliveries/"
    /// The record's operation for these reads (a metric label and an audit value, never a catalogue id).
    static let deliveryStatusOperation = "delivery.status"

    /// Whether the authenticated request is for a delivery; if so its id is kept for `deliveryStatus`.
    func routeToDeliveryStatus(_ context: RequestContext, _ state: inout RequestState) throws(Problem) -> Bool {
        let path = context.head.path
        // Compared as bytes: `hasPrefix` on a `Substring` compares Characters, generically (~1,200 instructions on
        // every request, nearly all of which are for operations, not deliveries). A path is ASCII here.
        guard path.utf8.starts(with: RequestDriver.deliveriesPrefix.utf8) else { return false }
        state.record.operationID = RequestDriver.deliveryStatusOperation
        guard context.head.method == "GET" || context.head.method == "HEAD" else {
            throw Problem(.methodNotAllowed, detail: "A delivery is read with GET, not \(ProblemText.excerpt(context.head.method)).",
                          headers: [HTTPHeader(name: "Allow", value: "GET, HEAD")])
        }
        state.deliveryID = String(path.dropFirst(RequestDriver.deliveriesPrefix.count))
        return true
    }

    /// The delivery's state for its own site; 404 alike for an unknown id and for another site's, so ids
    /// cannot be probed across sites.
    func deliveryStatus(_ context: RequestContext, _ state: inout RequestState, _ id: String) -> Step {
        guard let outbox else { return .next(.deliveryStatusRead(.success(nil))) }
        let siteID = context.gateway.sites[state.siteIndex].id
        // At once from the file backend; after a round trip from Redis.
        outbox.status(id: id, siteID: siteID) { [self] status in
            arrive(context, at: .deliveryStatusRead(status))
        }
        return awaitArrival(context)
    }

    /// The answer for the status `deliveryStatus` read.
    func deliveryStatusRead(_ context: RequestContext, _ state: inout RequestState,
                            _ read: Result<DeliveryStatus?, OutboxRefusal>) throws(Problem) -> Step {
        guard case .success(let status) = read else {
            throw Problem(.unavailable, detail: "The outbox cannot be read now (Redis for the outbox is unavailable); poll again later.",
                          headers: [HTTPHeader(name: "Retry-After", value: "5")])
        }
        guard let status else {
            let id = state.deliveryID ?? ""
            throw Problem(.notFound, detail: "This site has no deferred call with id \(ProblemText.excerpt(id)); use the Location of the 202 "
                              + "that deferred it (delivered calls are remembered for a while, not for ever).")
        }
        state.record.outcome = .deliveryStatus
        return .answer(HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "application/json"),
                                                           HTTPHeader(name: "Cache-Control", value: "no-store"),
                                                           HTTPHeader(name: "X-Request-Id", value: state.record.requestID)],
                                    body: status.json))
    }
}
