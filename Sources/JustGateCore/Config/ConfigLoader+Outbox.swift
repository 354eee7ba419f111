import Yams

/// The `outbox:` section and each site's `defer:` list (issue 25: store-and-forward).
extension ConfigLoader {
    static let outboxKeys = ["backend", "path", "redis_url", "retry_ms", "max_age_s", "max_bytes", "lease_ms",
                             "min_delivery_rate"]

    static func outboxConfig(_ node: Node?, reader: inout ConfigNodeReader) -> OutboxConfig? {
        var outbox = OutboxConfig()
        guard let node else { return outbox }
        guard let section = reader.mapping(node, at: "outbox", knownKeys: outboxKeys) else { return nil }
        var isValid = true
        if let backendNode = section.value("backend") {
            if let backend = reader.choice(backendNode, at: "outbox.backend", as: OutboxConfig.Backend.self) {
                outbox.backend = backend
            } else {
                isValid = false
            }
        }
        switch reader.optionalString(in: section, "path") {
        case .some(.some(let path)) where path.isEmpty:
            reader.error("must not be empty; remove it to use var/outbox", at: "outbox.path", node: section.value("path"))
            isValid = false
        case .some(let path):
            if let path { outbox.path = path }
        case .none:
            isValid = false
        }
        switch reader.optionalString(in: section, "redis_url") {
        case .some(.some(let url)):
            // Checked here, like rate_limit's, so a typo is a check-config error and not a failed start.
            switch RedisEndpoint.parse(url) {
            case .success: outbox.redisURL = url
            case .failure(let problem):
                reader.error(problem.message, at: "outbox.redis_url", node: section.value("redis_url"))
                isValid = false
            }
        case .some(.none): break
        case .none: isValid = false
        }
        if outbox.backend == .redis && outbox.redisURL == nil && isValid {
            reader.error("backend: redis needs redis_url (e.g. redis://127.0.0.1:6379/0)", at: "outbox", node: node)
            isValid = false
        }
        if let retryNode = section.value("retry_ms") {
            if let waits = retryWaits(retryNode, reader: &reader) { outbox.retryMs = waits } else { isValid = false }
        }
        let fields: [(String, WritableKeyPath<OutboxConfig, Int>, Int)] = [
            ("max_age_s", \.maxAgeSeconds, 1), ("max_bytes", \.maxBytes, 65_536), ("lease_ms", \.leaseMs, 100),
            ("min_delivery_rate", \.minDeliveryRate, 1),
        ]
        for (key, field, minimum) in fields {
            if let value = reader.int(in: section, key, default: outbox[keyPath: field], atLeast: minimum) {
                outbox[keyPath: field] = value
            } else {
                isValid = false
            }
        }
        if outbox.maxAgeSeconds > OutboxConfig.maxAgeSecondsLimit, let node = section.value("max_age_s") {
            // Larger values overflow the delivery policy's millisecond arithmetic; nobody means them.
            reader.error("must be at most \(OutboxConfig.maxAgeSecondsLimit) (365 days), found \(outbox.maxAgeSeconds); "
                         + "drop older entries by hand instead (DELETE /outbox/<id>)", at: "outbox.max_age_s", node: node)
            isValid = false
        }
        return isValid ? outbox : nil
    }

    /// With Redis, `lease_ms` must outlast the longest attempt (`upstream.timeout_ms`, or an operation's own
    /// `timeout_ms`) plus `OutboxConfig.leaseMarginMs`: a lease that can end while its attempt is still under
    /// way lets another gateway send the juid's next call first. (Renewals keep a lease while Redis answers;
    /// this bounds what a missed renewal can cost.)
    static func checkOutboxLease(_ outbox: OutboxConfig, upstream: UpstreamConfig, operations: [String: OperationOverride],
                                 node: Node?, reader: inout ConfigNodeReader) {
        guard outbox.backend == .redis else { return }
        var longest = (upstream.timeoutMs, "upstream.timeout_ms")
        for (id, override) in operations.sorted(by: { $0.key < $1.key }) {
            if let timeout = override.timeoutMs, timeout > longest.0 { longest = (timeout, "operations.\(id).timeout_ms") }
        }
        let needed = longest.0 + OutboxConfig.leaseMarginMs
        guard outbox.leaseMs <= needed else { return }
        reader.error("""
            must be more than the longest upstream deadline (\(longest.1): \(longest.0) ms) plus \
            \(OutboxConfig.leaseMarginMs) ms, found \(outbox.leaseMs): a lease that ends while its attempt is under way \
            lets another gateway send that juid's next call first; set lease_ms to at least \(needed + 1) (or lower \
            the timeout)
            """, at: "outbox.lease_ms", node: node?.mapping?["lease_ms"] ?? node)
    }

    /// `retry_ms`: a non-empty list of waits, each at least 1 ms.
    private static func retryWaits(_ node: Node, reader: inout ConfigNodeReader) -> [Int]? {
        guard let items = reader.sequence(node, at: "outbox.retry_ms") else { return nil }
        guard !items.isEmpty else {
            reader.error("list at least one wait in milliseconds; the last one repeats (e.g. [5000, 30000, 120000])",
                         at: "outbox.retry_ms", node: node)
            return nil
        }
        var waits: [Int] = []
        for (index, item) in items.enumerated() {
            let path = ConfigNodeReader.join("outbox.retry_ms", index)
            guard let wait = reader.int(item, at: path, atLeast: 1) else { return nil }
            guard wait <= OutboxConfig.retryMsLimit else {
                // Larger waits overflow the policy's arithmetic (and max_age_s ends an entry first anyway).
                reader.error("must be at most \(OutboxConfig.retryMsLimit) (7 days), found \(wait); write the wait "
                             + "in milliseconds, e.g. 3600000 for an hour", at: path, node: item)
                return nil
            }
            waits.append(wait)
        }
        return waits
    }

    /// `sites[].defer`: operation ids the catalogue knows and lets wait (`DeferralTrait.mayDefer`), each once.
    static func deferredOperations(_ node: Node?, at path: String, knownOperations: Set<String>,
                                   reader: inout ConfigNodeReader) -> [String]? {
        guard let node else { return [] }
        guard let items = reader.sequence(node, at: path) else { return nil }
        let catalogue = Catalogue()
        let deferrable = catalogue.operations.filter { $0.deferral.mayDefer }.map(\.id)
        var operations: [String] = []
        var isValid = true
        for (index, item) in items.enumerated() {
            let itemPath = ConfigNodeReader.join(path, index)
            guard let id = reader.string(item, at: itemPath) else {
                isValid = false
                continue
            }
            if let operation = catalogue.operation(id: id), knownOperations.contains(id) {
                if !operation.deferral.mayDefer {
                    reader.error("""
                        '\(id)' cannot be deferred: the site needs its answer (\(operation.summary.lowercased())); \
                        remove it from defer (it is always forwarded). Deferrable: \(deferrable.joined(separator: ", "))
                        """, at: itemPath, node: item)
                    isValid = false
                } else if operations.contains(id) {
                    reader.error("'\(id)' is listed twice; list each operation once", at: itemPath, node: item)
                    isValid = false
                } else {
                    operations.append(id)
                }
            } else {
                var message = "unknown operation '\(id)'"
                if let suggestion = ConfigSpelling.closest(to: id, among: deferrable) {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += "; deferrable operations: \(deferrable.joined(separator: ", "))"
                }
                reader.error(message, at: itemPath, node: item)
                isValid = false
            }
        }
        return isValid ? operations : nil
    }
}
