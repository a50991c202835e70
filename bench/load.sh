#!/usr/bin/env bash
# Load test of the credprops binary on loopback, with its two ceilings
# measured in the same run: a bare Echo server (bench/ceiling/echo) for
# GET, and the PATCH's SQL transaction through database/sql
# (bench/ceiling/sqlite) for PATCH.
#
# For each data set size (in property values), it builds a fresh database
# with `credprops load bench/data.yaml` and bench/seed and starts
# `credprops serve` on it. At each concurrency level it then repeats RUNS
# times: wrk GET against credprops, wrk GET against the Echo ceiling, wrk
# PATCH against credprops, and the SQLite ceiling on a copy of the same
# database. Every run stops at MAX_REQUESTS requests or DURATION seconds,
# whichever comes first. The server's peak resident memory (VmHWM) is reset
# before each run and read after it.
#
# Usage: bench/load.sh    (as root when wrk is missing: it installs it)
# Settings, from the environment, with their defaults:
#   SIZES="1000 1000000"  LEVELS="1 8 32 128"  RUNS=5  DURATION=3 (seconds)
#   MAX_REQUESTS=1000000  PORT=18080  ECHO_PORT=18081
#   OUT=a new /tmp/credprops-bench.* directory for the results
# Only 127.0.0.1 is ever a target. The defaults take about 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

SIZES=${SIZES:-"1000 1000000"}
LEVELS=${LEVELS:-"1 8 32 128"}
RUNS=${RUNS:-5}
DURATION=${DURATION:-3}
MAX_REQUESTS=${MAX_REQUESTS:-1000000}
PORT=${PORT:-18080}
ECHO_PORT=${ECHO_PORT:-18081}
OUT=${OUT:-$(mktemp -d /tmp/credprops-bench.XXXXXX)}
mkdir -p "$OUT/bin"
RESULTS=$OUT/results.tsv

# Settings of the developer's own credprops must not leak into the servers
# and commands started here.
for var in $(compgen -e | grep '^CREDPROPS_' || true); do unset "$var"; done

if ! command -v wrk >/dev/null; then
  echo "== installing wrk"
  apt-get update -q && apt-get install -yq wrk
fi

echo "== building into $OUT/bin"
go build -o "$OUT/bin/credprops" .
go build -o "$OUT/bin/seed" ./bench/seed
go build -o "$OUT/bin/ceiling-sqlite" ./bench/ceiling/sqlite
go build -o "$OUT/bin/ceiling-echo" ./bench/ceiling/echo

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' (with local changes)')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "kernel: $(uname -sr)"
  echo "go: $(go version)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
} | tee "$OUT/machine.txt"

printf 'size\ttarget\tconns\trun\trequests\tduration_us\tp50_us\tp99_us\tp999_us\terrors\tnon2xx\tpeak_rss_kib\n' >"$RESULTS"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# wait_for_port PORT waits up to 10 seconds for a listener on 127.0.0.1.
wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "no server listening on 127.0.0.1:$1 after 10 s" >&2
  return 1
}

# record SIZE TARGET CONNS RUN PID LINE appends a RESULT line of wrk or the
# SQLite ceiling to the results, with the peak memory of PID (or -).
record() {
  local size=$1 target=$2 conns=$3 run=$4 pid=$5 line=$6 hwm=-
  if [ "$pid" != - ]; then
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  fi
  echo "$line" | awk -v pre="$size\t$target\t$conns\t$run" -v hwm="$hwm" '
    /^RESULT/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", pre, v["requests"],
        v["duration_us"], v["p50_us"], v["p99_us"], v["p999_us"], v["errors"], v["non2xx"], hwm
    }' >>"$RESULTS"
  echo "$size $target c=$conns run $run: $line peak_rss_kib=$hwm"
}

# run_wrk SIZE TARGET MODE CONNS RUN PORT PID runs one bounded wrk run.
run_wrk() {
  local size=$1 target=$2 mode=$3 conns=$4 run=$5 port=$6 pid=$7
  local threads=$((conns < 2 ? conns : 2))
  echo 5 >"/proc/$pid/clear_refs" # resets VmHWM to the current RSS
  local line
  line=$(MODE=$mode THREADS=$threads MAX_REQUESTS=$MAX_REQUESTS \
    wrk -t "$threads" -c "$conns" -d "${DURATION}s" --timeout 10s \
      -s bench/requests.lua "http://127.0.0.1:$port" | grep '^RESULT')
  record "$size" "$target" "$conns" "$run" "$pid" "$line"
}

run_sqlite() {
  local size=$1 conns=$2 run=$3 db=$4 credentials=$5
  local line
  line=$("$OUT/bin/ceiling-sqlite" -db "$db" -credentials "$credentials" \
    -workers "$conns" -requests "$MAX_REQUESTS" -duration "${DURATION}s")
  record "$size" sqlite-ceiling "$conns" "$run" - "$line"
}

"$OUT/bin/ceiling-echo" -listen "127.0.0.1:$ECHO_PORT" &
echo_pid=$!
pids+=("$echo_pid")
wait_for_port "$ECHO_PORT"

for size in $SIZES; do
  dir=$OUT/$size
  mkdir -p "$dir"
  credentials=$((size / 10))
  export CREDENTIALS=$credentials

  echo "== $size property values: seeding $dir/credprops.db"
  "$OUT/bin/credprops" load bench/data.yaml --db "$dir/credprops.db" --log-level warn
  "$OUT/bin/seed" -db "$dir/credprops.db" -values "$size"
  cp "$dir/credprops.db" "$dir/ceiling.db"
  TOKEN=$("$OUT/bin/credprops" token --user admin --ttl 2h --db "$dir/credprops.db" --log-level warn)
  export TOKEN

  "$OUT/bin/credprops" serve --listen "127.0.0.1:$PORT" --db "$dir/credprops.db" 2>"$dir/server.log" &
  server_pid=$!
  pids+=("$server_pid")
  wait_for_port "$PORT"

  echo "== $size property values: warm-up"
  for mode in GET PATCH; do
    MODE=$mode THREADS=2 MAX_REQUESTS=$MAX_REQUESTS \
      wrk -t 2 -c 32 -d 2s -s bench/requests.lua "http://127.0.0.1:$PORT" >/dev/null
  done
  MODE=GET THREADS=2 MAX_REQUESTS=$MAX_REQUESTS \
    wrk -t 2 -c 32 -d 2s -s bench/requests.lua "http://127.0.0.1:$ECHO_PORT" >/dev/null
  "$OUT/bin/ceiling-sqlite" -db "$dir/ceiling.db" -credentials "$credentials" -duration 2s >/dev/null

  echo "== $size property values: measuring"
  for conns in $LEVELS; do
    for run in $(seq "$RUNS"); do
      run_wrk "$size" credprops-get GET "$conns" "$run" "$PORT" "$server_pid"
      run_wrk "$size" echo-ceiling GET "$conns" "$run" "$ECHO_PORT" "$echo_pid"
      run_wrk "$size" credprops-patch PATCH "$conns" "$run" "$PORT" "$server_pid"
      run_sqlite "$size" "$conns" "$run" "$dir/ceiling.db" "$credentials"
    done
  done

  kill "$server_pid"
  wait "$server_pid" || true
  # wrk closes its connections at the end of a run, which cancels the
  # requests still in flight, and the server logs each of them as an error.
  echo "server errors logged: $(grep -c 'level=ERROR' "$dir/server.log" || true)" \
    "($(grep 'level=ERROR' "$dir/server.log" | grep -vc 'context canceled' || true) other than context canceled)"
  rm -f "$dir"/*.db "$dir"/*.db-wal "$dir"/*.db-shm
done

echo "== report"
go run ./bench/report "$OUT/machine.txt" "$RESULTS" | tee "$OUT/report.md"
echo "results: $RESULTS, report: $OUT/report.md"
