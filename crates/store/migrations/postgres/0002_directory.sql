-- The organization the server serves, and the audit trail's projection.
--
-- The directory tables (departments, people, accounts, tokens, sessions, failed logins,
-- settings) are state, not record: they change. Every change is made in the transaction of
-- an `action` entry in the chain that says who made it. `actions` is that entry's projection,
-- like `items`, and as append-only as every other archive table.
--
-- Times are microseconds since the Unix epoch, as in `items`; names and ids use the "C"
-- collation, as in 0001.

CREATE TABLE departments (
    id   TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE people (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         TEXT COLLATE "C" NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    email         TEXT COLLATE "C" NOT NULL,
    department    TEXT COLLATE "C" REFERENCES departments (id),
    manager       BIGINT REFERENCES people (id),
    role          TEXT COLLATE "C" NOT NULL,
    area          TEXT COLLATE "C",
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    -- An argon2id PHC string; NULL for someone who cannot sign in with a password yet.
    password_hash TEXT,
    created_at    BIGINT NOT NULL
);

CREATE INDEX people_manager ON people (manager);

CREATE TABLE accounts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform   TEXT COLLATE "C" NOT NULL,
    handle     TEXT COLLATE "C" NOT NULL,
    name       TEXT NOT NULL,
    owner      BIGINT REFERENCES people (id),
    department TEXT COLLATE "C" REFERENCES departments (id),
    created_at BIGINT NOT NULL,
    UNIQUE (platform, handle)
);

CREATE INDEX accounts_owner ON accounts (owner);

-- Only the SHA-256 of a token's secret is kept; `scopes` holds scope names separated by spaces.
CREATE TABLE api_tokens (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    person        BIGINT NOT NULL REFERENCES people (id),
    scopes        TEXT COLLATE "C" NOT NULL,
    secret_sha256 BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT
);

CREATE INDEX api_tokens_person ON api_tokens (person);

-- Keyed by the SHA-256 of the cookie's value, so reading this table signs no one in.
CREATE TABLE sessions (
    id_sha256  BYTEA PRIMARY KEY,
    person     BIGINT NOT NULL REFERENCES people (id),
    csrf       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_person ON sessions (person);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- By login as typed, known or not, so guessing at unknown logins is slowed down too.
CREATE TABLE login_failures (
    login        TEXT COLLATE "C" PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE settings (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);

-- The audit trail: which action entry says who did what to what. The record itself is the
-- entry's payload; these columns are what the trail is filtered by. Written once per
-- administrative action, so it keeps its foreign key (see 0001).
CREATE TABLE actions (
    seq         BIGINT PRIMARY KEY REFERENCES entries (seq),
    recorded_at BIGINT NOT NULL,
    actor       TEXT COLLATE "C" NOT NULL,
    action      TEXT COLLATE "C" NOT NULL,
    target      TEXT COLLATE "C"
);

CREATE INDEX actions_actor ON actions (actor, seq);
CREATE INDEX actions_action ON actions (action, seq);
CREATE INDEX actions_target ON actions (target, seq);
CREATE INDEX actions_recorded ON actions (recorded_at, seq);

CREATE TRIGGER actions_append_only BEFORE UPDATE OR DELETE ON actions
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER actions_no_truncate BEFORE TRUNCATE ON actions
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();
