-- POST /api/v1/items with batches of new items, each with a unique external id, and counts
-- what the server acknowledged so the run can be checked against the archive afterwards.
-- Environment: LIFEGUARD_TOKEN (a token with the `ingest` scope), TEXTS (one JSON string
-- literal per line, from bench/server_bodies.py), BATCH (items per request, default 1000),
-- RUN (a label that keeps external ids unique across runs).

local texts = {}
for line in io.lines(os.getenv("TEXTS")) do
  texts[#texts + 1] = line
end
local token = os.getenv("LIFEGUARD_TOKEN")
local batch = tonumber(os.getenv("BATCH") or "1000")
local run = os.getenv("RUN") or "run"
local platforms = { "x", "mastodon", "linkedin" }
-- Items arrive roughly in the order they were posted, as from a live feed: each connection's
-- items are 3 seconds apart from 2026-01-01, so connections interleave within the same hours.
local start = 1767225600

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

-- A global, so done() can read it with thread:get().
sequence = 0
-- A global, so done() can read it with thread:get().
acknowledged = 0
-- A global, so done() can read it with thread:get().
failures = 0

function request()
  local parts = {}
  for i = 1, batch do
    sequence = sequence + 1
    local n = sequence
    parts[i] = string.format(
      '{"platform":"%s","external_id":"%s-%d-%d","account":"bench-%d","author":"bench-%d",' ..
      '"author_type":"employee","created_at":"%s","text":%s}',
      platforms[n % 3 + 1], run, thread_id, n, n % 40, n % 2000,
      os.date("!%Y-%m-%dT%H:%M:%SZ", start + n * 3), texts[n % #texts + 1])
  end
  return wrk.format(nil, nil, nil, '{"items":[' .. table.concat(parts, ",") .. ']}')
end

function response(status, headers, body)
  if status == 200 or status == 201 then
    local added = tonumber(body:match('"added"%s*:%s*(%d+)'))
    acknowledged = acknowledged + (added or 0)
  else
    failures = failures + 1
    if failures <= 3 then
      io.stderr:write("status " .. status .. ": " .. body:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local total, failed = 0, 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("acknowledged") or 0)
    failed = failed + (thread:get("failures") or 0)
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT ingest requests=%d errors=%d non2xx=%d acknowledged_items=%d items_per_s=%.0f p99_ms=%.1f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    failed, total, total / seconds, latency:percentile(99) / 1000))
end
