#!/usr/bin/env bash
# Runs bench/run.sh on PostgreSQL (the list and pgbench) under several settings and prints one
# table, to see where the time goes. Writes bench/variants-latest.md.
#
#   bench/variants.sh                    # the variants below
#   bench/variants.sh 'pool 2|COPRODUCE_POOL_SIZE=2' 'warn, pool 8|RUST_LOG=warn COPRODUCE_POOL_SIZE=8'
#
# Each variant is "label|VAR=value ..."; the settings are passed to bench/run.sh as environment.
# BENCH_* settings in the environment (BENCH_DURATION, BENCH_SKIP_BUILD, BENCH_BIN...) pass through.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${VARIANTS_OUT:-$HERE/variants-latest.md}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coproduce-variants.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ $# -gt 0 ]]; then
    variants=("$@")
else
    variants=(
        "baseline (pool 16, info, json)|"
        "baseline, again|"
        "RUST_LOG=warn|RUST_LOG=warn"
        "pretty logs|COPRODUCE_LOG_FORMAT=pretty"
        "pool 4|COPRODUCE_POOL_SIZE=4"
        "pool 8|COPRODUCE_POOL_SIZE=8"
        "pool 32|COPRODUCE_POOL_SIZE=32"
        "pool 64|COPRODUCE_POOL_SIZE=64"
        "16 connections|BENCH_CONNECTIONS=16"
        "32 connections|BENCH_CONNECTIONS=32"
        "128 connections|BENCH_CONNECTIONS=128"
    )
fi

n=0
for v in "${variants[@]}"; do
    label=${v%%|*}
    settings=${v#*|}
    n=$((n + 1))
    echo "[variants] $n/${#variants[@]}: $label ($settings)" >&2
    # Build at most once.
    skip=${BENCH_SKIP_BUILD:-}
    [[ $n -gt 1 ]] && skip=1
    # shellcheck disable=SC2086
    env BENCH_BACKENDS=postgres BENCH_ENDPOINTS=list BENCH_PGBENCH=1 BENCH_SKIP_BUILD="$skip" \
        BENCH_OUT="$WORK/$n.md" BENCH_ROWS="$WORK/$n.rows" $settings "$HERE/run.sh" >"$WORK/$n.log" 2>&1 \
        || { echo "[variants] $label failed:" >&2; tail -5 "$WORK/$n.log" >&2; continue; }
    echo "$label|$settings" >"$WORK/$n.label"
done

{
    echo "# Coproduce on PostgreSQL: variants"
    echo
    echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) cores; each row is one bench/run.sh with BENCH_BACKENDS=postgres BENCH_ENDPOINTS=list plus the settings shown"
    echo "- Defaults: wrk -t2 -c64 -d15s, pgbench at the same -c/-j/-T, COPRODUCE_POOL_SIZE=16, RUST_LOG=info, COPRODUCE_LOG_FORMAT=json"
    echo
    echo "| Variant | List req/s | p50 ms | p99 ms | pgbench tps | List / pgbench | Server CPU ms/req | PG CPU ms/req (list) | PG CPU ms/tx (pgbench) | Server % | PG % | wrk % | Other % | RSS MB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for ((i = 1; i <= n; i++)); do
        [[ -f $WORK/$i.label ]] || continue
        label=$(cut -d'|' -f1 "$WORK/$i.label")
        awk -F'|' -v label="$label" '
            $2 == "list" { r = $3; p5 = $4; p9 = $5; sm = $7; pm = $8; sp = $9; pp = $10; cp = $11; op = $12; rss = $15 }
            $2 == "pgbench" { t = $3; pt = $8 }
            END { ratio = (t > 0) ? sprintf("%.2f", r / t) : "-"
                  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, r, p5, p9, t, ratio, sm, pm, pt, sp, pp, cp, op, rss }' "$WORK/$i.rows"
    done
} >"$WORK/table.md"
cp "$WORK/table.md" "$OUT"
cat "$OUT"
