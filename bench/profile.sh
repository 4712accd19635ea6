#!/usr/bin/env bash
# Where `lifeguard check --jsonl` spends its time: a perf profile of one core, broken down by
# stage (start-up, input, JSON parse, engine passes, JSON output, output) with CPU µs per post.
#
# Builds a separate copy of the release binary with line tables and no stripping
# (target/prof/, so the normal release build is untouched), profiles
#   taskset -c 0 lifeguard check --jsonl --threads 1 --policy target/bench/POLICY <first N posts>
# with `perf record --call-graph dwarf` (cpu-clock samples, so it works in VMs without hardware
# counters), and prints bench/perf_breakdown.py's Markdown tables on stdout.
#
# Usage, from anywhere:   bench/profile.sh [policy | policy-default]
#   policy          the default policy plus the 10,000-term lexicon (default)
#   policy-default  the built-in default policy alone
# Environment:
#   PROFILE_POSTS   posts to check (default 200000, the first lines of target/bench/posts.jsonl)
#   PROFILE_INLINE  1 (default) resolves inlined calls (slower `perf script`, finer attribution);
#                   0 attributes to real functions only
# Inputs come from bench/speed.sh (run with SPEED_PREPARE_ONLY=1 if they are missing); perf is
# installed with apt-get (linux-perf) when missing. The raw profile stays in
# target/bench/perf.data for `perf report -i target/bench/perf.data`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

policy="${1:-policy}"
posts="${PROFILE_POSTS:-200000}"
inline="${PROFILE_INLINE:-1}"
python="${PYTHON:-python3}"
out="target/bench"

say() { echo "profile.sh: $*" >&2; }
die() {
    say "$*"
    exit 2
}

[[ "$policy" == "policy" || "$policy" == "policy-default" ]] || die "the policy is policy or policy-default"
[[ "$posts" =~ ^[1-9][0-9]*$ ]] || die "PROFILE_POSTS must be a positive number"

if [[ ! -s "$out/posts.jsonl" || ! -f "$out/$policy/policy.md" ]]; then
    say "preparing the inputs with bench/speed.sh"
    SPEED_PREPARE_ONLY=1 bench/speed.sh
fi
if ! command -v perf >/dev/null; then
    say "installing perf"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get install -y -qq linux-perf >&2 || { $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq linux-perf >&2; }
fi

say "building a release binary with line tables in target/prof"
CARGO_TARGET_DIR=target/prof CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    cargo build --release -p lifeguard --quiet
cp target/prof/release/lifeguard "$out/lifeguard-prof"

head -n "$posts" "$out/posts.jsonl" >"$out/profile-posts.jsonl"
posts=$(wc -l <"$out/profile-posts.jsonl")

say "profiling $posts posts, policy $out/$policy, one thread on core 0"
status=0
rm -f "$out/perf.data" "$out/perf.data.old"
perf record -q -e cpu-clock -F 2999 --call-graph dwarf,32768 -o "$out/perf.data" -- \
    taskset -c 0 "$out/lifeguard-prof" check --jsonl --threads 1 --stats --policy "$out/$policy" \
    "$out/profile-posts.jsonl" >/dev/null 2>"$out/profile.stderr" || status=$?
if [[ $status -gt 1 ]]; then
    cat "$out/profile.stderr" >&2
    die "perf record or lifeguard failed (status $status); is kernel.perf_event_paranoid above 2?"
fi

inline_flag="--no-inline"
[[ "$inline" == "1" ]] && inline_flag="--inline"
say "resolving stacks (perf script $inline_flag)"
echo "## Profile: lifeguard check --jsonl, policy $policy, 1 thread, core 0"
echo
echo "- $(grep -m 1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- lifeguard --stats: $(grep -m 1 'posts/s' "$out/profile.stderr" || echo n/a)"
echo
perf script -i "$out/perf.data" -F comm,tid,period,ip,sym "$inline_flag" 2>/dev/null |
    "$python" bench/perf_breakdown.py --posts "$posts"
