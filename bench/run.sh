#!/usr/bin/env bash
# Load benchmark for Coproduce: the release binary on SQLite and on PostgreSQL, measured with wrk
# (GET /healthz and the authenticated GET /api/v1/organisations?limit=50) and, on PostgreSQL,
# compared with pgbench running the very SQL the list runs. Writes bench/results-latest.md.
#
#   bench/run.sh                        # both backends, defaults below
#   BENCH_BACKENDS=postgres COPRODUCE_POOL_SIZE=8 RUST_LOG=warn bench/run.sh
#
# Settings (environment):
#   BENCH_BACKENDS      "sqlite postgres"   which backends to run
#   BENCH_ENDPOINTS     "healthz list"      which wrk runs
#   BENCH_PGBENCH       1                   0 = skip the pgbench comparison
#   BENCH_DURATION      15                  seconds per wrk / pgbench run
#   BENCH_THREADS       2                   wrk threads and pgbench -j
#   BENCH_CONNECTIONS   64                  wrk connections and pgbench -c
#   BENCH_SEED          1000                organisations created through the API before measuring
#   BENCH_PG_ADMIN_URL  postgres://postgres@127.0.0.1:5432/postgres  (creates/drops coproduce_bench)
#   BENCH_QUIET_MAX     25                  before each run, wait (up to BENCH_QUIET_WAIT s, default
#                                           180) until the machine is at most this % busy
#   BENCH_SKIP_BUILD    unset               1 = use the existing release binary
#   BENCH_BIN           $CARGO_TARGET_DIR/release/coproduce
#   BENCH_OUT           bench/results-latest.md
#   BENCH_REVISION      what to print as the revision (default: git HEAD of this tree)
#   BENCH_ROWS          also write the raw result rows to this file (used by bench/variants.sh)
#   COPRODUCE_POOL_SIZE, COPRODUCE_LOG_FORMAT (default json, as in the image), RUST_LOG (default info)
#   CARGO_TARGET_DIR    honoured for the build and to find the binary
#
# Only 127.0.0.1 is ever contacted. Every process started here is stopped on exit, and the
# benchmark database is dropped. Each step has a time limit, so the script always ends.
#
# CPU accounting: during each measured run every process's user+system time is sampled from
# /proc every 0.5 s and attributed to the server, PostgreSQL, the load generator (wrk/pgbench) or
# other processes; "other" shows when something else on the machine competed with the benchmark.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
ENDPOINTS=${BENCH_ENDPOINTS:-"healthz list"}
DO_PGBENCH=${BENCH_PGBENCH:-1}
DURATION=${BENCH_DURATION:-15}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
SEED=${BENCH_SEED:-1000}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=coproduce_bench
QUIET_MAX=${BENCH_QUIET_MAX:-25}
QUIET_WAIT=${BENCH_QUIET_WAIT:-180}
OUT=${BENCH_OUT:-$ROOT/bench/results-latest.md}
LOG_FORMAT=${COPRODUCE_LOG_FORMAT:-json}
LOG_LEVEL=${RUST_LOG:-info}
POOL_SIZE=${COPRODUCE_POOL_SIZE:-}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${BENCH_BIN:-$TARGET_DIR/release/coproduce}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/coproduce-bench.XXXXXX")
SERVER_PID=""
SAMPLER_PID=""
CLIENT_PID=""
PG_CREATED=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
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
    stop_pid "$CLIENT_PID"
    stop_pid "$SAMPLER_PID"
    stop_pid "$SERVER_PID"
    if [[ -n $PG_CREATED ]]; then
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [[ $rc -ne 0 ]]; then
        log "failed (exit $rc); logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- 1. tools
case $PG_ADMIN_URL in
    *@127.0.0.1[:/]* | *@localhost[:/]*) ;;
    *) die "BENCH_PG_ADMIN_URL must point at 127.0.0.1 (got $PG_ADMIN_URL)" ;;
esac

apt_install() {
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    log "installing $* with apt-get"
    timeout 600 $sudo apt-get install -y -qq "$@" >/dev/null || {
        timeout 600 $sudo apt-get update -qq >/dev/null && timeout 600 $sudo apt-get install -y -qq "$@" >/dev/null
    } || die "cannot install $*"
}
command -v curl >/dev/null || apt_install curl
command -v wrk >/dev/null || apt_install wrk
if [[ " $BACKENDS " == *" postgres "* ]]; then
    command -v psql >/dev/null || apt_install postgresql-client
    # Debian 12 ships pgbench in the server package (pulled in by postgresql-contrib).
    pgbench --version >/dev/null 2>&1 || apt_install postgresql-contrib
fi

# ---------------------------------------------------------------- 2. build
if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    log "cargo build --release (target dir $TARGET_DIR)"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR timeout 3600 cargo build --release --quiet) \
        || die "release build failed"
fi
[[ -x $BIN ]] || die "no binary at $BIN (unset BENCH_SKIP_BUILD to build it)"

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

wait_quiet() { # wait until other work on the machine (builds, tests) has calmed down
    local busy waited=0
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
# CPU_SERVER CPU_PG CPU_CLIENT CPU_OTHER (seconds), CPU_STEAL (%), WALL (seconds)
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
    read -r CPU_SERVER CPU_PG CPU_CLIENT CPU_OTHER < <(awk -v srv="${SERVER_PID:-none}" -v client="$client" -v me="$$" -v hz="$HZ" '
        $1 == 0 { base[$2] = $4; next }
        { last[$2] = $4; name[$2] = $3 }
        END {
            for (p in last) {
                d = last[p] - ((p in base) ? base[p] : 0); if (d < 0) d = 0
                if (p == srv) s += d; else if (name[p] == "postgres") g += d
                else if (name[p] == client) c += d; else if (p != me) o += d
            }
            printf "%.2f %.2f %.2f %.2f\n", s / hz, g / hz, c / hz, o / hz
        }' "$snaps")
    return $rc
}

share() { awk -v c="$1" -v w="$WALL" -v n="$NCPU" 'BEGIN { printf "%.0f", 100 * c / (w * n) }'; }
per_req_ms() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.3f", 1000 * c / n; else print "-" }'; }

start_sampler() { # VmRSS (kB) of the server every second, into $2
    local pid=$1 out=$2
    (
        while kill -0 "$pid" 2>/dev/null; do
            awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null >>"$out" || true
            sleep 1
        done
    ) &
    SAMPLER_PID=$!
}

start_server() { # $1 backend label, $2 DATABASE_URL, $3 data dir; sets SERVER_PID, PORT, TOKEN
    local label=$1 url=$2 data=$3
    local logfile=$WORK/server-$label.log
    local -a env=(
        "DATABASE_URL=$url" "COPRODUCE_DATA_DIR=$data" "COPRODUCE_BIND=127.0.0.1:0"
        "COPRODUCE_LOG_FORMAT=$LOG_FORMAT" "RUST_LOG=$LOG_LEVEL"
    )
    [[ -n $POOL_SIZE ]] && env+=("COPRODUCE_POOL_SIZE=$POOL_SIZE")
    [[ -n ${JWT_SECRET:-} ]] && env+=("COPRODUCE_JWT_SECRET=$JWT_SECRET")
    # Port 0: the kernel picks a free port, which the "listening" line reports; that line stays
    # visible when RUST_LOG is warn.
    : >"$logfile"
    env "${env[@]}" RUST_LOG="$LOG_LEVEL,coproduce::startup=info" "$BIN" serve >"$logfile" 2>&1 &
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
    TOKEN=$(env "${env[@]}" timeout 30 "$BIN" token --role admin --ttl 2h) || die "cannot mint a token"
}

seed() { # create $SEED organisations through the API, 8 at a time
    local url="http://127.0.0.1:$PORT/api/v1/organisations" codes=$WORK/seed-codes
    : >"$codes"
    seq 1 "$SEED" | timeout 600 xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
        -X POST "$url" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"name":"Bench organisation {}","kinds":["provider"]}' >>"$codes" || true
    local ok
    ok=$(grep -c '^201$' "$codes" || true)
    [[ $ok -eq $SEED ]] || die "seeding: $ok of $SEED organisations created ($(sort "$codes" | uniq -c | tr '\n' ' '))"
    log "seeded $ok organisations"
}

# One row per measured run, in $WORK/rows:
# backend|what|rate|p50|p99|errors|server ms/req|pg ms/req|server%|pg%|client%|other%|steal%|busy before%
add_row() {
    local label=$1 name=$2 rate=$3 p50=$4 p99=$5 errors=$6 count=$7
    local srv_ms="-" pg_ms="-"
    [[ $name != pgbench ]] && srv_ms=$(per_req_ms "$CPU_SERVER" "$count")
    [[ $label == postgres ]] && pg_ms=$(per_req_ms "$CPU_PG" "$count")
    echo "$label|$name|$rate|$p50|$p99|$errors|$srv_ms|$pg_ms|$(share "$CPU_SERVER")|$(share "$CPU_PG")|$(share "$CPU_CLIENT")|$(share "$CPU_OTHER")|$CPU_STEAL|$QUIET_BUSY" >>"$WORK/rows"
    log "  -> $rate/s, p50 $p50 ms, p99 $p99 ms, errors $errors; CPU ms/req server $srv_ms postgres $pg_ms;" \
        "CPU share server $(share "$CPU_SERVER")% postgres $(share "$CPU_PG")% client $(share "$CPU_CLIENT")% other $(share "$CPU_OTHER")% steal $CPU_STEAL%"
}

run_wrk() { # $1 backend, $2 name, $3 path, $4 non-empty = send the token
    local label=$1 name=$2 path=$3 auth=${4:-}
    local out=$WORK/wrk-$label-$name.txt
    local -a hdr=()
    [[ -n $auth ]] && hdr=(-H "Authorization: Bearer $TOKEN")
    wait_quiet
    # Warm up (pool connections, caches), then measure.
    timeout 30 wrk -t "$THREADS" -c "$CONNS" -d 3s "${hdr[@]}" "http://127.0.0.1:$PORT$path" >/dev/null 2>&1 || true
    log "wrk $label $path: -t$THREADS -c$CONNS -d${DURATION}s"
    measured "$out" wrk timeout $((DURATION + 60)) wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" \
        --timeout 10s --latency "${hdr[@]}" "http://127.0.0.1:$PORT$path" || die "wrk failed: $(cat "$out")"
    local rps p50 p99 non2xx errs count
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    errs=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); gsub(/,/, ""); print}' "$out")
    count=$(awk '/requests in/ {print $1}' "$out")
    add_row "$label" "$name" "$rps" "$p50" "$p99" "${non2xx:-0} non-2xx${errs:+; socket $errs}" "$count"
}

run_pgbench() { # pgbench with the list's SELECT; per-transaction log for p50/p99
    printf '\\set limit 51\n%s;\n' "$LIST_SQL" >"$WORK/list.sql"
    timeout 30 psql "$PG_URL" -qAtX -c 'VACUUM ANALYZE organisations' >/dev/null
    wait_quiet
    timeout 30 pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T 3 -f "$WORK/list.sql" "$PG_URL" >/dev/null 2>&1 || true
    log "pgbench -c $CONNS -j $THREADS -T $DURATION -M prepared -n -f list.sql"
    rm -f "$WORK"/pgbench_log*
    measured "$WORK/pgbench.txt" pgbench timeout $((DURATION + 60)) pgbench -n -M prepared \
        -c "$CONNS" -j "$THREADS" -T "$DURATION" -l --sampling-rate=0.1 --log-prefix="$WORK/pgbench_log" \
        -f "$WORK/list.sql" "$PG_URL" || die "pgbench failed: $(cat "$WORK/pgbench.txt")"
    local tps count failed p50 p99
    tps=$(awk -F'= ' '/^tps = / {split($2, a, " "); printf "%.0f", a[1]}' "$WORK/pgbench.txt")
    count=$(awk -F': ' '/number of transactions actually processed/ {split($2, a, "/"); print a[1]}' "$WORK/pgbench.txt")
    failed=$(awk -F': ' '/number of failed transactions/ {split($2, a, " "); print a[1]}' "$WORK/pgbench.txt")
    # Log lines (a 10% sample): client transaction latency(us) script epoch us.
    read -r p50 p99 < <(cat "$WORK"/pgbench_log* | awk '{print $3}' | sort -n | awk '
        { v[NR] = $1 } END { if (NR == 0) { print "- -"; exit }
            i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
            printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }')
    PGBENCH_TPS=$tps
    add_row postgres pgbench "$tps" "$p50" "$p99" "${failed:-0} failed" "$count"
}

finish_server() { # stop the server and record its peak memory
    local label=$1 hwm max
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    stop_pid "$SERVER_PID"; SERVER_PID=""
    stop_pid "$SAMPLER_PID"; SAMPLER_PID=""
    max=$(sort -n "$WORK/rss-$label" | tail -1)
    echo "$label|$(awk -v k="${max:-0}" 'BEGIN {printf "%.1f", k / 1024}')|$(awk -v k="${hwm:-0}" 'BEGIN {printf "%.1f", k / 1024}')" >>"$WORK/rss"
    log "$label: max sampled RSS $((${max:-0} / 1024)) MB, VmHWM $((${hwm:-0} / 1024)) MB"
}

# ---------------------------------------------------------------- 3-5. runs
: >"$WORK/rows"; : >"$WORK/rss"
PGBENCH_TPS=""
QUIET_BUSY=""
LIST_PATH="/api/v1/organisations?limit=50"
# The SELECT diesel generates for that page (limit + 1 rows, to know whether there is a next page),
# checked against PostgreSQL's statement log; diesel runs it as a prepared statement.
LIST_SQL='SELECT "organisations"."id", "organisations"."name", "organisations"."kinds", "organisations"."contact_name", "organisations"."contact_email", "organisations"."contact_phone", "organisations"."default_payment_policy_id", "organisations"."created_at", "organisations"."updated_at", "organisations"."version" FROM "organisations" ORDER BY "organisations"."id" ASC LIMIT :limit'

for backend in $BACKENDS; do
    case $backend in
    sqlite)
        JWT_SECRET=""
        start_server sqlite "sqlite://$WORK/sqlite/coproduce.db" "$WORK/sqlite"
        ;;
    postgres)
        JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 48)
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "CREATE DATABASE $PG_DB" >/dev/null
        PG_CREATED=1
        PG_URL="${PG_ADMIN_URL%/*}/$PG_DB"
        start_server postgres "$PG_URL" "$WORK/postgres"
        ;;
    *) die "unknown backend $backend" ;;
    esac
    start_sampler "$SERVER_PID" "$WORK/rss-$backend"
    seed
    if [[ " $ENDPOINTS " == *" healthz "* ]]; then run_wrk "$backend" healthz /healthz; fi
    if [[ " $ENDPOINTS " == *" list "* ]]; then run_wrk "$backend" list "$LIST_PATH" auth; fi
    finish_server "$backend"
    if [[ $backend == postgres && $DO_PGBENCH == 1 ]]; then run_pgbench; fi
    if [[ $backend == postgres ]]; then
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        PG_CREATED=""
    fi
done

# ---------------------------------------------------------------- 6. report
verdict() { if awk -v a="$1" -v b="$2" "BEGIN {exit !(a $3 b)}"; then echo "met"; else echo "**missed**"; fi; }
describe() {
    case $1 in
    healthz) echo 'GET /healthz' ;;
    list) echo 'GET /api/v1/organisations?limit=50 (admin token)' ;;
    pgbench) echo 'pgbench, same SELECT (LIMIT 51), -M prepared' ;;
    esac
}
{
    echo "# Coproduce benchmark results"
    echo
    echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    if [[ -n ${BENCH_REVISION:-} ]]; then
        echo "- Revision: $BENCH_REVISION"
    else
        echo "- Revision: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' plus uncommitted changes')"
    fi
    echo "- Machine: $NCPU cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), $(uname -sr); load generator, server and PostgreSQL share the cores"
    echo "- Load: wrk -t$THREADS -c$CONNS -d${DURATION}s --latency, pgbench -c $CONNS -j $THREADS -T $DURATION -M prepared -n (each after a 3 s warm-up); $SEED organisations seeded via the API"
    echo "- Server: COPRODUCE_POOL_SIZE=${POOL_SIZE:-16 (default)}, COPRODUCE_LOG_FORMAT=$LOG_FORMAT, RUST_LOG=$LOG_LEVEL, logs to a file"
    echo "- Command: \`${BENCH_COMMAND:-bench/run.sh}\`"
    echo
    echo "| Backend | Load | Requests/s | p50 (ms) | p99 (ms) | Errors |"
    echo "|---|---|---:|---:|---:|---|"
    while IFS='|' read -r b n r p5 p9 e _; do
        echo "| $b | $(describe "$n") | $r | $p5 | $p9 | $e |"
    done <"$WORK/rows"
    echo
    echo "CPU during each run (user+system from /proc; share = % of all $NCPU cores; client = wrk or pgbench;"
    echo "other = processes not started by this script; busy before = machine load just before the run):"
    echo
    echo "| Backend | Load | Server CPU ms/req | PostgreSQL CPU ms/req | Server % | PostgreSQL % | Client % | Other % | Steal % | Busy before % |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    while IFS='|' read -r b n _ _ _ _ sm pm sp pp cp op st qb; do
        echo "| $b | $n | $sm | $pm | $sp | $pp | $cp | $op | $st | $qb |"
    done <"$WORK/rows"
    echo
    echo "| Backend | Max sampled VmRSS (MB) | VmHWM (MB) |"
    echo "|---|---:|---:|"
    while IFS='|' read -r b m h; do echo "| $b | $m | $h |"; done <"$WORK/rss"
    list_rps=$(awk -F'|' '$1 == "postgres" && $2 == "list" {print $3}' "$WORK/rows")
    ratio=""
    if [[ -n $PGBENCH_TPS && -n $list_rps ]]; then
        ratio=$(awk -v a="$list_rps" -v b="$PGBENCH_TPS" 'BEGIN {printf "%.2f", a / b}')
        echo
        echo "PostgreSQL: service list / pgbench = $list_rps / $PGBENCH_TPS = **$ratio**."
    fi
    echo
    echo "## Targets"
    echo
    if [[ -n $ratio ]]; then
        echo "- PostgreSQL list >= 80% of pgbench at $CONNS connections: $ratio -> $(verdict "$ratio" 0.80 '>=')"
    fi
    while IFS='|' read -r b n r p5 p9 _; do
        [[ $n == pgbench ]] && continue
        echo "- p99 < 50 ms at $CONNS connections, $b $n: $p9 ms -> $(verdict "$p9" 50 '<')"
    done <"$WORK/rows"
    while IFS='|' read -r b m h; do
        echo "- RSS < 100 MB, $b: peak $h MB -> $(verdict "$h" 100 '<')"
    done <"$WORK/rss"
} >"$WORK/report.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/report.md" "$OUT"
if [[ -n ${BENCH_ROWS:-} ]]; then # raw rows for bench/variants.sh
    awk -F'|' -v OFS='|' 'NR == FNR { rss[$1] = $3; next } { print $0, rss[$1] }' "$WORK/rss" "$WORK/rows" >"$BENCH_ROWS"
fi
echo
cat "$OUT"

# The browsing benchmark (100,000 opportunities) is its own script: it seeds its own data.
if [[ "${BENCH_OPPORTUNITIES:-0}" == "1" ]]; then
    "$(dirname "${BASH_SOURCE[0]}")/opportunities.sh"
fi
