/// The GCRA of `GCRALimit.decide`, as one Lua script so that every gateway sharing a Redis decides
/// against the same instants atomically: all policies of a request in one call, admitted only if
/// every one admits, and nothing stored otherwise. Time is Redis's own clock (`TIME`, microseconds),
/// so gateways with skewed clocks still agree.
///
/// KEYS: one per policy. ARGV: interval and tolerance (microseconds) per key, in the same order.
/// Returns `[now, stored instant or -1 per key…]`: the instants *before* the decision, from which
/// the gateway derives the verdict and the headers with the same Swift code the memory limiter uses.
/// Keys expire once their instant has passed: an expired key and a recovered one are the same.
enum RedisQuotaScript {
    static let source = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local out = {now}
        local admitted = true
        for i = 1, #KEYS do
          local stored = tonumber(redis.call('GET', KEYS[i]))
          out[i + 1] = stored or -1
          local tat = stored or now
          if tat < now then tat = now end
          if tat - now > tonumber(ARGV[2 * i]) then admitted = false end
        end
        if admitted then
          for i = 1, #KEYS do
            local tat = out[i + 1]
            if tat < now then tat = now end
            tat = tat + tonumber(ARGV[2 * i - 1])
            redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 1)
          end
        end
        return out
        """
}
