/// The `IdempotencyTable` rules as one Lua script, so that gateways sharing a Redis claim and complete
/// keys atomically: two gateways claiming one key at once cannot both be told "forward".
///
/// One hash per key (`IdempotencyRedisKey`): `f` the request's fingerprint (hex), `o` the claiming
/// gateway's random token while the request is in flight, `a` the stored answer (`IdempotentAnswerCodec`)
/// once it is answered.
///
/// `claim`: KEYS[1]; ARGV: "claim", fingerprint, token, lease ms. A new key is marked in flight for the
/// lease and answers `[1]`; a known key answers `[4]` for another fingerprint, `[2, answer]` when answered,
/// `[3]` while in flight (409, as in one process).
///
/// `complete`: KEYS[1]; ARGV: "complete", fingerprint, token, answer ("" forgets the key), ttl ms. Only the
/// claim that set the in-flight mark may complete it (`1`, else `0`): the answer then lives the rest of
/// `ttl_s` from the claim, as in memory.
enum RedisIdempotencyScript {
    static let source = """
        local e = redis.call('HMGET', KEYS[1], 'f', 'o', 'a')
        if ARGV[1] == 'claim' then
          if not e[1] then
            redis.call('HSET', KEYS[1], 'f', ARGV[2], 'o', ARGV[3])
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            return {1}
          end
          if e[1] ~= ARGV[2] then return {4} end
          if e[3] then return {2, e[3]} end
          return {3}
        end
        if e[1] ~= ARGV[2] or e[2] ~= ARGV[3] or e[3] then return 0 end
        if ARGV[4] == '' then
          redis.call('DEL', KEYS[1])
          return 1
        end
        redis.call('HSET', KEYS[1], 'a', ARGV[4])
        redis.call('HDEL', KEYS[1], 'o')
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return 1
        """
}
