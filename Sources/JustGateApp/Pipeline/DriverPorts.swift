import JustGateHTTP
import JustGateServer
import JustGateUpstream

/// The way back to a request's client, as the driver uses it: the connection's `Responder`, or a test's stub
/// (so tests drive the phases to their answer without sockets, through the same code as the server).
protocol ClientLink {
    /// Sends the answer; later calls for the same request are ignored.
    func respond(_ response: HTTPResponse)
    /// Whether the client is still there waiting for the answer.
    var isActive: Bool { get }
    /// Registers work to undo if the client goes away before the answer (an upstream call to cancel).
    func onCancel(_ handler: @escaping () -> Void)
}

extension Responder: ClientLink {}

/// The client link of a context the screen made, until `handle` gives it the connection's `Responder`. Never
/// answers through: the screen's answer goes back to the server as `screen`'s return value, and no phase after
/// the screen runs before `handle` has replaced this.
struct NotYetConnected: ClientLink {
    func respond(_ response: HTTPResponse) {}
    var isActive: Bool { true }
    func onCancel(_ handler: @escaping () -> Void) {}
}

/// An upstream call in flight that a client who leaves can stop.
protocol CancellableCall: AnyObject {
    func cancel()
}

extension UpstreamExchange: CancellableCall {}

/// The upstream the driver calls: this loop's `ResilientUpstream`, or a test's stub. Never optional, so no
/// request can reach `forward` with nothing to call.
protocol UpstreamCalls: AnyObject {
    /// Starts `call`; `completion` runs once, on this loop, with the result and the attempts made (at once
    /// when the call is refused before any attempt).
    func start(_ call: UpstreamRequest, deadlineMs: Int, idempotent: Bool,
               completion: @escaping (Result<UpstreamResponse, UpstreamFailure>, Int) -> Void) -> any CancellableCall
}

extension ResilientUpstream: UpstreamCalls {
    func start(_ call: UpstreamRequest, deadlineMs: Int, idempotent: Bool,
               completion: @escaping (Result<UpstreamResponse, UpstreamFailure>, Int) -> Void) -> any CancellableCall {
        send(call, deadlineMs: deadlineMs, idempotent: idempotent, live: true, completion: completion)
    }
}
