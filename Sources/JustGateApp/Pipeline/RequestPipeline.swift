#if canImport(Glibc)
import Glibc
#endif
import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream

/// What the pipeline decided for one request.
enum PipelineDecision {
    /// justgate answers itself (an error, or later a cached or limited answer).
    case respond(HTTPResponse, RequestRecord)
    /// The request is valid: make this upstream call, then `finish`.
    case forward(UpstreamRequest, RequestRecord)
}

/// The request pipeline: accept → parse → authenticate → match → validate → (limit) → forward →
/// record → respond. Each stage is one method below that either passes the request on or ends
/// it with a problem response; a new stage (rate limiting, audit) is one more call in `prepare`.
///
/// One pipeline per event loop, so its request-id counter needs no lock; the context it reads is
/// an immutable value shared by all loops.
final class RequestPipeline {
    private let contextStore: GatewayContextStore
    private var requestIDs = RequestIDGenerator()
    private let wallClock: @Sendable () -> Int64

    init(contextStore: GatewayContextStore, wallClock: @escaping @Sendable () -> Int64) {
        self.contextStore = contextStore
        self.wallClock = wallClock
    }

    /// How a stage ends a request: with the response the site gets instead of a forwarded call.
    private struct Rejection: Error {
        var response: HTTPResponse
        init(_ response: HTTPResponse) { self.response = response }
    }

    func prepare(_ request: ServerRequest) -> PipelineDecision {
        let context = contextStore.current
        let head = request.head
        let requestID = head.value(for: "X-Request-Id")
            .flatMap { RequestIDGenerator.isAcceptable($0) && !context.isCredential($0) ? $0 : nil }
            ?? requestIDs.next()
        var record = RequestRecord(requestID: requestID, method: head.method, path: String(head.path),
                                   clientAddress: request.remoteAddress, receivedAtNanos: request.receivedAtNanos)

        do throws(Rejection) {
            let site = try authenticate(head, context: context, requestID: requestID)
            record.siteID = site.id
            let (operation, pathParameter) = try match(head, context: context, requestID: requestID)
            record.operationID = operation.id
            let fields = try validate(request, operation: operation, pathParameter: pathParameter, site: site,
                                      context: context, requestID: requestID, record: &record)
            let call = UpstreamRequestBuilder.build(operation: operation, validated: fields, site: site, requestID: requestID,
                                                    accept: head.value(for: "Accept"), baseURL: context.upstreamBaseURL)
            return .forward(call, record)
        } catch {
            record.status = error.response.status
            record.outcome = error.response.status == 401 ? "rejected_auth" : "rejected_invalid"
            return .respond(error.response, record)
        }
    }

    /// Turns the upstream's answer (or failure) into the site's response.
    func finish(_ result: Result<UpstreamResponse, UpstreamFailure>, record: inout RequestRecord) -> HTTPResponse? {
        switch result {
        case .success(let answer):
            record.upstreamStatus = answer.status
            record.outcome = "forwarded"
            let id = HTTPHeader(name: "X-Request-Id", value: record.requestID)
            let headers = answer.contentType.map { [HTTPHeader(name: "Content-Type", value: $0), id] } ?? [id]
            let response = HTTPResponse(status: answer.status, headers: headers, body: answer.body)
            record.status = response.status
            return response
        case .failure(.cancelled):
            record.outcome = "client_gone"
            record.status = 499
            return nil
        case .failure(let failure):
            record.outcome = "upstream_error"
            let response: HTTPResponse
            switch failure {
            case .timedOut:
                record.outcome = "upstream_timeout"
                response = ProblemResponses.make(.gatewayTimeout, detail: "The upstream did not answer in time; retry later.",
                                                 requestID: record.requestID)
            case .responseTooLarge(let limit):
                response = ProblemResponses.make(.badGateway, detail: "The upstream answer was larger than \(limit) bytes.",
                                                 requestID: record.requestID)
            case .unreachable(let reason), .failed(let reason):
                response = ProblemResponses.make(.badGateway, detail: "The upstream could not be reached (\(reason)); retry later.",
                                                 requestID: record.requestID)
            case .cancelled:
                return nil
            }
            record.status = response.status
            return response
        }
    }

    // MARK: - Stages

    private func authenticate(_ head: HTTPRequestHead, context: GatewayContext, requestID: String) throws(Rejection) -> SiteContext {
        let presented = head.value(for: "X-AUTH-TOKEN") ?? bearerToken(head.value(for: "Authorization"))
        guard let presented, !presented.isEmpty else {
            throw Rejection(unauthorized("Send your site key in the X-AUTH-TOKEN header (or Authorization: Bearer).", requestID))
        }
        guard let index = context.keys.match(presentedKey: presented) else {
            throw Rejection(unauthorized("The site key is not known to this gateway; use the key justgate issued for your site.", requestID))
        }
        return context.sites[index]
    }

    private func match(_ head: HTTPRequestHead, context: GatewayContext, requestID: String) throws(Rejection) -> (OperationSpec, String?) {
        guard let path = URLEncodedForm.percentDecodePath(head.path) else {
            throw Rejection(ProblemResponses.make(.badRequest, detail: "The request path has invalid percent-encoding.", requestID: requestID))
        }
        switch context.router.match(method: head.method, path: path) {
        case .operation(let index, let parameter):
            return (context.catalogue.operations[index], parameter)
        case .methodNotAllowed(let allowed):
            throw Rejection(ProblemResponses.make(
                .methodNotAllowed, detail: "This operation takes \(allowed.joined(separator: ", ")), not \(ProblemText.excerpt(head.method)).",
                requestID: requestID, headers: [HTTPHeader(name: "Allow", value: allowed.joined(separator: ", "))]))
        case .notFound:
            throw Rejection(ProblemResponses.make(
                .notFound, detail: "No Just Services operation has the path \(ProblemText.excerpt(path)); see docs/openapi.yaml.",
                requestID: requestID))
        }
    }

    private func validate(_ request: ServerRequest, operation: OperationSpec, pathParameter: String?, site: SiteContext,
                          context: GatewayContext, requestID: String, record: inout RequestRecord) throws(Rejection) -> ValidatedRequest {
        let fields: [(name: String, value: String)]
        do {
            fields = try RequestFields.decode(
                query: request.head.query, contentType: request.head.value(for: "Content-Type"), body: request.body,
                multipartLimits: context.multipartLimits)
        } catch {
            throw Rejection(ProblemResponses.make(error.kind, status: error.status, detail: error.detail, requestID: requestID))
        }
        let options = site.validationOptions(now: wallClock())
        switch OperationValidator.validate(operation, pathParameter: pathParameter, fields: fields, options: options,
                                           unknownFields: context.unknownFields) {
        case .success(let validated):
            record.audit.personal = context.auditAllowlist.personalFields(of: validated)
            return validated
        case .failure(let failure):
            record.problemCodes = failure.problems.map(\.code)
            record.audit.errors = context.auditAllowlist.errors(failure.problems)
            let count = failure.problems.count
            throw Rejection(ProblemResponses.make(
                .invalidFields, detail: "\(count) field\(count == 1 ? " is" : "s are") invalid for \(operation.id); nothing was sent upstream.",
                requestID: requestID, errors: failure.problems))
        }
    }

    // MARK: - Helpers

    private func unauthorized(_ detail: String, _ requestID: String) -> HTTPResponse {
        ProblemResponses.make(.unauthorized, detail: detail, requestID: requestID,
                              headers: [HTTPHeader(name: "WWW-Authenticate", value: "Bearer realm=\"justgate\"")])
    }

    private func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingSpaces()
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
