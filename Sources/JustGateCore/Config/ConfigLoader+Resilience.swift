import Yams

/// The upstream resilience settings: `upstream.retries`, `upstream.circuit` and `idempotency`.
extension ConfigLoader {
    static let retryKeys = [
        "max_attempts", "budget_percent", "budget_min_retries", "base_delay_ms", "max_delay_ms", "attempt_timeout_ms",
    ]

    static func retryConfig(_ node: Node?, reader: inout ConfigNodeReader) -> RetryConfig? {
        var retries = RetryConfig()
        guard let node else { return retries }
        guard let section = reader.mapping(node, at: "upstream.retries", knownKeys: retryKeys) else { return nil }
        let maxAttempts = reader.int(in: section, "max_attempts", default: retries.maxAttempts, atLeast: 1)
        let budget = reader.int(in: section, "budget_percent", default: retries.budgetPercent, atLeast: 0)
        let minimum = reader.int(in: section, "budget_min_retries", default: retries.budgetMinRetries, atLeast: 0)
        let base = reader.int(in: section, "base_delay_ms", default: retries.baseDelayMs, atLeast: 1)
        let ceiling = reader.int(in: section, "max_delay_ms", default: retries.maxDelayMs, atLeast: 1)
        // Absent is fine (.some(nil)); present but wrong is an error (nil).
        var attemptTimeout: Int?? = .some(nil)
        if let attemptNode = section.value("attempt_timeout_ms") {
            if let value = reader.int(attemptNode, at: section.path(of: "attempt_timeout_ms"), atLeast: 1) {
                attemptTimeout = .some(value)
            } else {
                attemptTimeout = .none
            }
        }
        if let budget, budget > 100 {
            reader.error("must be at most 100 (a percentage of calls), found \(budget)",
                         at: section.path(of: "budget_percent"), node: section.value("budget_percent"))
            return nil
        }
        if let base, let ceiling, ceiling < base {
            reader.error("must be at least base_delay_ms (\(base)), found \(ceiling)",
                         at: section.path(of: "max_delay_ms"), node: section.value("max_delay_ms"))
            return nil
        }
        guard let maxAttempts, let budget, let minimum, let base, let ceiling, let attemptTimeout else { return nil }
        retries.maxAttempts = maxAttempts
        retries.budgetPercent = budget
        retries.budgetMinRetries = minimum
        retries.baseDelayMs = base
        retries.maxDelayMs = ceiling
        retries.attemptTimeoutMs = attemptTimeout
        return retries
    }

    static func circuitConfig(_ node: Node?, reader: inout ConfigNodeReader) -> CircuitConfig? {
        var circuit = CircuitConfig()
        guard let node else { return circuit }
        guard let section = reader.mapping(node, at: "upstream.circuit", knownKeys: ["failures", "open_ms"]) else { return nil }
        let failures = reader.int(in: section, "failures", default: circuit.failures, atLeast: 1)
        let openMs = reader.int(in: section, "open_ms", default: circuit.openMs, atLeast: 1)
        guard let failures, let openMs else { return nil }
        circuit.failures = failures
        circuit.openMs = openMs
        return circuit
    }

    static let idempotencyKeys = ["ttl_s", "max_keys", "backend", "redis_url", "redis_timeout_ms"]

    static func idempotencyConfig(_ node: Node?, reader: inout ConfigNodeReader) -> IdempotencyConfig? {
        var idempotency = IdempotencyConfig()
        guard let node else { return idempotency }
        guard let section = reader.mapping(node, at: "idempotency", knownKeys: idempotencyKeys) else { return nil }
        let ttl = reader.int(in: section, "ttl_s", default: idempotency.ttlSeconds, atLeast: 1)
        let maxKeys = reader.int(in: section, "max_keys", default: idempotency.maxKeys, atLeast: 1)
        let timeout = reader.int(in: section, "redis_timeout_ms", default: idempotency.redisTimeoutMs, atLeast: 1)
        var isValid = true
        if let backendNode = section.value("backend") {
            if let backend = reader.choice(backendNode, at: "idempotency.backend", as: IdempotencyBackendKind.self) {
                idempotency.backend = backend
            } else {
                isValid = false
            }
        }
        if let urlNode = section.value("redis_url") {
            if let text = reader.string(urlNode, at: "idempotency.redis_url") {
                switch RedisEndpoint.parse(text) {
                case .success:
                    idempotency.redisURL = text
                case .failure(let problem):
                    reader.error(problem.message, at: "idempotency.redis_url", node: urlNode)
                    isValid = false
                }
            } else {
                isValid = false
            }
        }
        if isValid, idempotency.backend == .redis, idempotency.redisURL == nil {
            reader.error("""
                backend redis needs redis_url, e.g. redis://127.0.0.1:6379/0 (the Redis every gateway behind the \
                load balancer shares)
                """, at: "idempotency", node: node)
            isValid = false
        }
        guard isValid, let ttl, let maxKeys, let timeout else { return nil }
        idempotency.ttlSeconds = ttl
        idempotency.maxKeys = maxKeys
        idempotency.redisTimeoutMs = timeout
        return idempotency
    }
}
