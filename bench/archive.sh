#!/usr/bin/env bash
# The archive's speed on the shared tweets scaled up (bench/items.py), in one run:
#
#   * baseline:  the sqlite3 shell bulk-loading the same texts into a bare FTS5 table
#                (`CREATE VIRTUAL TABLE t USING fts5(text)` then `.import --csv`)
#   * lifeguard import into SQLite: `lifeguard import jsonl` (parse, check with the built-in
#                policy, canonical payloads, hash chain, item/verdict/finding rows, FTS5 index,
#                signed checkpoints), from an empty data directory
#   * lifeguard import into PostgreSQL (when a server is reachable; see below)
#   * search:    bench `search` in crates/store: p50/p95/p99 of the first page of one-word
#                queries with a date filter, on each archive just built
#   * verify:    `lifeguard archive verify` of each archive (chain, payloads, item rows,
#                checkpoints), wall time
# Each import and the baseline run ARCHIVE_RUNS times (default 3); the median wall time is
# reported, with CPU seconds and peak RSS (GNU time). items/s = items / wall seconds.
#
# Usage, from anywhere:   bench/archive.sh     (prints a Markdown report on stdout)
# Environment:
#   LIFEGUARD_CORPUS         the shared corpus folder (default: ../shared/corpus beside the repo)
#   ARCHIVE_ITEMS            items (default 1000000)
#   ARCHIVE_RUNS             runs of each import (default 3)
#   ARCHIVE_PG_ADMIN_URL     a PostgreSQL URL whose role may create databases (default: the
#                            local cluster as set up by .ci/run, postgres://lifeguard:lifeguard@127.0.0.1:5432/postgres);
#                            set it to `none` to skip PostgreSQL
# Inputs and archives go to target/bench-archive/ (git ignores target/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
corpus="${LIFEGUARD_CORPUS:-$root/../shared/corpus}"
items="${ARCHIVE_ITEMS:-1000000}"
runs="${ARCHIVE_RUNS:-3}"
pg_admin="${ARCHIVE_PG_ADMIN_URL:-postgres://lifeguard:lifeguard@127.0.0.1:5432/postgres}"
out="$root/target/bench-archive"
mkdir -p "$out"

command -v sqlite3 >/dev/null || { apt-get install -y sqlite3 >/dev/null; }
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null; }

cargo build --release -p lifeguard >&2
cp target/release/lifeguard "$out/lifeguard"
bin="$out/lifeguard"

if [ ! -s "$out/items-$items.jsonl" ]; then
    python3 bench/items.py "$corpus" "$items" "$out/items-$items.jsonl" "$out/texts-$items.csv"
fi
input="$out/items-$items.jsonl"
texts="$out/texts-$items.csv"

# median_run LABEL CMD...: runs CMD $runs times (after PREP, if set), prints "wall user sys rss"
median_run() {
    local results=()
    for _ in $(seq "$runs"); do
        [ -n "${PREP:-}" ] && eval "$PREP"
        /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" || {
            cat "$out/stderr.txt" >&2
            return 1
        }
        results+=("$(cat "$out/time.txt")")
    done
    printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

row() { # label wall user sys rss
    awk -v label="$1" -v n="$items" -v wall="$2" -v user="$3" -v sys="$4" -v rss="$5" 'BEGIN {
        printf "| %s | %.2f s | %.0f | %.1f s | %.0f MiB |\n", label, wall, n / wall, user + sys, rss / 1024 }'
}

echo "## Archive: $items items ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo
echo "| what | wall (median of $runs) | items/s | CPU | peak RSS |"
echo "|---|---|---|---|---|"

PREP="rm -f '$out/base.db'"
read -r w u s m < <(median_run sqlite3 "$out/base.db" \
    "CREATE VIRTUAL TABLE t USING fts5(text);" ".import --csv $texts t")
row "sqlite3 shell: .import into a bare FTS5 table" "$w" "$u" "$s" "$m"
base_wall="$w"

PREP="rm -rf '$out/data'"
read -r w u s m < <(median_run "$bin" import jsonl "$input" --data "$out/data" --no-progress)
row "lifeguard import → SQLite (check, chain, index)" "$w" "$u" "$s" "$m"
sqlite_wall="$w"

# A fresh database; autovacuum may hold the old one for a moment, so the drop is retried.
fresh_pg() {
    for _ in $(seq 40); do
        psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS lifeguard_bench' 2>/dev/null && break
        sleep 0.5
    done
    psql "$pg_admin" -qc 'CREATE DATABASE lifeguard_bench'
    rm -rf "$out/pgdata"
}

pg_url=""
if [ "$pg_admin" != none ] && psql "$pg_admin" -qc 'select 1' >/dev/null 2>&1; then
    pg_url="${pg_admin%/*}/lifeguard_bench"
    PREP="fresh_pg"
    read -r w u s m < <(median_run "$bin" import jsonl "$input" --data "$out/pgdata" --database "$pg_url" --no-progress)
    row "lifeguard import → PostgreSQL (check, chain, index)" "$w" "$u" "$s" "$m"
fi
echo
awk -v a="$sqlite_wall" -v b="$base_wall" 'BEGIN { printf "SQLite import takes %.2f× the sqlite3 shell'"'"'s bulk load.\n\n", a / b }'

cargo build --release -p lifeguard-store --bench search >&2 2>/dev/null || true
ARCHIVE_BENCH_URL="sqlite:$out/data/archive.sqlite3" cargo bench -q -p lifeguard-store --bench search 2>/dev/null | sed 's/^/- /'
[ -n "$pg_url" ] && ARCHIVE_BENCH_URL="$pg_url" cargo bench -q -p lifeguard-store --bench search 2>/dev/null | sed 's/^/- /'
echo

verify() { # label args...
    local label="$1"; shift
    /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$bin" archive verify "$@" > "$out/verify.txt"
    read -r w u s m < "$out/time.txt"
    echo "- verify ($label): $(cat "$out/verify.txt" | cut -c1-80)… in $w s wall ($(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}') s CPU, $((m / 1024)) MiB)"
}
verify sqlite --data "$out/data"
[ -n "$pg_url" ] && verify postgres --data "$out/pgdata" --database "$pg_url"
echo
