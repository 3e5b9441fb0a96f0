-- wrk script: every request POSTs a new JSON reaction to the URL given to wrk
-- (/api/v1/articles/{slug}/comments). Each request has its own author e-mail
-- (BENCH_TAG + thread number + per-thread counter), so the rules never know the author
-- and the reaction waits in the moderation queue: the write path, not a shortcut.
--
-- At the end it prints, for kbench.py wrk-parse:
--   BENCH sent N          requests written (one per request() call)
--   BENCH status_201 N    responses per status code, counted in response()
--   BENCH duration_us N   the run's length

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_no", #threads)
end

function init(args)
   tag = os.getenv("BENCH_TAG") or "run"
   counter = 0
   statuses = {}
   headers = { ["Content-Type"] = "application/json" }
end

function request()
   counter = counter + 1
   local who = string.format("%s-%d-%d", tag, thread_no, counter)
   local body = string.format(
      '{"author_name":"Lezer %s","author_email":"lezer-%s@example.org","author_url":null,' ..
      '"body":"Reactie %s: *eens* met de schrijver, al verdienen de cijfers over het ' ..
      'portfolio een tweede blik.\\n\\nDank voor het overzicht.","parent_id":null}',
      who, who, who)
   return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
   local key = "status_" .. status
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local sent, total = 0, {}
   for _, thread in ipairs(threads) do
      sent = sent + (thread:get("counter") or 0)
      for key, n in pairs(thread:get("statuses") or {}) do
         total[key] = (total[key] or 0) + n
      end
   end
   io.write(string.format("BENCH sent %d\n", sent))
   for key, n in pairs(total) do
      io.write(string.format("BENCH %s %d\n", key, n))
   end
   io.write(string.format("BENCH duration_us %d\n", summary.duration))
end
