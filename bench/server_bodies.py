#!/usr/bin/env python3
"""Builds the server benchmark's request material from the shared corpus.

Usage: server_bodies.py CORPUS_DIR OUT_DIR

Writes, from every *.jsonl file of CORPUS_DIR (sorted by name, lines in file order):

  OUT_DIR/check-bodies.txt   one JSON body per line for POST /api/v1/check: {"text", "platform",
                             "kind"}, cycling through three platforms and two kinds;
  OUT_DIR/item-texts.txt     one JSON string literal per line (the text, already escaped), from
                             which bench/wrk/ingest.lua builds batches with unique external ids.
"""

import json
import pathlib
import sys


def main() -> None:
    corpus, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    texts = []
    for path in sorted(corpus.glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            texts.extend(json.loads(line)["text"] for line in f if line.strip())
    platforms = ["x", "mastodon", "linkedin"]
    kinds = ["post", "reply"]
    with open(out / "check-bodies.txt", "w", encoding="utf-8") as bodies:
        for n, text in enumerate(texts):
            body = {"text": text, "platform": platforms[n % 3], "kind": kinds[n % 2]}
            bodies.write(json.dumps(body, ensure_ascii=False) + "\n")
    with open(out / "item-texts.txt", "w", encoding="utf-8") as items:
        for text in texts:
            items.write(json.dumps(text, ensure_ascii=False) + "\n")
    print(f"{len(texts)} texts", file=sys.stderr)


if __name__ == "__main__":
    main()
