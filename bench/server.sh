#!/usr/bin/env bash
# The server's speed under load from wrk on loopback, in one run:
#
#   * check:   POST /api/v1/check with an API token, a different corpus post per request,
#              CHECK_SECONDS (default 30) at CHECK_CONNECTIONS (default 32) connections:
#              requests/s and latency percentiles (target >= 20,000/s, p99 < 5 ms)
#   * ingest:  POST /api/v1/items in batches of BATCH (default 1000) new items, time-ordered as
#              from a live feed, at INGEST_CONNECTIONS (default 8) connections into the SQLite
#              archive, INGEST_SECONDS (default 60): items/s (target >= 20,000/s), errors, and
#              afterwards the archive's item count against what the server acknowledged
#              (nothing acknowledged may be missing)
#
# The server is `lifeguard demo` (release build) on a fresh data directory; it is stopped with
# SIGTERM (a graceful shutdown) before the archive is counted and verified offline.
#
# Usage, from anywhere:   bench/server.sh     (prints a Markdown report on stdout)
# Environment: LIFEGUARD_CORPUS (default ../shared/corpus beside the repo), PORT (default 18480),
#              CHECK_SECONDS, CHECK_CONNECTIONS, CHECK_THREADS (default 1), INGEST_SECONDS,
#              INGEST_CONNECTIONS (default 8), BATCH.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
corpus="${LIFEGUARD_CORPUS:-$root/../shared/corpus}"
port="${PORT:-18480}"
check_seconds="${CHECK_SECONDS:-30}"
check_connections="${CHECK_CONNECTIONS:-32}"
check_threads="${CHECK_THREADS:-1}"
ingest_seconds="${INGEST_SECONDS:-60}"
ingest_connections="${INGEST_CONNECTIONS:-8}"
batch="${BATCH:-1000}"
out="$root/target/bench-server"
base="http://127.0.0.1:$port"
mkdir -p "$out"

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v curl >/dev/null || apt-get install -y curl >/dev/null

cargo build --release -p lifeguard >&2
bin="$root/target/release/lifeguard"
python3 bench/server_bodies.py "$corpus" "$out" >&2

data="$out/data"
rm -rf "$data"
"$bin" demo --listen "127.0.0.1:$port" --data "$data" >"$out/server.out" 2>"$out/server.err" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null

# Sign in as the demo admin and make one token for the run, as an integration would be given.
jar="$out/cookies.txt"
rm -f "$jar"
csrf=$(curl -fsS -c "$jar" -b "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "login=ada" \
    --data-urlencode "password=lifeguard-demo" --data-urlencode "csrf=$csrf" "$base/login"
csrf=$(curl -fsS -c "$jar" -b "$jar" "$base/" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p' | head -1)
token=$(curl -fsS -c "$jar" -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"name":"load test","scopes":["check","ingest"]}' "$base/api/v1/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export LIFEGUARD_TOKEN="$token"

items_in() {
    "$bin" archive stats --data "$data" --format json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])'
}
before=$(items_in)

echo "## Server under wrk ($(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD))"
echo
echo "nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo

BODIES="$out/check-bodies.txt" wrk -t"$check_threads" -c"$check_connections" -d5s \
    -s bench/wrk/check.lua "$base/api/v1/check" >/dev/null # warm-up
BODIES="$out/check-bodies.txt" wrk -t"$check_threads" -c"$check_connections" -d"${check_seconds}s" \
    --latency -s bench/wrk/check.lua "$base/api/v1/check" >"$out/check.txt"
echo '```'
grep -E 'Requests/sec|Latency|99%|RESULT' "$out/check.txt"
echo '```'

TEXTS="$out/item-texts.txt" BATCH="$batch" RUN="r$(date +%s)" wrk -t1 -c"$ingest_connections" \
    -d"${ingest_seconds}s" --timeout 30s --latency -s bench/wrk/ingest.lua "$base/api/v1/items" \
    >"$out/ingest.txt"
echo '```'
grep -E 'Requests/sec|RESULT' "$out/ingest.txt"
echo '```'
acknowledged=$(sed -n 's/.*acknowledged_items=\([0-9]*\).*/\1/p' "$out/ingest.txt")

kill -TERM "$server"
wait "$server" || true
trap - EXIT
archived=$(items_in)
"$bin" archive verify --data "$data" >"$out/verify.txt" 2>&1 && verified=yes || verified=NO
echo
echo "items before the run: $before; acknowledged by the server: $acknowledged;" \
    "in the archive after SIGTERM: $archived (missing: $((before + acknowledged - archived > 0 ? before + acknowledged - archived : 0)));" \
    "archive verify: $verified"
