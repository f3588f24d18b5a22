-- wrk's side of bench/load.py: authenticated requests, taken in turn from a file that
-- bench/load.py wrote (one a line: method, path, Cookie, form body, tab-separated); each
-- thread starts at its own place in it. Counts answers that are not 2xx (wrk itself counts
-- only 4xx and 5xx), and prints the run's figures as one JSON line for bench/load.py.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("number", #threads)
end

function init(args)
  prepared = {}
  local file = assert(io.open(args[1]))
  for line in file:lines() do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { Cookie = cookie }
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    end
    table.insert(prepared, wrk.format(method, path, headers, body))
  end
  file:close()
  position = (number * 7919) % #prepared
  non2xx = 0
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local refused = 0
  for _, thread in ipairs(threads) do
    refused = refused + thread:get("non2xx")
  end
  local errors = summary.errors
  io.write(string.format(
    'LOAD-JSON {"requests": %d, "seconds": %.3f, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50": %.1f, "p95": %.1f, "p99": %.1f, "max": %.1f}\n',
    summary.requests, summary.duration / 1e6, refused, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3))
end
