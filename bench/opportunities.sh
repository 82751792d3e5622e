#!/usr/bin/env bash
# Browsing advertised opportunities under load, on SQLite and on PostgreSQL, with 100,000
# opportunities and 1,000,000 attendance rows seeded directly with SQL. Measures:
#   - the REST page (GET /api/v1/opportunities, 50 per page, with filters, participant token) at
#     saturation with wrk, against pgbench running the very SQL the page runs (PostgreSQL);
#   - the same page at a fixed 1,000 requests/s with oha (p99, latency-corrected);
#   - the GraphQL list of the first 50 advertised opportunities at saturation, against
#     PostGraphile 4 (installed from npm into a temporary folder, production settings, two
#     cluster workers) answering the same list from the same PostgreSQL table;
#   - EXPLAIN (ANALYZE, BUFFERS) of the page SQL captured from PostgreSQL's statement log, and
#     EXPLAIN QUERY PLAN of the same SQL on SQLite.
# Writes bench/results-opportunities.md and prints it.
#
#   bench/opportunities.sh
#   BENCH_BACKENDS=postgres COPRODUCE_POOL_SIZE=8 RUST_LOG=warn bench/opportunities.sh
#
# Settings (environment):
#   BENCH_BACKENDS      "sqlite postgres"   which backends to run
#   BENCH_DURATION      15                  seconds per measured run
#   BENCH_THREADS       2                   wrk threads and pgbench -j
#   BENCH_CONNECTIONS   64                  wrk connections and pgbench -c
#   BENCH_RATE          1000                requests/s of the fixed-rate run
#   BENCH_RATE_CONNECTIONS 64               oha connections in the fixed-rate run
#   BENCH_FILTER        status=advertised&format=virtual&paid=true   REST filters (limit=50 added)
#   BENCH_POSTGRAPHILE  1                   0 = skip the PostGraphile comparison (and its install)
#   BENCH_RUNS          "rest rate graphql pgbench pgbench-graphql postgraphile"   which runs to do
#   BENCH_PG_ADMIN_URL  postgres://postgres@127.0.0.1:5432/postgres  (creates/drops the database)
#   BENCH_PG_LOG        /var/log/postgresql/postgresql-15-main.log   read to capture the page SQL
#   BENCH_KEEP_DATA     unset               1 = keep the database coproduce_bench_opps and the
#                                           SQLite file (in BENCH_DATA_DIR) and reuse them next
#                                           time if they hold the full data set (skips seeding)
#   BENCH_DATA_DIR      /tmp/coproduce-bench-opps-data (only with BENCH_KEEP_DATA=1)
#   BENCH_QUIET_MAX     25                  before each run, wait (up to BENCH_QUIET_WAIT s, default
#                                           180) until the machine is at most this % busy
#   BENCH_OTHERS_WAIT   1800                before each run, wait up to this many seconds while
#                                           someone else's wrk/pgbench/oha or bench/run.sh runs
#   BENCH_SKIP_BUILD    unset               1 = use the existing release binary
#   BENCH_PREPARE_ONLY  unset               1 = build, seed, capture the SQL and print the plans; no load
#   BENCH_BIN           $CARGO_TARGET_DIR/release/coproduce (copied before use)
#   BENCH_OUT           bench/results-opportunities.md
#   COPRODUCE_POOL_SIZE, COPRODUCE_WORKERS, COPRODUCE_LOG_FORMAT (default json), RUST_LOG (default info)
#   CARGO_TARGET_DIR    honoured for the build, to find the binary, and to build oha if missing
#
# Only 127.0.0.1 is contacted (plus the npm registry and crates.io when installing PostGraphile or
# oha). Every process started here is stopped on exit; the benchmark database and the temporary
# folders are removed unless BENCH_KEEP_DATA=1. Each step has a time limit. About 5 minutes plus
# the release build on a quiet 2-core machine (seeding ~30 s); it waits for other benchmarks.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
DURATION=${BENCH_DURATION:-15}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
RATE=${BENCH_RATE:-1000}
RATE_CONNS=${BENCH_RATE_CONNECTIONS:-64}
FILTER=${BENCH_FILTER:-status=advertised&format=virtual&paid=true}
DO_PGL=${BENCH_POSTGRAPHILE:-1}
RUNS=${BENCH_RUNS:-"rest rate graphql pgbench pgbench-graphql postgraphile"}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_LOG=${BENCH_PG_LOG:-/var/log/postgresql/postgresql-15-main.log}
PG_DB=coproduce_bench_opps
PG_URL="${PG_ADMIN_URL%/*}/$PG_DB"
KEEP=${BENCH_KEEP_DATA:-}
QUIET_MAX=${BENCH_QUIET_MAX:-25}
QUIET_WAIT=${BENCH_QUIET_WAIT:-180}
OTHERS_WAIT=${BENCH_OTHERS_WAIT:-1800}
OUT=${BENCH_OUT:-$ROOT/bench/results-opportunities.md}
LOG_FORMAT=${COPRODUCE_LOG_FORMAT:-json}
LOG_LEVEL=${RUST_LOG:-info}
POOL_SIZE=${COPRODUCE_POOL_SIZE:-}
WORKERS=${COPRODUCE_WORKERS:-}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SRC_BIN=${BENCH_BIN:-$TARGET_DIR/release/coproduce}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
PAGE=50

WORK=$(mktemp -d "${TMPDIR:-/tmp}/coproduce-bench-opps.XXXXXX")
if [[ -n $KEEP ]]; then DATA=${BENCH_DATA_DIR:-/tmp/coproduce-bench-opps-data}; else DATA=$WORK/data; fi
SQLITE_FILE=$DATA/sqlite/coproduce.db
BIN=$WORK/coproduce
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 48)
SERVER_PID=""
SERVER_PGID=""
SAMPLER_PID=""
CLIENT_PID=""
PGL_PID=""
PG_CREATED=""
LOG_RESET_NEEDED=""

log() { printf '[opps %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop_pid() { # stop one process we started: TERM, then KILL after 10 s
    local pid=$1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_pgl() { # PostGraphile: its own process group (master and cluster workers)
    [[ -n $PGL_PID ]] || return 0
    kill -TERM -- "-$PGL_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 -- "-$PGL_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$PGL_PID" 2>/dev/null || true
    PGL_PID=""
}

cleanup() {
    local rc=$?
    stop_pid "$CLIENT_PID"
    stop_pid "$SAMPLER_PID"
    stop_pid "$SERVER_PID"
    stop_pgl
    if [[ -n $LOG_RESET_NEEDED ]]; then
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "ALTER DATABASE $PG_DB RESET log_statement" >/dev/null 2>&1 || true
    fi
    if [[ -n $PG_CREATED && -z $KEEP ]]; then
        timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [[ $rc -ne 0 ]]; then
        rm -rf "$WORK/data" "$WORK/postgraphile"
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
command -v jq >/dev/null || apt_install jq
command -v wrk >/dev/null || apt_install wrk
command -v sqlite3 >/dev/null || apt_install sqlite3
command -v python3 >/dev/null || apt_install python3
if [[ " $BACKENDS " == *" postgres "* ]]; then
    command -v psql >/dev/null || apt_install postgresql-client
    pgbench --version >/dev/null 2>&1 || apt_install postgresql-contrib
    if [[ $DO_PGL == 1 ]]; then command -v npm >/dev/null || apt_install nodejs npm; fi
fi
# A constant-rate load generator: Debian has neither wrk2 nor vegeta, so oha from crates.io.
if ! command -v oha >/dev/null; then
    log "installing oha (cargo install oha --locked; target dir $TARGET_DIR/oha-build)"
    CARGO_TARGET_DIR=$TARGET_DIR/oha-build timeout 1800 nice -n 10 cargo install oha --locked --quiet \
        || die "cannot install oha"
fi

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
other_load() { # load generators, or another bench/run.sh (not the one that called us), running now
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

snapshot() { # "<sample> <pid> <comm> <user+system ticks> <process group>" for every process
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v i="$1" '{
        if (!match($0, /\(.*\)/)) next
        c = substr($0, RSTART + 1, RLENGTH - 2); gsub(/[ \t]/, "_", c)
        split(substr($0, RSTART + RLENGTH + 1), a, " ")
        print i, $1, c, a[12] + a[13], a[3] }'
}

# measured OUT CLIENT_COMM COMMAND...: runs the load generator while sampling CPU use; sets
# CPU_SERVER CPU_PG CPU_CLIENT CPU_OTHER (seconds), CPU_STEAL (%), WALL (seconds). The server is
# SERVER_PID, or every process in the group SERVER_PGID (PostGraphile's node master and workers).
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
    read -r CPU_SERVER CPU_PG CPU_CLIENT CPU_OTHER < <(awk -v srv="${SERVER_PID:-none}" -v sgrp="${SERVER_PGID:-none}" \
        -v client="$client" -v me="$$" -v hz="$HZ" '
        $1 == 0 { base[$2] = $4; next }
        { last[$2] = $4; name[$2] = $3; grp[$2] = $5 }
        END {
            for (p in last) {
                d = last[p] - ((p in base) ? base[p] : 0); if (d < 0) d = 0
                if (p == srv || grp[p] == sgrp) s += d; else if (name[p] == "postgres") g += d
                else if (name[p] == client) c += d; else if (p != me) o += d
            }
            printf "%.2f %.2f %.2f %.2f\n", s / hz, g / hz, c / hz, o / hz
        }' "$snaps")
    return $rc
}

share() { awk -v c="$1" -v w="$WALL" -v n="$NCPU" 'BEGIN { printf "%.0f", 100 * c / (w * n) }'; }
per_req_ms() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.3f", 1000 * c / n; else print "-" }'; }

# One row per measured run, in $WORK/rows:
# backend|what|rate|p50|p99|errors|server ms/req|pg ms/req|server%|pg%|client%|other%|steal%|busy before%
add_row() {
    local label=$1 name=$2 rate=$3 p50=$4 p99=$5 errors=$6 count=$7
    local srv_ms="-" pg_ms="-"
    [[ $name != pgbench* ]] && srv_ms=$(per_req_ms "$CPU_SERVER" "$count")
    [[ $label == postgres ]] && pg_ms=$(per_req_ms "$CPU_PG" "$count")
    echo "$label|$name|$rate|$p50|$p99|$errors|$srv_ms|$pg_ms|$(share "$CPU_SERVER")|$(share "$CPU_PG")|$(share "$CPU_CLIENT")|$(share "$CPU_OTHER")|$CPU_STEAL|$QUIET_BUSY" >>"$WORK/rows"
    log "  -> $rate/s, p50 $p50 ms, p99 $p99 ms, errors $errors; CPU ms/req server $srv_ms postgres $pg_ms;" \
        "CPU share server $(share "$CPU_SERVER")% postgres $(share "$CPU_PG")% client $(share "$CPU_CLIENT")% other $(share "$CPU_OTHER")% steal $CPU_STEAL%"
}

server_env() { # the environment the service runs with; $1 DATABASE_URL, $2 data dir
    SENV=(
        "DATABASE_URL=$1" "COPRODUCE_DATA_DIR=$2" "COPRODUCE_BIND=127.0.0.1:0"
        "COPRODUCE_LOG_FORMAT=$LOG_FORMAT" "RUST_LOG=$LOG_LEVEL" "COPRODUCE_JWT_SECRET=$JWT_SECRET"
    )
    [[ -n $POOL_SIZE ]] && SENV+=("COPRODUCE_POOL_SIZE=$POOL_SIZE")
    [[ -n $WORKERS ]] && SENV+=("COPRODUCE_WORKERS=$WORKERS")
    return 0
}

start_server() { # $1 label, $2 DATABASE_URL, $3 data dir; sets SERVER_PID, PORT, TOKEN
    local label=$1 logfile=$WORK/server-$1-$(date +%s%N).log
    server_env "$2" "$3"
    mkdir -p "$3"
    # Port 0: the kernel picks a free port, which the "listening" line reports; that line stays
    # visible when RUST_LOG is warn.
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
    TOKEN=$(env "${SENV[@]}" timeout 30 "$BIN" token --role participant --participant "$PARTICIPANT" --ttl 2h) \
        || die "cannot mint a token"
}

stop_server() {
    stop_pid "$SERVER_PID"; SERVER_PID=""
    stop_pid "$SAMPLER_PID"; SAMPLER_PID=""
}

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

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- 2. build
if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    wait_others
    log "cargo build --release (target dir $TARGET_DIR)"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR timeout 3600 cargo build --release --quiet) \
        || die "release build failed"
fi
[[ -x $SRC_BIN ]] || die "no binary at $SRC_BIN (unset BENCH_SKIP_BUILD to build it)"
cp "$SRC_BIN" "$BIN" # our own copy: another build into the target dir cannot change it mid-run

# ---------------------------------------------------------------- 3. data
# Ids are UUIDv7-shaped text, sortable in creation order: 01900000-<table>-7000-8000-<n in hex>.
# Tables: 0000 organisation, 0001 opportunity, 0002 membership, 0003 session, 0004 attendance,
# 0005 participant. Every value comes from integer arithmetic on the row number, so both
# databases hold exactly the same rows:
#   opportunity n = 1..100,000; status by (n*7) % 20: 0-5 advertised (30%), 6-7 draft (10%),
#     8-12 running (25%), 13-17 ended (25%), 18-19 cancelled (10%); kind, format, paid (60%),
#     support, lived experience areas, places (20% unlimited), start day etc. from other hashes;
#   running/ended (50,000): 12 memberships (10 accepted, 1 withdrawn, 1 declined), 2 sessions,
#     10 attendance rows per session -> 100,000 sessions, 1,000,000 attendance rows;
#   advertised (30,000): 3 memberships (accepted, applied, invited) -> 690,000 memberships;
#   participants: 20,000, participant p of membership (n, m) = (n*31 + m*977) % 20000 + 1.
ORG_ID=01900000-0000-7000-8000-000000000001
PARTICIPANT=01900000-0005-7000-8000-000000000001

seed_sql() { # $1 = pg | sqlite
    local D=$1
    id() { # id TABLE EXPR
        if [[ $D == pg ]]; then echo "('01900000-$1-7000-8000-' || lpad(to_hex($2), 12, '0'))"
        else echo "('01900000-$1-7000-8000-' || printf('%012x', $2))"; fi
    }
    day() { # day BASE EXPR_DAYS (EXPR >= 0)
        if [[ $D == pg ]]; then echo "(date '$1' + ($2)::int)"
        else echo "date('$1', '+' || ($2) || ' days')"; fi
    }
    at() { # at BASE EXPR_MINUTES (EXPR >= 0)
        if [[ $D == pg ]]; then echo "(timestamp '$1' + ($2) * interval '1 minute')"
        else echo "datetime('$1', '+' || ($2) || ' minutes')"; fi
    }
    seq_of() { # seq_of COUNT COLUMN: a one-column relation 1..COUNT
        if [[ $D == pg ]]; then echo "(SELECT x AS $2 FROM generate_series(1::bigint, $1::bigint) AS x) AS g_$2"
        else echo "(WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < $1) SELECT x AS $2 FROM s) AS g_$2"; fi
    }
    local ST="((n * 7) % 20)"
    local RUN="($ST BETWEEN 8 AND 17)"
    local OFF="(((n * 122949823) % 10079) % 540)"
    local FC="(((n * 7919) % 10007) % 3)"
    local FMT="(CASE $FC WHEN 0 THEN 'in_person' WHEN 1 THEN 'virtual' ELSE 'hybrid' END)"
    local KI="(((n * 104729) % 10009) % 16)"
    local KIND="(CASE $KI WHEN 0 THEN 'consultation' WHEN 1 THEN 'meeting' WHEN 2 THEN 'tender_scoring' WHEN 3 THEN 'workshop' WHEN 4 THEN 'blog_vlog' WHEN 5 THEN 'training_received' WHEN 6 THEN 'training_codelivered' WHEN 7 THEN 'interview_panel' WHEN 8 THEN 'one_off_project' WHEN 9 THEN 'service_review' WHEN 10 THEN 'feedback' WHEN 11 THEN 'survey' WHEN 12 THEN 'telling_your_story' WHEN 13 THEN 'board' WHEN 14 THEN 'evaluation' ELSE 'innovation' END)"
    local PAID="((((n * 15485863) % 10039) % 10) < 6)"
    local SM="(((n * 32452843) % 10061) % 64)"
    local AM="((((n * 49979687) % 10067) % 63) + 1)"
    local PL="(((n * 86028121) % 10069) % 30)"
    local PART="$(id 0005 "((n * 31 + m * 977) % 20000 + 1)")"
    local T0='2024-01-01 00:00:00'
    cat <<SQL
BEGIN;
INSERT INTO organisations (id, name, kinds, contact_name, contact_email, contact_phone,
    default_payment_policy_id, created_at, updated_at, version)
VALUES ('$ORG_ID', 'Bench Health and Care Partnership', 'provider', 'Sam Bench',
    'sam@example.org', NULL, NULL, '2024-01-01 00:00:00', '2024-01-01 00:00:00', 1);

INSERT INTO opportunities (id, organisation_id, contract_id, facilitator_organisation_id, title,
    description, easy_read_description, kind, claimed_mode, status, starts_on, ends_on, format,
    venue, places, places_taken, time_commitment, paid, payment_policy_id, other_recognition,
    support_offered, lived_experience_areas, for_carers, admission, advertised_on, closing_on,
    created_at, updated_at, version)
SELECT $(id 0001 n), '$ORG_ID', NULL, NULL,
    'Opportunity ' || n || ': ' || replace($KIND, '_', ' ') || ' on community services',
    'We are looking for people with lived experience to help us shape how community services are planned, '
        || 'commissioned and checked. You will work alongside staff as equals, with the support you need '
        || 'to take part. Reference ' || n || '.',
    CASE WHEN n % 3 = 0 THEN 'Help us make services better. Tell us what works for you.' ELSE NULL END,
    $KIND,
    CASE ((n * 179424673) % 10091) % 5 WHEN 0 THEN 'informing' WHEN 1 THEN 'consultation'
        WHEN 2 THEN 'involvement' WHEN 3 THEN 'co_production' ELSE 'user_led' END,
    CASE WHEN $ST <= 5 THEN 'advertised' WHEN $ST <= 7 THEN 'draft' WHEN $ST <= 12 THEN 'running'
        WHEN $ST <= 17 THEN 'ended' ELSE 'cancelled' END,
    $(day 2025-07-01 "$OFF"),
    CASE WHEN n % 4 = 0 THEN NULL ELSE $(day 2025-07-01 "$OFF + n % 60") END,
    $FMT,
    CASE WHEN $FC = 1 THEN NULL ELSE 'Community centre ' || (n % 40 + 1) END,
    CASE WHEN $PL < 6 THEN NULL ELSE $PL END,
    CASE WHEN $PL < 6 THEN n % 7 ELSE (n * 3) % ($PL + 1) END,
    CASE n % 3 WHEN 0 THEN 'Two hours a month' WHEN 1 THEN 'One afternoon' ELSE 'Weekly, for six weeks' END,
    $PAID, NULL,
    CASE WHEN $PAID THEN NULL ELSE 'Vouchers and a certificate' END,
    ',' || (CASE WHEN ($SM & 1) > 0 THEN 'travel,' ELSE '' END)
        || (CASE WHEN ($SM & 2) > 0 THEN 'lift_to_venue,' ELSE '' END)
        || (CASE WHEN ($SM & 4) > 0 THEN 'easy_read,' ELSE '' END)
        || (CASE WHEN ($SM & 8) > 0 THEN 'interpreter_or_bsl,' ELSE '' END)
        || (CASE WHEN ($SM & 16) > 0 THEN 'carer_cover,' ELSE '' END)
        || (CASE WHEN ($SM & 32) > 0 THEN 'it_loan,' ELSE '' END),
    ',' || (CASE WHEN ($AM & 1) > 0 THEN 'mental_health,' ELSE '' END)
        || (CASE WHEN ($AM & 2) > 0 THEN 'drugs_and_alcohol,' ELSE '' END)
        || (CASE WHEN ($AM & 4) > 0 THEN 'learning_disability,' ELSE '' END)
        || (CASE WHEN ($AM & 8) > 0 THEN 'autism,' ELSE '' END)
        || (CASE WHEN ($AM & 16) > 0 THEN 'homelessness,' ELSE '' END)
        || (CASE WHEN ($AM & 32) > 0 THEN 'other,' ELSE '' END),
    (n % 5 = 0),
    CASE WHEN n % 4 = 0 THEN 'staff_review' ELSE 'first_come' END,
    CASE WHEN $ST BETWEEN 6 AND 7 THEN NULL ELSE $(day 2025-06-01 "$OFF") END,
    CASE WHEN $ST BETWEEN 6 AND 7 THEN NULL ELSE $(day 2025-06-24 "$OFF") END,
    $(at "$T0" "n * 5"), $(at "$T0" "n * 5 + 60"), 1
FROM $(seq_of 100000 n);

INSERT INTO memberships (id, opportunity_id, participant_id, role, experience, status, created_at,
    joined_at, left_at, interests_declared_at, has_conflict, interest_details, scoring, version)
SELECT $(id 0002 "n * 16 + m"), $(id 0001 n), $PART,
    CASE m WHEN 1 THEN 'co_chair' WHEN 2 THEN 'representative' ELSE 'member' END,
    CASE m % 4 WHEN 0 THEN 'carer' WHEN 1 THEN 'both' ELSE 'lived_experience' END,
    CASE WHEN $RUN THEN (CASE m WHEN 11 THEN 'withdrawn' WHEN 12 THEN 'declined' ELSE 'accepted' END)
        ELSE (CASE m WHEN 1 THEN 'accepted' WHEN 2 THEN 'applied' ELSE 'invited' END) END,
    $(at "$T0" "n * 5 + 600 + m"),
    CASE WHEN ($RUN AND m <= 11) OR m = 1 THEN $(at "$T0" "n * 5 + 1440 + m") ELSE NULL END,
    CASE WHEN $RUN AND m = 11 THEN $(at "$T0" "n * 5 + 2880 + m") ELSE NULL END,
    CASE WHEN m <= 2 THEN $(at "$T0" "n * 5 + 1440 + m") ELSE NULL END,
    (1 = 0), NULL, (1 = 0), 1
FROM $(seq_of 100000 n) CROSS JOIN $(seq_of 12 m)
WHERE $RUN OR ($ST <= 5 AND m <= 3);

INSERT INTO sessions (id, opportunity_id, starts_at, duration_minutes, format,
    lived_experience_agenda_slot, created_at)
SELECT $(id 0003 "n * 4 + k"), $(id 0001 n),
    $(at '2025-07-01 10:00:00' "($OFF + (k - 1) * 14) * 1440"),
    CASE k WHEN 1 THEN 120 ELSE 90 END, $FMT, (k = 1), $(at "$T0" "n * 5 + 120 + k")
FROM $(seq_of 100000 n) CROSS JOIN $(seq_of 2 k)
WHERE $RUN;

INSERT INTO attendance (id, session_id, membership_id, participant_id, minutes, participation,
    recorded_at)
SELECT $(id 0004 "(n * 4 + k) * 16 + m"), $(id 0003 "n * 4 + k"), $(id 0002 "n * 16 + m"), $PART,
    CASE k WHEN 1 THEN 120 ELSE 90 END,
    CASE WHEN m % 3 = 0 THEN 'attended' ELSE 'participated' END,
    $(at '2025-07-01 13:00:00' "($OFF + (k - 1) * 14) * 1440")
FROM $(seq_of 100000 n) CROSS JOIN $(seq_of 2 k) CROSS JOIN $(seq_of 10 m)
WHERE $RUN;
COMMIT;
SQL
}

COUNTS_SQL="SELECT (SELECT count(*) FROM opportunities) || ' ' || (SELECT count(*) FROM opportunities WHERE status = 'advertised') || ' ' || (SELECT count(*) FROM memberships) || ' ' || (SELECT count(*) FROM sessions) || ' ' || (SELECT count(*) FROM attendance)"
EXPECTED_COUNTS="100000 30000 690000 100000 1000000"

pg_ready_data() { # true if the kept database holds the full data set
    local c
    c=$(timeout 60 psql "$PG_URL" -qAtX -c "$COUNTS_SQL" 2>/dev/null) || return 1
    [[ $c == "$EXPECTED_COUNTS" ]]
}

sqlite_ready_data() {
    local c
    [[ -f $SQLITE_FILE ]] || return 1
    c=$(timeout 60 sqlite3 "$SQLITE_FILE" "$COUNTS_SQL" 2>/dev/null) || return 1
    [[ $c == "$EXPECTED_COUNTS" ]]
}

migrate_with_server() { # start the service once so it migrates, then stop it
    start_server "$1" "$2" "$3"
    stop_server
}

prepare_postgres() {
    if [[ -n $KEEP ]] && pg_ready_data; then
        log "postgres: reusing the kept database $PG_DB"
        PG_CREATED=1
        return
    fi
    timeout 60 psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "CREATE DATABASE $PG_DB" >/dev/null
    PG_CREATED=1
    migrate_with_server postgres "$PG_URL" "$DATA/postgres"
    local t0=$SECONDS
    log "postgres: seeding (generate_series; foreign-key triggers off while loading, checked after)"
    { echo "SET session_replication_role = replica;"; seed_sql pg; } >"$WORK/seed-pg.sql"
    timeout 900 psql "$PG_URL" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/seed-pg.sql" >/dev/null || die "postgres seeding failed"
    local orphans
    orphans=$(timeout 300 psql "$PG_URL" -qAtX -c "SELECT
        (SELECT count(*) FROM attendance a WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.id = a.membership_id))
      + (SELECT count(*) FROM attendance a WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = a.session_id))
      + (SELECT count(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.id = s.opportunity_id))
      + (SELECT count(*) FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.id = m.opportunity_id))")
    [[ $orphans == 0 ]] || die "postgres seed: $orphans rows with dangling references"
    timeout 600 psql "$PG_URL" -qAtX -c "VACUUM ANALYZE" >/dev/null
    pg_ready_data || die "postgres seed: counts $(psql "$PG_URL" -qAtX -c "$COUNTS_SQL"), expected $EXPECTED_COUNTS"
    log "postgres: seeded and analysed in $((SECONDS - t0)) s ($EXPECTED_COUNTS: opportunities, advertised, memberships, sessions, attendance)"
    SEED_PG_S=$((SECONDS - t0))
}

prepare_sqlite() {
    if [[ -n $KEEP ]] && sqlite_ready_data; then
        log "sqlite: reusing the kept file $SQLITE_FILE"
        return
    fi
    rm -rf "$DATA/sqlite"
    migrate_with_server sqlite "sqlite://$SQLITE_FILE" "$DATA/sqlite"
    local t0=$SECONDS
    log "sqlite: seeding (sqlite3 CLI, recursive CTEs)"
    {
        echo "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;"
        seed_sql sqlite
        echo "PRAGMA foreign_keys = ON; ANALYZE;"
    } >"$WORK/seed-sqlite.sql"
    timeout 900 sqlite3 -bail "$SQLITE_FILE" <"$WORK/seed-sqlite.sql" >/dev/null || die "sqlite seeding failed"
    local fk
    fk=$(timeout 300 sqlite3 "$SQLITE_FILE" "PRAGMA foreign_key_check" | wc -l)
    [[ $fk == 0 ]] || die "sqlite seed: $fk rows with dangling references"
    timeout 300 sqlite3 "$SQLITE_FILE" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    sqlite_ready_data || die "sqlite seed: counts $(sqlite3 "$SQLITE_FILE" "$COUNTS_SQL"), expected $EXPECTED_COUNTS"
    log "sqlite: seeded and analysed in $((SECONDS - t0)) s ($(du -h "$SQLITE_FILE" | cut -f1))"
    SEED_SQLITE_S=$((SECONDS - t0))
}

# ---------------------------------------------------------------- 4. requests
REST_PATH="/api/v1/opportunities?$FILTER&limit=$PAGE"
GQL_FIELDS='id title kind format status startsOn places placesTaken paid'
GQL_QUERY="{ opportunities(first: $PAGE, filter: {status: ADVERTISED}) { edges { node { $GQL_FIELDS } } } }"
PGL_QUERY="{ allOpportunities(first: $PAGE, condition: {status: \"advertised\"}, orderBy: ID_ASC) { nodes { $GQL_FIELDS } } }"

write_post_lua() { # $1 file, $2 GraphQL query, $3 token (may be empty)
    local body
    body=$(jq -cn --arg q "$2" '{query: $q}')
    {
        echo 'wrk.method = "POST"'
        echo 'wrk.headers["Content-Type"] = "application/json"'
        [[ -n $3 ]] && echo "wrk.headers[\"Authorization\"] = \"Bearer $3\""
        echo "wrk.body = [==[$body]==]"
    } >"$1"
}

check_rest() { # the page answers 50 matching items and a next cursor
    local out=$WORK/check-rest-$1.json
    curl -fsS --max-time 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$REST_PATH" -o "$out" \
        || die "$1: GET $REST_PATH failed"
    local n bad
    n=$(jq '.items | length' "$out")
    bad=$(jq '[.items[] | select(.status != "advertised" or .format != "virtual" or .paid != true)] | length' "$out")
    [[ $n == "$PAGE" ]] || die "$1: the page has $n items, expected $PAGE: $(head -c 300 "$out")"
    [[ $FILTER != "status=advertised&format=virtual&paid=true" || $bad == 0 ]] || die "$1: $bad items do not match the filter"
    jq -r '.items[].id' "$out" >"$WORK/ids-rest-$1"
}

check_gql() { # $1 label, $2 url, $3 query, $4 token, $5 jq path to the ids
    local out=$WORK/check-gql-$1.json
    local -a hdr=(-H 'Content-Type: application/json')
    [[ -n $4 ]] && hdr+=(-H "Authorization: Bearer $4")
    curl -fsS --max-time 30 "${hdr[@]}" -d "$(jq -cn --arg q "$3" '{query: $q}')" "$2" -o "$out" \
        || die "$1: POST $2 failed"
    jq -e '.errors' "$out" >/dev/null 2>&1 && die "$1: GraphQL errors: $(head -c 500 "$out")"
    jq -r "$5" "$out" >"$WORK/ids-gql-$1"
    local n
    n=$(wc -l <"$WORK/ids-gql-$1")
    [[ $n == "$PAGE" ]] || die "$1: the list has $n nodes, expected $PAGE: $(head -c 300 "$out")"
}

# ---------------------------------------------------------------- 5. load
run_wrk() { # $1 backend, $2 name, $3 url, $4 lua script or "", $5 token or ""
    local label=$1 name=$2 url=$3 lua=${4:-} tok=${5:-}
    local out=$WORK/wrk-$label-$name.txt
    local -a args=(-t "$THREADS" -c "$CONNS")
    [[ -n $tok ]] && args+=(-H "Authorization: Bearer $tok")
    [[ -n $lua ]] && args+=(-s "$lua")
    wait_quiet
    timeout 30 wrk "${args[@]}" -d 3s "$url" >/dev/null 2>&1 || true # warm-up
    log "wrk $label $name: -t$THREADS -c$CONNS -d${DURATION}s"
    measured "$out" wrk timeout $((DURATION + 60)) wrk "${args[@]}" -d "${DURATION}s" --timeout 10s --latency "$url" \
        || die "wrk failed: $(cat "$out")"
    local rps p50 p99 non2xx errs count
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    errs=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); gsub(/,/, ""); print}' "$out")
    count=$(awk '/requests in/ {print $1}' "$out")
    add_row "$label" "$name" "$rps" "$p50" "$p99" "${non2xx:-0} non-2xx${errs:+; socket $errs}" "$count"
}

run_rate() { # $1 backend: the REST page at a fixed rate with oha (latency from the scheduled send)
    local label=$1 out=$WORK/oha-$1.json
    wait_quiet
    timeout 30 oha --no-tui -z 3s -q "$RATE" -c "$RATE_CONNS" -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$PORT$REST_PATH" >/dev/null 2>&1 || true # warm-up
    log "oha $label rest-rate: -q $RATE -c $RATE_CONNS -z ${DURATION}s --latency-correction"
    measured "$out" oha timeout $((DURATION + 60)) oha --no-tui --output-format json --latency-correction -w \
        -z "${DURATION}s" -q "$RATE" -c "$RATE_CONNS" -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$PORT$REST_PATH" || die "oha failed: $(head -c 1000 "$out")"
    local rps p50 p99 ok total
    rps=$(jq '.summary.requestsPerSec | floor' "$out")
    p50=$(jq '.latencyPercentiles.p50 * 1000 * 100 | round / 100' "$out")
    p99=$(jq '.latencyPercentiles.p99 * 1000 * 100 | round / 100' "$out")
    ok=$(jq '.statusCodeDistribution["200"] // 0' "$out")
    total=$(jq '[.statusCodeDistribution[]] | add // 0' "$out")
    local errs
    errs=$(jq '[.errorDistribution[]?] | add // 0' "$out")
    add_row "$label" rest-rate "$rps" "$p50" "$p99" "$((total - ok)) non-2xx; $errs errors" "$total"
}

run_pgbench() { # $1 rest | gql: that captured SQL with the same parameters, as prepared statements
    local which=$1 row=pgbench out=$WORK/pgbench-$1.txt
    [[ $which == gql ]] && row=pgbench-graphql
    local -a defs=()
    while IFS= read -r d; do defs+=(-D "$d"); done <"$WORK/$which.pgbench.defs"
    wait_quiet
    timeout 30 pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T 3 "${defs[@]}" -f "$WORK/$which.pgbench" "$PG_URL" >/dev/null 2>&1 || true
    log "pgbench -c $CONNS -j $THREADS -T $DURATION -M prepared -n -f $which.pgbench"
    rm -f "$WORK"/pgbench_log*
    measured "$out" pgbench timeout $((DURATION + 60)) pgbench -n -M prepared \
        -c "$CONNS" -j "$THREADS" -T "$DURATION" -l --sampling-rate=0.2 --log-prefix="$WORK/pgbench_log" \
        "${defs[@]}" -f "$WORK/$which.pgbench" "$PG_URL" || die "pgbench failed: $(cat "$out")"
    local tps count failed p50 p99
    tps=$(awk -F'= ' '/^tps = / {split($2, a, " "); printf "%.0f", a[1]}' "$out")
    count=$(awk -F': ' '/number of transactions actually processed/ {split($2, a, "/"); print a[1]}' "$out")
    failed=$(awk -F': ' '/number of failed transactions/ {split($2, a, " "); print a[1]}' "$out")
    read -r p50 p99 < <(cat "$WORK"/pgbench_log* | awk '{print $3}' | sort -n | awk '
        { v[NR] = $1 } END { if (NR == 0) { print "- -"; exit }
            i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
            printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }')
    add_row postgres "$row" "$tps" "$p50" "$p99" "${failed:-0} failed" "$count"
}

# ---------------------------------------------------------------- 6. PostGraphile
install_postgraphile() {
    PGL_DIR=$WORK/postgraphile
    mkdir -p "$PGL_DIR"
    log "npm install postgraphile@4 into $PGL_DIR"
    (cd "$PGL_DIR" && echo '{"private": true}' >package.json &&
        timeout 600 npm install --no-audit --no-fund --loglevel=error postgraphile@4 >"$WORK/npm.log" 2>&1) \
        || die "npm install postgraphile@4 failed: $(tail -5 "$WORK/npm.log")"
    PGL_VERSION=$(cd "$PGL_DIR" && node -p 'require("postgraphile/package.json").version')
    log "PostGraphile $PGL_VERSION"
}

# Production settings from PostGraphile's CLI documentation ("For Production"), less the plugins
# (the simplify-inflector would rename allOpportunities) and subscriptions; no --watch.
PGL_FLAGS=(--retry-on-init-fail --dynamic-json --no-setof-functions-contain-nulls --no-ignore-rbac
    --extended-errors errcode --disable-graphiql --enable-query-batching --disable-query-log
    --legacy-relations omit --cluster-workers 2)

start_postgraphile() {
    PGL_PORT=$(free_port)
    local logfile=$WORK/postgraphile-$(date +%s%N).log
    # setsid: its own session and process group (whose id the launcher writes down), so the
    # master and both workers are told apart from everything else and stop together
    rm -f "$WORK/pgl.pid"
    (cd "$PGL_DIR" && NODE_ENV=production setsid sh -c 'echo $$ >"$0"; exec "$@"' "$WORK/pgl.pid" \
        ./node_modules/.bin/postgraphile -c "$PG_URL" --schema public --host 127.0.0.1 --port "$PGL_PORT" \
        "${PGL_FLAGS[@]}") >"$logfile" 2>&1 &
    for _ in $(seq 1 100); do [[ -s $WORK/pgl.pid ]] && break; sleep 0.1; done
    PGL_PID=$(cat "$WORK/pgl.pid" 2>/dev/null || true)
    [[ -n $PGL_PID ]] || die "PostGraphile did not start: $(tail -5 "$logfile")"
    local ok=""
    for _ in $(seq 1 600); do
        kill -0 "$PGL_PID" 2>/dev/null || { tail -20 "$logfile" >&2; die "PostGraphile exited at start"; }
        if curl -fsS -o /dev/null --max-time 2 -H 'Content-Type: application/json' \
            -d '{"query":"{ __typename }"}' "http://127.0.0.1:$PGL_PORT/graphql" 2>/dev/null; then
            ok=1; break
        fi
        sleep 0.1
    done
    [[ -n $ok ]] || die "PostGraphile not ready within 60 s: $(tail -5 "$logfile")"
    for _ in $(seq 1 300); do # both cluster workers listening
        (($(grep -c 'listening on port' "$logfile" || true) >= 2)) && break
        sleep 0.1
    done
    log "PostGraphile pid $PGL_PID (2 cluster workers) on 127.0.0.1:$PGL_PORT"
}

# ---------------------------------------------------------------- 7. the SQL the page runs
capture_sql() { # log every statement of the bench database briefly; keep the list's SELECTs
    [[ -r $PG_LOG ]] || die "cannot read $PG_LOG to capture the page SQL"
    timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "ALTER DATABASE $PG_DB SET log_statement = 'all'" >/dev/null
    LOG_RESET_NEEDED=1
    local from
    from=$(($(stat -c %s "$PG_LOG") + 1))
    start_server postgres "$PG_URL" "$DATA/postgres"
    check_rest postgres-capture
    sleep 0.5
    tail -c +"$from" "$PG_LOG" >"$WORK/pglog-rest"
    from=$(($(stat -c %s "$PG_LOG") + 1))
    check_gql postgres-capture "http://127.0.0.1:$PORT/graphql" "$GQL_QUERY" "$TOKEN" '.data.opportunities.edges[].node.id'
    sleep 0.5
    tail -c +"$from" "$PG_LOG" >"$WORK/pglog-gql"
    stop_server
    if [[ $DO_PGL == 1 ]]; then
        start_postgraphile
        from=$(($(stat -c %s "$PG_LOG") + 1))
        check_gql postgraphile-capture "http://127.0.0.1:$PGL_PORT/graphql" "$PGL_QUERY" "" '.data.allOpportunities.nodes[].id'
        sleep 0.5
        tail -c +"$from" "$PG_LOG" >"$WORK/pglog-pgl"
        stop_pgl
    fi
    timeout 30 psql "$PG_ADMIN_URL" -qAtX -c "ALTER DATABASE $PG_DB RESET log_statement" >/dev/null
    LOG_RESET_NEEDED=""
    # statement (and its "parameters:" detail) -> $WORK/sql-<name>, $WORK/params-<name>
    python3 - "$WORK" "$PG_DB" <<'PY' || die "could not find the list's SELECT in $PG_LOG"
import re, sys
work, db = sys.argv[1], sys.argv[2]
head = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] ')
for name in ("rest", "gql", "pgl"):
    try:
        text = open(f"{work}/pglog-{name}", encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        continue
    # join continuation lines to their entry
    entries, cur = [], None
    for line in text.splitlines():
        if head.match(line):
            if cur is not None: entries.append(cur)
            cur = line
        elif cur is not None:
            cur += "\n" + line.lstrip("\t")
    if cur is not None: entries.append(cur)
    entries = [e for e in entries if f"@{db} " in e]
    found = None
    for i, e in enumerate(entries):
        m = re.search(r'LOG:  (?:execute [^:]*|statement): (.*)', e, re.S)
        if not m: continue
        sql = m.group(1).strip()
        if 'from "opportunities"' not in sql.lower() and 'from "public"."opportunities"' not in sql.lower():
            continue
        params = ""
        if i + 1 < len(entries):
            d = re.search(r'DETAIL:  [Pp]arameters: (.*)', entries[i + 1], re.S)
            if d: params = d.group(1).strip()
        found = (sql, params)
    if not found:
        sys.exit(f"no SELECT from opportunities in the {name} log")
    open(f"{work}/sql-{name}", "w").write(found[0] + "\n")
    open(f"{work}/params-{name}", "w").write(found[1] + "\n")
PY
    log "captured the page SQL: $(head -c 200 "$WORK/sql-rest")..."
    # literal SQL (for EXPLAIN), pgbench script (:pN variables become prepared-statement
    # parameters with -M prepared), SQLite literal SQL (booleans as 1/0)
    python3 - "$WORK" <<'PY'
import re, sys, shlex
work = sys.argv[1]
for name in ("rest", "gql", "pgl"):
    try:
        sql = open(f"{work}/sql-{name}").read().strip()
        ptext = open(f"{work}/params-{name}").read().strip()
    except FileNotFoundError:
        continue
    params = {}
    for m in re.finditer(r"\$(\d+) = (NULL|'((?:[^']|'')*)')", ptext):
        params[int(m.group(1))] = None if m.group(2) == "NULL" else m.group(3).replace("''", "'")
    def lit(v, sqlite=False):
        if v is None: return "NULL"
        if sqlite and v in ("t", "f"): return "1" if v == "t" else "0"
        if re.fullmatch(r"-?\d+", v): return v
        return "'" + v.replace("'", "''") + "'"
    sub = lambda f: re.sub(r"\$(\d+)\b", lambda m: f(int(m.group(1))), sql)
    open(f"{work}/literal-{name}.sql", "w").write(sub(lambda i: lit(params[i])) + "\n")
    # diesel writes `IN (SELECT ...)` on SQLite where it writes `= ANY(SELECT ...)` on PostgreSQL
    open(f"{work}/sqlite-{name}.sql", "w").write(
        sub(lambda i: lit(params[i], True)).replace(" = ANY(SELECT ", " IN (SELECT ") + "\n")
    open(f"{work}/prepared-{name}.sql", "w").write(sql + "\n")
    open(f"{work}/args-{name}", "w").write(", ".join(lit(params[i]) for i in sorted(params)) + "\n")
    if name in ("rest", "gql"):
        open(f"{work}/{name}.pgbench", "w").write(sub(lambda i: f":p{i}") + ";\n")
        open(f"{work}/{name}.pgbench.defs", "w").write("\n".join(f"p{i}={v}" for i, v in sorted(params.items())) + "\n")
PY
}

explain_all() {
    {
        echo "### PostgreSQL: the REST page ($REST_PATH, participant token)"
        echo
        echo '```sql'; fold -s -w 120 "$WORK/sql-rest"; echo "-- $(cat "$WORK/params-rest")"; echo '```'
        echo
        echo '```'
        timeout 60 psql "$PG_URL" -qAtX -c "EXPLAIN (ANALYZE, BUFFERS) $(cat "$WORK/literal-rest.sql")"
        echo '```'
        echo
        echo "The service runs it as a prepared statement; after five executions PostgreSQL may switch to"
        echo "a generic plan (pgbench -M prepared does the same). The generic plan, for the same parameters:"
        echo
        echo '```'
        timeout 60 psql "$PG_URL" -qAtX <<PSQL
SET plan_cache_mode = force_generic_plan;
PREPARE page AS $(cat "$WORK/prepared-rest.sql");
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page($(cat "$WORK/args-rest"));
PSQL
        echo '```'
        echo
        echo "### PostgreSQL: the GraphQL list (first: $PAGE, filter: {status: ADVERTISED})"
        echo
        echo '```'
        timeout 60 psql "$PG_URL" -qAtX -c "EXPLAIN (ANALYZE, BUFFERS) $(cat "$WORK/literal-gql.sql")"
        echo '```'
        if [[ -f $WORK/literal-pgl.sql ]]; then
            echo
            echo "### PostgreSQL: PostGraphile's SQL for allOpportunities(first: $PAGE, condition: {status: \"advertised\"}, orderBy: ID_ASC)"
            echo
            echo '```sql'; fold -s -w 120 "$WORK/sql-pgl"; echo '```'
            echo
            echo '```'
            timeout 60 psql "$PG_URL" -qAtX -c "EXPLAIN (ANALYZE, BUFFERS) $(cat "$WORK/literal-pgl.sql")"
            echo '```'
        fi
        if [[ " $BACKENDS " == *" sqlite "* ]]; then
            echo
            echo "### SQLite: EXPLAIN QUERY PLAN of the same two SELECTs (literals; booleans as 1/0)"
            echo
            echo '```'
            echo "-- REST page"
            timeout 60 sqlite3 "$SQLITE_FILE" "EXPLAIN QUERY PLAN $(cat "$WORK/sqlite-rest.sql")"
            echo "-- GraphQL list"
            timeout 60 sqlite3 "$SQLITE_FILE" "EXPLAIN QUERY PLAN $(cat "$WORK/sqlite-gql.sql")"
            echo '```'
        fi
    } >"$WORK/plans.md"
    if grep -q 'Seq Scan on opportunities' "$WORK/plans.md" || grep -q 'SCAN opportunities$' "$WORK/plans.md"; then
        SEQ_SCAN=1
        log "warning: a plan scans the opportunities table sequentially (see the plans)"
    fi
}

# ---------------------------------------------------------------- 8. runs
: >"$WORK/rows"; : >"$WORK/rss"
QUIET_BUSY=""
SEQ_SCAN=""
SEED_PG_S="-"; SEED_SQLITE_S="-"
mkdir -p "$DATA"

wait_others # seeding takes both cores for a while
[[ " $BACKENDS " == *" postgres "* ]] && prepare_postgres
[[ " $BACKENDS " == *" sqlite "* ]] && prepare_sqlite
if [[ " $BACKENDS " == *" postgres "* ]]; then
    [[ $DO_PGL == 1 ]] && install_postgraphile
    capture_sql
else
    log "sqlite only: the page SQL is captured from PostgreSQL's log, so no plans this time"
fi
[[ " $BACKENDS " == *" postgres "* ]] && explain_all
if [[ -n ${BENCH_PREPARE_ONLY:-} ]]; then # data, SQL and plans only: no load
    [[ -f $WORK/plans.md ]] && cat "$WORK/plans.md"
    log "BENCH_PREPARE_ONLY: stopping before the load runs"
    exit 0
fi

finish_server() { # stop the server and record its peak memory
    local label=$1 hwm max
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    stop_server
    max=$(sort -n "$WORK/rss-$label" | tail -1)
    echo "$label|$(awk -v k="${max:-0}" 'BEGIN {printf "%.1f", k / 1024}')|$(awk -v k="${hwm:-0}" 'BEGIN {printf "%.1f", k / 1024}')" >>"$WORK/rss"
}

want() { [[ " $RUNS " == *" $1 "* ]]; }
for backend in $BACKENDS; do
    case $backend in
    sqlite) start_server sqlite "sqlite://$SQLITE_FILE" "$DATA/sqlite" ;;
    postgres) start_server postgres "$PG_URL" "$DATA/postgres" ;;
    *) die "unknown backend $backend" ;;
    esac
    start_sampler "$SERVER_PID" "$WORK/rss-$backend"
    check_rest "$backend"
    check_gql "$backend" "http://127.0.0.1:$PORT/graphql" "$GQL_QUERY" "$TOKEN" '.data.opportunities.edges[].node.id'
    write_post_lua "$WORK/gql-$backend.lua" "$GQL_QUERY" "$TOKEN"
    if want rest; then run_wrk "$backend" rest "http://127.0.0.1:$PORT$REST_PATH" "" "$TOKEN"; fi
    if want rate; then run_rate "$backend"; fi
    if want graphql; then run_wrk "$backend" graphql "http://127.0.0.1:$PORT/graphql" "$WORK/gql-$backend.lua" ""; fi
    finish_server "$backend"
    if [[ $backend == postgres ]]; then
        if want pgbench; then run_pgbench rest; fi
        if want pgbench-graphql; then run_pgbench gql; fi
        if [[ $DO_PGL == 1 ]] && want postgraphile; then
            start_postgraphile
            SERVER_PGID=$PGL_PID
            check_gql postgraphile "http://127.0.0.1:$PGL_PORT/graphql" "$PGL_QUERY" "" '.data.allOpportunities.nodes[].id'
            cmp -s "$WORK/ids-gql-postgraphile" "$WORK/ids-gql-postgres" \
                || die "PostGraphile and the service list different opportunities"
            write_post_lua "$WORK/gql-postgraphile.lua" "$PGL_QUERY" ""
            run_wrk postgres postgraphile "http://127.0.0.1:$PGL_PORT/graphql" "$WORK/gql-postgraphile.lua" ""
            stop_pgl
            SERVER_PGID=""
        fi
    fi
done
if [[ " $BACKENDS " == *" sqlite "* && " $BACKENDS " == *" postgres "* ]]; then
    cmp -s "$WORK/ids-rest-sqlite" "$WORK/ids-rest-postgres" || die "SQLite and PostgreSQL answer different pages"
fi

# ---------------------------------------------------------------- 9. report
get() { awk -F'|' -v b="$1" -v n="$2" -v c="$3" '$1 == b && $2 == n {print $c}' "$WORK/rows"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "" }'; }
verdict() { if [[ -n $1 ]] && awk -v a="$1" -v b="$2" "BEGIN {exit !(a $3 b)}"; then echo "met"; else echo "**missed**"; fi; }
describe() {
    case $1 in
    rest) echo "REST page, wrk saturation" ;;
    rest-rate) echo "REST page, oha at $RATE/s" ;;
    graphql) echo "GraphQL list, wrk saturation" ;;
    pgbench) echo "pgbench, the REST page's SQL" ;;
    pgbench-graphql) echo "pgbench, the GraphQL list's SQL (reference)" ;;
    postgraphile) echo "PostGraphile $PGL_VERSION list, wrk saturation" ;;
    esac
}
{
    echo "# Browsing opportunities: benchmark results"
    echo
    echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- Revision: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock migrations 2>/dev/null || echo ' plus uncommitted changes')"
    echo "- Machine: $NCPU cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), $(uname -sr); load generator, server and PostgreSQL share the cores"
    echo "- Data: 100,000 opportunities (30,000 advertised), 690,000 memberships, 100,000 sessions, 1,000,000 attendance rows, seeded with SQL (PostgreSQL ${SEED_PG_S} s, SQLite ${SEED_SQLITE_S} s; '-' = reused)"
    echo "- REST page: \`GET $REST_PATH\` as a participant (a member of some running work); GraphQL: \`$GQL_QUERY\`"
    echo "- Saturation: wrk -t$THREADS -c$CONNS -d${DURATION}s --latency; pgbench -c $CONNS -j $THREADS -T $DURATION -M prepared -n with the page's captured SQL and parameters; fixed rate: oha -q $RATE -c $RATE_CONNS -z ${DURATION}s --latency-correction -w (latency from each request's scheduled start); each after a 3 s warm-up"
    [[ $DO_PGL == 1 && -n ${PGL_VERSION:-} ]] && echo "- PostGraphile $PGL_VERSION: NODE_ENV=production postgraphile -c <db> --schema public ${PGL_FLAGS[*]}; query \`$PGL_QUERY\`"
    echo "- Server: COPRODUCE_POOL_SIZE=${POOL_SIZE:-16 (default)}, COPRODUCE_WORKERS=${WORKERS:-default}, COPRODUCE_LOG_FORMAT=$LOG_FORMAT, RUST_LOG=$LOG_LEVEL, logs to a file"
    echo "- Command: \`${BENCH_COMMAND:-bench/opportunities.sh}\`"
    echo
    echo "| Backend | Load | Requests/s | p50 (ms) | p99 (ms) | Errors |"
    echo "|---|---|---:|---:|---:|---|"
    while IFS='|' read -r b n r p5 p9 e _; do
        echo "| $b | $(describe "$n") | $r | $p5 | $p9 | $e |"
    done <"$WORK/rows"
    echo
    echo "CPU during each run (user+system from /proc; share = % of all $NCPU cores; server = the service or"
    echo "PostGraphile's node processes; client = wrk, oha or pgbench; other = processes not started here):"
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
    echo
    echo "## Targets"
    echo
    pg_rest=$(get postgres rest 3); pgb=$(get postgres pgbench 3)
    if [[ -n $pg_rest && -n $pgb ]]; then
        r=$(ratio "$pg_rest" "$pgb")
        echo "- PostgreSQL REST page at saturation >= 80% of pgbench on its SQL: $pg_rest / $pgb = $r -> $(verdict "$r" 0.80 '>=')"
    fi
    for b in $BACKENDS; do
        p=$(get "$b" rest-rate 5); a=$(get "$b" rest-rate 3)
        if [[ -n $p ]]; then
            echo "- $b REST page at a fixed $RATE/s (achieved $a/s): p99 $p ms < 20 ms -> $(verdict "$p" 20 '<')"
        fi
    done
    g=$(get postgres graphql 3); gp=$(get postgres graphql 5)
    pg=$(get postgres postgraphile 3); pgp=$(get postgres postgraphile 5)
    if [[ -n $g && -n $pg ]]; then
        r=$(ratio "$g" "$pg")
        echo "- GraphQL list >= 4x PostGraphile's requests/s: $g / $pg = $r -> $(verdict "$r" 4 '>=')"
        echo "- GraphQL list p99 below PostGraphile's: $gp ms vs $pgp ms -> $(verdict "$gp" "$pgp" '<')"
        pgg=$(get postgres pgbench-graphql 3)
        if [[ -n $pgg ]]; then
            echo "- For reference: pgbench running the GraphQL list's own SQL (no HTTP, no GraphQL) reaches $pgg/s = $(ratio "$pgg" "$pg")x PostGraphile's rate"
        fi
    fi
    if [[ -n $SEQ_SCAN ]]; then
        echo "- The page query uses an index: **no**, a plan below scans opportunities sequentially"
    else
        echo "- The page query uses an index: yes (plans below)"
    fi
    echo
    echo "## Plans"
    echo
    if [[ -f $WORK/plans.md ]]; then cat "$WORK/plans.md"; else echo "(PostgreSQL not run: no captured SQL)"; fi
} >"$WORK/report.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/report.md" "$OUT"
echo
cat "$OUT"
