#!/usr/bin/env python3
"""How long SQLite itself takes to write what `lifeguard import` writes.

Replays the first N items of an archive that bench/archive.sh built (their two entries, item
row, verdict row and full-text row) into a fresh database with the same tables and indexes,
in transactions of 5,000 items with the pragmas the store uses (WAL, synchronous=FULL, 64 MiB
cache), and times each table's statements. The rows are read into memory first, so only the
writes are timed. What is left of an import's wall time beyond this total is ours: parsing,
checking, hashing, planning and handing rows to SQLite.

Python's sqlite3 module links the system SQLite, which may be older than the one the binary
bundles: the full-text table is created without `contentless_delete` when that SQLite lacks
it. Findings are not replayed (a few percent of the rows).

Usage: bench/sqlite_floor.py [ARCHIVE [ITEMS]]
  ARCHIVE  default target/bench-archive/data/archive.sqlite3
  ITEMS    default 200000
"""

import json
import os
import sqlite3
import sys
import time

BATCH = 5_000

COLUMNS = {
    "entries": "seq, kind, recorded_at, prev, payload_sha256, hash, payload",
    "items": "seq, platform, account, external_id, kind, author, author_type, created_at, "
    "captured_at, sort_at, change, revises, version_digest, action, findings",
    "verdicts": "seq, item",
}


def schema(source):
    """The archive's own CREATE statements for the replayed tables and their indexes."""
    wanted = ("entries", "items", "verdicts", "items_fts")
    statements = []
    for kind, name, table, sql in source.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ):
        if table not in wanted or kind not in ("table", "index"):
            continue
        if name.startswith("items_fts_"):
            continue  # FTS5 creates its own shadow tables
        statements.append(sql)
    return statements


def create(target, statements):
    for sql in statements:
        try:
            target.execute(sql)
        except sqlite3.OperationalError as err:
            if "contentless_delete" not in str(err):
                raise
            target.execute(sql.replace("contentless_delete = 1,", ""))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    archive = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        root, "target/bench-archive/data/archive.sqlite3")
    items = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    target_path = os.path.join(os.path.dirname(archive), "..", "floor.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(target_path + suffix):
            os.remove(target_path + suffix)

    source = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    item_rows = source.execute(
        f"SELECT {COLUMNS['items']} FROM items ORDER BY seq LIMIT ?", (items,)).fetchall()
    if not item_rows:
        sys.exit(f"{archive}: no items (run bench/archive.sh first)")
    last = item_rows[-1][0]
    entry_rows = source.execute(
        f"SELECT {COLUMNS['entries']} FROM entries WHERE seq <= ? + 1 ORDER BY seq", (last,)
    ).fetchall()
    verdict_rows = source.execute(
        f"SELECT {COLUMNS['verdicts']} FROM verdicts WHERE item <= ? ORDER BY seq", (last,)
    ).fetchall()
    # The full-text table keeps no content: the item's text stands in for the words the import
    # indexes (the same words but for case and a few symbols).
    texts = {seq: json.loads(payload)["text"] for seq, kind, _, _, _, _, payload in entry_rows
             if kind == "item"}
    statements = schema(source)
    source.close()

    target = sqlite3.connect(target_path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "cache_size = -65536",
                   "wal_autocheckpoint = 16384"):
        target.execute(f"PRAGMA {pragma}")
    create(target, statements)

    spent = {"entries": 0.0, "items": 0.0, "verdicts": 0.0, "items_fts": 0.0}
    inserts = {table: f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(cols.split(',')))})"
               for table, cols in COLUMNS.items()}
    entry_at = verdict_at = 0
    for start in range(0, len(item_rows), BATCH):
        batch = item_rows[start:start + BATCH]
        high = batch[-1][0] + 1  # the last item's verdict follows it
        entry_end = entry_at
        while entry_end < len(entry_rows) and entry_rows[entry_end][0] <= high:
            entry_end += 1
        verdict_end = verdict_at
        while verdict_end < len(verdict_rows) and verdict_rows[verdict_end][1] <= batch[-1][0]:
            verdict_end += 1
        parts = {
            "entries": (inserts["entries"], entry_rows[entry_at:entry_end]),
            "items": (inserts["items"], batch),
            "verdicts": (inserts["verdicts"], verdict_rows[verdict_at:verdict_end]),
            "items_fts": ("INSERT INTO items_fts (rowid, words) VALUES (?, ?)",
                          [(row[0], texts[row[0]]) for row in batch]),
        }
        entry_at, verdict_at = entry_end, verdict_end
        target.execute("BEGIN IMMEDIATE")
        for table, (sql, rows) in parts.items():
            began = time.perf_counter()
            target.executemany(sql, rows)
            spent[table] += time.perf_counter() - began
        began = time.perf_counter()
        target.execute("COMMIT")
        spent["commit"] = spent.get("commit", 0.0) + time.perf_counter() - began
    target.close()

    total = sum(spent.values())
    print(f"SQLite {sqlite3.sqlite_version}, {len(item_rows):,} items, "
          f"{entry_at:,} entries, batches of {BATCH:,}:")
    print()
    print("| statements | seconds | per 1,000,000 items |")
    print("|---|---:|---:|")
    for table, seconds in spent.items():
        print(f"| {table} | {seconds:.2f} | {seconds * 1e6 / len(item_rows):.1f} s |")
    print(f"| **all** | **{total:.2f}** | **{total * 1e6 / len(item_rows):.1f} s** |")


if __name__ == "__main__":
    main()
