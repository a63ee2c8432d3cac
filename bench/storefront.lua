-- wrk script: GET one path with a different pre-signed app proxy query each request.
--
-- bench/storefront.py writes QUERIES, one signed query string a line (a member each),
-- just before the run: Shopify's signatures are fresh for 90 s. Each thread starts at its
-- own place in the file and goes round it, so no two threads ask for the same member at
-- the same time.
-- Run: wrk -t T ... -s storefront.lua URL -- QUERIES PATH T

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local queries, path = args[1], args[2]
   requests = {}
   for line in io.lines(queries) do
      table.insert(requests, wrk.format("GET", path .. "?" .. line))
   end
   -- A thread does not know how many threads there are: the third argument says.
   position = math.floor(#requests * id / tonumber(args[3]))
   sent, ok, bad, bad_status, wrapped = 0, 0, 0, 0, 0
end

function request()
   if position >= #requests then
      position = 0
      wrapped = 1
   end
   position = position + 1
   sent = sent + 1
   return requests[position]
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      bad = bad + 1
      bad_status = status
   end
end

function done(summary, latency, requests)
   local total = { sent = 0, ok = 0, bad = 0, bad_status = 0, wrapped = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(total) do
         local value = thread:get(name) or 0
         if name == "bad_status" or name == "wrapped" then
            if value ~= 0 then total[name] = value end
         else
            total[name] = total[name] + value
         end
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"completed": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "sent": %d, "ok": %d, "bad": %d, '
         .. '"bad_status": %d, "wrapped": %d, "connect_errors": %d, "read_errors": %d, '
         .. '"write_errors": %d, "timeouts": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, total.sent, total.ok, total.bad,
      total.bad_status, total.wrapped, errors.connect, errors.read, errors.write,
      errors.timeout))
end
