-- wrk script of the load test. Each request targets a random credential of
-- the seeded data set, named as in bench/dataset: credential i is c%07d and
-- belongs to user u%06d = i / 10 of client bench.
--
-- Environment:
--   MODE          GET reads the credential's properties; PATCH sets prop01
--                 to a value no other request of the run sends, so that
--                 every PATCH writes (the property is not unique).
--   TOKEN         bearer token of the Root user admin
--   CREDENTIALS   number of seeded credentials
--   MAX_REQUESTS  bound on the requests of the run, shared by the threads
--   THREADS       wrk's -t, to split MAX_REQUESTS
--
-- done prints one line: RESULT requests=N duration_us=N p50_us=N ...

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local mode, token, credentials, limit, sent

function init(args)
  mode = os.getenv("MODE") or "GET"
  token = os.getenv("TOKEN") or ""
  credentials = tonumber(os.getenv("CREDENTIALS") or "100")
  local threadCount = tonumber(os.getenv("THREADS") or "1")
  limit = math.ceil(tonumber(os.getenv("MAX_REQUESTS") or "100000") / threadCount)
  sent = 0
  math.randomseed(os.time() * 1000 + id)
end

local function path(i)
  return string.format(
    "/nevisidm/api/core/v1/bench/users/u%06d/generic-credentials/c%07d/properties",
    math.floor(i / 10), i)
end

function request()
  local i = math.random(0, credentials - 1)
  local headers = { ["Authorization"] = "Bearer " .. token }
  if mode == "PATCH" then
    counter = counter + 1
    headers["Content-Type"] = "application/json"
    local body = string.format('{"prop01":"t%d-%d"}', id, counter)
    return wrk.format("PATCH", path(i), headers, body)
  end
  return wrk.format("GET", path(i), headers)
end

function response(status, headers, body)
  sent = sent + 1
  if sent >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d p999_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect + e.read + e.write + e.timeout, e.status))
end
