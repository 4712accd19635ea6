#!/usr/bin/env python3
"""Builds the speed benchmark's input from the shared tweets.

Usage: posts.py CORPUS_DIR COUNT OUT_JSONL OUT_TXT

Reads every *.jsonl file of CORPUS_DIR (sorted by name, lines in file order), takes each
line's "text" and repeats the sequence until there are exactly COUNT posts. Writes:

  OUT_JSONL  one {"id": "<n>", "text": ...} object per line, n = 1..COUNT (unique ids);
             the text is re-encoded with json.dumps(ensure_ascii=False), so non-ASCII stays
             UTF-8 as in the corpus, and the corpus's other fields (labels) are dropped.
  OUT_TXT    the same texts lowercased (str.lower), one per line, with every CR and LF
             replaced by a space and nothing escaped: ripgrep's input.

Output files are written next to their final name and renamed, so an interrupted run never
leaves a half-written input behind. Prints the number of distinct tweets and the sizes.
"""

import json
import os
import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    corpus_dir, count, out_jsonl, out_txt = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    files = sorted(corpus_dir.glob("*.jsonl"))
    if not files:
        print(f"posts.py: no *.jsonl files in {corpus_dir}", file=sys.stderr)
        return 2
    texts = []
    for path in files:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    texts.append(json.loads(line)["text"])
    if not texts:
        print(f"posts.py: the corpus in {corpus_dir} holds no posts", file=sys.stderr)
        return 2
    # Encode each distinct tweet once; the repetitions reuse the encoded forms.
    encoded = [json.dumps(t, ensure_ascii=False) for t in texts]
    lowered = [t.lower().replace("\r", " ").replace("\n", " ") for t in texts]
    tmp_jsonl, tmp_txt = out_jsonl.with_suffix(".jsonl.tmp"), out_txt.with_suffix(".txt.tmp")
    with tmp_jsonl.open("w", encoding="utf-8", newline="\n") as jsonl, tmp_txt.open(
        "w", encoding="utf-8", newline="\n"
    ) as txt:
        n = len(texts)
        for i in range(count):
            jsonl.write(f'{{"id": "{i + 1}", "text": {encoded[i % n]}}}\n')
            txt.write(lowered[i % n])
            txt.write("\n")
    os.replace(tmp_jsonl, out_jsonl)
    os.replace(tmp_txt, out_txt)
    print(
        f"posts.py: {count} posts from {n} distinct tweets in {len(files)} file(s); "
        f"{out_jsonl.stat().st_size / 1e6:.1f} MB JSONL, {out_txt.stat().st_size / 1e6:.1f} MB text",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
