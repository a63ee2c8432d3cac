-- wrk script: send pre-signed webhook deliveries, each at most once.
--
-- wrk cannot sign each request cheaply, so bench/intake.py writes one pool file per wrk
-- thread (POOL.0, POOL.1, ...): a line per delivery, "Header: value" fields then the body,
-- separated by tabs. Each thread reads its own file a line at a time (a held run's pool is
-- gigabytes, too much to load whole), from a byte offset, and sends the lines in order.
-- Run: wrk -t T ... -s deliveries.lua URL -- POOL once|wrap [OFFSET0,OFFSET1,...]
--   once: a thread that runs out of deliveries stops (the run is then invalid: the pool
--         was too small for the duration); wrap: start the pool again (no-op view only).
--   OFFSETs: where each thread starts in its file: a run held in back-to-back windows
--         (one wrk per window) carries on where the previous window's wrk stopped, so no
--         delivery is sent twice. done() prints the offsets to carry on from.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local pool, mode, offsets = args[1], args[2], args[3]
   wrap = mode == "wrap"
   file = assert(io.open(pool .. "." .. id, "rb"))
   offset = 0
   if offsets then
      local n = 0
      for value in string.gmatch(offsets, "[^,]+") do
         if n == id then offset = tonumber(value) end
         n = n + 1
      end
   end
   file:seek("set", offset)
   sent, ok, bad, bad_status, exhausted = 0, 0, 0, 0, 0
   last = wrk.format("POST", nil, {}, "")
end

local function formatted(line)
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
   return wrk.format("POST", nil, headers, body)
end

function request()
   local line = file:read("*l")
   if line == nil and wrap then
      file:seek("set", 0)
      offset = 0
      line = file:read("*l")
   end
   if line == nil then
      -- Bounded by count as well as by time: never send a delivery twice. The request
      -- returned here is the last one again (a duplicate the app stores once), and the
      -- run is reported invalid anyway.
      exhausted = 1
      wrk.thread:stop()
      return last
   end
   -- The pool's lines end with "\n" alone (intake.py writes them).
   offset = offset + #line + 1
   sent = sent + 1
   last = formatted(line)
   return last
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
   local offsets = {}
   for _, thread in ipairs(threads) do
      for name, _ in pairs(total) do
         local value = thread:get(name) or 0
         if name == "bad_status" then
            if value ~= 0 then total[name] = value end
         else
            total[name] = total[name] + value
         end
      end
      offsets[thread:get("id") + 1] = string.format("%d", thread:get("offset") or 0)
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"completed": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "mean_us": %.1f, "sent": %d, "ok": %d, "bad": %d, '
         .. '"bad_status": %d, "exhausted": %d, "connect_errors": %d, "read_errors": %d, '
         .. '"write_errors": %d, "timeouts": %d, "offsets": [%s]}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      latency.max, latency.mean, total.sent, total.ok, total.bad, total.bad_status,
      total.exhausted, errors.connect, errors.read, errors.write, errors.timeout,
      table.concat(offsets, ", ")))
end
