import JustGateCore
import JustGateHTTP
import JustGateReactor
import JustGateServer

/// The phases that decide whether a request is served: `screen` (from the head: trace, authenticate,
/// route), `validate` (the fields) and `limit` (the rate-limit policies).
extension RequestDriver {
    /// The site key and the route, from the head alone. Runs once per request (again only when a reload came
    /// between head and body): for a request with a body before the body is read, and its context then
    /// carries site, key, ids and route to `validate`.
    func screen(_ context: RequestContext, _ state: inout RequestState) throws(Problem) {
        try authenticate(context, &state)
        // `GET /justgate/v1/deliveries/<id>` is the gateway's own, not an upstream operation.
        if try routeToDeliveryStatus(context, &state) { return }
        try route(context, &state)
    }

    /// The `Idempotency-Key` of an operation that takes one, then the fields, decoded from the query and body
    /// and checked by the operation's rules.
    func validate(_ context: RequestContext, _ state: inout RequestState) throws(Problem) -> Step {
        if context.gateway.catalogue.operations[state.operationIndex].takesIdempotencyKey {
            state.record.idempotencyKey = try IdempotencyGate.key(in: context.head)
        }
        let fields = try RequestFields.decode(
            query: context.head.query, contentType: context.head.value(for: "Content-Type"), body: state.body,
            multipartLimits: context.gateway.multipartLimits, maxFields: context.gateway.maxFields)
        state.body = []
        let options = context.gateway.sites[state.siteIndex].validationOptions(now: wallClock())
        switch OperationValidator.validate(context.gateway.catalogue.operations[state.operationIndex],
                                           pathParameter: state.pathParameter, fields: fields, options: options,
                                           unknownFields: context.gateway.unknownFields) {
        case .success(let validated):
            if let allowlist = context.gateway.auditAllowlist {
                state.record.audit.personal = allowlist.personalValues(of: validated)
            }
            return .next(.limit(validated))
        case .failure(let failure):
            // At most `ProblemCollector.defaultLimit` codes: the log line stays as small as the answer.
            state.record.problemCodes = failure.problems.map(\.code)
            state.record.problemFields = failure.problems.map(\.field)
            state.record.audit.errors = context.gateway.auditAllowlist?.errors(failure.problems) ?? []
            let count = failure.problems.count + failure.omitted
            let operationID = context.gateway.catalogue.operations[state.operationIndex].id
            throw Problem(.invalidFields,
                          detail: "\(count) field\(count == 1 ? " is" : "s are") invalid for \(operationID); nothing was sent upstream.",
                          fieldErrors: failure.problems, errorsOmitted: failure.omitted)
        }
    }

    /// One check per policy of the site that counts this operation and finds its key in the request
    /// (normalised, so two spellings of a phone are one key). The memory limiter decides at once; a shared
    /// one (Redis) answers later on this loop, and `limited` takes its decision.
    func limit(_ context: RequestContext, _ state: inout RequestState, _ fields: consuming ValidatedRequest) throws(Problem) -> Step {
        switch quota.admit(quotaChecks(context.gateway, siteIndex: state.siteIndex, operationIndex: state.operationIndex,
                                       fields: fields)) {
        case .now(let decision):
            return try decide(&state, fields, decision)
        case .pending(let pending):
            // `self` strongly: the driver outlives every context (see the type's comment).
            pending.resume = { [self, fields = copy fields] decision in arrive(context, at: .limited(fields, decision)) }
            return awaitArrival(context)
        }
    }

    /// The shared limiter's decision, arrived later. A client that left meanwhile is not served further:
    /// nothing was sent upstream yet, so it ends here as 499 (the quota it was counted against is spent).
    func limited(_ context: RequestContext, _ state: inout RequestState, _ fields: consuming ValidatedRequest,
                 _ decision: QuotaGate.Decision) throws(Problem) -> Step {
        guard context.client.isActive else { throw Problem.clientGone }
        return try decide(&state, fields, decision)
    }

    private func decide(_ state: inout RequestState, _ fields: consuming ValidatedRequest, _ decision: QuotaGate.Decision) throws(Problem) -> Step {
        switch decision {
        case .decided(let verdict) where verdict.admitted:
            state.record.addedHeaders = RateLimitHeaders.admitted(verdict)
            return .next(.build(fields))
        case .decided(let verdict):
            let problem = Problem.quotaExceeded(verdict)
            state.record.policy = problem.policies.joined(separator: ",")
            throw problem
        case .unavailable:
            throw Problem.limiterUnavailable
        }
    }

    private func quotaChecks(_ gateway: GatewayContext, siteIndex: Int, operationIndex: Int, fields: ValidatedRequest) -> [QuotaCheck] {
        let policiesByOperation = gateway.sites[siteIndex].policiesByOperation
        guard operationIndex < policiesByOperation.count else { return [] }
        let policies = policiesByOperation[operationIndex]
        guard !policies.isEmpty else { return [] }
        let operationID = gateway.catalogue.operations[operationIndex].id
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
    private func authenticate(_ context: RequestContext, _ state: inout RequestState) throws(Problem) {
        let presented: String?
        do throws(SiteCredentials.Ambiguous) {
            presented = try SiteCredentials.presentedKey(context.head)
        } catch {
            state.record.requestID = requestIDs.next()
            throw Problem(.ambiguousCredentials, detail: "The request carries two different credentials (X-AUTH-TOKEN sent twice, "
                            + "or X-AUTH-TOKEN and Authorization: Bearer); send your site key once.")
        }
        guard let presented, !presented.isEmpty else {
            state.record.requestID = requestIDs.next()
            throw Problem.unauthorized("Send your site key in the X-AUTH-TOKEN header (or Authorization: Bearer).")
        }
        let now = wallClock()
        let (match, keyIndex) = context.gateway.keys.lookup(presentedKey: presented, now: now)
        if let keyIndex { context.gateway.keyUsage.used(keyIndex, at: now) }
        switch match {
        case .site(let index):
            state.siteIndex = index
            state.keyIndex = keyIndex ?? 0
            assignRequestIDs(context, &state)
            state.record.siteID = context.gateway.sites[index].id
            state.record.keyFingerprint = context.gateway.keyUsage.slots[state.keyIndex].fingerprint
        case .expired(let index, let key):
            state.record.requestID = requestIDs.next()
            state.record.siteID = context.gateway.sites[index].id
            state.record.keyFingerprint = key.fingerprint
            throw Problem.unauthorized("The site key with fingerprint \(key.fingerprint) (of site \(context.gateway.sites[index].id)) "
                + "expired at "
                + "\(key.expiry?.description ?? "?"); send the site's current key.")
        case .unknown:
            state.record.requestID = requestIDs.next()
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
    private func assignRequestIDs(_ context: RequestContext, _ state: inout RequestState) {
        guard let candidate = context.head.value(for: "X-Request-Id"), RequestIDGenerator.isAcceptable(candidate) else {
            state.record.requestID = requestIDs.next()
            return
        }
        switch context.gateway.credentials.holder(of: candidate, ownSite: state.siteIndex) {
        case .nobody:
            state.record.requestID = candidate
        case .ownSite:
            state.record.requestID = requestIDs.next()
        case .otherSite:
            state.record.requestID = candidate
            state.record.requestIDReplacement = requestIDs.next()
        }
    }

    // MARK: - Routing

    /// The operation the method and path name, and its path parameter.
    private func route(_ context: RequestContext, _ state: inout RequestState) throws(Problem) {
        // Decoded only when it holds an escape: the usual path is matched as it came, no `String` made for it.
        // Its bytes are looked at once, over contiguous UTF-8 (`Substring.utf8.contains` walked it by index).
        var rawPath = context.head.path
        let path: Substring
        if rawPath.withUTF8({ $0.contains(UInt8(ascii: "%")) }) {
            if SiteCredentials.containsEncodedSlash(rawPath) {
                // Decoded, `%2F` would join segments the site kept apart and reach an operation by a path
                // no site sends; no operation has a slash inside a segment.
                throw Problem(.badRequest, detail: "The request path contains an encoded slash (%2F); write the path with plain slashes.")
            }
            guard let decoded = URLEncodedForm.percentDecodePath(rawPath) else {
                throw Problem(.badRequest, detail: "The request path has invalid percent-encoding.")
            }
            path = decoded[...]
        } else {
            path = rawPath
        }
        switch context.gateway.router.match(method: context.head.method, path: path) {
        case .operation(let index, let parameter):
            state.operationIndex = index
            state.pathParameter = parameter
            state.record.operationID = context.gateway.catalogue.operations[index].id
        case .methodNotAllowed(let allowed):
            throw Problem(.methodNotAllowed,
                          detail: "This operation takes \(allowed.joined(separator: ", ")), not \(ProblemText.excerpt(context.head.method)).",
                          headers: [HTTPHeader(name: "Allow", value: allowed.joined(separator: ", "))])
        case .notFound:
            throw Problem(.notFound, detail: "No Just Services operation has the path \(ProblemText.excerpt(path)); see docs/openapi.yaml.")
        }
    }
}
