#!/usr/bin/env python3
"""Where `lifeguard check --jsonl` spends its time, from `perf script` output.

Usage: perf script -F comm,tid,period,ip,sym | perf_breakdown.py --posts N [--top K]

Reads the call stacks of a `perf record -g` (or `--call-graph dwarf`) profile and attributes
every sample to one stage of the pipeline, then to what inside that stage took it:

  stage (the first of these that any frame of the stack names)
    start-up          policy read, parse, compile (lifeguard_core::policy::load, ...), and the
                      phonenumber crate's metadata, parsed lazily by the first check
    input             reading the file and splitting it into lines (ChunkReader)
    JSON parse        serde_json deserialization of the input line, UTF-8 validation
    engine            Engine::check, split by its passes:
                        term matching (normalization / Aho-Corasick / verification),
                        regex set and regexes, detectors, links, verdict assembly
    JSON output       serde_json serialization of the verdict
    output            BufWriter, write(2)
    per-line glue     the rest of check_chunk / check_line (verdict drop, counting)
  part (first frame from the leaf that names one, up to the stage's or pass's frame): normalization,
  Aho-Corasick, regex engine, allocator, memcpy/memcmp, kernel, or "own code".

Prints a Markdown table: share of samples, CPU microseconds per post (samples x period / posts),
and the top symbols by self time. Sample weights are perf's periods (cpu-clock: nanoseconds).
"""

import argparse
import collections
import re
import sys

# (stage, pattern): a stack with a frame whose symbol matches the pattern belongs to the stage;
# the first stage in this order that matches decides.
STAGES = [
    ("start-up: read, parse and compile the policy", r"lifeguard_core::policy::load|Engine::compile|PolicySource::|policy::parse"),
    ("input: read the file, split lines", r"ChunkReader|next_chunk|check::read_line"),
    # The phonenumber crate parses its metadata (hundreds of regexes) on the first phone check:
    # a one-time cost that lands inside the first Engine::check.
    ("start-up: phonenumber metadata (lazy, on the first check)", r"phonenumber::metadata"),
    ("engine: Engine::check", r"lifeguard_core::engine::Engine::check|LocalKey<T>::with|lifeguard_core::engine::"),
    ("JSON parse: serde_json + UTF-8 check", r"serde_json::de::|serde_json::read::|from_utf8|Deserialize|deserialize_"),
    ("JSON output: serde_json serialization", r"serde_json::ser::|lifeguard::wire::|Serialize for|serialize_|to_writer"),
    ("output: BufWriter, write(2)", r"BufWriter|write_all|std::io::Write|^write$|__libc_write"),
    ("per-line glue (check_chunk, check_line, drops)", r"check_chunk|check_line|check_lines"),
]

# Inside the engine: which pass (first match from the root, below the engine frame).
ENGINE_PASSES = [
    ("term matching", r"TermMatcher|term_candidates|lifeguard_core::text::|^find_all$"),
    # `find` alone is Detectors::find inlined into check_with (the engine calls no other `find`).
    ("detectors", r"Detectors|lifeguard_core::detect::(?!links|find_links)|^find$"),
    ("links", r"find_links|detect::links|link_candidates"),
    ("regex set + rule regexes", r"RegexSet|regex::regex|regex::builders|Regex::find|regex_candidates|regex_automata::"),
    ("verdict assembly", r"Engine::verdict|^verdict$|Finding|drop_in_place"),
]

# What inside a stage or pass took the time: first match from the leaf.
PARTS = [
    # Inlined calls carry no path, hence the bare names of text/normalize.rs and text/terms.rs.
    ("normalization", r"lifeguard_core::text::normalize|Normalized|^ascii_lane|^lane_word|^end_token|^push_char|^fold_cached|^flush_spelled"),
    ("Aho-Corasick (automaton walk, Teddy prefilters)", r"aho_corasick::|next_state|^scan$"),
    ("regex engine", r"regex_automata::|regex::"),
    ("allocator", r"malloc|_int_free|^free$|cfree|realloc|__rust_alloc|__rust_dealloc|alloc::raw_vec|unlink_chunk|malloc_consolidate"),
    ("memcpy/memcmp/memchr", r"memmove|memcpy|memcmp|memchr|memset|strlen"),
    ("kernel", r"^\[k\]"),
]


def parse(lines):
    """Yields (period, frames root-first) per sample of `perf script -F comm,tid,period,ip,sym`.

    A sample is a header line ("comm tid period"), then one tab-indented "ip symbol" line per
    frame, leaf first, then a blank line. When perf resolves inlined calls, one address has
    several lines: the function, the inlined calls innermost first ("name (inlined)"), then the
    function again; they become separate frames. Kernel frames (ffff...) get a "[k] " prefix.
    """

    def frames_of(rows):
        frames, i = [], 0
        while i < len(rows):
            j = i
            while j < len(rows) and rows[j][0] == rows[i][0]:
                j += 1
            group = [sym for _, sym in rows[i:j]]
            frames.extend(group[1:] if len(group) > 1 else group)
            i = j
        return frames[::-1]

    period, rows, in_sample = 1, [], False
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if in_sample:
                yield period, frames_of(rows)
            period, rows, in_sample = 1, [], False
        elif line.startswith("\t"):
            fields = line.strip().split(None, 1)
            sym = fields[1] if len(fields) > 1 else "[unknown]"
            sym = re.sub(r"\s+\([^()]*\)$", "", sym.replace(" (inlined)", ""))  # "(dso)"
            rows.append((fields[0], ("[k] " + sym) if fields[0].startswith("ffff") else sym))
        else:
            fields = line.split()
            period = int(fields[-1]) if fields and fields[-1].isdigit() else 1
            rows, in_sample = [], True
    if in_sample:
        yield period, frames_of(rows)


def first(frames, rules, start=0, reverse=False):
    """(name, index) of the first frame from the root (or the leaf) that matches a rule."""
    order = range(len(frames) - 1, start - 1, -1) if reverse else range(start, len(frames))
    for i in order:
        for name, pattern in rules:
            if pattern.search(frames[i]):
                return name, i
    return None, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, required=True, help="posts checked in the profiled run")
    ap.add_argument("--top", type=int, default=25, help="symbols to list by self time")
    args = ap.parse_args()
    rules = [(n, re.compile(p)) for n, p in STAGES]
    passes = [(n, re.compile(p)) for n, p in ENGINE_PASSES]
    parts = [(n, re.compile(p)) for n, p in PARTS]
    by_path = collections.Counter()
    by_stage = collections.Counter()
    by_self = collections.Counter()
    total = 0
    for period, frames in parse(sys.stdin):
        if not frames:
            continue
        total += period
        by_self[frames[-1]] += period
        # Stages by priority (the order of STAGES), not by depth: Engine::check is inlined into
        # check_chunk, so the engine's frames sit below a glue frame.
        stage, at = None, 0
        for name, pattern in rules:
            hit = next((i for i, f in enumerate(frames) if pattern.search(f)), None)
            if hit is not None:
                stage, at = name, hit
                break
        stage = stage or "other (process start and exit, dynamic loading, broken stacks)"
        sub = ""
        if stage.startswith("engine"):
            name, below = first(frames, passes, at + 1)
            sub = name or "Engine::check own code"
            at = below if below is not None else at
        part, _ = first(frames, parts, at, reverse=True)
        part = part or "own code"
        by_stage[stage] += period
        by_path[(stage, sub, part)] += period
    if total == 0:
        print("perf_breakdown.py: no samples", file=sys.stderr)
        return 1
    us = lambda p: p / 1e3 / args.posts  # cpu-clock periods are nanoseconds
    print(f"Total: {total / 1e9:.3f} CPU s over {args.posts:,} posts = {us(total):.2f} µs per post "
          f"({args.posts / (total / 1e9):,.0f} posts per CPU second)\n")
    print("| stage | pass | part | share | µs/post |")
    print("|---|---|---|---:|---:|")
    for stage, stage_total in by_stage.most_common():
        print(f"| **{stage}** | | | **{100 * stage_total / total:.1f}%** | **{us(stage_total):.2f}** |")
        subs = collections.Counter()
        for (s, sub, part), p in by_path.items():
            if s == stage and sub:
                subs[sub] += p
        for sub, sub_total in subs.most_common():
            print(f"| | {sub} | | {100 * sub_total / total:.1f}% | {us(sub_total):.2f} |")
            for (s, sb, part), p in sorted(by_path.items(), key=lambda kv: -kv[1]):
                if s == stage and sb == sub and 100 * p / total >= 0.3:
                    print(f"| | | {part} | {100 * p / total:.1f}% | {us(p):.2f} |")
        if not subs:
            for (s, sb, part), p in sorted(by_path.items(), key=lambda kv: -kv[1]):
                if s == stage and 100 * p / total >= 0.3:
                    print(f"| | | {part} | {100 * p / total:.1f}% | {us(p):.2f} |")
    print(f"\nTop {args.top} symbols by self time:\n")
    print("| symbol | share | µs/post |")
    print("|---|---:|---:|")
    for sym, p in by_self.most_common(args.top):
        short = sym if len(sym) <= 110 else sym[:107] + "..."
        short = short.replace("|", "\\|")
        print(f"| `{short}` | {100 * p / total:.1f}% | {us(p):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
