-- The organization the server serves, and the audit trail's projection.
--
-- The directory tables (departments, people, accounts, tokens, sessions, failed logins,
-- settings) are state, not record: they change. Every change is made in the transaction of
-- an `action` entry in the chain that says who made it. `actions` is that entry's projection,
-- like `items`, and as append-only as every other archive table.
--
-- Times are microseconds since the Unix epoch, as in `items`.

CREATE TABLE departments (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE people (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    department    TEXT    REFERENCES departments (id),
    manager       INTEGER REFERENCES people (id),
    role          TEXT    NOT NULL,
    area          TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    -- An argon2id PHC string; NULL for someone who cannot sign in with a password yet.
    password_hash TEXT,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX people_manager ON people (manager);

CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    platform   TEXT    NOT NULL,
    handle     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    owner      INTEGER REFERENCES people (id),
    department TEXT    REFERENCES departments (id),
    created_at INTEGER NOT NULL,
    UNIQUE (platform, handle)
) STRICT;

CREATE INDEX accounts_owner ON accounts (owner);

-- Only the SHA-256 of a token's secret is kept; `scopes` holds scope names separated by spaces.
CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    person        INTEGER NOT NULL REFERENCES people (id),
    scopes        TEXT    NOT NULL,
    secret_sha256 BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER
) STRICT;

CREATE INDEX api_tokens_person ON api_tokens (person);

-- Keyed by the SHA-256 of the cookie's value, so reading this table signs no one in.
CREATE TABLE sessions (
    id_sha256  BLOB    PRIMARY KEY,
    person     INTEGER NOT NULL REFERENCES people (id),
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_person ON sessions (person);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- By login as typed, known or not, so guessing at unknown logins is slowed down too.
CREATE TABLE login_failures (
    login        TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    locked_until INTEGER
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- The audit trail: which action entry says who did what to what. The record itself is the
-- entry's payload; these columns are what the trail is filtered by.
CREATE TABLE actions (
    seq         INTEGER PRIMARY KEY REFERENCES entries (seq),
    recorded_at INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT
) STRICT;

CREATE INDEX actions_actor ON actions (actor, seq);
CREATE INDEX actions_action ON actions (action, seq);
CREATE INDEX actions_target ON actions (target, seq);
CREATE INDEX actions_recorded ON actions (recorded_at, seq);

CREATE TRIGGER actions_no_update BEFORE UPDATE ON actions
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;

CREATE TRIGGER actions_no_delete BEFORE DELETE ON actions
BEGIN
    SELECT RAISE(ABORT, 'archive tables are append-only');
END;
