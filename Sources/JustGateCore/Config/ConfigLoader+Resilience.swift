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

    static func idempotencyConfig(_ node: Node?, reader: inout ConfigNodeReader) -> IdempotencyConfig? {
        var idempotency = IdempotencyConfig()
        guard let node else { return idempotency }
        guard let section = reader.mapping(node, at: "idempotency", knownKeys: ["ttl_s", "max_keys"]) else { return nil }
        let ttl = reader.int(in: section, "ttl_s", default: idempotency.ttlSeconds, atLeast: 1)
        let maxKeys = reader.int(in: section, "max_keys", default: idempotency.maxKeys, atLeast: 1)
        guard let ttl, let maxKeys else { return nil }
        idempotency.ttlSeconds = ttl
        idempotency.maxKeys = maxKeys
        return idempotency
    }
}
