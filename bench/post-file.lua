-- wrk script of the bench/*.sh scripts: POSTs one file's bytes on every request.
--   wrk -s bench/post-file.lua URL -- BODY_FILE TOKEN [NAME VALUE]...
-- TOKEN "-" sends no Authorization header; NAME VALUE pairs are extra header fields (Content-Type among them when
-- the request needs one). Prints one line when done:  RESULT <tab> req/s <tab> p50 µs <tab> p99 µs <tab> non2xx <tab> requests
-- (non2xx: wrk's count of responses with status 400 or above).
function init(args)
  wrk.method = "POST"
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  if args[2] ~= "-" then wrk.headers["Authorization"] = "Bearer " .. args[2] end
  for i = 3, #args, 2 do wrk.headers[args[i]] = args[i + 1] end
end
function done(summary, latency)
  io.write(string.format("RESULT\t%.1f\t%d\t%d\t%d\t%d\n", summary.requests / (summary.duration / 1e6),
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), summary.errors.status, summary.requests))
end
