#!/usr/bin/env bash
# Offensive-language quality of the built-in default policy, next to two Python peers.
#
# Runs `lifeguard check --jsonl` with the default policy over the TweetEval/OLID offensive
# validation split and scores it, better-profanity and alt-profanity-check on the same
# posts (precision, recall, F1 of the offensive class, macro-F1, accuracy). A post counts
# as offensive for Lifeguard when any finding has category "offensive".
#
# Usage, from anywhere:   bench/quality.sh
# Environment:
#   LIFEGUARD_CORPUS   folder holding tweeteval_offensive_val.jsonl (default: ../shared/corpus
#                      relative to the repository root)
#   QUALITY_SPLIT      corpus split to score: val (default) or train
#   LIFEGUARD_POLICY   policy to measure (default: crates/core/default-policy, the source of
#                      the built-in policy, so the files on disk are measured even before the
#                      binary is rebuilt with them)
#
# The corpus is research data with no licence to redistribute: it is read at run time and
# never copied into the repository (verdicts go to target/bench/, which git ignores).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

corpus_dir="${LIFEGUARD_CORPUS:-../shared/corpus}"
split="${QUALITY_SPLIT:-val}"
corpus="$corpus_dir/tweeteval_offensive_$split.jsonl"
if [[ ! -f "$corpus" ]]; then
    echo "quality.sh: corpus not found: $corpus (set LIFEGUARD_CORPUS)" >&2
    exit 2
fi

PEER_PYTHON="${PYTHON:-python3.11}"
# shellcheck source=bench/venv.sh
source bench/venv.sh

cargo build --release -p lifeguard --quiet

out="target/bench"
mkdir -p "$out"
verdicts="$out/lifeguard-offensive-$split.jsonl"
policy="${LIFEGUARD_POLICY:-crates/core/default-policy}"
# --jsonl writes one verdict per input line, in order, and ignores the corpus's extra "label"
# field. Exit status 1 only means that some post needs action, which is expected here; 2 means
# a usage or policy error, or input lines it could not read (error lines, which quality.py
# counts as posts without a verdict).
status=0
target/release/lifeguard check --policy "$policy" --jsonl "$corpus" >"$verdicts" || status=$?
case $status in
    0 | 1) ;;
    2)
        if [[ ! -s "$verdicts" ]]; then
            echo "quality.sh: lifeguard check failed (status 2)" >&2
            exit 1
        fi
        echo "quality.sh: lifeguard check reported input errors; see the note under the table" >&2
        ;;
    *)
        echo "quality.sh: lifeguard check exited with status $status" >&2
        exit 1
        ;;
esac

"$venv/bin/python" bench/quality.py --corpus "$corpus" --verdicts "$verdicts"
