-- wrk script: send pre-signed webhook deliveries, each at most once.
--
-- wrk cannot sign each request cheaply, so bench/intake.py writes one pool file per wrk
-- thread (POOL.0, POOL.1, ...): a line per delivery, "Header: value" fields then the body,
-- separated by tabs. Each thread formats its own lines in init() and sends them in order.
-- Run: wrk -t T ... -s deliveries.lua URL -- POOL once|wrap
--   once: a thread that runs out of deliveries stops (the run is then invalid: the pool
--         was too small for the duration); wrap: start the pool again (no-op view only).

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local pool, mode = args[1], args[2]
   wrap = mode == "wrap"
   requests = {}
   for line in io.lines(pool .. "." .. id) do
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
         table.insert(fields, field)
      end
      local body = table.remove(fields)
      local headers = {}
      for _, header in ipairs(fields) do
         local name, value = string.match(header, "^([^:]+): (.*)$")
         headers[name] = value
      end
      table.insert(requests, wrk.format("POST", nil, headers, body))
   end
   position, sent, ok, bad, bad_status, exhausted = 0, 0, 0, 0, 0, 0
end

function request()
   if position >= #requests then
      if wrap then
         position = 0
      else
         -- Bounded by count as well as by time: never send a delivery twice.
         exhausted = 1
         wrk.thread:stop()
         return requests[#requests]
      end
   end
   position = position + 1
   sent = sent + 1
   return requests[position]
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      bad = bad + 1
      bad_status = status
   end
end

function done(summary, latency, requests)
   local total = { sent = 0, ok = 0, bad = 0, bad_status = 0, exhausted = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(total) do
         local value = thread:get(name) or 0
         if name == "bad_status" then
            if value ~= 0 then total[name] = value end
         else
            total[name] = total[name] + value
         end
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"completed": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "mean_us": %.1f, "sent": %d, "ok": %d, "bad": %d, '
         .. '"bad_status": %d, "exhausted": %d, "connect_errors": %d, "read_errors": %d, '
         .. '"write_errors": %d, "timeouts": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      latency.max, latency.mean, total.sent, total.ok, total.bad, total.bad_status,
      total.exhausted, errors.connect, errors.read, errors.write, errors.timeout))
end
