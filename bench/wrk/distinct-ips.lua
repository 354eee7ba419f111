-- Rate-limiter footprint: profile.create with a different client IP in every request, so a per-IP
-- policy gets one new key per request. run.sh reads justgate's RSS before and after.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.request("POST", "/api/user/v1/subscription/create/profile", "application/x-www-form-urlencoded", "")

local next_thread = 0
local setup_common = setup
function setup(thread)
  setup_common(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local counter = 0
function request()
  counter = counter + 1
  -- 2^22 addresses per thread in 11.0.0.0/8 and up: distinct across threads and requests.
  local n = (thread_id or 0) * 4194304 + counter
  local body = string.format("ip=%d.%d.%d.%d&name=Bob", 11 + math.floor(n / 16777216) % 200,
    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil, nil, body)
end
