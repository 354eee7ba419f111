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
    /// `echoGuard` is the token the call carries, which `RelayedAnswer.screen` keeps out of the answer.
    case forward(UpstreamRequest, RequestRecord, echoGuard: [UInt8])
    /// The limiter's answer comes later on this loop (Redis): set `quota.resume`, and pass the
    /// answer and the ticket to `conclude` for the decision.
    case wait(PendingQuota, AdmissionTicket)
}

/// A valid request waiting for its quota: the call it would make and its record so far.
struct AdmissionTicket {
    var call: UpstreamRequest
    var record: RequestRecord
    /// The site's upstream token as bytes (made once per site), for `RelayedAnswer.screen` to redact.
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
        /// The id the response carries, when the stage that refused made it (authentication does).
        var requestID: String?
        /// The site and key fingerprint of a refused key that is known (an expired one), for its record.
        var siteID: String?
        var keyFingerprint: String?
        init(_ response: HTTPResponse, requestID: String? = nil, siteID: String? = nil, keyFingerprint: String? = nil) {
            self.response = response
            self.requestID = requestID
            self.siteID = siteID
            self.keyFingerprint = keyFingerprint
        }
    }

    /// The stages that need only the head (authenticate, match), run before a body is invited or
    /// read: a request they refuse is answered at once, so a client without a key or with a wrong
    /// path cannot make the gateway buffer a megabyte. Nil when the request may go on; `prepare`
    /// then runs every stage on the complete request.
    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> PipelineDecision? {
        let context = contextStore.current
        let siteIndex: Int
        let keyIndex: Int
        do throws(Rejection) {
            (siteIndex, keyIndex) = try authenticate(head, context: context)
        } catch {
            return .respond(error.response, refusedRecord(error, head: head, remoteAddress: remoteAddress,
                                                          receivedAtNanos: receivedAtNanos))
        }
        // Most requests pass: check them without making a request id or a record first, which
        // only a refusal needs (it then runs the stage again, with its id).
        do throws(Rejection) {
            _ = try match(head, context: context, requestID: "")
            return nil
        } catch {}
        var record = authenticatedRecord(head, siteIndex: siteIndex, keyIndex: keyIndex, context: context,
                                         remoteAddress: remoteAddress, receivedAtNanos: receivedAtNanos)
        do throws(Rejection) {
            _ = try match(head, context: context, requestID: record.requestID)
            return nil
        } catch {
            record.status = error.response.status
            record.outcome = .rejectedInvalid
            return .respond(error.response, record)
        }
    }

    func prepare(_ request: ServerRequest) -> PipelineDecision {
        let context = contextStore.current
        let head = request.head
        let trace = traces.context(for: head)
        let siteIndex: Int
        let keyIndex: Int
        do throws(Rejection) {
            (siteIndex, keyIndex) = try authenticate(head, context: context)
        } catch {
            var record = refusedRecord(error, head: head, remoteAddress: request.remoteAddress,
                                       receivedAtNanos: request.receivedAtNanos)
            record.traceID = trace.traceID.description
            return .respond(error.response, record)
        }
        let site = context.sites[siteIndex]
        var record = authenticatedRecord(head, siteIndex: siteIndex, keyIndex: keyIndex, context: context,
                                         remoteAddress: request.remoteAddress, receivedAtNanos: request.receivedAtNanos)
        let requestID = record.requestID
        record.traceID = trace.traceID.description

        do throws(Rejection) {
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
            // The upstream gets the id that is written, never another site's credential.
            var call = UpstreamRequestBuilder.build(operation: operation, validated: fields, site: site,
                                                    requestID: record.recordedRequestID,
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
            record.outcome = .rejectedInvalid
            return .respond(error.response, record)
        }
    }

    /// The record of a request that failed authentication: it carries the id `authenticate` generated,
    /// never the one the request sent.
    /// The record of a request that passed authentication: its ids (see `assignRequestIDs`), site and key.
    private func authenticatedRecord(_ head: HTTPRequestHead, siteIndex: Int, keyIndex: Int, context: GatewayContext,
                                     remoteAddress: String, receivedAtNanos: UInt64) -> RequestRecord {
        var record = RequestRecord(requestID: "", method: head.method, path: String(head.path),
                                   clientAddress: remoteAddress, receivedAtNanos: receivedAtNanos)
        assignRequestIDs(for: head, siteIndex: siteIndex, context: context, to: &record)
        record.siteID = context.sites[siteIndex].id
        record.keyFingerprint = context.keyUsage.slots[keyIndex].fingerprint
        return record
    }

    private func refusedRecord(_ rejection: Rejection, head: HTTPRequestHead, remoteAddress: String,
                               receivedAtNanos: UInt64) -> RequestRecord {
        var record = RequestRecord(requestID: rejection.requestID ?? "", method: head.method, path: String(head.path),
                                   clientAddress: remoteAddress, receivedAtNanos: receivedAtNanos)
        record.status = rejection.response.status
        record.outcome = rejection.response.status == 401 ? .rejectedAuth : .rejectedInvalid
        record.siteID = rejection.siteID
        record.keyFingerprint = rejection.keyFingerprint
        return record
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
            record.outcome = .rateLimited
            record.status = response.status
            return .respond(response, record)
        case .unavailable, .pending:
            // `.pending` never comes here (`QuotaGate.admit` hands it to `carry`, and a resumed answer is
            // decided or unavailable); the type allows it, so it is refused like an unreachable limiter.
            let response = ProblemResponses.make(
                .unavailable, detail: "The rate limiter's store cannot be reached, and this gateway refuses uncounted requests; retry shortly.",
                requestID: record.requestID, headers: [HTTPHeader(name: "Retry-After", value: "1")])
            record.outcome = .rateLimited
            record.status = response.status
            return .respond(response, record)
        }
    }

    /// Turns the upstream's answer (or failure) into the site's response. The answer was screened for
    /// the upstream token before it got here (`RelayedAnswer.screen`); `finish` only notes whether it was.
    func finish(_ result: Result<RelayedAnswer, UpstreamFailure>, record: inout RequestRecord) -> HTTPResponse? {
        switch result {
        case .success(let answer):
            record.upstreamStatus = answer.status
            guard (100...599).contains(answer.status) else {
                // Not an HTTP status: relaying it would hand the site something no client can read.
                record.outcome = .upstreamError
                record.failureReason = .badStatus
                let response = ProblemResponses.make(
                    .badGateway, detail: "The upstream answered with status \(answer.status), which is not an HTTP status; retry later.",
                    requestID: record.requestID)
                record.status = response.status
                return response
            }
            record.outcome = .forwarded
            if answer.status == 401 || answer.status == 403 {
                // The upstream refused the gateway's own token: relayed as it is, but the operator must act
                // (`RequestLog` writes it as a warning).
                record.outcome = .upstreamAuthFailed
                record.failureReason = .upstreamAuthFailed
            }
            if answer.upstreamTokenRedacted { record.upstreamTokenRedacted = true }
            let body = answer.body
            let contentType = answer.contentType
            let id = HTTPHeader(name: "X-Request-Id", value: record.requestID)
            var headers = contentType.map { [HTTPHeader(name: "Content-Type", value: $0), id] } ?? [id]
            headers.append(contentsOf: record.addedHeaders)
            let response = HTTPResponse(status: answer.status, headers: headers, body: body)
            record.status = response.status
            return response
        case .failure(let failure):
            record.outcome = .upstreamError
            record.failureReason = failure.reason
            let tries = record.attempts > 1 ? " after \(record.attempts) attempts" : ""
            let response: HTTPResponse
            switch failure {
            case .timedOut, .connectTimedOut:
                record.outcome = .upstreamTimeout
                response = ProblemResponses.make(.gatewayTimeout, detail: "The upstream did not answer in time\(tries); retry later.",
                                                 requestID: record.requestID)
            case .responseTooLarge(let limit):
                response = ProblemResponses.make(.badGateway, detail: "The upstream answer was larger than \(limit) bytes.",
                                                 requestID: record.requestID)
            case .unreachable(let reason, _), .failed(let reason, _):
                response = ProblemResponses.make(.badGateway, detail: "The upstream could not be reached (\(reason))\(tries); retry later.",
                                                 requestID: record.requestID)
            case .connectionLost(let reason, _):
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
                // The client left: nothing to answer (`failure.reason` is `.clientGone`).
                record.outcome = .clientGone
                record.status = 499
                return nil
            }
            record.status = response.status
            return response
        }
    }

    // MARK: - Stages

    /// The index of the site whose key the request presents. A refusal carries an id made here: a request
    /// that fails authentication never uses the `X-Request-Id` it sent, so an unauthenticated client
    /// learns nothing from whether its id came back.
    /// Returns the site's index and the index of the key it used (in `context.keys`), whose last use is noted here.
    /// An expired key's refusal names its site and key, so its record, log line and metrics say whose it was.
    private func authenticate(_ head: HTTPRequestHead, context: GatewayContext) throws(Rejection) -> (site: Int, key: Int) {
        let presented: String?
        do throws(AmbiguousCredentials) {
            presented = try presentedKey(head)
        } catch {
            let requestID = requestIDs.next()
            throw Rejection(ProblemResponses.make(
                .ambiguousCredentials, detail: "The request carries two different credentials (X-AUTH-TOKEN sent twice, "
                    + "or X-AUTH-TOKEN and Authorization: Bearer); send your site key once.", requestID: requestID),
                requestID: requestID)
        }
        guard let presented, !presented.isEmpty else {
            let requestID = requestIDs.next()
            throw Rejection(unauthorized("Send your site key in the X-AUTH-TOKEN header (or Authorization: Bearer).", requestID),
                            requestID: requestID)
        }
        let now = wallClock()
        let (match, keyIndex) = context.keys.lookup(presentedKey: presented, now: now)
        if let keyIndex { context.keyUsage.used(keyIndex, at: now) }
        switch match {
        case .site(let index):
            return (index, keyIndex ?? 0)
        case .expired(let index, let key):
            let requestID = requestIDs.next()
            throw Rejection(unauthorized("The site key with fingerprint \(key.fingerprint) (of site \(context.sites[index].id)) expired at "
                + "\(key.expiry?.description ?? "?"); send the site's current key.", requestID), requestID: requestID,
                siteID: context.sites[index].id, keyFingerprint: key.fingerprint)
        case .unknown:
            let requestID = requestIDs.next()
            throw Rejection(unauthorized("The site key is not known to this gateway; use the key justgate issued for your site.",
                                         requestID), requestID: requestID)
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

    /// Two different credentials in one request (see `presentedKey`).
    private struct AmbiguousCredentials: Error {}

    /// The site key the request presents, from `X-AUTH-TOKEN` or `Authorization: Bearer`. Two
    /// credentials that differ are refused: whichever one a check took first, another part of the
    /// chain (a proxy, a log) could take the other.
    ///
    /// One walk over the headers, allocating nothing: this runs for every request.
    private func presentedKey(_ head: HTTPRequestHead) throws(AmbiguousCredentials) -> String? {
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
            if let presented, presented != candidate { throw AmbiguousCredentials() }
            presented = candidate
        }
        return presented
    }

    /// The request's ids, chosen once its site is known: the site's own `X-Request-Id` when it is sane,
    /// otherwise a new one. The id is echoed, logged, audited and forwarded, so a credential must never be
    /// used, yet the answer must not become an oracle for guessing one:
    /// - the site's own credential (any of its keys, its upstream token) is replaced by a new id: the site
    ///   knows its own credentials, so the replacement tells it nothing;
    /// - another site's credential is echoed to the site as if it were any id (so the answer is the same
    ///   whether a guess was right or not), but the log line, the audit record and the upstream call carry a
    ///   new id instead (`requestIDReplacement`; the log line says `request_id_replaced`).
    /// `CredentialTable` compares in constant time with every site's credentials, by hash; what differs
    /// afterwards is one generated id (tens of nanoseconds), far below what a site can time over a network.
    private func assignRequestIDs(for head: HTTPRequestHead, siteIndex: Int, context: GatewayContext,
                                  to record: inout RequestRecord) {
        guard let candidate = head.value(for: "X-Request-Id"), RequestIDGenerator.isAcceptable(candidate) else {
            record.requestID = requestIDs.next()
            return
        }
        switch context.credentials.holder(of: candidate, ownSite: siteIndex) {
        case .nobody:
            record.requestID = candidate
        case .ownSite:
            record.requestID = requestIDs.next()
        case .otherSite:
            record.requestID = candidate
            record.requestIDReplacement = requestIDs.next()
        }
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
        return String(parts[1].trimmingASCIISpaces())
    }
}
