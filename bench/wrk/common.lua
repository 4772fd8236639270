-- Shared by every bench script: counts responses by status class in each thread and prints one
-- machine-readable line at the end, which bench/load.py parses.  Each wrk thread runs its own Lua
-- state; setup() and done() run in the main state and reach the threads' globals through thread:get.

local threads = {}
local next_thread_id = 1

function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
   table.insert(threads, thread)
end

s1xx, s2xx, s3xx, s4xx, s5xx = 0, 0, 0, 0, 0

function response(status, headers, body)
   if status < 200 then s1xx = s1xx + 1
   elseif status < 300 then s2xx = s2xx + 1
   elseif status < 400 then s3xx = s3xx + 1
   elseif status < 500 then s4xx = s4xx + 1
   else s5xx = s5xx + 1 end
end

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then table.insert(lines, line) end
   end
   assert(#lines > 0, "no lines in " .. path)
   return lines
end

function seed_random()
   math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function done(summary, latency, requests)
   local totals = { s1xx = 0, s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(totals) do
         totals[name] = totals[name] + (thread:get(name) or 0)
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
         .. '"s1xx": %d, "s2xx": %d, "s3xx": %d, "s4xx": %d, "s5xx": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout,
      totals.s1xx, totals.s2xx, totals.s3xx, totals.s4xx, totals.s5xx))
end
