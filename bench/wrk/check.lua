-- POST /api/v1/check with a different corpus post on every request.
-- Environment: LIFEGUARD_TOKEN (an API token with the `check` scope), BODIES (a file with one
-- JSON body per line, from bench/server_bodies.py).

local bodies = {}
for line in io.lines(os.getenv("BODIES")) do
  bodies[#bodies + 1] = line
end
local token = os.getenv("LIFEGUARD_TOKEN")
local next_body = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function request()
  next_body = next_body + 1
  local body = bodies[(next_body + (offset or 0)) % #bodies + 1]
  return wrk.format(nil, nil, nil, body)
end

-- A global, so done() can read it with thread:get().
failures = 0
function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures <= 3 then
      io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n")
    end
  end
end

local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7919)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("failures") or 0)
  end
  io.write(string.format(
    "RESULT check requests=%d errors=%d non2xx=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    failed,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
