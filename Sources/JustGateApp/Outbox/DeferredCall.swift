import JustGateCore
import JustGateUpstream

/// A call to keep in the outbox: what the request path hands over when it defers (issue 25 item 2).
///
/// Made from the `UpstreamRequest` the pipeline built for the live attempt, minus what must not be stored:
/// the base URL (a reload may change it; the one in force at delivery is used) and every header (the token
/// above all: the site's current token is injected at delivery; `Accept`, `X-Request-Id` and the trace
/// headers are made again then).
public struct DeferredCall: Sendable {
    public var siteID: String
    public var operationID: String
    /// The user the call is about (`juid` field); empty when the operation has none.
    public var juid: String
    public var method: String
    /// Path and query, without the base URL.
    public var target: String
    public var body: [UInt8]
    public var contentType: String?
    public var requestID: String

    public init(siteID: String, operationID: String, juid: String, method: String, target: String, body: [UInt8],
                contentType: String?, requestID: String) {
        self.siteID = siteID
        self.operationID = operationID
        self.juid = juid
        self.method = method
        self.target = target
        self.body = body
        self.contentType = contentType
        self.requestID = requestID
    }

    /// The call `request` makes, with `baseURL` (the context's `upstreamBaseURL`) taken off its URL.
    /// Nil when the URL does not start with `baseURL` (it always does for a call the pipeline built).
    public init?(_ request: UpstreamRequest, baseURL: String, siteID: String, operationID: String, juid: String?,
                 requestID: String) {
        guard request.url.hasPrefix(baseURL) else { return nil }
        let target = String(request.url.dropFirst(baseURL.count))
        let contentType = request.headers.first { $0.name.lowercased() == "content-type" }?.value
        self.init(siteID: siteID, operationID: operationID, juid: juid ?? "", method: request.method, target: target,
                  body: request.body, contentType: contentType, requestID: requestID)
    }
}

/// Why a call could not be deferred; the request driver answers 503 either way (never a silent drop).
public enum OutboxRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// `outbox.max_bytes` is reached.
    case full(maxBytes: Int)
    /// The outbox cannot be written (disk error, or it is stopping).
    case unavailable(String)
    /// The keep was sent to Redis but no answer came (timeout, broken connection): the entry with this id
    /// may be kept, and then delivered. The site is told its would-be `Location` to poll.
    case outcomeUnknown(id: String)

    public var description: String {
        switch self {
        case .outcomeUnknown:
            "Redis for the outbox did not answer (outbox.redis_url), so whether the call was kept is unknown"
        case .full(let maxBytes):
            "the outbox is full (outbox.max_bytes \(maxBytes)): deferred calls are not being delivered fast enough"
        case .unavailable(let reason):
            "the outbox cannot be written: \(reason)"
        }
    }
}
