-- wrk script of figure 4: a GitHub-style signed webhook, the same body every time (GitHub
-- signs only the body, so one precomputed X-Hub-Signature-256 stays valid) and a unique
-- X-GitHub-Delivery per request (ulak stores each as a new event: no duplicate shortcut).
-- The same requests go to ulak, to adnanh/webhook and to nginx.
--   wrk -s bench/incoming.lua URL -- BODY_FILE SIGNATURE_HEX RUN_PREFIX
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local file = io.open(args[1] or error("incoming.lua: pass BODY_FILE SIGNATURE_HEX RUN_PREFIX after --"), "rb")
  body = file:read("*a")
  file:close()
  signature = "sha256=" .. args[2]
  prefix = (args[3] or "run") .. "-" .. tostring(thread_id or 0) .. "-"
  headers = {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = "push",
    ["X-Hub-Signature-256"] = signature,
  }
end

function request()
  counter = counter + 1
  headers["X-GitHub-Delivery"] = prefix .. counter
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk_result requests=%d seconds=%.3f rps=%.0f non2xx=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
