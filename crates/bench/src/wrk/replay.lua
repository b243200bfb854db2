-- Replays requests written beforehand, in order, each once: the ERP's
-- signed webhooks, every one with its own webhook-id, signed by the
-- benchmark just before the run (crates/bench/src/signed.rs). The file
-- holds each request as its length in bytes, a newline, then the request.
-- Argument after `--`: the file.

function init(args)
  local file = assert(io.open(args[1], "rb"))
  requests = {}
  while true do
    local size = file:read("*n")
    if size == nil then break end
    file:read(1)
    requests[#requests + 1] = file:read(size)
  end
  file:close()
  sent = 0
  exhausted = 0
end

function request()
  sent = sent + 1
  local next = requests[sent]
  if next == nil then
    -- Never replay a message: a replay is answered from the store and
    -- would flatter the figures. The benchmark reports the run as failed.
    exhausted = exhausted + 1
    wrk.thread:stop()
    return requests[#requests]
  end
  return next
end

function outcome(status, body)
  if status ~= 200 and status ~= 201 then return "failed" end
  if string.find(body, '"status":"held"', 1, true) then return "held" end
  return "released"
end
