#!/usr/bin/env python3
"""Builds the archive benchmark's input from the shared tweets.

Usage: items.py CORPUS_DIR COUNT OUT_JSONL OUT_CSV

Reads every *.jsonl file of CORPUS_DIR (sorted by name, lines in file order), takes each
line's "text" and repeats the sequence until there are COUNT items. Writes:

  OUT_JSONL  one item per line in the archive's import format: unique external ids, three
             platforms, 40 accounts, 2,000 authors of the three author types, a few kinds, and
             created_at rising from 2019-01-01 by about 3 minutes per item (so 1,000,000 items
             span about six years), as an archive filled over time would be;
  OUT_CSV    the same texts, one per row (RFC 4180 quoting), for the sqlite3 shell's .import.
"""

import csv
import datetime
import json
import pathlib
import sys


def main() -> None:
    corpus, count, out_jsonl, out_csv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    texts = []
    for path in sorted(pathlib.Path(corpus).glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            texts.extend(json.loads(line)["text"] for line in f if line.strip())
    platforms = ["x", "mastodon", "linkedin"]
    kinds = ["post"] * 6 + ["reply"] * 3 + ["comment"]
    author_types = ["employee"] * 6 + ["corporate"] * 2 + ["third_party"] * 2
    start = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
    with open(out_jsonl, "w", encoding="utf-8") as items, open(out_csv, "w", encoding="utf-8", newline="") as rows:
        writer = csv.writer(rows)
        for n in range(count):
            text = texts[n % len(texts)]
            created = start + datetime.timedelta(seconds=n * 190 + (n * 7919) % 600)
            item = {
                "platform": platforms[n % 3],
                "external_id": str(1_000_000_000 + n),
                "account": f"@brand{n % 40}",
                "author": f"user{(n * 31) % 2000}",
                "author_type": author_types[n % 10],
                "kind": kinds[(n // 3) % 10],
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "text": text,
            }
            items.write(json.dumps(item, ensure_ascii=False) + "\n")
            writer.writerow([text])


if __name__ == "__main__":
    main()
