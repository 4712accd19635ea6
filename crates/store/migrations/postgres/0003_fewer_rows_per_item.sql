-- One row and two index keys fewer for every archived item. An import into PostgreSQL is
-- bound by the one server process that writes the rows and maintains every index, so what an
-- item costs there is what the import costs.
--
-- `verdicts` is only ever read by item, so its key becomes (item, seq) and the separate index
-- on `item` goes.
--
-- The search words move from the `items_search` table into a column of `items`. Disposal used
-- to delete an item's `items_search` row; it now sets `items.tsv` to NULL, which is the one
-- change the guard on `items` allows, and only once the disposition has been recorded.

ALTER TABLE verdicts DROP CONSTRAINT verdicts_pkey;
ALTER TABLE verdicts ADD PRIMARY KEY (item, seq);
DROP INDEX verdicts_item;

ALTER TABLE items ADD COLUMN tsv TSVECTOR;
ALTER TABLE items DISABLE TRIGGER items_append_only;
UPDATE items i SET tsv = s.tsv FROM items_search s WHERE s.seq = i.seq;
ALTER TABLE items ENABLE TRIGGER items_append_only;

DROP TABLE items_search;
DROP FUNCTION archive_search_only_disposal();

CREATE INDEX items_words ON items USING GIN (tsv);

-- An item row may change in one way only: its words dropped from the index, every other
-- column kept, after a disposition has been recorded for it.
CREATE FUNCTION archive_items_only_disposal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.tsv IS NULL AND OLD.tsv IS NOT NULL
           AND to_jsonb(NEW) - 'tsv' = to_jsonb(OLD) - 'tsv'
           AND EXISTS (SELECT 1 FROM disposed WHERE target = OLD.seq) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'archive tables are append-only'
        USING DETAIL = format('%s on items refused', TG_OP);
END;
$$;

DROP TRIGGER items_append_only ON items;
CREATE TRIGGER items_only_disposal BEFORE UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION archive_items_only_disposal();
