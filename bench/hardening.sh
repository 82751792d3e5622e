#!/usr/bin/env bash
# Hardening measurements for Coproduce, on SQLite, with the release binary:
#
#   memory  Memory under wrong credentials: POST /api/v1/token with a wrong client_secret (the
#           real client id or random UUIDs) from 64 connections for 60 s (wrk + Lua, which tallies
#           the answers by status), while the server's VmRSS/VmHWM is sampled every 0.5 s from
#           /proc. Reported: RSS before, peak RSS during, RSS after, answers by status (401, 429,
#           5xx counted apart), requests/s. The peer: the same 60 s load of GET /healthz on a
#           fresh server set up the same way; the figure is peak(attack) / peak(healthz).
#           A third run repeats the attack with the failed-exchange limit out of the way
#           (COPRODUCE_TOKEN_FAILURE_LIMIT=1000000000), so that every request reaches the
#           database and the secret check instead of the 429 short cut.
#   lock    SQLite reads while another process holds the write lock: 200 organisations seeded,
#           then wrk on GET /api/v1/organisations?limit=50 (admin token) from 32 connections for
#           20 s, once with nothing else and once while a second process (python3's sqlite3
#           module) opens the same database file and holds the write lock (BEGIN IMMEDIATE, a
#           no-op UPDATE, 3 s, COMMIT) twice, and sends a few writes (POST /api/v1/organisations)
#           through the service while it holds it; then once more with as many writes per hold as
#           the pool has connections. wrk runs one thread per connection, so that the Lua script
#           can time every request (start and end in wall-clock microseconds) and the requests of
#           the lock windows can be picked out: p50/p99/max for the whole run and for the windows,
#           per request and corrected for coordinated omission (as wrk corrects its own), reads/s
#           inside and outside them, and how long each write waited.
# Writes bench/results-hardening.md and prints it.
#
#   bench/hardening.sh
#   BENCH_RUNS=lock BENCH_SKIP_BUILD=1 bench/hardening.sh
#
# Settings (environment):
#   BENCH_RUNS          "memory lock"       which measurements
#   BENCH_MEM_DURATION  60                  seconds of each memory run
#   BENCH_MEM_CONNECTIONS 64                wrk connections (-t BENCH_THREADS, default 2)
#   BENCH_MEM_IDS       mixed               client_id of the wrong exchanges: real | random | mixed
#                                           (mixed: every other request the real id, else a random UUID)
#   BENCH_MEM_UNLIMITED 1                   0 = skip the attack with the failure limit lifted
#   BENCH_LOCK_DURATION 20                  seconds of each read run
#   BENCH_LOCK_CONNECTIONS 32               wrk connections, one thread each
#   BENCH_LOCK_SEED     200                 organisations created through the API first
#   BENCH_LOCK_AT       "5 13"              seconds into the run at which the lock is taken
#   BENCH_LOCK_HOLD     3                   seconds the lock is held each time
#   BENCH_LOCK_WRITES   4                   writes sent through the service during each hold
#   BENCH_LOCK_PAIRS    2                   (without, with) pairs of read runs, alternating
#   BENCH_LOCK_BURST    16                  then one more run with this many writes per hold (the
#                                           default pool size: every connection waits); 0 = skip
#   BENCH_QUIET_MAX     25                  before each run, wait (up to BENCH_QUIET_WAIT s, default
#                                           180) until the machine is at most this % busy
#   BENCH_OTHERS_WAIT   1800                before each run, wait up to this many seconds while
#                                           someone else's wrk/pgbench/oha or bench script runs
#   BENCH_SKIP_BUILD    unset               1 = use the existing release binary
#   BENCH_BIN           $CARGO_TARGET_DIR/release/coproduce (copied before use)
#   BENCH_OUT           bench/results-hardening.md
#   BENCH_KEEP_LOGS     unset               1 = keep the temporary folder's logs (wrk output, per-request
#                                           timings, lock events), not the databases, and say where
#   COPRODUCE_POOL_SIZE, COPRODUCE_WORKERS, COPRODUCE_LOG_FORMAT (default json), RUST_LOG (default warn)
#   CARGO_TARGET_DIR    honoured for the build and to find the binary
#
# Why a sibling of bench/run.sh and not more BENCH_ENDPOINTS: run.sh measures one long-lived
# server per backend after seeding 1,000 rows; these need a fresh server per memory run (so that
# "before" means before), a second process on the database file, per-request timestamps and
# their own report. The helpers (quiet-machine wait, CPU accounting, server start) are the same
# as in bench/run.sh and bench/opportunities.sh.
#
# Only 127.0.0.1 is contacted. Every process started here is stopped on exit and the temporary
# folder (databases, logs) is removed. Each step has a time limit. About 8 minutes plus the
# release build on a quiet 2-core machine (longer on a busy one: it waits for quiet before each run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-"memory lock"}
THREADS=${BENCH_THREADS:-2}
MEM_DURATION=${BENCH_MEM_DURATION:-60}
MEM_CONNS=${BENCH_MEM_CONNECTIONS:-64}
MEM_IDS=${BENCH_MEM_IDS:-mixed}
MEM_UNLIMITED=${BENCH_MEM_UNLIMITED:-1}
LOCK_DURATION=${BENCH_LOCK_DURATION:-20}
LOCK_CONNS=${BENCH_LOCK_CONNECTIONS:-32}
LOCK_SEED=${BENCH_LOCK_SEED:-200}
LOCK_AT=${BENCH_LOCK_AT:-"5 13"}
LOCK_HOLD=${BENCH_LOCK_HOLD:-3}
LOCK_WRITES=${BENCH_LOCK_WRITES:-4}
LOCK_PAIRS=${BENCH_LOCK_PAIRS:-2}
LOCK_BURST=${BENCH_LOCK_BURST:-16}
QUIET_MAX=${BENCH_QUIET_MAX:-25}
QUIET_WAIT=${BENCH_QUIET_WAIT:-180}
OTHERS_WAIT=${BENCH_OTHERS_WAIT:-1800}
OUT=${BENCH_OUT:-$ROOT/bench/results-hardening.md}
LOG_FORMAT=${COPRODUCE_LOG_FORMAT:-json}
LOG_LEVEL=${RUST_LOG:-warn}
POOL_SIZE=${COPRODUCE_POOL_SIZE:-}
WORKERS=${COPRODUCE_WORKERS:-}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SRC_BIN=${BENCH_BIN:-$TARGET_DIR/release/coproduce}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

case $MEM_IDS in real | random | mixed) ;; *) echo "BENCH_MEM_IDS must be real, random or mixed" >&2; exit 2 ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/coproduce-bench-hardening.XXXXXX")
# Our own copy of the binary, under a name of its own, so that a `killall coproduce` by someone
# else on a shared machine does not stop it mid-run (seen once: the run then died with
# "Connection refused" and a server log without any error).
BIN=$WORK/hardening-server
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 48)
SERVER_PID=""
SAMPLER_PID=""
CLIENT_PID=""
HOLDER_PID=""
EXTRA_ENV=()

log() { printf '[hardening %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop_pid() { # stop one process we started: TERM, then KILL after 10 s
    local pid=$1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    stop_pid "$HOLDER_PID"
    stop_pid "$CLIENT_PID"
    stop_pid "$SAMPLER_PID"
    stop_pid "$SERVER_PID"
    if [[ $rc -ne 0 || -n ${BENCH_KEEP_LOGS:-} ]]; then
        rm -rf "$WORK"/data-* "$BIN"
        [[ -n ${BENCH_KEEP_LOGS:-} ]] || rm -f "$WORK"/lock-*.log
        log "$([[ $rc -ne 0 ]] && echo "failed (exit $rc); ")logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- 1. tools
apt_install() {
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    log "installing $* with apt-get"
    timeout 600 $sudo apt-get install -y -qq "$@" >/dev/null || {
        timeout 600 $sudo apt-get update -qq >/dev/null && timeout 600 $sudo apt-get install -y -qq "$@" >/dev/null
    } || die "cannot install $*"
}
command -v curl >/dev/null || apt_install curl
command -v jq >/dev/null || apt_install jq
command -v wrk >/dev/null || apt_install wrk
command -v python3 >/dev/null || apt_install python3
python3 -c 'import sqlite3' 2>/dev/null || die "python3 has no sqlite3 module"

# ---------------------------------------------------------------- helpers
to_ms() { # wrk latency such as 812.00us, 3.41ms, 1.02s -> milliseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
        printf "%.2f", n }'
}

cpu_stat() { # the machine's busy, steal and total ticks from /proc/stat
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

busy_percent() { # how busy the machine is over the next 2 s
    local b0 s0 t0 b1 s1 t1
    read -r b0 s0 t0 < <(cpu_stat); sleep 2; read -r b1 s1 t1 < <(cpu_stat)
    awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", (t > 0 ? 100 * b / t : 0) }'
}

ANCESTORS=" $$ "
_p=$$
while _p=$(awk '{print $4}' "/proc/$_p/stat" 2>/dev/null) && [[ -n $_p && $_p != 0 ]]; do ANCESTORS+="$_p "; done
descends_from_us() { # true if process $1 is this script, was started (indirectly) by it, or is
    local q=$1         # already gone (a short-lived fork of one of our subshells, named like us)
    while [[ -n $q && $q != 0 && $q != 1 ]]; do
        [[ $q == "$$" ]] && return 0
        q=$(awk '{print $4}' "/proc/$q/stat" 2>/dev/null) || return 0
    done
    return 1
}
other_load() { # load generators, or another bench script (not one that called us), running now
    local p out=""
    for p in $(pgrep -x 'wrk|pgbench|oha' 2>/dev/null) $(pgrep -f 'bench/(run|opportunities|hardening)\.sh' 2>/dev/null); do
        [[ $ANCESTORS == *" $p "* ]] && continue
        descends_from_us "$p" && continue # our own load generators and subshells
        out+="$p "
    done
    echo "$out"
}

wait_others() { # wait until someone else's benchmark has ended (we'd spoil theirs, they ours)
    local waited=0 others
    others=$(other_load)
    [[ -z $others ]] && return 0
    log "another benchmark is running (pids $others); waiting up to ${OTHERS_WAIT}s for it to end"
    while [[ -n $others ]] && ((waited < OTHERS_WAIT)); do
        sleep 10; waited=$((waited + 10))
        others=$(other_load)
    done
    [[ -n $others ]] && log "warning: another benchmark still running (pids $others); going on anyway"
    return 0
}

wait_quiet() { # ... and until other work (builds, tests) has calmed down
    local busy waited=0
    wait_others
    busy=$(busy_percent)
    while ((busy > QUIET_MAX && waited < QUIET_WAIT)); do
        ((waited == 0)) && log "machine ${busy}% busy before the run; waiting up to ${QUIET_WAIT}s for it to calm down"
        sleep 3; waited=$((waited + 5))
        busy=$(busy_percent)
    done
    ((busy > QUIET_MAX)) && log "warning: still ${busy}% busy; measuring anyway (see the 'Other' CPU column)"
    QUIET_BUSY=$busy
}

snapshot() { # "<sample> <pid> <comm> <user+system ticks>" for every process
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v i="$1" '{
        if (!match($0, /\(.*\)/)) next
        c = substr($0, RSTART + 1, RLENGTH - 2); gsub(/[ \t]/, "_", c)
        split(substr($0, RSTART + RLENGTH + 1), a, " ")
        print i, $1, c, a[12] + a[13] }'
}

# measured OUT CLIENT_COMM COMMAND...: runs the load generator while sampling CPU use; sets
# CPU_SERVER CPU_CLIENT CPU_OTHER (seconds), CPU_STEAL (%), WALL (seconds)
measured() {
    local out=$1 client=$2
    shift 2
    local snaps=$WORK/snaps i=1 rc=0 b0 s0 t0 b1 s1 t1 w0 w1
    snapshot 0 >"$snaps"
    read -r b0 s0 t0 < <(cpu_stat); w0=$(date +%s.%N)
    "$@" >"$out" 2>&1 &
    CLIENT_PID=$!
    while kill -0 "$CLIENT_PID" 2>/dev/null; do
        sleep 0.5
        snapshot "$i" >>"$snaps"; i=$((i + 1))
    done
    wait "$CLIENT_PID" || rc=$?
    CLIENT_PID=""
    read -r b1 s1 t1 < <(cpu_stat); w1=$(date +%s.%N)
    WALL=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')
    CPU_STEAL=$(awk -v s=$((s1 - s0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", (t > 0 ? 100 * s / t : 0) }')
    read -r CPU_SERVER CPU_CLIENT CPU_OTHER < <(awk -v srv="${SERVER_PID:-none}" -v client="$client" -v me="$$" -v hz="$HZ" '
        $1 == 0 { base[$2] = $4; next }
        { last[$2] = $4; name[$2] = $3 }
        END {
            for (p in last) {
                d = last[p] - ((p in base) ? base[p] : 0); if (d < 0) d = 0
                if (p == srv) s += d; else if (name[p] == client) c += d; else if (p != me) o += d
            }
            printf "%.2f %.2f %.2f\n", s / hz, c / hz, o / hz
        }' "$snaps")
    return $rc
}

share() { awk -v c="$1" -v w="$WALL" -v n="$NCPU" 'BEGIN { printf "%.0f", 100 * c / (w * n) }'; }
per_req_ms() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.3f", 1000 * c / n; else print "-" }'; }
cpu_cols() { echo "$(share "$CPU_SERVER")|$(share "$CPU_CLIENT")|$(share "$CPU_OTHER")|$CPU_STEAL|$QUIET_BUSY"; }

server_env() { # the environment the service runs with; $1 DATABASE_URL, $2 data dir
    SENV=(
        "DATABASE_URL=$1" "COPRODUCE_DATA_DIR=$2" "COPRODUCE_BIND=127.0.0.1:0"
        "COPRODUCE_LOG_FORMAT=$LOG_FORMAT" "RUST_LOG=$LOG_LEVEL" "COPRODUCE_JWT_SECRET=$JWT_SECRET"
    )
    [[ -n $POOL_SIZE ]] && SENV+=("COPRODUCE_POOL_SIZE=$POOL_SIZE")
    [[ -n $WORKERS ]] && SENV+=("COPRODUCE_WORKERS=$WORKERS")
    SENV+=("${EXTRA_ENV[@]}")
    return 0
}

start_server() { # $1 label; a fresh SQLite database in its own folder; sets SERVER_PID, PORT, TOKEN, DB_FILE
    local label=$1 data=$WORK/data-$1
    local logfile=$WORK/server-$label.log
    mkdir -p "$data"
    DB_FILE=$data/c.db
    server_env "sqlite://$DB_FILE" "$data"
    # Port 0: the kernel picks a free port, which the "listening" line reports; that line stays
    # visible when RUST_LOG is warn.
    : >"$logfile"
    env "${SENV[@]}" RUST_LOG="$LOG_LEVEL,coproduce::startup=info" "$BIN" serve >"$logfile" 2>&1 &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 1 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$logfile" >&2; die "server ($label) exited at start"; }
        PORT=$(grep -m1 -o '"port":[0-9]*' "$logfile" | grep -o '[0-9]*$' || true)
        [[ -z $PORT ]] && PORT=$(grep -m1 'listening' "$logfile" | sed 's/\x1b\[[0-9;]*m//g' | grep -o 'port=[0-9]*' | grep -o '[0-9]*$' || true)
        if [[ -n $PORT ]] && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/readyz"; then
            break
        fi
        PORT=""
        sleep 0.1
    done
    [[ -n $PORT ]] || die "server ($label) not ready within 60 s"
    log "$label server pid $SERVER_PID on 127.0.0.1:$PORT"
    TOKEN=$(env "${SENV[@]}" timeout 30 "$BIN" token --role admin --ttl 2h) || die "cannot mint a token"
}

alive() { # alive WHAT: fail clearly if the server has gone
    kill -0 "$SERVER_PID" 2>/dev/null \
        || die "the server (pid $SERVER_PID) is gone $1; its log ends: $(tail -3 "$WORK"/server-*.log | tr '\n' ' ')"
}

stop_server() {
    stop_pid "$SERVER_PID"; SERVER_PID=""
    stop_pid "$SAMPLER_PID"; SAMPLER_PID=""
}

api() { # api METHOD PATH [JSON]: prints the body, fails unless 2xx
    local -a data=()
    [[ $# -ge 3 ]] && data=(-H 'Content-Type: application/json' -d "$3")
    curl -fsS --max-time 30 -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" "${data[@]}"
}

status_of() { # /proc/<pid>/status field in kB, e.g. status_of VmRSS
    awk -v f="$1:" '$1 == f {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0
}

start_rss_sampler() { # "<epoch s> <VmRSS kB> <VmHWM kB>" of the server every 0.5 s, into $1
    local pid=$SERVER_PID out=$1
    (
        while [[ -r /proc/$pid/status ]]; do
            awk -v t="$EPOCHREALTIME" '$1 == "VmRSS:" {r = $2} $1 == "VmHWM:" {h = $2} END {if (r != "") print t, r, h}' \
                "/proc/$pid/status" 2>/dev/null >>"$out" || true
            sleep 0.5
        done
    ) &
    SAMPLER_PID=$!
}

pool_open() { # pooled database connections open now, from /metrics
    curl -fsS --max-time 10 "http://127.0.0.1:$PORT/metrics" \
        | awk '/^coproduce_db_pool_connections\{state="open"\}/ {print $2; f = 1} END {if (!f) print "-"}'
}

mb() { awk -v k="${1:-0}" 'BEGIN {printf "%.1f", k / 1024}'; }

# ---------------------------------------------------------------- 2. build
if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    wait_others
    log "cargo build --release (target dir $TARGET_DIR)"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR timeout 3600 nice -n 10 cargo build --release --quiet) \
        || die "release build failed"
fi
[[ -x $SRC_BIN ]] || die "no binary at $SRC_BIN (unset BENCH_SKIP_BUILD to build it)"
cp "$SRC_BIN" "$BIN" # our own copy: another build into the target dir cannot change it mid-run

want() { [[ " $RUNS " == *" $1 "* ]]; }
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$WORK/mem-rows"; : >"$WORK/lock-rows"; : >"$WORK/write-rows"

# ---------------------------------------------------------------- 3. memory under wrong credentials
# Tallies the answers by status in each wrk thread; done() prints "status <code> <count>".
cat >"$WORK/tally.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        for code, n in pairs(t:get("statuses") or {}) do total[code] = (total[code] or 0) + n end
    end
    for code, n in pairs(total) do io.write(string.format("status %d %d\n", code, n)) end
end
LUA
# The wrong exchange: wrk ... -- <real client id> <real|random|mixed>
{
    cat "$WORK/tally.lua"
    cat <<'LUA'
local real_id, mode, count = nil, "mixed", 0
local old_init = init
function init(args)
    old_init(args)
    real_id, mode = args[1], args[2] or "mixed"
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end
local function random_uuid()
    return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffffffff), math.random(0, 0xffff),
        math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
function request()
    count = count + 1
    local id = real_id
    if mode == "random" or (mode == "mixed" and count % 2 == 0) then id = random_uuid() end
    return wrk.format("POST", "/api/v1/token", headers,
        "grant_type=client_credentials&client_id=" .. id .. "&client_secret=wrong")
end
LUA
} >"$WORK/token.lua"

setup_client() { # one organisation and one API client; sets CLIENT_ID; checks the right secret works
    local org made secret code
    org=$(api POST /api/v1/organisations '{"name":"Bench","kinds":["provider"]}' | jq -r .id)
    made=$(api POST /api/v1/api-clients "{\"organisation_id\":\"$org\",\"name\":\"bench\"}")
    CLIENT_ID=$(jq -r .client.id <<<"$made")
    secret=$(jq -r .client_secret <<<"$made")
    [[ -n $CLIENT_ID && $CLIENT_ID != null && -n $secret && $secret != null ]] || die "no API client: $made"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST "http://127.0.0.1:$PORT/api/v1/token" \
        -H 'Content-Type: application/x-www-form-urlencoded' \
        --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$CLIENT_ID" \
        --data-urlencode "client_secret=$secret")
    [[ $code == 200 ]] || die "the right secret was refused ($code)"
}

# mem_run NAME: a fresh server (EXTRA_ENV applies), one client, then the load of NAME for
# MEM_DURATION s while RSS is sampled. Row in mem-rows:
# name|req/s|requests|statuses|5xx|socket errors|before MB|peak MB|after MB|VmHWM MB|p50|p99|server ms/req|server%|client%|other%|steal%|busy%|pool open before -> after
mem_run() {
    local name=$1 out=$WORK/wrk-$1.txt rss=$WORK/rss-$1 url lua before after hwm t0 t1 peak pool0 pool1
    local -a args=()
    start_server "$name"
    setup_client
    start_rss_sampler "$rss"
    case $name in
    healthz) url="http://127.0.0.1:$PORT/healthz"; lua=$WORK/tally.lua ;;
    *) url="http://127.0.0.1:$PORT/api/v1/token"; lua=$WORK/token.lua; args=(-- "$CLIENT_ID" "$MEM_IDS") ;;
    esac
    wait_quiet
    sleep 1
    before=$(status_of VmRSS); pool0=$(pool_open)
    log "wrk $name: -t$THREADS -c$MEM_CONNS -d${MEM_DURATION}s ${url#http://127.0.0.1:$PORT}${args[*]:+ (ids: $MEM_IDS)}"
    t0=$EPOCHREALTIME
    measured "$out" wrk timeout $((MEM_DURATION + 60)) wrk -t "$THREADS" -c "$MEM_CONNS" -d "${MEM_DURATION}s" \
        --timeout 10s --latency -s "$lua" "$url" "${args[@]}" || { alive "during $name"; die "wrk failed: $(cat "$out")"; }
    t1=$EPOCHREALTIME
    sleep 5
    alive "after $name"
    after=$(status_of VmRSS); hwm=$(status_of VmHWM); pool1=$(pool_open)
    stop_server
    peak=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b && $2 > m {m = $2} END {print m + 0}' "$rss")
    local rps count statuses s5xx sock p50 p99
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    count=$(awk '/requests in/ {print $1}' "$out")
    statuses=$(awk '$1 == "status" {printf "%s%s: %s", sep, $2, $3; sep = ", "}' <(sort -k2n "$out"))
    s5xx=$(awk '$1 == "status" && $2 >= 500 {n += $3} END {print n + 0}' "$out")
    sock=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); gsub(/,/, ""); print}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    echo "$name|$rps|$count|$statuses|$s5xx|${sock:-none}|$(mb "$before")|$(mb "$peak")|$(mb "$after")|$(mb "$hwm")|$p50|$p99|$(per_req_ms "$CPU_SERVER" "$count")|$(cpu_cols)|$pool0 -> $pool1" >>"$WORK/mem-rows"
    log "  -> $rps/s ($statuses; 5xx $s5xx; socket errors ${sock:-none}); RSS before $(mb "$before") MB, peak $(mb "$peak") MB, after $(mb "$after") MB, VmHWM $(mb "$hwm") MB; pool connections $pool0 -> $pool1;" \
        "CPU share server $(share "$CPU_SERVER")% wrk $(share "$CPU_CLIENT")% other $(share "$CPU_OTHER")% steal $CPU_STEAL%"
}

if want memory; then
    EXTRA_ENV=(); mem_run healthz
    EXTRA_ENV=(); mem_run attack
    if [[ $MEM_UNLIMITED == 1 ]]; then
        EXTRA_ENV=("COPRODUCE_TOKEN_FAILURE_LIMIT=1000000000"); mem_run attack-unlimited
    fi
    EXTRA_ENV=()
fi

# ---------------------------------------------------------------- 4. reads while another process holds the write lock
# Times every request: one connection per wrk thread, so request() and response() alternate on
# one connection. Each thread writes "<start us> <latency us> <status>" lines to <prefix>-<n>.log.
cat >"$WORK/timed.lua" <<'LUA'
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } hardening_timespec;
int clock_gettime(int clk, hardening_timespec *tp);
]]
local ts = ffi.new("hardening_timespec")
local function now_us() -- CLOCK_REALTIME, comparable with python's time.time()
    ffi.C.clock_gettime(0, ts)
    return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end
local n = 0
function setup(thread) n = n + 1; thread:set("id", n) end
function init(args)
    out = assert(io.open(args[1] .. "-" .. id .. ".log", "w"))
    out:setvbuf("full")
end
local started = 0
function request()
    started = now_us()
    return wrk.format()
end
function response(status, headers, body)
    out:write(string.format("%.0f %.0f %d\n", started, now_us() - started, status))
end
LUA

# The second process: holds the write lock of the database file at the given offsets from its
# start, and sends writes through the service while it does. One JSON line per event.
cat >"$WORK/holder.py" <<'PY'
import http.client, json, sqlite3, sys, threading, time

db, at, hold, writes, port, token, out = sys.argv[1:8]
at = [float(x) for x in at.split()]
hold, writes, port = float(hold), int(writes), int(port)
t0 = time.time()
events = []
lock = threading.Lock()

def write(i, j):
    body = json.dumps({"name": f"Written while locked {i}-{j}", "kinds": ["provider"]})
    start = time.time()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/api/v1/organisations", body=body,
                  headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        status = c.getresponse().status
        c.close()
    except Exception as e:  # reported, not hidden
        status = "error:" + type(e).__name__
    with lock:
        events.append({"event": "write", "hold": i, "start": start, "end": time.time(), "status": status})

con = sqlite3.connect(db, timeout=10, isolation_level=None)
assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
for i, offset in enumerate(at):
    time.sleep(max(0.0, t0 + offset - time.time()))
    asked = time.time()
    con.execute("BEGIN IMMEDIATE")
    acquired = time.time()
    # A real writer's change (a no-op on one row), so COMMIT appends to the WAL.
    con.execute("UPDATE organisations SET name = name WHERE id = (SELECT min(id) FROM organisations)")
    workers = []
    time.sleep(min(0.5, hold / 4))
    for j in range(writes):
        w = threading.Thread(target=write, args=(i, j))
        w.start()
        workers.append(w)
    time.sleep(max(0.0, acquired + hold - time.time()))
    con.execute("COMMIT")
    released = time.time()
    with lock:
        events.append({"event": "lock", "hold": i, "asked": asked, "acquired": acquired, "released": released})
    for w in workers:
        w.join(40)
con.close()
with open(out, "w") as f:
    for e in events:
        f.write(json.dumps(e) + "\n")
PY

# Reads the per-request logs of one run; prints "key=value" lines for the report. Two views of
# the latency: per request as measured, and corrected for coordinated omission the way wrk 4 does
# it (stats_correct): a connection stuck for L did not send the requests it would have sent every
# I (I = the mean interval between a connection's requests over the run), so for every L >= 2I the
# samples L - I, L - 2I, ... (> I) are added, here each at the moment it would have been sent. A
# closed-loop client that stalls sends few requests while stalled; the corrected view counts the
# requests that an open stream of callers would have sent into the stall.
cat >"$WORK/analyse.py" <<'PY'
import glob, json, math, sys

prefix, t0, mode, at, hold, events = sys.argv[1:7]
t0, hold = float(t0), float(hold)
rows, conns = [], 0
for path in glob.glob(prefix + "-*.log"):
    conns += 1
    with open(path) as f:
        for line in f:
            s, lat, status = line.split()
            rows.append((float(s) / 1e6, float(lat) / 1e3, int(status)))
rows.sort()
if mode == "lock":
    windows = []
    with open(events) as f:
        for line in f:
            e = json.loads(line)
            if e["event"] == "lock":
                windows.append((e["acquired"], e["released"]))
    windows.sort()
else:  # the same moments of a run without the lock holder, for comparison
    windows = [(t0 + float(a), t0 + float(a) + hold) for a in at.split()]

first, last = rows[0][0], max(r[0] + r[1] / 1e3 for r in rows)
interval = 1000 * (last - first) / (len(rows) / conns)  # ms between a connection's requests
corrected = []  # (start, latency ms): the measured ones plus those a stalled connection owed
for s, lat, _ in rows:
    corrected.append((s, lat))
    if lat >= 2 * interval:
        k = 1
        while lat - k * interval > interval:
            corrected.append((s + k * interval / 1000, lat - k * interval))
            k += 1

def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[max(0, math.ceil(p * len(v)) - 1)]

def inside(s):
    return any(a <= s <= b for a, b in windows)

def overlaps(s, lat):
    return any(s <= b and s + lat / 1e3 >= a for a, b in windows)

def just_after(s):  # the 0.5 s after each release, while the waiting writes commit
    return any(b < s <= b + 0.5 for a, b in windows)

sets = {
    "all": [r[1] for r in rows],
    "win": [r[1] for r in rows if inside(r[0])],
    "aft": [r[1] for r in rows if just_after(r[0])],
    "ovl": [r[1] for r in rows if overlaps(r[0], r[1])],
    "call": [c[1] for c in corrected],
    "cwin": [c[1] for c in corrected if inside(c[0])],
}
win_secs = sum(b - a for a, b in windows)
out_secs = (last - first) - win_secs
print("requests=%d" % len(rows))
print("interval=%.2f" % interval)
print("non2xx=%d" % sum(1 for r in rows if not 200 <= r[2] < 300))
print("rps=%.0f" % (len(rows) / (last - first)))
for name, v in sets.items():
    print("%s_p50=%.2f" % (name, pct(v, 0.50)))
    print("%s_p99=%.2f" % (name, pct(v, 0.99)))
    print("%s_max=%.2f" % (name, max(v) if v else float("nan")))
    print("%s_n=%d" % (name, len(v)))
print("win_rps=%.0f" % (len(sets["win"]) / win_secs if win_secs > 0 else 0))
print("out_rps=%.0f" % ((len(rows) - len(sets["win"])) / out_secs if out_secs > 0 else 0))
# Reads completed per 100 ms inside the windows: the fewest (0 = the reads stopped).
buckets = {}
for s, lat, _ in rows:
    k = int((s + lat / 1e3) * 10)
    buckets[k] = buckets.get(k, 0) + 1
in_buckets = [buckets.get(k, 0) for a, b in windows for k in range(int(a * 10) + 1, int(b * 10))]
print("win_min_per_100ms=%d" % (min(in_buckets) if in_buckets else 0))
print("windows=%s" % ";".join("%.2f-%.2f" % (a - t0, b - t0) for a, b in windows))
PY

# lock_run NAME MODE(none|lock) WRITES: one read run; appends to lock-rows (and write-rows):
# name|mode|writes|requests|req/s|non-2xx|socket|p50|p99|max|corrected p99|wrk p99|win n|win p50|win p99|
# win corrected p99|win max|overlapping max|win req/s|out req/s|win min/100ms|after p99|after max|windows|
# server ms/req|server%|client%|other%|steal%|busy%
lock_run() {
    local name=$1 mode=$2 writes=$3 out=$WORK/wrk-$1.txt prefix=$WORK/lock-$1 events=$WORK/events-$1.jsonl t0 url
    url="http://127.0.0.1:$PORT/api/v1/organisations?limit=50"
    wait_quiet
    timeout 30 wrk -t 2 -c "$LOCK_CONNS" -d 3s -H "Authorization: Bearer $TOKEN" "$url" >/dev/null 2>&1 || true
    log "wrk $name: -t$LOCK_CONNS -c$LOCK_CONNS -d${LOCK_DURATION}s list$([[ $mode == lock ]] && echo ", lock held at $LOCK_AT s for $LOCK_HOLD s, $writes writes each time")"
    alive "before $name"
    t0=$EPOCHREALTIME
    if [[ $mode == lock ]]; then
        timeout $((LOCK_DURATION + 90)) python3 "$WORK/holder.py" "$DB_FILE" "$LOCK_AT" "$LOCK_HOLD" "$writes" \
            "$PORT" "$TOKEN" "$events" >"$WORK/holder-$name.log" 2>&1 &
        HOLDER_PID=$!
    fi
    measured "$out" wrk timeout $((LOCK_DURATION + 60)) wrk -t "$LOCK_CONNS" -c "$LOCK_CONNS" -d "${LOCK_DURATION}s" \
        --timeout 10s --latency -H "Authorization: Bearer $TOKEN" -s "$WORK/timed.lua" "$url" -- "$prefix" \
        || { alive "during $name"; die "wrk failed: $(cat "$out")"; }
    alive "after $name"
    if [[ $mode == lock ]]; then
        wait "$HOLDER_PID" || die "the lock holder failed: $(cat "$WORK/holder-$name.log")"
        HOLDER_PID=""
        grep -q '"event": "lock"' "$events" || die "the lock holder took no lock"
    fi
    local -A r=()
    local k v
    while IFS='=' read -r k v; do r[$k]=$v; done < <(python3 "$WORK/analyse.py" "$prefix" "$t0" "$mode" "$LOCK_AT" "$LOCK_HOLD" "$events")
    local wp99 sock
    wp99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    sock=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); gsub(/,/, ""); print}' "$out")
    echo "$name|$mode|$writes|${r[requests]}|${r[rps]}|${r[non2xx]}|${sock:-none}|${r[all_p50]}|${r[all_p99]}|${r[all_max]}|${r[call_p99]}|$wp99|${r[win_n]}|${r[win_p50]}|${r[win_p99]}|${r[cwin_p99]}|${r[win_max]}|${r[ovl_max]}|${r[win_rps]}|${r[out_rps]}|${r[win_min_per_100ms]}|${r[aft_p99]}|${r[aft_max]}|${r[windows]}|$(per_req_ms "$CPU_SERVER" "${r[requests]}")|$(cpu_cols)" >>"$WORK/lock-rows"
    log "  -> ${r[rps]}/s, p50 ${r[all_p50]} p99 ${r[all_p99]} (corrected ${r[call_p99]}, wrk $wp99) max ${r[all_max]} ms; windows ${r[windows]}:" \
        "${r[win_n]} reads, p99 ${r[win_p99]} (corrected ${r[cwin_p99]}) max ${r[win_max]} ms, ${r[win_rps]}/s inside vs ${r[out_rps]}/s outside;" \
        "non-2xx ${r[non2xx]}; other CPU $(share "$CPU_OTHER")%"
    if [[ $mode == lock ]]; then
        python3 - "$events" "$name" >>"$WORK/write-rows" <<'PY'
import json, sys
locks, writes = {}, []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "lock": locks[e["hold"]] = e
    else: writes.append(e)
for w in sorted(writes, key=lambda w: (w["hold"], w["start"])):
    l = locks[w["hold"]]
    # name|hold|status|sent (s after the lock was taken)|took ms|answered ms after the lock was released
    print("%s|%d|%s|%.2f|%.0f|%.0f" % (sys.argv[2], w["hold"] + 1, w["status"], w["start"] - l["acquired"],
          1000 * (w["end"] - w["start"]), 1000 * (w["end"] - l["released"])))
PY
    fi
    [[ -n ${BENCH_KEEP_LOGS:-} ]] || rm -f "$prefix"-*.log
}

if want lock; then
    start_server lock
    seq 1 "$LOCK_SEED" | timeout 600 xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
        -X POST "http://127.0.0.1:$PORT/api/v1/organisations" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d '{"name":"Bench organisation {}","kinds":["provider"]}' >"$WORK/seed-codes" || true
    ok=$(grep -c '^201$' "$WORK/seed-codes" || true)
    [[ $ok -eq $LOCK_SEED ]] || die "seeding: $ok of $LOCK_SEED organisations created"
    [[ $(api GET "/api/v1/organisations?limit=50" | jq '.items | length') == 50 ]] || die "the list does not answer 50 items"
    log "seeded $ok organisations"
    for i in $(seq 1 "$LOCK_PAIRS"); do
        lock_run "without-$i" none 0
        lock_run "with-$i" lock "$LOCK_WRITES"
    done
    if ((LOCK_BURST > 0)); then lock_run "with-burst" lock "$LOCK_BURST"; fi
    stop_server
fi

# ---------------------------------------------------------------- 5. report
verdict() { if [[ -n $1 ]] && awk -v a="$1" -v b="$2" "BEGIN {exit !(a $3 b)}"; then echo "met"; else echo "**missed**"; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "-" }'; }
mem() { awk -F'|' -v n="$1" -v c="$2" '$1 == n {print $c}' "$WORK/mem-rows"; }
{
    echo "# Hardening measurements"
    echo
    echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- Revision: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock migrations 2>/dev/null || echo ' plus uncommitted changes')"
    echo "- Machine: $NCPU cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), $(uname -sr); wrk and the server share the cores"
    echo "- Server: SQLite in a fresh temporary folder, COPRODUCE_POOL_SIZE=${POOL_SIZE:-16 (default)}, COPRODUCE_WORKERS=${WORKERS:-default}, COPRODUCE_LOG_FORMAT=$LOG_FORMAT, RUST_LOG=$LOG_LEVEL"
    echo "- Load average (1, 5, 15 min) at the start: $LOADAVG_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg). Per run, \"Other %\" is the CPU that processes not started here took during it"
    echo "- Command: \`${BENCH_COMMAND:-bench/hardening.sh}\`"
    if want memory; then
        echo
        echo "## Memory under wrong credentials"
        echo
        echo "wrk -t$THREADS -c$MEM_CONNS -d${MEM_DURATION}s --latency, each load on a fresh server holding one organisation and one"
        echo "API client. Wrong exchanges: \`POST /api/v1/token\`, form body"
        echo "\`grant_type=client_credentials&client_id=<id>&client_secret=wrong\`, id: $MEM_IDS (mixed = the real client id"
        echo "and random UUIDs, alternately). VmRSS sampled every 0.5 s; before = 1 s before the load, after = 5 s after it."
        echo
        echo "| Load | Requests/s | Answers by status | 5xx | Socket errors | RSS before (MB) | Peak RSS during (MB) | RSS after (MB) | VmHWM (MB) | p50 ms | p99 ms |"
        echo "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|"
        while IFS='|' read -r n r _ st s5 so b p a h p5 p9 _; do
            case $n in
            healthz) d='`GET /healthz` (the peer)' ;;
            attack) d='wrong credentials, limit 20 failures/min' ;;
            attack-unlimited) d='wrong credentials, limit lifted (every request checks a secret)' ;;
            esac
            echo "| $d | $r | $st | $s5 | $so | $b | $p | $a | $h | $p5 | $p9 |"
        done <"$WORK/mem-rows"
        echo
        echo "| Load | Server CPU ms/req | Server % | wrk % | Other % | Steal % | Busy before % | Pooled DB connections open, before -> after |"
        echo "|---|---:|---:|---:|---:|---:|---:|---|"
        while IFS='|' read -r n _ _ _ _ _ _ _ _ _ _ _ sm sp cp op st qb po; do
            echo "| $n | $sm | $sp | $cp | $op | $st | $qb | $po |"
        done <"$WORK/mem-rows"
    fi
    if want lock; then
        echo
        echo "## SQLite reads while another process holds the write lock"
        echo
        echo "$LOCK_SEED organisations; wrk -t$LOCK_CONNS -c$LOCK_CONNS -d${LOCK_DURATION}s (one connection per thread; every request"
        echo "timed in Lua) on \`GET /api/v1/organisations?limit=50\` with an admin token, after a 3 s warm-up. \"with\": python3's"
        echo "sqlite3 opens the same file and holds the write lock (\`BEGIN IMMEDIATE\`, a no-op UPDATE, ${LOCK_HOLD} s, \`COMMIT\`) at"
        echo "${LOCK_AT// /, } s into the run, and, 0.5 s into each hold, sends the given number of writes (\`POST /api/v1/organisations\`)"
        echo "through the service at once; \"with-burst\" sends as many as the pool has connections. Window = the requests started"
        echo "while the lock was held (in the runs without: the same moments of the run). Per request = the Lua timings as measured;"
        echo "corrected = with the samples a stalled connection did not send (coordinated omission, as wrk 4 corrects its own"
        echo "figures, so the corrected p99 of the whole run should be close to wrk's). \"After\" = reads started in the 0.5 s after"
        echo "each release, while the waiting writes commit."
        echo
        echo "| Run | Writes per hold | Reads | Reads/s | non-2xx | p50 ms | p99 ms | p99 corrected | wrk p99 | max ms | Window reads | Window p50 | Window p99 | Window p99 corrected | Window max | Max of reads in flight during a hold | Reads/s in windows / outside | Fewest reads in 100 ms of a window | After: p99 / max | Windows (s) |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|"
        while IFS='|' read -r n _ wr c r e so p5 p9 mx cp9 wp9 wn w5 w9 cw9 wm om wrs ors wmin a9 am ws _; do
            [[ $so == none ]] && so="" || so="; socket errors: $so"
            echo "| $n | $wr | $c | $r | $e$so | $p5 | $p9 | $cp9 | $wp9 | $mx | $wn | $w5 | $w9 | $cw9 | $wm | $om | $wrs / $ors | $wmin | $a9 / $am | $ws |"
        done <"$WORK/lock-rows"
        echo
        echo "| Run | Server CPU ms/req | Server % | wrk % | Other % | Steal % | Busy before % |"
        echo "|---|---:|---:|---:|---:|---:|---:|"
        while IFS='|' read -r n _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ sm sp cp op st qb; do
            echo "| $n | $sm | $sp | $cp | $op | $st | $qb |"
        done <"$WORK/lock-rows"
        echo
        echo "Writes sent through the service while the lock was held (busy timeout 5 s):"
        echo
        echo "| Run | Hold | Writes | Statuses | Sent (s after the lock was taken) | Took (ms), min-max | Answered (ms after the lock was released), min-max |"
        echo "|---|---:|---:|---|---|---|---|"
        awk -F'|' '{ k = $1 "|" $2; if (!(k in n)) { order[++m] = k; mint[k] = $5; maxt[k] = $5; mina[k] = $6; maxa[k] = $6; mins[k] = $4; maxs[k] = $4 }
                     n[k]++; st[k, $3]++; codes[k] = codes[k] (index(codes[k], $3) ? "" : $3 " ")
                     if ($5 < mint[k]) mint[k] = $5; if ($5 > maxt[k]) maxt[k] = $5
                     if ($6 < mina[k]) mina[k] = $6; if ($6 > maxa[k]) maxa[k] = $6
                     if ($4 < mins[k]) mins[k] = $4; if ($4 > maxs[k]) maxs[k] = $4 }
             END { for (i = 1; i <= m; i++) { k = order[i]; split(k, p, "|"); split(codes[k], cs, " "); s = ""
                       for (j in cs) s = s (s == "" ? "" : ", ") cs[j] " x" st[k, cs[j]]
                       printf "| %s | %s | %d | %s | %s-%s | %d-%d | %d-%d |\n", p[1], p[2], n[k], s, mins[k], maxs[k], mint[k], maxt[k], mina[k], maxa[k] } }' \
            "$WORK/write-rows"
    fi
    echo
    echo "## Targets"
    echo
    if want memory; then
        p=$(mem attack 8); h=$(mem healthz 8)
        echo "- Peak RSS under 100 MB during the wrong-credentials load: $p MB -> $(verdict "$p" 100 '<')"
        echo "- Zero 5xx during the wrong-credentials load: $(mem attack 5) -> $(verdict "$(mem attack 5)" 0 '==')"
        echo "- Peak RSS during the attack / peak during the same load of GET /healthz: $p / $h = $(ratio "$p" "$h")"
        if [[ -n $(mem attack-unlimited 8) ]]; then
            pu=$(mem attack-unlimited 8)
            echo "- With the limit lifted (every request reaches the secret check): peak $pu MB -> $(verdict "$pu" 100 '<'), 5xx $(mem attack-unlimited 5), ratio to /healthz $(ratio "$pu" "$h")"
        fi
    fi
    if want lock; then
        lk() { awk -F'|' -v n="$1" -v c="$2" '$1 == n {print $c}' "$WORK/lock-rows"; }
        for i in $(seq 1 "$LOCK_PAIRS"); do
            w=$(lk "with-$i" 9); wc=$(lk "with-$i" 11); ww=$(lk "with-$i" 15); wwc=$(lk "with-$i" 16)
            wo=$(lk "without-$i" 9); woc=$(lk "without-$i" 11)
            echo "- Pair $i ($LOCK_WRITES writes per hold): p99 of the reads $w ms (corrected $wc), in the lock windows $ww ms (corrected $wwc) -> $(verdict "$(awk -v a="$wc" -v b="$wwc" 'BEGIN {print (a > b ? a : b)}')" 50 '<');" \
                "p99(with) / p99(without) = $w / $wo = $(ratio "$w" "$wo") (corrected $(ratio "$wc" "$woc"))"
        done
        if [[ -n $(lk with-burst 1) ]]; then
            echo "- Burst ($LOCK_BURST writes per hold): p99 in the lock windows $(lk with-burst 15) ms per request, $(lk with-burst 16) ms corrected, max $(lk with-burst 17) ms -> $(verdict "$(lk with-burst 16)" 50 '<'); reads/s in the windows $(lk with-burst 19) against $(lk with-burst 20) outside"
        fi
        bad=$(awk -F'|' '$3 !~ /^2/' "$WORK/write-rows" | wc -l)
        echo "- Writes during the holds: $(wc -l <"$WORK/write-rows") sent, $bad not 2xx; slowest $(awk -F'|' '$5 > m {m = $5} END {print m + 0}' "$WORK/write-rows") ms"
    fi
} >"$WORK/report.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/report.md" "$OUT"
echo
cat "$OUT"
