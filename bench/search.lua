-- wrk script: GETs searches, round and round through the queries of the file named by
-- BENCH_SEARCH_QUERIES (lines "type<TAB>path", the path URL-encoded; written by
-- `kbench.py search-check`), and times every answer per query type.
--
-- Run it with as many threads as connections (-tN -cN): each thread then has one
-- connection, so its request() and response() calls alternate, and the time between the
-- two (CLOCK_MONOTONIC through LuaJIT's FFI) is that request's latency. wrk's own
-- histogram cannot be split by query type. The times are kept in one flat table per type
-- (samples_<type>), since wrk's thread:get() crashes on nested tables (wrk 4.1.0).
--
-- At the end it prints, for kbench.py search-stats:
--   BENCH sent N                  requests written
--   BENCH status_200 N            responses per status code
--   BENCH q_<type>_n N            answers timed, per query type and for "all"
--   BENCH q_<type>_p50_us X       ... their median, 99th percentile and maximum (µs,
--   BENCH q_<type>_p99_us X           nearest rank)
--   BENCH q_<type>_max_us X
--   BENCH duration_us N           the run's length

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } kbench_timespec;
int clock_gettime(int clk_id, kbench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("kbench_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
   return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_no", #threads)
end

function init(args)
   local file = os.getenv("BENCH_SEARCH_QUERIES") or error("BENCH_SEARCH_QUERIES is not set")
   queries, kinds = {}, {}
   for line in io.lines(file) do
      local kind, path = line:match("^(%S+)\t(%S+)$")
      if kind then
         table.insert(queries, { kind = kind, path = path })
         if not _G["samples_" .. kind] then
            _G["samples_" .. kind] = {}
            table.insert(kinds, kind)
         end
      end
   end
   if #queries == 0 then
      error("no queries in " .. file)
   end
   -- Each thread starts at another query, so that the mix is even from the start.
   counter = (thread_no - 1) * 3
   statuses = {}
   current, started = nil, nil
end

function request()
   counter = counter + 1
   local q = queries[(counter - 1) % #queries + 1]
   current = q.kind
   started = now_us()
   return wrk.format("GET", q.path)
end

function response(status, headers, body)
   local took = now_us() - started
   local key = "status_" .. status
   statuses[key] = (statuses[key] or 0) + 1
   local list = _G["samples_" .. current]
   list[#list + 1] = took
end

local function summary(name, list)
   table.sort(list)
   local n = #list
   local function rank(p)
      return list[math.max(1, math.min(n, math.ceil(p / 100 * n)))]
   end
   io.write(string.format("BENCH q_%s_n %d\n", name, n))
   io.write(string.format("BENCH q_%s_p50_us %.1f\n", name, rank(50)))
   io.write(string.format("BENCH q_%s_p99_us %.1f\n", name, rank(99)))
   io.write(string.format("BENCH q_%s_max_us %.1f\n", name, list[n]))
end

function done(summary_, latency, requests)
   local sent, total, per, all = 0, {}, {}, {}
   for _, thread in ipairs(threads) do
      sent = sent + (thread:get("counter") or 0) - (thread:get("thread_no") - 1) * 3
      for key, n in pairs(thread:get("statuses") or {}) do
         total[key] = (total[key] or 0) + n
      end
      for _, kind in ipairs(thread:get("kinds") or {}) do
         per[kind] = per[kind] or {}
         for _, v in ipairs(thread:get("samples_" .. kind) or {}) do
            table.insert(per[kind], v)
            table.insert(all, v)
         end
      end
   end
   io.write(string.format("BENCH sent %d\n", sent))
   for key, n in pairs(total) do
      io.write(string.format("BENCH %s %d\n", key, n))
   end
   for kind, list in pairs(per) do
      if #list > 0 then
         summary(kind, list)
      end
   end
   if #all > 0 then
      summary("all", all)
   end
   io.write(string.format("BENCH duration_us %d\n", summary_.duration))
end
