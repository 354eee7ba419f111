import Yams

/// The `rate_limit:` section and each site's `limits:` list.
extension ConfigLoader {
    static let rateLimitKeys = ["backend", "redis_url", "redis_timeout_ms", "on_backend_error", "max_keys", "key_secret",
                                 "ipv6_prefix_length"]
    static let policyKeys = ["name", "scope", "operations", "rate", "burst"]

    static func rateLimitConfig(_ node: Node?, reader: inout ConfigNodeReader) -> RateLimitConfig? {
        var config = RateLimitConfig()
        guard let node else { return config }
        guard let section = reader.mapping(node, at: "rate_limit", knownKeys: rateLimitKeys) else { return nil }
        var isValid = true
        if let backendNode = section.value("backend") {
            if let backend = reader.choice(backendNode, at: "rate_limit.backend", as: RateLimitBackend.self) {
                config.backend = backend
            } else {
                isValid = false
            }
        }
        if let policyNode = section.value("on_backend_error") {
            if let policy = reader.choice(policyNode, at: "rate_limit.on_backend_error", as: RateLimitBackendErrorPolicy.self) {
                config.onBackendError = policy
            } else {
                isValid = false
            }
        }
        if let timeout = reader.int(in: section, "redis_timeout_ms", default: config.redisTimeoutMs, atLeast: 1) {
            config.redisTimeoutMs = timeout
        } else {
            isValid = false
        }
        if let maxKeys = reader.int(in: section, "max_keys", default: config.maxKeys, atLeast: 1000) {
            config.maxKeys = maxKeys
        } else {
            isValid = false
        }
        if let prefixNode = section.value("ipv6_prefix_length") {
            if let length = ipv6PrefixLength(prefixNode, reader: &reader) { config.ipv6PrefixLength = length } else { isValid = false }
        }
        if let urlNode = section.value("redis_url") {
            if let text = reader.string(urlNode, at: "rate_limit.redis_url") {
                switch RedisEndpoint.parse(text) {
                case .success:
                    config.redisURL = text
                case .failure(let problem):
                    reader.error(problem.message, at: "rate_limit.redis_url", node: urlNode)
                    isValid = false
                }
            } else {
                isValid = false
            }
        }
        if let secretNode = section.value("key_secret") {
            if let source = fileOrEnvSecret(secretNode, at: "rate_limit.key_secret", reader: &reader) { config.keySecret = source } else { isValid = false }
        }
        if isValid, config.backend == .redis, config.redisURL == nil {
            reader.error("backend redis needs redis_url, e.g. redis://127.0.0.1:6379/0", at: "rate_limit", node: node)
            isValid = false
        }
        return isValid ? config : nil
    }

    /// `ipv6_prefix_length`: 32 to 128 (see `RateLimitKeyOptions.ipv6PrefixLengths` for why).
    private static func ipv6PrefixLength(_ node: Node, reader: inout ConfigNodeReader) -> Int? {
        let path = "rate_limit.ipv6_prefix_length"
        guard let length = reader.int(node, at: path) else { return nil }
        let range = RateLimitKeyOptions.ipv6PrefixLengths
        guard range.contains(length) else {
            reader.error("""
                must be \(range.lowerBound) to \(range.upperBound), found \(length): 64 keys an IPv6 client by its /64 \
                (what one host or line is given), 128 by its single address
                """, at: path, node: node)
            return nil
        }
        return length
    }


    /// Per-user keys in a shared Redis without `key_secret` are SHA-256 prefixes of phone numbers and e-mail
    /// addresses, which anyone who can read Redis reverses by trying every number: warn (at start and in
    /// `check-config`), naming the policies.
    static func warnAboutUnkeyedPerUserRedisKeys(_ config: RateLimitConfig, sites: [SiteConfig], node: Node?,
                                                 reader: inout ConfigNodeReader) {
        guard config.backend == .redis, config.keySecret == nil else { return }
        let perUser = sites.flatMap { site in
            site.limits.filter { $0.scope.fieldName != nil }.map { "\(site.id)/\($0.name)" }
        }
        guard !perUser.isEmpty else { return }
        reader.warning("""
            per-user policies (\(perUser.joined(separator: ", "))) keep their keys in Redis as plain SHA-256 \
            prefixes, which anyone who can read Redis reverses by trying every phone number; set \
            rate_limit.key_secret: { file: PATH } or { env: NAME } (the same secret on every gateway) to key them \
            with an HMAC
            """, at: "rate_limit", node: node)
    }

    /// A site's `limits:`; an empty list when absent.
    static func sitePolicies(_ node: Node?, at path: String, knownOperations: Set<String>,
                             reader: inout ConfigNodeReader) -> [RateLimitPolicy]? {
        guard let node else { return [] }
        guard let items = reader.sequence(node, at: path) else { return nil }
        var policies: [RateLimitPolicy] = []
        var isValid = true
        var firstIndexByName: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let itemPath = ConfigNodeReader.join(path, index)
            guard let policy = sitePolicy(item, at: itemPath, knownOperations: knownOperations, reader: &reader) else {
                isValid = false
                continue
            }
            if let first = firstIndexByName[policy.name] {
                reader.error("duplicate policy name '\(policy.name)'; \(path)[\(first)] already uses it",
                             at: ConfigNodeReader.join(itemPath, "name"), node: item)
                isValid = false
            } else {
                firstIndexByName[policy.name] = index
            }
            policies.append(policy)
        }
        return isValid ? policies : nil
    }

    private static func sitePolicy(_ node: Node, at path: String, knownOperations: Set<String>,
                                   reader: inout ConfigNodeReader) -> RateLimitPolicy? {
        guard let section = reader.mapping(node, at: path, knownKeys: policyKeys) else { return nil }
        let name = reader.required(section, "name").flatMap { policyName($0, at: section.path(of: "name"), reader: &reader) }
        let scope = reader.required(section, "scope", hint: " (site, operation, ip, number, email or juid)").flatMap {
            reader.choice($0, at: section.path(of: "scope"), as: RateLimitScope.self)
        }
        let rate = reader.required(section, "rate", hint: " such as 10/s, 100/m, 3/h or 1000/d").flatMap {
            policyRate($0, at: section.path(of: "rate"), reader: &reader)
        }
        let burst: Int?? = section.value("burst").map { reader.int($0, at: section.path(of: "burst"), atLeast: 1) }
        let operations: [String]?? = section.value("operations").map {
            policyOperations($0, at: section.path(of: "operations"), known: knownOperations, reader: &reader)
        }
        if case .some(.none) = burst { return nil }
        if case .some(.none) = operations { return nil }
        guard let name, let scope, let rate else { return nil }
        let policy = RateLimitPolicy(name: name, scope: scope, operations: operations ?? nil, rate: rate, burst: burst ?? nil)
        warnAboutOperationsWithoutTheScopeField(policy, section: section, reader: &reader)
        return policy
    }

    /// A per-user policy counts only requests that carry its field (a per-number policy skips a request
    /// without `number`), so naming operations that never carry it is a policy that silently limits less, or
    /// nothing at all: say so at load time.
    private static func warnAboutOperationsWithoutTheScopeField(_ policy: RateLimitPolicy, section: ConfigMapping,
                                                                reader: inout ConfigNodeReader) {
        guard let field = policy.scope.fieldName else { return }
        let catalogue = Catalogue()
        func carries(_ id: String) -> Bool {
            guard let operation = catalogue.operation(id: id) else { return false }
            return operation.fields.contains { $0.name == field } || operation.pathParameter?.name == field
        }
        let carrying = catalogue.operations.map(\.id).filter(carries)
        let named = policy.operations ?? catalogue.operations.map(\.id)
        let without = named.filter { !carries($0) }
        let path = section.path(of: policy.operations == nil ? "scope" : "operations")
        let node = section.value(policy.operations == nil ? "scope" : "operations")
        if without.count == named.count {
            reader.warning("""
                policy '\(policy.name)' counts per \(field), but none of its operations carries a '\(field)' field, so \
                it never limits a request; operations that carry one: \(carrying.joined(separator: ", "))
                """, at: path, node: node)
        } else if policy.operations != nil && !without.isEmpty {
            reader.warning("""
                policy '\(policy.name)' counts per \(field); \(without.joined(separator: ", ")) \
                \(without.count == 1 ? "carries" : "carry") no '\(field)' field, so \(without.count == 1 ? "its" : "their") \
                requests are not counted by it
                """, at: path, node: node)
        }
    }

    /// Policy names appear in headers and logs: keep them to a token-like alphabet.
    private static func policyName(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> String? {
        guard let name = reader.string(node, at: path) else { return nil }
        let bytes = Array(name.utf8)
        let isValid = (1...64).contains(bytes.count) && bytes.enumerated().allSatisfy { offset, byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || (offset > 0 && (byte == 0x2E || byte == 0x5F || byte == 0x2D))
        }
        guard isValid else {
            reader.error("""
                '\(ProblemText.excerpt(name))' is not a valid policy name; use 1 to 64 characters of a-z, 0-9, \
                '.', '_' and '-', starting with a letter or digit
                """, at: path, node: node)
            return nil
        }
        return name
    }

    private static func policyRate(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> RateLimitRate? {
        guard let text = reader.string(node, at: path) else { return nil }
        guard let rate = RateLimitRate(parsing: text) else {
            reader.error("'\(ProblemText.excerpt(text))' is not a rate; write N/s, N/m, N/h or N/d, e.g. 3/h",
                         at: path, node: node)
            return nil
        }
        guard rate.count >= 1 else {
            reader.error("a rate of \(rate) admits nothing; the count must be at least 1 (remove the policy to stop limiting)",
                         at: path, node: node)
            return nil
        }
        guard rate.count <= RateLimitRate.maxCount else {
            reader.error("at most \(RateLimitRate.maxCount) per period; found \(rate.count)", at: path, node: node)
            return nil
        }
        return rate
    }

    private static func policyOperations(_ node: Node, at path: String, known: Set<String>,
                                         reader: inout ConfigNodeReader) -> [String]? {
        guard let items = reader.sequence(node, at: path) else { return nil }
        guard !items.isEmpty else {
            reader.error("list at least one operation, or remove 'operations' to count every operation", at: path, node: node)
            return nil
        }
        var operations: [String] = []
        var isValid = true
        for (index, item) in items.enumerated() {
            let itemPath = ConfigNodeReader.join(path, index)
            guard let id = reader.string(item, at: itemPath) else {
                isValid = false
                continue
            }
            guard known.contains(id) else {
                var message = "unknown operation '\(ProblemText.excerpt(id))'; known: \(known.sorted().joined(separator: ", "))"
                if let suggestion = ConfigSpelling.closest(to: id, among: Array(known)) {
                    message += "; did you mean '\(suggestion)'?"
                }
                reader.error(message, at: itemPath, node: item)
                isValid = false
                continue
            }
            if !operations.contains(id) { operations.append(id) }
        }
        return isValid ? operations : nil
    }
}
