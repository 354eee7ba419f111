import JustGateCore
import JustGateHTTP

/// Builds the site-facing error responses, all `application/problem+json` with the request id.
enum ProblemResponses {
    static func make(_ kind: ProblemKind, status: Int? = nil, detail: String, requestID: String,
                     errors: [FieldProblem] = [], errorsOmitted: Int = 0, headers extra: [HTTPHeader] = [],
                     policies: [String] = []) -> HTTPResponse {
        let problem = ProblemDetails(kind, status: status, detail: detail, requestID: requestID, errors: errors,
                                     errorsOmitted: errorsOmitted, policies: policies)
        var headers = [
            HTTPHeader(name: "Content-Type", value: ProblemDetails.contentType),
            HTTPHeader(name: "X-Request-Id", value: requestID),
        ]
        headers.append(contentsOf: extra)
        return HTTPResponse(status: problem.status, headers: headers, body: Array(problem.json().utf8))
    }
}
