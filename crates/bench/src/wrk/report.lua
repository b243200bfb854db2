-- Counts outcomes per thread and prints one machine-readable line at the
-- end: `BENCH key=value ...` (latencies in microseconds).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

released, held, failed, replayed = 0, 0, 0, 0

if outcome == nil then
  function outcome(status, body)
    if status ~= 200 then return "failed" end
    return "released"
  end
end

function response(status, headers, body)
  local what = outcome(status, body)
  if what == "held" then held = held + 1
  elseif what == "failed" then failed = failed + 1
  else released = released + 1 end
  -- An answer stored earlier, not a check made now.
  if headers["webhook-replay"] == "true" then replayed = replayed + 1 end
end

function done(summary, latency, requests)
  local r, h, f, p, x = 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    r = r + thread:get("released")
    h = h + thread:get("held")
    f = f + thread:get("failed")
    p = p + thread:get("replayed")
    x = x + (thread:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50=%d p99=%d p999=%d released=%d held=%d failed=%d socket_errors=%d replayed=%d exhausted=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    r, h, f, e.connect + e.read + e.write + e.timeout, p, x))
end
