#!/usr/bin/env python3
"""Posts per second of alt-profanity-check, the peer the speed target was calibrated against.

Reads the first N texts of a JSON Lines file of {"id", "text"} posts (bench/posts.py writes
one), loads the model, then times `profanity_check.predict` over those texts in batches of
10,000 and prints one line: `<posts> <seconds> <posts/s>`. Only prediction is timed: reading
the file and loading the model are not. Run it pinned to one core with the BLAS thread pools
at one thread (bench/speed.sh does) to compare with lifeguard on one core.

Usage: peer_speed.py POSTS_JSONL N   (run with the interpreter of the venv quality.sh makes)
"""

import json
import sys
import time

BATCH = 10_000


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: peer_speed.py POSTS_JSONL N")
    path, wanted = sys.argv[1], int(sys.argv[2])
    texts = []
    with open(path, encoding="utf-8") as posts:
        for line in posts:
            if len(texts) == wanted:
                break
            texts.append(json.loads(line)["text"])
    if not texts:
        sys.exit(f"{path}: no posts")

    from profanity_check import predict

    predict(texts[:100])  # warm-up: the first call pays for lazy imports
    began = time.perf_counter()
    flagged = 0
    for start in range(0, len(texts), BATCH):
        flagged += int(sum(predict(texts[start:start + BATCH])))
    seconds = time.perf_counter() - began
    print(f"{len(texts)} {seconds:.3f} {len(texts) / seconds:.0f} {flagged}")


if __name__ == "__main__":
    main()
