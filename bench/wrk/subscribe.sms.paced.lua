-- Scenario subscribe.sms.paced: the request of subscribe.sms, but each connection waits
-- BENCH_PACE_MS milliseconds (default 5) after every answer before it sends the next, so
-- wrk offers a steady rate well below saturation instead of as much as the server takes.
-- run.sh's audit-cost pass uses it: at saturation CPU per request moves with throughput,
-- which hides a cost of a microsecond or two. wrk times each request from its sending, so
-- the pause is not in the latency. BENCH_PACE_MS=0 sends at once (the warm-up check).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.request("POST", "/api/user/v1/subscription/subscribe/sms",
  "application/x-www-form-urlencoded",
  "juid=de6f0132ea9e412599ae31262c45633b&number=8+(912)+345-67-89")

local pace_ms = tonumber(os.getenv("BENCH_PACE_MS") or "5")
if pace_ms == nil or pace_ms < 0 or pace_ms ~= math.floor(pace_ms) then
  -- wrk truncates delay() to whole milliseconds, so a fraction would silently mean less.
  error("BENCH_PACE_MS must be a whole number of milliseconds, 0 or more")
end

-- wrk calls delay() before each request after a connection's first and waits that many ms.
function delay()
  return pace_ms
end
