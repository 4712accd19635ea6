-- Authors and accounts are handles and logins, which platforms match whatever their letter
-- case, and legal holds already cover them so. Search filters and audiences now compare them
-- the same way: lower() under the "C" collation changes ASCII letters only, as SQLite's NOCASE
-- does, so both databases find the same items.

DROP INDEX items_account;
DROP INDEX items_author;
CREATE INDEX items_account ON items (lower(account COLLATE "C"), sort_at);
CREATE INDEX items_author ON items (lower(author COLLATE "C"), sort_at);
