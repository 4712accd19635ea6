"""Score offensive-language detectors on a labeled JSONL corpus.

Reads the corpus (one {"id", "text", "label"} object per line, label "offensive" or
"not-offensive"), optionally Lifeguard's verdicts for the same file (one JSON verdict per
input line, in order, echoing "id"), runs the two Python peers over the same texts and
prints a Markdown table. A post counts as predicted offensive by Lifeguard when any of its
findings has category "offensive".

The corpus is research data: this script only reads it at run time and never writes any
of its text anywhere.

Usage: quality.py --corpus FILE [--verdicts FILE] [--no-peers]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

POSITIVE = "offensive"
NEGATIVE = "not-offensive"


@dataclass
class Scores:
    system: str
    tp: int
    fp: int
    fn: int
    tn: int
    note: str = ""

    @staticmethod
    def from_predictions(system: str, gold: list[bool], pred: list[bool], note: str = "") -> "Scores":
        tp = sum(g and p for g, p in zip(gold, pred))
        fp = sum((not g) and p for g, p in zip(gold, pred))
        fn = sum(g and (not p) for g, p in zip(gold, pred))
        tn = sum((not g) and (not p) for g, p in zip(gold, pred))
        return Scores(system, tp, fp, fn, tn, note)

    @staticmethod
    def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def row(self) -> list[str]:
        precision, recall, f1_pos = self._f1(self.tp, self.fp, self.fn)
        # The not-offensive class: its true positives are our true negatives.
        _, _, f1_neg = self._f1(self.tn, self.fn, self.fp)
        total = self.tp + self.fp + self.fn + self.tn
        accuracy = (self.tp + self.tn) / total if total else 0.0
        return [
            self.system,
            f"{precision:.3f}",
            f"{recall:.3f}",
            f"{f1_pos:.3f}",
            f"{(f1_pos + f1_neg) / 2:.3f}",
            f"{accuracy:.3f}",
            str(self.tp + self.fp),
            str(total),
        ]


def read_corpus(path: str) -> tuple[list[str], list[str], list[bool]]:
    ids, texts, gold = [], [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            label = row["label"]
            if label not in (POSITIVE, NEGATIVE):
                sys.exit(f"quality.py: {path}:{number}: unknown label {label!r}")
            ids.append(row["id"])
            texts.append(row["text"])
            gold.append(label == POSITIVE)
    return ids, texts, gold


def read_verdicts(path: str, ids: list[str]) -> tuple[list[bool], int]:
    """Lifeguard's predictions, aligned with the corpus by id (falling back to line order).

    Error lines ({"line": n, "error": "..."}) and missing verdicts count as "not
    offensive" and are reported, so a broken run cannot look better than it is.
    """
    by_id: dict[str, bool] = {}
    in_order: list[bool | None] = []
    errors = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            verdict = json.loads(line)
            if "error" in verdict:
                errors += 1
                in_order.append(None)
                continue
            offensive = any(
                finding.get("category") == "offensive" for finding in verdict.get("findings", [])
            )
            in_order.append(offensive)
            if "id" in verdict:
                by_id[str(verdict["id"])] = offensive
    if by_id:
        predictions = [by_id.get(post_id, False) for post_id in ids]
        missing = sum(1 for post_id in ids if post_id not in by_id)
    else:
        predictions = [bool(in_order[i]) if i < len(in_order) else False for i in range(len(ids))]
        missing = max(0, len(ids) - len(in_order)) + errors
    return predictions, missing


def peer_better_profanity(texts: list[str]) -> list[bool]:
    from better_profanity import profanity

    profanity.load_censor_words()
    return [bool(profanity.contains_profanity(text)) for text in texts]


def peer_alt_profanity_check(texts: list[str]) -> list[bool]:
    from profanity_check import predict

    return [bool(p) for p in predict(texts)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="labeled JSONL corpus")
    parser.add_argument("--verdicts", help="Lifeguard's JSONL verdicts for the corpus")
    parser.add_argument("--no-peers", action="store_true", help="score Lifeguard only")
    args = parser.parse_args()

    ids, texts, gold = read_corpus(args.corpus)
    results: list[Scores] = []
    if args.verdicts:
        predictions, problems = read_verdicts(args.verdicts, ids)
        note = f"{problems} posts without a verdict" if problems else ""
        results.append(Scores.from_predictions("lifeguard (default policy)", gold, predictions, note))
    if not args.no_peers:
        results.append(Scores.from_predictions("better-profanity", gold, peer_better_profanity(texts)))
        results.append(Scores.from_predictions("alt-profanity-check", gold, peer_alt_profanity_check(texts)))

    positives = sum(gold)
    print(f"Corpus: `{args.corpus}` — {len(gold)} posts, {positives} offensive, {len(gold) - positives} not offensive.")
    print()
    header = ["system", "precision", "recall", "F1", "macro-F1", "accuracy", "flagged", "posts"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    for scores in results:
        print("| " + " | ".join(scores.row()) + " |")
    notes = [f"{s.system}: {s.note}" for s in results if s.note]
    if notes:
        print()
        for note in notes:
            print(f"Note: {note}.")
    print()
    print("Precision, recall and F1 are for the offensive class; macro-F1 is the mean of the F1 of both classes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
