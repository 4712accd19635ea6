-- The archive. `entries` is the hash chain and the record itself; every other table is a
-- projection of it, written in the same transaction, so search and filters can never miss or
-- outlive an entry. Every table is append-only: triggers refuse updates, deletes and
-- truncation, except the two changes retention needs (dropping a payload a disposition entry
-- has recorded, and removing that item's words from the search index).
--
-- Names, ids and other compared text use the "C" collation: byte order, as SQLite compares,
-- whatever locale the database was created with (and cheaper to index).
--
-- The rows written for every archived item (`items`, `items_search`, `verdicts`, `findings`)
-- carry no foreign keys, unlike SQLite's. PostgreSQL checks a foreign key by locking the row
-- it references, once per inserted row, which cost about 40% of append throughput; these
-- rows are written only by the append, from one plan, in the transaction that writes their
-- entries, never change afterwards, and `verify` compares every item row with its entry.
-- The tables written once per administrative command keep theirs.

CREATE TABLE entries (
    seq            BIGINT PRIMARY KEY,
    kind           TEXT COLLATE "C" NOT NULL,
    recorded_at    TEXT COLLATE "C" NOT NULL,
    prev           BYTEA NOT NULL,
    payload_sha256 BYTEA NOT NULL,
    hash           BYTEA NOT NULL,
    payload        TEXT
);

CREATE TABLE items (
    seq            BIGINT PRIMARY KEY,
    platform       TEXT COLLATE "C" NOT NULL,
    account        TEXT COLLATE "C" NOT NULL,
    external_id    TEXT COLLATE "C" NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL,
    author         TEXT COLLATE "C" NOT NULL,
    author_type    TEXT COLLATE "C" NOT NULL,
    -- Times in microseconds since the Unix epoch.
    created_at     BIGINT,
    captured_at    BIGINT NOT NULL,
    sort_at        BIGINT NOT NULL,
    change         TEXT COLLATE "C" NOT NULL,
    revises        BIGINT,
    version_digest BYTEA NOT NULL,
    -- The verdict given on the way in; NULL for deletions, which are not checked.
    action         TEXT COLLATE "C",
    findings       BIGINT NOT NULL
);

-- Not unique on the digest: the append plans versions under the write lock, and a narrow
-- index is cheaper to extend.
CREATE INDEX items_key ON items (platform, external_id);
CREATE INDEX items_sort ON items (sort_at DESC, seq DESC);
CREATE INDEX items_account ON items (account, sort_at);
CREATE INDEX items_author ON items (author, sort_at);

-- The search index: one row per item, holding the words the core's `archive::tokens` wrote,
-- with their positions (for phrases). A table of its own because `items` never changes, while
-- disposal must take the words out of the index.
CREATE TABLE items_search (
    seq BIGINT PRIMARY KEY,
    tsv TSVECTOR NOT NULL
);

CREATE INDEX items_search_words ON items_search USING GIN (tsv);

-- Which item a verdict entry judged; the verdict itself is the entry's payload.
CREATE TABLE verdicts (
    seq  BIGINT PRIMARY KEY,
    item BIGINT NOT NULL
);

CREATE INDEX verdicts_item ON verdicts (item);

CREATE TABLE findings (
    item     BIGINT NOT NULL,
    verdict  BIGINT NOT NULL,
    category TEXT COLLATE "C" NOT NULL,
    rule     TEXT COLLATE "C" NOT NULL
);

CREATE INDEX findings_rule ON findings (rule, item);
CREATE INDEX findings_category ON findings (category, item);

CREATE TABLE holds (
    seq BIGINT PRIMARY KEY REFERENCES entries (seq),
    id  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE hold_releases (
    seq BIGINT PRIMARY KEY REFERENCES entries (seq),
    id  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE retention_rules (
    seq BIGINT PRIMARY KEY REFERENCES entries (seq),
    id  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE disposed (
    target      BIGINT PRIMARY KEY REFERENCES entries (seq),
    disposition BIGINT NOT NULL REFERENCES entries (seq)
);

-- No foreign key to `entries`: a checkpoint is evidence about the chain, kept even if the
-- entry it signs is removed behind the archive's back, so verification reports the chain as
-- truncated instead of the database refusing to let the evidence outlive it.
CREATE TABLE checkpoints (
    seq       BIGINT PRIMARY KEY,
    head      BYTEA NOT NULL,
    signed_at TEXT COLLATE "C" NOT NULL,
    key_id    TEXT COLLATE "C" NOT NULL,
    signature BYTEA NOT NULL
);

-- The guards. The messages say "append-only": the store classifies refusals by that phrase.

CREATE FUNCTION archive_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'archive tables are append-only'
        USING DETAIL = format('%s on %s refused', TG_OP, TG_TABLE_NAME);
END;
$$;

-- An entry may change in one way only: its payload dropped, everything else kept, after a
-- disposition has been recorded for it.
CREATE FUNCTION archive_entries_only_disposal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.seq IS NOT DISTINCT FROM OLD.seq
           AND NEW.kind IS NOT DISTINCT FROM OLD.kind
           AND NEW.recorded_at IS NOT DISTINCT FROM OLD.recorded_at
           AND NEW.prev IS NOT DISTINCT FROM OLD.prev
           AND NEW.payload_sha256 IS NOT DISTINCT FROM OLD.payload_sha256
           AND NEW.hash IS NOT DISTINCT FROM OLD.hash
           AND NEW.payload IS NULL AND OLD.payload IS NOT NULL
           AND EXISTS (SELECT 1 FROM disposed WHERE target = OLD.seq) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'archive entries are append-only'
        USING DETAIL = format('%s on entries refused', TG_OP);
END;
$$;

-- An item's words may leave the index only once its disposition is recorded.
CREATE FUNCTION archive_search_only_disposal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM disposed WHERE target = OLD.seq) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'archive tables are append-only'
        USING DETAIL = format('%s on items_search refused', TG_OP);
END;
$$;

CREATE TRIGGER entries_only_disposal BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION archive_entries_only_disposal();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION archive_entries_only_disposal();

CREATE TRIGGER items_search_only_disposal BEFORE UPDATE OR DELETE ON items_search
    FOR EACH ROW EXECUTE FUNCTION archive_search_only_disposal();
CREATE TRIGGER items_search_no_truncate BEFORE TRUNCATE ON items_search
    FOR EACH STATEMENT EXECUTE FUNCTION archive_search_only_disposal();

CREATE TRIGGER items_append_only BEFORE UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER items_no_truncate BEFORE TRUNCATE ON items
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

CREATE TRIGGER verdicts_append_only BEFORE UPDATE OR DELETE ON verdicts
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER verdicts_no_truncate BEFORE TRUNCATE ON verdicts
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

CREATE TRIGGER findings_append_only BEFORE UPDATE OR DELETE ON findings
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER findings_no_truncate BEFORE TRUNCATE ON findings
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

CREATE TRIGGER holds_append_only BEFORE UPDATE OR DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER holds_no_truncate BEFORE TRUNCATE ON holds
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

CREATE TRIGGER hold_releases_append_only BEFORE UPDATE OR DELETE ON hold_releases
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER hold_releases_no_truncate BEFORE TRUNCATE ON hold_releases
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

CREATE TRIGGER retention_rules_append_only BEFORE UPDATE OR DELETE ON retention_rules
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER retention_rules_no_truncate BEFORE TRUNCATE ON retention_rules
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

CREATE TRIGGER disposed_append_only BEFORE UPDATE OR DELETE ON disposed
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER disposed_no_truncate BEFORE TRUNCATE ON disposed
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();
