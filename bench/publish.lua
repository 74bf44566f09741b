-- wrk script of figures 2 and 5: POST /api/events with an organization key and 1 KiB of
-- `data`. No event_id: every request is a new event (the idempotency lookup is not what
-- this measures).
--   wrk -s bench/publish.lua URL/api/events -- ORG_KEY [DATA_BYTES] [EVENT_TYPE]
function init(args)
  local key = args[1] or error("publish.lua: pass the organization key after --")
  local data_bytes = tonumber(args[2] or "1024")
  local event_type = args[3] or "bench.publish"
  -- {"pad":"xxx…"} of exactly data_bytes bytes
  local data = '{"pad":"' .. string.rep("x", data_bytes - 10) .. '"}'
  wrk.method = "POST"
  wrk.body = '{"event":"' .. event_type .. '","data":' .. data .. '}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

-- One machine-readable line for bench/run.sh (summary.errors.status counts non-2xx/3xx
-- answers: 429 backpressure here).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk_result requests=%d seconds=%.3f rps=%.0f non2xx=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
