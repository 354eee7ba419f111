import JustGateCore
import JustGateHTTP
import JustGateUpstream

/// Why a request ends without a relayed upstream answer: what the site is told (an
/// `application/problem+json` answer) and what its record says (outcome, failure reason).
///
/// Every phase of `RequestDriver` throws one and the driver's exit renders it once (`response`), so no
/// phase builds an error response or sets a record's status and outcome by hand. The errors of the pure
/// layers map here in one place each: the server's own answers (`HTTPParseError`, timeouts, overload)
/// through `server`, body decoding (`FormDecodingError`, JSON) in `RequestFields`, upstream failures
/// through `upstream`. What only the record needs beyond outcome and reason (field problem codes,
/// refusing policies) the phase writes into the request's record before it throws.
struct Problem: Error {
    var kind: ProblemKind
    /// The HTTP status; the kind's own unless a decoding error chose another of the same meaning.
    var status: Int
    var detail: String
    /// Headers the answer carries beside `Content-Type` and `X-Request-Id` (`Retry-After`, `Allow`, …).
    var headers: [HTTPHeader]
    /// Per-field problems of a 422 (`ProblemDetails.errors`), and how many more there were.
    var fieldErrors: [FieldProblem]
    var errorsOmitted: Int
    /// The rate-limit policies that refused the request (429).
    var policies: [String]
    var outcome: RequestOutcome
    /// Why no usable upstream answer came (the record's `reason`); nil for a refusal by the gateway.
    var failureReason: UpstreamFailureReason?

    init(_ kind: ProblemKind, status: Int? = nil, detail: String, headers: [HTTPHeader] = [],
         fieldErrors: [FieldProblem] = [], errorsOmitted: Int = 0, policies: [String] = [],
         outcome: RequestOutcome = .rejectedInvalid, failureReason: UpstreamFailureReason? = nil) {
        self.kind = kind
        self.status = status ?? kind.status
        self.detail = detail
        self.headers = headers
        self.fieldErrors = fieldErrors
        self.errorsOmitted = errorsOmitted
        self.policies = policies
        self.outcome = outcome
        self.failureReason = failureReason
    }

    /// The client left before its answer: nothing is sent (status 499 in the record only).
    static let clientGone = Problem(.badRequest, status: 499, detail: "", outcome: .clientGone, failureReason: .clientGone)

    /// The answer the site gets (`RequestDriver` sends none for `clientGone`: there is no one to answer).
    func response(requestID: String) -> HTTPResponse {
        ProblemResponses.make(kind, status: status, detail: detail, requestID: requestID, errors: fieldErrors,
                                     errorsOmitted: errorsOmitted, headers: headers, policies: policies)
    }

    // MARK: - Refusals by the gateway

    static func unauthorized(_ detail: String) -> Problem {
        Problem(.unauthorized, detail: detail, headers: [HTTPHeader(name: "WWW-Authenticate", value: "Bearer realm=\"justgate\"")],
                outcome: .rejectedAuth)
    }

    /// The audit log cannot take the request's record and `audit.required` is on.
    static let auditUnavailable = Problem(
        .unavailable, detail: "The audit log cannot be written and this gateway serves no request it cannot audit; retry shortly.",
        outcome: .auditUnavailable)

    /// A rate-limit policy refused the request.
    static func quotaExceeded(_ verdict: QuotaVerdict) -> Problem {
        let names = verdict.violated.map(\.name)
        let seconds = verdict.retryAfterMicros.wholeSecondsRoundedUp
        return Problem(.quotaExceeded,
                       detail: "The rate limit \(names.joined(separator: ", ")) of this site refused the request; retry in \(seconds) s.",
                       headers: RateLimitHeaders.refused(verdict), policies: names, outcome: .rateLimited)
    }

    /// The limiter's store is down and `rate_limit.on_backend_error: deny`.
    static let limiterUnavailable = Problem(
        .unavailable, detail: "The rate limiter's store cannot be reached, and this gateway refuses uncounted requests; retry shortly.",
        headers: [HTTPHeader(name: "Retry-After", value: "1")], outcome: .rateLimited)

    // MARK: - The server's own answers

    /// The answer for an error the server found before any handler ran (`ServerConfiguration.errorResponse`).
    static func server(status: Int, detail: String) -> Problem {
        Problem(ProblemKind(status: status), status: status, detail: detail, outcome: serverOutcome(status: status))
    }

    /// The outcome of a request the server answered by itself: 503 only at `server.max_connections`.
    static func serverOutcome(status: Int) -> RequestOutcome {
        status == 503 ? .rejectedOverload : .rejectedInvalid
    }

    // MARK: - Upstream failures

    /// An upstream answer whose status is not an HTTP status: relaying it would hand the site something no
    /// client can read.
    static func badStatus(_ status: Int) -> Problem {
        Problem(.badGateway, detail: "The upstream answered with status \(status), which is not an HTTP status; retry later.",
                outcome: .upstreamError, failureReason: .badStatus)
    }

    /// How a site retries a call that may have been carried out (the connection was lost after sending).
    enum RetryAdvice {
        /// The request sent an `Idempotency-Key`: the same key cannot carry the call out twice.
        case sameKey
        /// The operation takes an `Idempotency-Key` but the request sent none.
        case sendKeyNextTime
        /// The operation takes no key.
        case checkFirst

        var text: String {
            switch self {
            case .sameKey: "it may have been carried out, so retry with the same Idempotency-Key"
            case .sendKeyNextTime: "it may have been carried out, so check before retrying, and send an Idempotency-Key next time"
            case .checkFirst: "it may have been carried out, so check before retrying"
            }
        }
    }

    /// No usable answer from the upstream, after `attempts` attempts; `advice` says how to retry a call
    /// that may have been carried out.
    static func upstream(_ failure: UpstreamFailure, attempts: Int, advice: RetryAdvice) -> Problem {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        let reason = failure.reason
        switch failure {
        case .timedOut, .connectTimedOut:
            return Problem(.gatewayTimeout, detail: "The upstream did not answer in time\(tries); retry later.",
                           outcome: .upstreamTimeout, failureReason: reason)
        case .responseTooLarge(let limit):
            return Problem(.badGateway, detail: "The upstream answer was larger than \(limit) bytes.",
                           outcome: .upstreamError, failureReason: reason)
        case .unreachable(let cause, _), .failed(let cause, _):
            return Problem(.badGateway, detail: "The upstream could not be reached (\(cause))\(tries); retry later.",
                           outcome: .upstreamError, failureReason: reason)
        case .connectionLost(let cause, _):
            return Problem(.badGateway, detail: "The connection to the upstream failed after the request was sent (\(cause))\(tries); "
                                + advice.text + ".",
                           outcome: .upstreamError, failureReason: reason)
        case .circuitOpen(let retryAfterMs):
            let seconds = max(1, (retryAfterMs + 999) / 1000)
            return Problem(.unavailable, detail: "The upstream is failing, so this gateway is not calling it for now; retry in \(seconds) s.",
                           headers: [HTTPHeader(name: "Retry-After", value: "\(seconds)")], outcome: .upstreamError, failureReason: reason)
        case .overloaded(let limit):
            return Problem(.unavailable, detail: "\(limit) upstream calls are already in flight on this gateway; retry shortly.",
                           headers: [HTTPHeader(name: "Retry-After", value: "1")], outcome: .upstreamError, failureReason: reason)
        case .cancelled:
            return clientGone
        }
    }
}
