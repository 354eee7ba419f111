#if canImport(Glibc)
import Glibc
#endif
import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream
import W3CTraceContext

/// What the pipeline decided for one request.
enum PipelineDecision {
    /// justgate answers itself (an error, or later a cached or limited answer).
    case respond(HTTPResponse, RequestRecord)
    /// The request is valid: make this upstream call, then `finish`.
    /// `echoGuard` is the token the call carries, which `finish` keeps out of the answer.
    case forward(UpstreamRequest, RequestRecord, echoGuard: [UInt8])
    /// The limiter's answer comes later on this loop (Redis): set `quota.resume`, and pass the
    /// answer and the ticket to `conclude` for the decision.
    case wait(PendingQuota, AdmissionTicket)
}

/// A valid request waiting for its quota: the call it would make and its record so far.
struct AdmissionTicket {
    var call: UpstreamRequest
    var record: RequestRecord
    /// The site's upstream token as bytes (made once per site), for `finish` to redact.
    var echoGuard: [UInt8]
}

/// The request pipeline: accept → parse → authenticate → match → validate → limit → forward →
/// record → respond. Each stage is one method below that either passes the request on or ends
/// it with a problem response. A stage that has to wait for an answer from elsewhere (the limit
/// stage with Redis) hands back `.wait`; its answer arrives on the same loop and `conclude`
/// carries the request on from there, so the stages stay plain functions testable without sockets.
/// `screen` runs the stages that need only the head (authenticate, match) before a body is read.
///
/// One pipeline per event loop, so its request-id counter needs no lock; the context it reads is
/// an immutable value shared by all loops.
final class RequestPipeline {
    private let contextStore: GatewayContextStore
    private var requestIDs = RequestIDGenerator()
    private var traces = TracePropagation()
    private let wallClock: @Sendable () -> Int64
    private let quota: QuotaGate

    init(contextStore: GatewayContextStore, quota: QuotaGate, wallClock: @escaping @Sendable () -> Int64) {
        self.contextStore = contextStore
        self.quota = quota
        self.wallClock = wallClock
    }

    /// How a stage ends a request: with the response the site gets instead of a forwarded call.
    private struct Rejection: Error {
        var response: HTTPResponse
        init(_ response: HTTPResponse) { self.response = response }
    }

    /// The stages that need only the head (authenticate, match), run before a body is invited or
    /// read: a request they refuse is answered at once, so a client without a key or with a wrong
    /// path cannot make the gateway buffer a megabyte. Nil when the request may go on; `prepare`
    /// then runs every stage on the complete request.
    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> PipelineDecision? {
        let context = contextStore.current
        // Most requests pass: check them without making a request id or a record first, which
        // only a refusal needs (it then runs the two stages again, with its id).
        do throws(Rejection) {
            _ = try authenticate(head, context: context, requestID: "")
            _ = try match(head, context: context, requestID: "")
            return nil
        } catch {}
        let requestID = requestID(for: head, context: context)
        var record = RequestRecord(requestID: requestID, method: head.method, path: String(head.path),
                                   clientAddress: remoteAddress, receivedAtNanos: receivedAtNanos)
        do throws(Rejection) {
            let site = try authenticate(head, context: context, requestID: requestID)
            record.siteID = site.id
            _ = try match(head, context: context, requestID: requestID)
            return nil
        } catch {
            record.status = error.response.status
            record.outcome = error.response.status == 401 ? "rejected_auth" : "rejected_invalid"
            return .respond(error.response, record)
        }
    }

    func prepare(_ request: ServerRequest) -> PipelineDecision {
        let context = contextStore.current
        let head = request.head
        let requestID = requestID(for: head, context: context)
        var record = RequestRecord(requestID: requestID, method: head.method, path: String(head.path),
                                   clientAddress: request.remoteAddress, receivedAtNanos: request.receivedAtNanos)
        let trace = traces.context(for: head)
        record.traceID = trace.traceID.description

        do throws(Rejection) {
            let site = try authenticate(head, context: context, requestID: requestID)
            record.siteID = site.id
            let (operationIndex, operation, pathParameter) = try match(head, context: context, requestID: requestID)
            record.operationID = operation.id
            if operation.id == "profile.create" {
                switch IdempotencyGate.key(in: head, requestID: requestID) {
                case .success(let key): record.idempotencyKey = key
                case .failure(let problem): throw Rejection(problem.response)
                }
            }
            let fields = try validate(request, operation: operation, pathParameter: pathParameter, site: site,
                                      context: context, requestID: requestID, record: &record)
            var call = UpstreamRequestBuilder.build(operation: operation, validated: fields, site: site, requestID: requestID,
                                                    accept: head.value(for: "Accept"), baseURL: context.upstreamBaseURL,
                                                    trace: trace)
            // The request's deadline upstream, all attempts together (see `ResilientUpstream`).
            call.timeoutMs = context.upstreamTimeoutsMs[operationIndex]
            let checks = quotaChecks(site: site, operationIndex: operationIndex, operationID: operation.id, fields: fields)
            let ticket = AdmissionTicket(call: call, record: record, echoGuard: site.upstreamTokenBytes)
            switch quota.admit(checks) {
            case .pending(let pending):
                return .wait(pending, ticket)
            case let answer:
                return conclude(answer, ticket)
            }
        } catch {
            record.status = error.response.status
            record.outcome = error.response.status == 401 ? "rejected_auth" : "rejected_invalid"
            return .respond(error.response, record)
        }
    }

    /// The limit stage's end: forward an admitted request with its `RateLimit` fields, or answer
    /// 429 naming the policies that refused it (503 when Redis is down and the config says deny).
    func conclude(_ answer: QuotaGate.Answer, _ ticket: AdmissionTicket) -> PipelineDecision {
        var record = ticket.record
        switch answer {
        case .decided(let verdict) where verdict.admitted:
            record.addedHeaders = RateLimitHeaders.admitted(verdict)
            return .forward(ticket.call, record, echoGuard: ticket.echoGuard)
        case .decided(let verdict):
            let names = verdict.violated.map(\.name)
            let seconds = verdict.retryAfterMicros.wholeSecondsRoundedUp
            let response = ProblemResponses.make(
                .quotaExceeded,
                detail: "The rate limit \(names.joined(separator: ", ")) of this site refused the request; retry in \(seconds) s.",
                requestID: record.requestID, headers: RateLimitHeaders.refused(verdict), policies: names)
            record.policy = names.joined(separator: ",")
            record.outcome = "rate_limited"
            record.status = response.status
            return .respond(response, record)
        case .unavailable, .pending:
            let response = ProblemResponses.make(
                .unavailable, detail: "The rate limiter's store cannot be reached, and this gateway refuses uncounted requests; retry shortly.",
                requestID: record.requestID, headers: [HTTPHeader(name: "Retry-After", value: "1")])
            record.outcome = "rate_limited"
            record.status = response.status
            return .respond(response, record)
        }
    }

    /// Turns the upstream's answer (or failure) into the site's response.
    /// - Parameter echoGuard: the token the call carried (from `.forward`): the one the upstream saw,
    ///   even if a reload has rotated it since.
    func finish(_ result: Result<UpstreamResponse, UpstreamFailure>, record: inout RequestRecord,
                echoGuard token: [UInt8]) -> HTTPResponse? {
        switch result {
        case .success(let answer):
            record.upstreamStatus = answer.status
            guard (100...599).contains(answer.status) else {
                // Not an HTTP status: relaying it would hand the site something no client can read.
                record.outcome = "upstream_error"
                let response = ProblemResponses.make(
                    .badGateway, detail: "The upstream answered with status \(answer.status), which is not an HTTP status; retry later.",
                    requestID: record.requestID)
                record.status = response.status
                return response
            }
            record.outcome = "forwarded"
            var body = answer.body
            var contentType = answer.contentType
            // An upstream that echoes its input would otherwise hand the site its real token.
            if let redacted = SecretRedaction.redact(token, in: body) {
                body = redacted
                record.upstreamTokenRedacted = true
            }
            if let type = contentType, SecretRedaction.redact(token, in: Array(type.utf8)) != nil {
                contentType = nil
                record.upstreamTokenRedacted = true
            }
            let id = HTTPHeader(name: "X-Request-Id", value: record.requestID)
            var headers = contentType.map { [HTTPHeader(name: "Content-Type", value: $0), id] } ?? [id]
            headers.append(contentsOf: record.addedHeaders)
            let response = HTTPResponse(status: answer.status, headers: headers, body: body)
            record.status = response.status
            return response
        case .failure(.cancelled):
            record.outcome = "client_gone"
            record.status = 499
            return nil
        case .failure(let failure):
            record.outcome = "upstream_error"
            let tries = record.attempts > 1 ? " after \(record.attempts) attempts" : ""
            let response: HTTPResponse
            switch failure {
            case .timedOut, .connectTimedOut:
                record.outcome = "upstream_timeout"
                response = ProblemResponses.make(.gatewayTimeout, detail: "The upstream did not answer in time\(tries); retry later.",
                                                 requestID: record.requestID)
            case .responseTooLarge(let limit):
                response = ProblemResponses.make(.badGateway, detail: "The upstream answer was larger than \(limit) bytes.",
                                                 requestID: record.requestID)
            case .unreachable(let reason), .failed(let reason):
                response = ProblemResponses.make(.badGateway, detail: "The upstream could not be reached (\(reason))\(tries); retry later.",
                                                 requestID: record.requestID)
            case .connectionLost(let reason):
                response = ProblemResponses.make(
                    .badGateway, detail: "The connection to the upstream failed after the request was sent (\(reason))\(tries); it may have been carried out, so check before retrying (profile.create: retry with the same Idempotency-Key).",
                    requestID: record.requestID)
            case .circuitOpen(let retryAfterMs):
                let seconds = max(1, (retryAfterMs + 999) / 1000)
                response = ProblemResponses.make(
                    .unavailable, detail: "The upstream is failing, so this gateway is not calling it for now; retry in \(seconds) s.",
                    requestID: record.requestID, headers: [HTTPHeader(name: "Retry-After", value: "\(seconds)")])
            case .overloaded(let limit):
                response = ProblemResponses.make(
                    .unavailable, detail: "\(limit) upstream calls are already in flight on this gateway; retry shortly.",
                    requestID: record.requestID, headers: [HTTPHeader(name: "Retry-After", value: "1")])
            case .cancelled:
                return nil
            }
            record.status = response.status
            return response
        }
    }

    // MARK: - Stages

    private func authenticate(_ head: HTTPRequestHead, context: GatewayContext, requestID: String) throws(Rejection) -> SiteContext {
        let presented = try presentedKey(head, requestID: requestID)
        guard let presented, !presented.isEmpty else {
            throw Rejection(unauthorized("Send your site key in the X-AUTH-TOKEN header (or Authorization: Bearer).", requestID))
        }
        switch context.keys.match(presentedKey: presented, now: wallClock()) {
        case .site(let index):
            return context.sites[index]
        case .expired(let index, let key):
            throw Rejection(unauthorized("The site key with fingerprint \(key.fingerprint) (of site \(context.sites[index].id)) expired at "
                + "\(key.expiry?.description ?? "?"); send the site's current key.", requestID))
        case .unknown:
            throw Rejection(unauthorized("The site key is not known to this gateway; use the key justgate issued for your site.", requestID))
        }
    }

    private func match(_ head: HTTPRequestHead, context: GatewayContext, requestID: String) throws(Rejection) -> (Int, OperationSpec, String?) {
        if Self.containsEncodedSlash(head.path) {
            // Decoded, `%2F` would join segments the site kept apart and reach an operation by a path
            // no site sends; no operation has a slash inside a segment.
            throw Rejection(ProblemResponses.make(.badRequest, detail: "The request path contains an encoded slash (%2F); "
                + "write the path with plain slashes.", requestID: requestID))
        }
        guard let path = URLEncodedForm.percentDecodePath(head.path) else {
            throw Rejection(ProblemResponses.make(.badRequest, detail: "The request path has invalid percent-encoding.", requestID: requestID))
        }
        switch context.router.match(method: head.method, path: path) {
        case .operation(let index, let parameter):
            return (index, context.catalogue.operations[index], parameter)
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
                multipartLimits: context.multipartLimits, maxFields: context.maxFields)
        } catch {
            throw Rejection(ProblemResponses.make(error.kind, status: error.status, detail: error.detail, requestID: requestID))
        }
        let options = site.validationOptions(now: wallClock())
        switch OperationValidator.validate(operation, pathParameter: pathParameter, fields: fields, options: options,
                                           unknownFields: context.unknownFields) {
        case .success(let validated):
            if let allowlist = context.auditAllowlist { record.audit.personal = allowlist.personalValues(of: validated) }
            return validated
        case .failure(let failure):
            // At most `ProblemCollector.defaultLimit` codes: the log line stays as small as the answer.
            record.problemCodes = failure.problems.map(\.code)
            record.problemFields = failure.problems.map(\.field)
            record.audit.errors = context.auditAllowlist?.errors(failure.problems) ?? []
            let count = failure.problems.count + failure.omitted
            throw Rejection(ProblemResponses.make(
                .invalidFields, detail: "\(count) field\(count == 1 ? " is" : "s are") invalid for \(operation.id); nothing was sent upstream.",
                requestID: requestID, errors: failure.problems, errorsOmitted: failure.omitted))
        }
    }

    /// The limit stage's input: one check per policy of the site that counts this operation and
    /// finds its key in the request (normalised, so two spellings of a phone are one key).
    private func quotaChecks(site: SiteContext, operationIndex: Int, operationID: String,
                             fields: ValidatedRequest) -> [QuotaCheck] {
        guard operationIndex < site.policiesByOperation.count else { return [] }
        let policies = site.policiesByOperation[operationIndex]
        guard !policies.isEmpty else { return [] }
        var checks: [QuotaCheck] = []
        checks.reserveCapacity(policies.count)
        for policy in policies {
            if let check = policy.check(operationID: operationID, fields: fields) { checks.append(check) }
        }
        return checks
    }

    // MARK: - Helpers

    /// The site key the request presents, from `X-AUTH-TOKEN` or `Authorization: Bearer`. Two
    /// credentials that differ are refused: whichever one a check took first, another part of the
    /// chain (a proxy, a log) could take the other.
    ///
    /// One walk over the headers, allocating nothing: this runs for every request.
    private func presentedKey(_ head: HTTPRequestHead, requestID: String) throws(Rejection) -> String? {
        var presented: String?
        for header in head.headers {
            let candidate: String?
            if Self.isNamed(header, "x-auth-token") {
                candidate = header.value
            } else if Self.isNamed(header, "authorization") {
                candidate = bearerToken(header.value)
            } else {
                continue
            }
            guard let candidate else { continue }
            if let presented, presented != candidate {
                throw Rejection(ProblemResponses.make(
                    .ambiguousCredentials, detail: "The request carries two different credentials (X-AUTH-TOKEN sent twice, "
                        + "or X-AUTH-TOKEN and Authorization: Bearer); send your site key once.", requestID: requestID))
            }
            presented = candidate
        }
        return presented
    }

    /// The site's own `X-Request-Id` when it is sane and not a secret, otherwise a new id. An id
    /// equal to a credential (a key pasted into the wrong header) would be logged, echoed and
    /// forwarded upstream, so it is never used; site keys are known only by hash, so the id is
    /// hashed to compare.
    private func requestID(for head: HTTPRequestHead, context: GatewayContext) -> String {
        guard let candidate = head.value(for: "X-Request-Id"), RequestIDGenerator.isAcceptable(candidate),
              !head.headers.contains(where: { header in
                  (Self.isNamed(header, "x-auth-token") && header.value == candidate)
                      || (Self.isNamed(header, "authorization") && bearerToken(header.value) == candidate)
              }),
              !context.isCredential(candidate)
        else { return requestIDs.next() }
        return candidate
    }

    /// Whether a header is called `lowercaseName`, compared without allocating.
    private static func isNamed(_ header: HTTPHeader, _ lowercaseName: StaticString) -> Bool {
        let name = header.name.utf8
        guard name.count == lowercaseName.utf8CodeUnitCount else { return false }
        return lowercaseName.withUTF8Buffer { expected in
            name.elementsEqual(expected) { byte, lower in (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == lower }
        }
    }

    /// Whether the path has `%2F` or `%2f`.
    static func containsEncodedSlash(_ path: Substring) -> Bool {
        let bytes = path.utf8
        var index = bytes.startIndex
        while let percent = bytes[index...].firstIndex(of: 0x25) {
            let first = bytes.index(after: percent)
            guard first < bytes.endIndex else { return false }
            let second = bytes.index(after: first)
            guard second < bytes.endIndex else { return false }
            if bytes[first] == 0x32 && (bytes[second] == 0x46 || bytes[second] == 0x66) { return true }
            index = first
        }
        return false
    }

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
