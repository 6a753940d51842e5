-- wrk script for bench/soak.sh: a steady mixed load at a fixed rate per connection.
--   wrk -s soak.lua URL -- TOKEN DELAY_MS
-- Each connection cycles through predict (3 in 5), GET /whoami and GET /logs?limit=20, waiting DELAY_MS between
-- requests, so the rate is connections x 1000 / DELAY_MS. done() prints:
--   RESULT  requests  non2xx  socket_errors  req_per_s  p99_us
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  pause = tonumber(args[2]) or 10
  n = 0
  non2xx = 0
end

function delay()
  return pause
end

function request()
  n = n + 1
  local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  local k = n % 5
  if k == 3 then
    return wrk.format("GET", "/whoami", headers)
  elseif k == 4 then
    return wrk.format("GET", "/logs?limit=20", headers)
  end
  local body = string.format('{"features":[%d,%d.5,%d]}', n % 97, n % 13, n % 7)
  return wrk.format("POST", "/predict/soak", headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (tonumber(t:get("non2xx")) or 0)
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT\t%d\t%d\t%d\t%.1f\t%d\n", summary.requests, bad,
    e.connect + e.read + e.write + e.timeout, summary.requests / secs, math.floor(latency:percentile(99))))
end
