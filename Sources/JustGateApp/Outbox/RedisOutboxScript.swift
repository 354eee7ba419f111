/// The Lua script behind `outbox.backend: redis`: every change to the shared outbox is one `EVALSHA` of it,
/// so each is atomic across gateways. `ARGV[1]` names the operation; `KEYS[1]` is the key prefix (its hash
/// tag `{jg-outbox}` keeps every key in one Redis Cluster slot). Times are Redis's own clock (`TIME`), so the
/// gateways' clocks never decide who holds what.
///
/// The unit handed to a gateway is an order key (one site's calls about one juid, or one call without a
/// juid), never a lone entry: a gateway that holds the key sends its oldest entry, and nothing else of that
/// juid moves meanwhile, on any gateway. Keys (after the prefix):
///
/// | Key | Type | Holds |
/// |---|---|---|
/// | `q:<order key>` | list | the key's waiting entry ids, oldest first |
/// | `e:<id>` | hash | `r` the encoded entry (`OutboxRecordCodec`), `n` its accounted bytes, `m` its order key |
/// | `due` | sorted set | order keys, scored by when a gateway may take them: the head's next attempt, or, while a gateway holds the key, when its lease ends |
/// | `lease` | hash | order key → the token of the gateway holding it |
/// | `pending`, `dead`, `delivered` | sorted sets | ids by time, for the admin list (`delivered`: the last 1,000) |
/// | `bytes` | integer | accounted bytes of pending and dead entries, against `max_bytes` |
/// | `ps:<site>`, `ds:<site>` | sorted sets | one site's pending and dead ids, scored as in `pending` and `dead` |
/// | `sites` | set | the sites that may have pending or dead entries |
///
/// The per-site sets are what lets `/metrics` show depth, dead entries and oldest age per site at the cost of
/// a few commands per site, never a walk over every entry. They repeat what `pending` and `dead` hold, so
/// `stats` checks that their sizes add up to those and, if not (data written by a version without them, or a
/// gateway of that version still writing during a rolling upgrade), repairs them from `pending` and `dead`,
/// begun at most once a minute across gateways (`rebuilt`) and done 5,000 ids per `stats` call (cursor in
/// `repair`), so Redis is never blocked for a walk over every entry.
///
/// One sorted set for both "due" and "leased" is the whole take-over mechanism: claiming a key moves its score
/// to the end of the lease, so a gateway killed mid-attempt leaves a key that comes due again `lease_ms`
/// later and is claimed by whichever gateway looks next; the lease token fences the killed gateway's late
/// writes, should it only have been slow.
enum RedisOutboxScript {
    static let prefix = "jg:ob:{jg-outbox}:"

    static let source = #"""
    if redis.replicate_commands then pcall(redis.replicate_commands) end
    local P = KEYS[1]
    local op = ARGV[1]
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

    local function release(member, delay)
      redis.call('HDEL', P .. 'lease', member)
      if redis.call('LLEN', P .. 'q:' .. member) > 0 then
        redis.call('ZADD', P .. 'due', now + delay, member)
      else
        redis.call('ZREM', P .. 'due', member)
      end
    end

    local function holds(member, token)
      return redis.call('HGET', P .. 'lease', member) == token
    end

    -- An order key names its site: 'j:<site>:<juid>' or 'e:<site>:<id>' (a site id has no ':').
    local function site_of(member)
      return string.match(member, '^[je]:([^:]+):') or ''
    end

    -- Repairs the per-site sets a slice at a time (at most 'budget' ids looked at per call, so Redis is never
    -- blocked for a walk over every entry), with its cursor in the hash 'repair': phase 'pending', then 'dead'
    -- (every id into its site's set), then 'ps' and 'ds' (ids of each site's set no longer in 'pending' or
    -- 'dead' taken out, site by site in name order). Every step is idempotent, and the scripts that keep the
    -- sets run between slices, so an id moved meanwhile is at worst missed and found by the next repair.
    local function repair(budget)
      local R = P .. 'repair'
      while budget > 0 do
        local phase = redis.call('HGET', R, 'phase')
        if not phase then return end
        local pos = tonumber(redis.call('HGET', R, 'pos') or '0')
        if phase == 'pending' or phase == 'dead' then
          local short = phase == 'pending' and 'ps:' or 'ds:'
          local slice = redis.call('ZRANGE', P .. phase, pos, pos + budget - 1, 'WITHSCORES')
          local gone = {}
          for i = 1, #slice, 2 do
            local member = redis.call('HGET', P .. 'e:' .. slice[i], 'm')
            if member then
              local site = site_of(member)
              redis.call('ZADD', P .. short .. site, slice[i + 1], slice[i])
              redis.call('SADD', P .. 'sites', site)
            else
              gone[#gone + 1] = slice[i]
            end
          end
          -- An id whose entry is gone is taken out, as 'list' does.
          for _, id in ipairs(gone) do redis.call('ZREM', P .. phase, id) end
          local seen = #slice / 2
          if seen < budget then
            redis.call('HSET', R, 'phase', phase == 'pending' and 'dead' or 'ps', 'pos', 0)
          else
            redis.call('HSET', R, 'pos', pos + seen - #gone)
          end
          budget = budget - math.max(seen, 1)
        else
          local all = phase == 'ps' and 'pending' or 'dead'
          local site = redis.call('HGET', R, 'site')
          if not site then
            local after = redis.call('HGET', R, 'after') or ''
            local sites = redis.call('SMEMBERS', P .. 'sites')
            table.sort(sites)
            for _, name in ipairs(sites) do
              if name > after then site = name break end
            end
            pos = 0
          end
          if not site then
            if phase == 'ps' then redis.call('HSET', R, 'phase', 'ds', 'pos', 0, 'after', '') else redis.call('DEL', R) end
            budget = budget - 1
          else
            local key = P .. phase .. ':' .. site
            local slice = redis.call('ZRANGE', key, pos, pos + budget - 1)
            local stale = {}
            for _, id in ipairs(slice) do
              if not redis.call('ZSCORE', P .. all, id) then stale[#stale + 1] = id end
            end
            for _, id in ipairs(stale) do redis.call('ZREM', key, id) end
            if #slice < budget then
              redis.call('HSET', R, 'after', site, 'pos', 0)
              redis.call('HDEL', R, 'site')
            else
              redis.call('HSET', R, 'site', site, 'pos', pos + #slice - #stale)
            end
            budget = budget - math.max(#slice, 1)
          end
        end
      end
    end

    if op == 'keep' then
      -- member, id, record, accounted bytes, max_bytes
      local member, id, size = ARGV[2], ARGV[3], tonumber(ARGV[5])
      local bytes = tonumber(redis.call('GET', P .. 'bytes') or '0')
      if bytes + size > tonumber(ARGV[6]) then return {'full', tostring(now)} end
      redis.call('HSET', P .. 'e:' .. id, 'r', ARGV[4], 'n', size, 'm', member)
      redis.call('INCRBY', P .. 'bytes', size)
      redis.call('ZADD', P .. 'pending', now, id)
      local site = site_of(member)
      redis.call('ZADD', P .. 'ps:' .. site, now, id)
      redis.call('SADD', P .. 'sites', site)
      if redis.call('RPUSH', P .. 'q:' .. member, id) == 1 and not redis.call('HGET', P .. 'lease', member) then
        redis.call('ZADD', P .. 'due', now, member)
      end
      return {'kept', tostring(now)}

    elseif op == 'wait' then
      return redis.call('EXISTS', P .. 'q:' .. ARGV[2])

    elseif op == 'claim' then
      -- lease_ms, limit, token prefix: answers [ms until the next due key or '', member, token, id, record, ...]
      local lease, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
      local out = {''}
      local members = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, limit)
      for _, member in ipairs(members) do
        local id = redis.call('LINDEX', P .. 'q:' .. member, 0)
        local record = id and redis.call('HGET', P .. 'e:' .. id, 'r')
        if record then
          local token = ARGV[4] .. ':' .. redis.call('INCR', P .. 'tokens')
          redis.call('HSET', P .. 'lease', member, token)
          redis.call('ZADD', P .. 'due', now + lease, member)
          out[#out + 1] = member
          out[#out + 1] = token
          out[#out + 1] = id
          out[#out + 1] = record
        elseif id then
          -- An id whose entry was dropped: skip it; the key is looked at again at once.
          redis.call('LPOP', P .. 'q:' .. member)
          release(member, 0)
        else
          release(member, 0)
        end
      end
      local first = redis.call('ZRANGE', P .. 'due', 0, 0, 'WITHSCORES')
      -- A distance, not Redis's clock: the gateways sleep by their own clocks.
      if first[2] then out[1] = tostring(tonumber(first[2]) - now) end
      return out

    elseif op == 'settle' then
      -- member, token, id, outcome (delivered | dead | retry), record, retry delay ms, keep delivered ms,
      -- the record's accounted bytes: 'ok', 'lost' (the lease ended), 'dropped' (an operator dropped the entry)
      local member, token, id, outcome = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
      if not holds(member, token) then return 'lost' end
      if redis.call('LINDEX', P .. 'q:' .. member, 0) ~= id then
        -- Dropped while under way: the key is given back at once, not left until the lease ends.
        release(member, 0)
        return 'dropped'
      end
      local entry = P .. 'e:' .. id
      local size = tonumber(ARGV[9])
      local before = tonumber(redis.call('HGET', entry, 'n') or '0')
      if outcome == 'retry' then
        redis.call('HSET', entry, 'r', ARGV[6], 'n', size)
        redis.call('INCRBY', P .. 'bytes', size - before)
        release(member, tonumber(ARGV[7]))
        return 'ok'
      end
      -- Out of the queue first: a write refused later (out of memory) leaves no head that cannot move.
      redis.call('LPOP', P .. 'q:' .. member)
      redis.call('ZREM', P .. 'pending', id)
      local site = site_of(member)
      redis.call('ZREM', P .. 'ps:' .. site, id)
      if outcome == 'delivered' then
        redis.call('HSET', entry, 'r', ARGV[6], 'n', 0)
        redis.call('DECRBY', P .. 'bytes', before)
        redis.call('PEXPIRE', entry, tonumber(ARGV[8]))
        redis.call('ZADD', P .. 'delivered', now, id)
        redis.call('ZREMRANGEBYRANK', P .. 'delivered', 0, -1001)
      else
        redis.call('ZADD', P .. 'dead', now, id)
        redis.call('ZADD', P .. 'ds:' .. site, now, id)
        redis.call('SADD', P .. 'sites', site)
        redis.call('HSET', entry, 'r', ARGV[6], 'n', size)
        redis.call('INCRBY', P .. 'bytes', size - before)
      end
      release(member, 0)
      return 'ok'

    elseif op == 'release' then
      -- member, token, delay ms: an entry given back unsent (held, or the gateway is stopping)
      if holds(ARGV[2], ARGV[3]) then release(ARGV[2], tonumber(ARGV[4])) end
      return 'ok'

    elseif op == 'renew' then
      -- lease_ms, then member, token pairs: keeps holding keys whose attempt is still under way; answers
      -- 1 or 0 per pair (0: the lease was lost, the attempt must stop)
      local renewed = {}
      for i = 3, #ARGV, 2 do
        if holds(ARGV[i], ARGV[i + 1]) then
          redis.call('ZADD', P .. 'due', now + tonumber(ARGV[2]), ARGV[i])
          renewed[#renewed + 1] = 1
        else
          renewed[#renewed + 1] = 0
        end
      end
      return renewed

    elseif op == 'get' then
      return redis.call('HGET', P .. 'e:' .. ARGV[2], 'r')

    elseif op == 'list' then
      -- state, limit[, site]: the records, oldest first; of one site from its own set (pending and dead;
      -- delivered has none, the caller filters those)
      local set = P .. ARGV[2]
      if ARGV[4] and ARGV[2] ~= 'delivered' then
        set = P .. (ARGV[2] == 'pending' and 'ps:' or 'ds:') .. ARGV[4]
      end
      local ids = redis.call('ZRANGE', set, 0, tonumber(ARGV[3]) - 1)
      local out = {}
      for _, id in ipairs(ids) do
        local record = redis.call('HGET', P .. 'e:' .. id, 'r')
        if record then out[#out + 1] = record else redis.call('ZREM', set, id) end
      end
      return out

    elseif op == 'retry' then
      -- id, record (pending again), its accounted bytes: only a dead entry; it joins the end of its key's queue
      local id = ARGV[2]
      if not redis.call('ZSCORE', P .. 'dead', id) then return 'not_dead' end
      local member = redis.call('HGET', P .. 'e:' .. id, 'm')
      if not member then return 'unknown' end
      local before = tonumber(redis.call('HGET', P .. 'e:' .. id, 'n') or '0')
      redis.call('ZREM', P .. 'dead', id)
      redis.call('ZADD', P .. 'pending', now, id)
      local site = site_of(member)
      redis.call('ZREM', P .. 'ds:' .. site, id)
      redis.call('ZADD', P .. 'ps:' .. site, now, id)
      redis.call('SADD', P .. 'sites', site)
      redis.call('HSET', P .. 'e:' .. id, 'r', ARGV[3], 'n', tonumber(ARGV[4]))
      redis.call('INCRBY', P .. 'bytes', tonumber(ARGV[4]) - before)
      if redis.call('RPUSH', P .. 'q:' .. member, id) == 1 and not redis.call('HGET', P .. 'lease', member) then
        redis.call('ZADD', P .. 'due', now, member)
      end
      return 'ok'

    elseif op == 'drop' then
      local id = ARGV[2]
      local entry = P .. 'e:' .. id
      local member = redis.call('HGET', entry, 'm')
      if not member then return 'unknown' end
      local size = tonumber(redis.call('HGET', entry, 'n') or '0')
      local head = redis.call('LINDEX', P .. 'q:' .. member, 0)
      redis.call('LREM', P .. 'q:' .. member, 0, id)
      -- The head went while no gateway held the key: the next entry is due now (a holder settles 'dropped').
      if head == id and not redis.call('HGET', P .. 'lease', member) then release(member, 0) end
      redis.call('ZREM', P .. 'pending', id)
      redis.call('ZREM', P .. 'dead', id)
      redis.call('ZREM', P .. 'delivered', id)
      redis.call('ZREM', P .. 'ps:' .. site_of(member), id)
      redis.call('ZREM', P .. 'ds:' .. site_of(member), id)
      redis.call('DEL', entry)
      -- Last: the freeing commands above run first, so memory pressure never leaves bytes counted down
      -- for an entry still there.
      redis.call('DECRBY', P .. 'bytes', size)
      return 'ok'

    elseif op == 'stats' then
      -- [repair slice]: bytes, then per site with pending or dead entries: site, pending, dead, ms since its
      -- oldest pending entry was kept (0 when none). A few commands per site. If the per-site sets do not add
      -- up to 'pending' and 'dead', a repair is begun (at most once a minute, whichever gateway sees it), and
      -- each call moves it on by one slice (5,000 ids unless told) until it is done.
      local pending, dead = redis.call('ZCARD', P .. 'pending'), redis.call('ZCARD', P .. 'dead')
      local sitePending, siteDead = 0, 0
      for _, site in ipairs(redis.call('SMEMBERS', P .. 'sites')) do
        sitePending = sitePending + redis.call('ZCARD', P .. 'ps:' .. site)
        siteDead = siteDead + redis.call('ZCARD', P .. 'ds:' .. site)
      end
      -- pcall: a write refused (-OOM past maxmemory) must not cost the readings themselves, which the operator
      -- needs most then; a repair stopped half-way goes on from its cursor at the next call.
      if (sitePending ~= pending or siteDead ~= dead) and redis.call('EXISTS', P .. 'repair') == 0 then
        local claimed = redis.pcall('SET', P .. 'rebuilt', '1', 'NX', 'PX', 60000)
        if type(claimed) == 'table' and claimed.ok then
          redis.pcall('HSET', P .. 'repair', 'phase', 'pending', 'pos', 0)
        end
      end
      if redis.call('EXISTS', P .. 'repair') == 1 then pcall(repair, tonumber(ARGV[2] or '5000')) end
      local sites = redis.call('SMEMBERS', P .. 'sites')
      local out = {tonumber(redis.call('GET', P .. 'bytes') or '0')}
      for _, site in ipairs(sites) do
        local sp, sd = redis.call('ZCARD', P .. 'ps:' .. site), redis.call('ZCARD', P .. 'ds:' .. site)
        if sp + sd == 0 then
          redis.call('SREM', P .. 'sites', site)
        else
          local oldest = redis.call('ZRANGE', P .. 'ps:' .. site, 0, 0, 'WITHSCORES')
          local age = 0
          if oldest[2] then age = math.max(now - tonumber(oldest[2]), 0) end
          out[#out + 1] = site
          out[#out + 1] = sp
          out[#out + 1] = sd
          out[#out + 1] = age
        end
      end
      return out
    end
    return redis.error_reply('ERR unknown outbox operation')
    """#
}
