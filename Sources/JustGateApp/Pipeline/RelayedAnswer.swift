import JustGateCore
import JustGateUpstream

/// An upstream answer made fit to leave the gateway: the only form in which an answer reaches the site
/// or the idempotency store.
///
/// The upstream token travels upstream on every call; an upstream that echoes its input (a debug page,
/// a misconfigured proxy, a compromised host) would hand it to the site. Every answer passes `screen`
/// once, where the call ends (`RequestDriver.forward`), before it is remembered for an `Idempotency-Key` and
/// before it is relayed, so a replay can carry no more than the first answer did. The initialiser is
/// private: no other path can make one, so none can relay or store an answer that was not screened.
struct RelayedAnswer: Sendable {
    let status: Int
    /// The upstream's `Content-Type`; nil when it sent none or when it held the token.
    let contentType: String?
    /// The upstream's body with every form of the token `SecretRedaction` knows replaced.
    let body: [UInt8]
    /// The token was found in the body or the `Content-Type` and taken out: the request's log line says so.
    let upstreamTokenRedacted: Bool

    private init(status: Int, contentType: String?, body: [UInt8], upstreamTokenRedacted: Bool) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.upstreamTokenRedacted = upstreamTokenRedacted
    }

    /// `result` with the token (the one the call carried: the one the upstream saw, even if a reload has
    /// rotated it since) taken out of a successful answer. A `Content-Type` that holds it is dropped
    /// whole rather than edited: a half-redacted media type would only mislead the client.
    static func screen(_ result: Result<UpstreamResponse, UpstreamFailure>, token: [UInt8]) -> Result<RelayedAnswer, UpstreamFailure> {
        result.map { answer in
            var redacted = false
            var body = answer.body
            if let cleaned = SecretRedaction.redact(token, in: body) {
                body = cleaned
                redacted = true
            }
            var contentType = answer.contentType
            if let type = contentType, SecretRedaction.contains(token, in: type) {
                contentType = nil
                redacted = true
            }
            return RelayedAnswer(status: answer.status, contentType: contentType, body: body, upstreamTokenRedacted: redacted)
        }
    }
}
