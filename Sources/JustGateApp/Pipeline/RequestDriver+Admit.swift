import JustGateCore
import JustGateHTTP
import JustGateReactor
import JustGateServer

/// The phases that decide whether a request is served: `screen` (from the head: trace, authenticate,
/// route), `validate` (the fields) and `limit` (the rate-limit policies).
extension RequestDriver {
    /// The trace, the site key and the route, from the head alone. Runs once per request: for a request with
    /// a body before the body is read, and its context then carries site, key, ids and route to `validate`.
    func screen(_ context: RequestContext) throws(Problem) {
        let head = context.head
        context.trace = traces.context(for: head)
        context.record.traceID = context.trace?.traceID.description
        try authenticate(context)
        // `GET /justgate/v1/deliveries/<id>` is the gateway's own, not an upstream operation.
        if try routeToDeliveryStatus(context) { return }
        try route(context)
    }

    /// The `Idempotency-Key` of an operation that takes one, then the fields, decoded from the query and body
    /// and checked by the operation's rules.
    func validate(_ context: RequestContext) throws(Problem) -> Step {
        let head = context.head
        let gateway = context.gateway
        let operation = gateway.catalogue.operations[context.operationIndex]
        if operation.takesIdempotencyKey {
            switch IdempotencyGate.key(in: head, requestID: context.record.requestID) {
            case .success(let key):
                context.record.idempotencyKey = key
            case .failure(let problem):
                context.record.outcome = .rejectedInvalid
                return .answer(problem.response)
            }
        }
        let fields = try RequestFields.decode(
            query: head.query, contentType: head.value(for: "Content-Type"), body: context.body,
            multipartLimits: gateway.multipartLimits, maxFields: gateway.maxFields)
        context.body = []
        let options = gateway.sites[context.siteIndex].validationOptions(now: wallClock())
        switch OperationValidator.validate(operation, pathParameter: context.pathParameter, fields: fields, options: options,
                                           unknownFields: gateway.unknownFields) {
        case .success(let validated):
            if let allowlist = gateway.auditAllowlist { context.record.audit.personal = allowlist.personalValues(of: validated) }
            context.fields = validated
            return .proceed
        case .failure(let failure):
            // At most `ProblemCollector.defaultLimit` codes: the log line stays as small as the answer.
            context.record.problemCodes = failure.problems.map(\.code)
            context.record.problemFields = failure.problems.map(\.field)
            context.record.audit.errors = gateway.auditAllowlist?.errors(failure.problems) ?? []
            let count = failure.problems.count + failure.omitted
            throw Problem(.invalidFields,
                          detail: "\(count) field\(count == 1 ? " is" : "s are") invalid for \(operation.id); nothing was sent upstream.",
                          fieldErrors: failure.problems, errorsOmitted: failure.omitted)
        }
    }

    /// One check per policy of the site that counts this operation and finds its key in the request
    /// (normalised, so two spellings of a phone are one key). A shared limiter (Redis) answers later on this
    /// loop: the phase waits, and is entered again with the answer in `context.quotaAnswer`.
    func limit(_ context: RequestContext) throws(Problem) -> Step {
        if context.quotaAnswer == nil {
            switch quota.admit(quotaChecks(context)) {
            case .pending(let pending):
                pending.resume = { [weak self] arrived in
                    context.quotaAnswer = arrived
                    self?.resume(context)
                }
                // An answer already kept by `pending` is handed over as `resume` is set: decided below.
                if context.quotaAnswer == nil { return .wait }
            case let answer:
                context.quotaAnswer = answer
            }
        }
        switch context.quotaAnswer {
        case .decided(let verdict)? where verdict.admitted:
            context.record.addedHeaders = RateLimitHeaders.admitted(verdict)
            return .proceed
        case .decided(let verdict)?:
            let problem = Problem.quotaExceeded(verdict)
            context.record.policy = problem.policies.joined(separator: ",")
            throw problem
        case .unavailable?, .pending?, nil:
            // A resumed answer is decided or unavailable; the type allows more, refused like an unreachable limiter.
            throw Problem.limiterUnavailable
        }
    }

    private func quotaChecks(_ context: RequestContext) -> [QuotaCheck] {
        let gateway = context.gateway
        let policiesByOperation = gateway.sites[context.siteIndex].policiesByOperation
        guard context.operationIndex < policiesByOperation.count, let fields = context.fields else { return [] }
        let policies = policiesByOperation[context.operationIndex]
        guard !policies.isEmpty else { return [] }
        let operationID = gateway.catalogue.operations[context.operationIndex].id
        var checks: [QuotaCheck] = []
        checks.reserveCapacity(policies.count)
        for policy in policies {
            if let check = policy.check(operationID: operationID, fields: fields) { checks.append(check) }
        }
        return checks
    }

    // MARK: - Authentication

    /// The site whose key the request presents, and its ids (`assignRequestIDs`). A refusal carries an id made
    /// here: a request that fails authentication never uses the `X-Request-Id` it sent, so an unauthenticated
    /// client learns nothing from whether its id came back. An expired key's refusal names its site and key,
    /// so its record, log line and metrics say whose it was.
    private func authenticate(_ context: RequestContext) throws(Problem) {
        let head = context.head
        let gateway = context.gateway
        let presented: String?
        do throws(SiteCredentials.Ambiguous) {
            presented = try SiteCredentials.presentedKey(head)
        } catch {
            context.record.requestID = requestIDs.next()
            throw Problem(.ambiguousCredentials, detail: "The request carries two different credentials (X-AUTH-TOKEN sent twice, "
                            + "or X-AUTH-TOKEN and Authorization: Bearer); send your site key once.")
        }
        guard let presented, !presented.isEmpty else {
            context.record.requestID = requestIDs.next()
            throw Problem.unauthorized("Send your site key in the X-AUTH-TOKEN header (or Authorization: Bearer).")
        }
        let now = wallClock()
        let (match, keyIndex) = gateway.keys.lookup(presentedKey: presented, now: now)
        if let keyIndex { gateway.keyUsage.used(keyIndex, at: now) }
        switch match {
        case .site(let index):
            context.siteIndex = index
            context.keyIndex = keyIndex ?? 0
            assignRequestIDs(context)
            context.record.siteID = gateway.sites[index].id
            context.record.keyFingerprint = gateway.keyUsage.slots[context.keyIndex].fingerprint
        case .expired(let index, let key):
            context.record.requestID = requestIDs.next()
            context.record.siteID = gateway.sites[index].id
            context.record.keyFingerprint = key.fingerprint
            throw Problem.unauthorized("The site key with fingerprint \(key.fingerprint) (of site \(gateway.sites[index].id)) expired at "
                + "\(key.expiry?.description ?? "?"); send the site's current key.")
        case .unknown:
            context.record.requestID = requestIDs.next()
            throw Problem.unauthorized("The site key is not known to this gateway; use the key justgate issued for your site.")
        }
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
    private func assignRequestIDs(_ context: RequestContext) {
        guard let candidate = context.head.value(for: "X-Request-Id"), RequestIDGenerator.isAcceptable(candidate) else {
            context.record.requestID = requestIDs.next()
            return
        }
        switch context.gateway.credentials.holder(of: candidate, ownSite: context.siteIndex) {
        case .nobody:
            context.record.requestID = candidate
        case .ownSite:
            context.record.requestID = requestIDs.next()
        case .otherSite:
            context.record.requestID = candidate
            context.record.requestIDReplacement = requestIDs.next()
        }
    }

    // MARK: - Routing

    /// The operation the method and path name, and its path parameter.
    private func route(_ context: RequestContext) throws(Problem) {
        let head = context.head
        if SiteCredentials.containsEncodedSlash(head.path) {
            // Decoded, `%2F` would join segments the site kept apart and reach an operation by a path
            // no site sends; no operation has a slash inside a segment.
            throw Problem(.badRequest, detail: "The request path contains an encoded slash (%2F); write the path with plain slashes.")
        }
        guard let path = URLEncodedForm.percentDecodePath(head.path) else {
            throw Problem(.badRequest, detail: "The request path has invalid percent-encoding.")
        }
        switch context.gateway.router.match(method: head.method, path: path) {
        case .operation(let index, let parameter):
            context.operationIndex = index
            context.pathParameter = parameter
            context.record.operationID = context.gateway.catalogue.operations[index].id
        case .methodNotAllowed(let allowed):
            throw Problem(.methodNotAllowed,
                          detail: "This operation takes \(allowed.joined(separator: ", ")), not \(ProblemText.excerpt(head.method)).",
                          headers: [HTTPHeader(name: "Allow", value: allowed.joined(separator: ", "))])
        case .notFound:
            throw Problem(.notFound, detail: "No Just Services operation has the path \(ProblemText.excerpt(path)); see docs/openapi.yaml.")
        }
    }
}
