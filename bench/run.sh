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
#   BENCH_DURATION      15                  seconds per wrk / pgbench run
#   BENCH_THREADS       2                   wrk threads and pgbench -j
#   BENCH_CONNECTIONS   64                  wrk connections and pgbench -c
#   BENCH_SEED          1000                organisations created through the API before measuring
#   BENCH_PG_ADMIN_URL  postgres://postgres@127.0.0.1:5432/postgres  (creates/drops coproduce_bench)
#   BENCH_SKIP_BUILD    unset               1 = use the existing release binary
#   BENCH_OUT           bench/results-latest.md
#   COPRODUCE_POOL_SIZE, COPRODUCE_LOG_FORMAT (default json, as in the image), RUST_LOG (default info)
#   CARGO_TARGET_DIR    honoured for the build and to find the binary
#
# Only 127.0.0.1 is ever contacted. Every process started here is stopped on exit, and the
# benchmark database is dropped. Each step has a time limit, so the script always ends.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
DURATION=${BENCH_DURATION:-15}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
SEED=${BENCH_SEED:-1000}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=coproduce_bench
OUT=${BENCH_OUT:-$ROOT/bench/results-latest.md}
LOG_FORMAT=${COPRODUCE_LOG_FORMAT:-json}
LOG_LEVEL=${RUST_LOG:-info}
POOL_SIZE=${COPRODUCE_POOL_SIZE:-}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/coproduce

WORK=$(mktemp -d "${TMPDIR:-/tmp}/coproduce-bench.XXXXXX")
SERVER_PID=""
SAMPLER_PID=""
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
    stop_pid "$SAMPLER_PID"
    stop_pid "$SERVER_PID"
    if [[ -n $PG_CREATED ]]; then
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [[ $rc -ne 0 ]]; then
        log "failed (exit $rc); server logs kept in $WORK"
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

start_sampler() { # VmRSS (kB) of the server every second, into $1
    local pid=$1 out=$2
    (
        while kill -0 "$pid" 2>/dev/null; do
            awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null >>"$out" || true
            sleep 1
        done
    ) &
    SAMPLER_PID=$!
}

start_server() { # $1 backend label, $2 DATABASE_URL, $3 data dir; sets SERVER_PID, PORT
    local label=$1 url=$2 data=$3
    local logfile=$WORK/server-$label.log
    local -a env=(
        "DATABASE_URL=$url" "COPRODUCE_DATA_DIR=$data" "COPRODUCE_BIND=127.0.0.1:0"
        "COPRODUCE_LOG_FORMAT=$LOG_FORMAT" "RUST_LOG=$LOG_LEVEL"
    )
    [[ -n $POOL_SIZE ]] && env+=("COPRODUCE_POOL_SIZE=$POOL_SIZE")
    [[ -n ${JWT_SECRET:-} ]] && env+=("COPRODUCE_JWT_SECRET=$JWT_SECRET")
    # The "listening" line carries the port the kernel picked; RUST_LOG=warn hides it, so the
    # coproduce target keeps info for that one line only when it must.
    local level=$LOG_LEVEL
    env "${env[@]}" RUST_LOG="$level,coproduce::http::server=info" "$BIN" serve >"$logfile" 2>&1 &
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

# Runs wrk and appends one row: backend|endpoint|rps|p50|p99|non2xx|socket errors
run_wrk() {
    local label=$1 name=$2 path=$3 auth=${4:-}
    local out=$WORK/wrk-$label-$name.txt
    local -a hdr=()
    [[ -n $auth ]] && hdr=(-H "Authorization: Bearer $TOKEN")
    # Warm up (connections in the pool, caches), then measure.
    timeout 30 wrk -t "$THREADS" -c "$CONNS" -d 3s "${hdr[@]}" "http://127.0.0.1:$PORT$path" >/dev/null 2>&1 || true
    log "wrk $label $path: -t$THREADS -c$CONNS -d${DURATION}s"
    timeout $((DURATION + 60)) wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" --timeout 10s --latency \
        "${hdr[@]}" "http://127.0.0.1:$PORT$path" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    local rps p50 p99 non2xx errs
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    errs=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' "$out")
    echo "$label|$name|$rps|$p50|$p99|${non2xx:-0}|${errs:-none}" >>"$WORK/rows"
    log "  -> ${rps} req/s, p50 ${p50} ms, p99 ${p99} ms, non-2xx ${non2xx:-0}"
}

finish_server() { # stop the server and record its peak memory
    local label=$1 hwm
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    stop_pid "$SERVER_PID"; SERVER_PID=""
    stop_pid "$SAMPLER_PID"; SAMPLER_PID=""
    local max
    max=$(sort -n "$WORK/rss-$label" | tail -1)
    echo "$label|$(awk -v k="${max:-0}" 'BEGIN {printf "%.1f", k / 1024}')|$(awk -v k="${hwm:-0}" 'BEGIN {printf "%.1f", k / 1024}')" >>"$WORK/rss"
    log "$label: max sampled RSS $((${max:-0} / 1024)) MB, VmHWM $((${hwm:-0} / 1024)) MB"
}

# ---------------------------------------------------------------- 3-5. runs
: >"$WORK/rows"; : >"$WORK/rss"
PGBENCH_TPS=""; PGBENCH_LAT=""
LIST_PATH="/api/v1/organisations?limit=50"
# The SELECT diesel generates for that page (limit + 1 rows, to know whether there is a next page).
LIST_SQL='SELECT "organisations"."id", "organisations"."name", "organisations"."kinds", "organisations"."contact_name", "organisations"."contact_email", "organisations"."contact_phone", "organisations"."default_payment_policy_id", "organisations"."created_at", "organisations"."updated_at", "organisations"."version" FROM "organisations" ORDER BY "organisations"."id" ASC LIMIT :limit'

for backend in $BACKENDS; do
    case $backend in
    sqlite)
        JWT_SECRET=""
        start_server sqlite "sqlite://$WORK/sqlite/coproduce.db" "$WORK/sqlite"
        ;;
    postgres)
        JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 48)
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "CREATE DATABASE $PG_DB" >/dev/null
        PG_CREATED=1
        PG_URL="${PG_ADMIN_URL%/*}/$PG_DB"
        start_server postgres "$PG_URL" "$WORK/postgres"
        ;;
    *) die "unknown backend $backend" ;;
    esac
    start_sampler "$SERVER_PID" "$WORK/rss-$backend"
    seed
    run_wrk "$backend" healthz /healthz
    run_wrk "$backend" list "$LIST_PATH" auth
    finish_server "$backend"

    if [[ $backend == postgres ]]; then
        printf '\\set limit 51\n%s;\n' "$LIST_SQL" >"$WORK/list.sql"
        timeout 30 psql "$PG_URL" -qAtX -c 'VACUUM ANALYZE organisations' >/dev/null
        log "pgbench -c $CONNS -j $THREADS -T $DURATION -M prepared -n -f list.sql"
        timeout $((DURATION + 60)) pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T 3 -f "$WORK/list.sql" "$PG_URL" >/dev/null 2>&1 || true
        timeout $((DURATION + 60)) pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T "$DURATION" \
            -f "$WORK/list.sql" "$PG_URL" >"$WORK/pgbench.txt" 2>&1 || die "pgbench failed: $(cat "$WORK/pgbench.txt")"
        PGBENCH_TPS=$(awk -F'= ' '/^tps = / {split($2, a, " "); printf "%.0f", a[1]}' "$WORK/pgbench.txt" | head -c 20)
        PGBENCH_LAT=$(awk -F'= ' '/^latency average = / {split($2, a, " "); print a[1]}' "$WORK/pgbench.txt")
        log "  -> pgbench ${PGBENCH_TPS} tps, latency average ${PGBENCH_LAT} ms"
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        PG_CREATED=""
    fi
done

# ---------------------------------------------------------------- 6. report
verdict() { if awk -v a="$1" -v b="$2" "BEGIN {exit !(a $3 b)}"; then echo "met"; else echo "**missed**"; fi; }
{
    echo "# Coproduce benchmark results"
    echo
    echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- Commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ has uncommitted changes)')"
    echo "- Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), $(uname -sr); wrk, server and database share the cores"
    echo "- Load: wrk -t$THREADS -c$CONNS -d${DURATION}s --latency (after a 3 s warm-up); $SEED organisations seeded via the API"
    echo "- Server: COPRODUCE_POOL_SIZE=${POOL_SIZE:-16 (default)}, COPRODUCE_LOG_FORMAT=$LOG_FORMAT, RUST_LOG=$LOG_LEVEL, logs to a file"
    echo "- Command: \`${BENCH_COMMAND:-bench/run.sh}\`"
    echo
    echo "| Backend | Endpoint | Requests/s | p50 (ms) | p99 (ms) | Non-2xx | Socket errors |"
    echo "|---|---|---:|---:|---:|---:|---|"
    while IFS='|' read -r b n r p5 p9 nx e; do
        [[ $n == list ]] && n='GET /api/v1/organisations?limit=50 (admin token)' || n='GET /healthz'
        echo "| $b | $n | $r | $p5 | $p9 | $nx | $e |"
    done <"$WORK/rows"
    echo
    echo "| Backend | Max sampled VmRSS (MB) | VmHWM (MB) |"
    echo "|---|---:|---:|"
    while IFS='|' read -r b m h; do echo "| $b | $m | $h |"; done <"$WORK/rss"
    if [[ -n $PGBENCH_TPS ]]; then
        list_rps=$(awk -F'|' '$1 == "postgres" && $2 == "list" {print $3}' "$WORK/rows")
        ratio=$(awk -v a="$list_rps" -v b="$PGBENCH_TPS" 'BEGIN {printf "%.2f", a / b}')
        echo
        echo "pgbench (same SELECT, LIMIT 51, \`-c $CONNS -j $THREADS -T $DURATION -M prepared -n\`): **$PGBENCH_TPS tps**, latency average $PGBENCH_LAT ms."
        echo "Service list / pgbench = $list_rps / $PGBENCH_TPS = **$ratio**."
    fi
    echo
    echo "## Targets"
    echo
    if [[ -n $PGBENCH_TPS ]]; then
        echo "- PostgreSQL list >= 80% of pgbench: $ratio -> $(verdict "$ratio" 0.80 '>=')"
    fi
    while IFS='|' read -r b n r p5 p9 nx e; do
        echo "- p99 < 50 ms at $CONNS connections, $b $n: $p9 ms -> $(verdict "$p9" 50 '<')"
    done <"$WORK/rows"
    while IFS='|' read -r b m h; do
        echo "- RSS < 100 MB, $b: peak $h MB -> $(verdict "$h" 100 '<')"
    done <"$WORK/rss"
} >"$WORK/report.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/report.md" "$OUT"
echo
cat "$OUT"
