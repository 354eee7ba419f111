-- Shared by every scenario script in this folder: builds the one static request a
-- scenario sends, and reports the run as a single machine-readable line so that
-- bench/report.py never has to scrape wrk's human output.
--
-- Environment:
--   BENCH_SITE_KEY  value of the X-AUTH-TOKEN header (the site key justgate checks;
--                   nginx and HAProxy receive the same bytes and overwrite them).
--   BENCH_PROBE=1   also inspect every response (status and first body). Costly, so
--                   run.sh uses it only for the short verification run before a
--                   measured one.

local common = {}

local function json_string(text)
  local escaped = tostring(text):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

-- Sets the request wrk repeats on every connection. wrk adds Host and Content-Length.
function common.request(method, path, content_type, body)
  local site_key = os.getenv("BENCH_SITE_KEY")
  if site_key == nil or site_key == "" then
    error("BENCH_SITE_KEY is not set: export the site key the scenario should send")
  end
  wrk.method = method
  wrk.path = path
  wrk.body = body
  wrk.headers["X-AUTH-TOKEN"] = site_key
  if content_type ~= nil then
    wrk.headers["Content-Type"] = content_type
  end
end

local probing = os.getenv("BENCH_PROBE") == "1"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

if probing then
  -- Thread-local counters; read back in done() through thread:get.
  probe_responses = 0
  probe_non2xx = 0
  probe_first_status = 0
  probe_first_body = ""

  function response(status, headers, body)
    probe_responses = probe_responses + 1
    if status < 200 or status > 299 then
      probe_non2xx = probe_non2xx + 1
    end
    if probe_first_status == 0 then
      probe_first_status = status
      probe_first_body = string.sub(body or "", 1, 200)
    end
  end
end

local function report_probe()
  local responses, non2xx, status, body = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    responses = responses + (thread:get("probe_responses") or 0)
    non2xx = non2xx + (thread:get("probe_non2xx") or 0)
    local first = thread:get("probe_first_status") or 0
    if status == 0 and first ~= 0 then
      status = first
      body = thread:get("probe_first_body") or ""
    end
  end
  io.write(string.format('BENCH_PROBE {"responses":%d,"non2xx":%d,"first_status":%d,"first_body":%s}\n',
    responses, non2xx, status, json_string(body)))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f,"max":%.0f,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  if probing then
    report_probe()
  end
end

return common
