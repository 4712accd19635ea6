-- The archive. `entries` is the hash chain and the record itself; every other table is a
-- projection of it, written in the same transaction, so search and filters can never miss or
-- outlive an entry. Every table is append-only: triggers refuse updates and deletes, except
-- the one change retention needs (dropping a payload a disposition entry has recorded).

CREATE TABLE entries (
    seq            INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    prev           BLOB    NOT NULL,
    payload_sha256 BLOB    NOT NULL,
    hash           BLOB    NOT NULL,
    payload        TEXT
) STRICT;

CREATE TABLE items (
    seq            INTEGER PRIMARY KEY REFERENCES entries (seq),
    platform       TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    external_id    TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    author         TEXT    NOT NULL,
    author_type    TEXT    NOT NULL,
    created_at     INTEGER,
    captured_at    INTEGER NOT NULL,
    sort_at        INTEGER NOT NULL,
    change         TEXT    NOT NULL,
    revises        INTEGER REFERENCES items (seq),
    version_digest BLOB    NOT NULL,
    -- The verdict given on the way in; NULL for deletions, which are not checked.
    action         TEXT,
    findings       INTEGER NOT NULL
) STRICT;

-- Not unique on the digest: the append plans versions under the write lock, and a narrow
-- index is much cheaper to extend.
CREATE INDEX items_key ON items (platform, external_id);
CREATE INDEX items_sort ON items (sort_at DESC, seq DESC);
CREATE INDEX items_account ON items (account, sort_at);
CREATE INDEX items_author ON items (author, sort_at);

-- Which item a verdict entry judged; the verdict itself is the entry's payload.
CREATE TABLE verdicts (
    seq            INTEGER PRIMARY KEY REFERENCES entries (seq),
    item           INTEGER NOT NULL REFERENCES items (seq)
) STRICT;

CREATE INDEX verdicts_item ON verdicts (item);

CREATE TABLE findings (
    item     INTEGER NOT NULL REFERENCES items (seq),
    verdict  INTEGER NOT NULL REFERENCES verdicts (seq),
    category TEXT    NOT NULL,
    rule     TEXT    NOT NULL
) STRICT;

CREATE INDEX findings_rule ON findings (rule, item);
CREATE INDEX findings_category ON findings (category, item);

CREATE TABLE holds (
    seq     INTEGER PRIMARY KEY REFERENCES entries (seq),
    id      TEXT NOT NULL
) STRICT;

CREATE TABLE hold_releases (
    seq     INTEGER PRIMARY KEY REFERENCES entries (seq),
    id      TEXT NOT NULL
) STRICT;

CREATE TABLE retention_rules (
    seq     INTEGER PRIMARY KEY REFERENCES entries (seq),
    id      TEXT NOT NULL
) STRICT;

CREATE TABLE disposed (
    target      INTEGER PRIMARY KEY REFERENCES entries (seq),
    disposition INTEGER NOT NULL REFERENCES entries (seq)
) STRICT;

CREATE TABLE checkpoints (
    seq       INTEGER PRIMARY KEY REFERENCES entries (seq),
    head      BLOB NOT NULL,
    signed_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature BLOB NOT NULL
) STRICT;

-- Contentless: the text lives once, in the entry's payload. Words are indexed as the core's
-- `archive::tokens` wrote them, so both databases see the same words.
CREATE VIRTUAL TABLE items_fts USING fts5 (
    words,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- The oldest and newest item time in each block of 8,192 entry numbers, so a search for a
-- common word can start with the newest items. Like the full-text index it summarizes the
-- entries, is kept current by every append, and is not part of the record.
CREATE TABLE item_blocks (
    block    INTEGER PRIMARY KEY,
    min_sort INTEGER NOT NULL,
    max_sort INTEGER NOT NULL
) STRICT;

-- How many items hold each word: search uses it to pick between reading a word's whole list
-- (rare words) and walking the newest items checking each (common words).
CREATE VIRTUAL TABLE items_vocab USING fts5vocab (items_fts, 'row');

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'archive entries are append-only');
END;

CREATE TRIGGER entries_only_disposal BEFORE UPDATE ON entries
WHEN NOT (
    NEW.seq IS OLD.seq AND NEW.kind IS OLD.kind AND NEW.recorded_at IS OLD.recorded_at
    AND NEW.prev IS OLD.prev AND NEW.payload_sha256 IS OLD.payload_sha256
    AND NEW.hash IS OLD.hash AND NEW.payload IS NULL AND OLD.payload IS NOT NULL
    AND EXISTS (SELECT 1 FROM disposed WHERE target = OLD.seq)
)
BEGIN
    SELECT RAISE(ABORT, 'archive entries are append-only');
END;

CREATE TRIGGER items_no_update BEFORE UPDATE ON items
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER items_no_delete BEFORE DELETE ON items
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER verdicts_no_update BEFORE UPDATE ON verdicts
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER verdicts_no_delete BEFORE DELETE ON verdicts
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER findings_no_update BEFORE UPDATE ON findings
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER findings_no_delete BEFORE DELETE ON findings
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER holds_no_update BEFORE UPDATE ON holds
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER hold_releases_no_update BEFORE UPDATE ON hold_releases
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER hold_releases_no_delete BEFORE DELETE ON hold_releases
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER retention_rules_no_update BEFORE UPDATE ON retention_rules
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER retention_rules_no_delete BEFORE DELETE ON retention_rules
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER disposed_no_update BEFORE UPDATE ON disposed
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER disposed_no_delete BEFORE DELETE ON disposed
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;
