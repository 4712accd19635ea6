-- Authors and accounts are handles and logins, which platforms match whatever their letter
-- case, and legal holds already cover them so. Search filters and audiences now compare them
-- the same way (ASCII letters, `COLLATE NOCASE`), which these indexes serve.

DROP INDEX items_account;
DROP INDEX items_author;
CREATE INDEX items_account ON items (account COLLATE NOCASE, sort_at);
CREATE INDEX items_author ON items (author COLLATE NOCASE, sort_at);
