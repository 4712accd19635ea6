//! The organization the server serves: departments, people, social accounts, API tokens,
//! sign-in sessions, failed-login counters and settings.
//!
//! These tables are state, not record: a person's department can change. Every change to
//! them is therefore made in one transaction with an `action` entry in the archive's chain
//! (an [`AuditRecord`]), so the record says who changed what, when and from where. Only reads,
//! session look-ups and session expiry leave no entry.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use lifeguard_core::access::{Role, TokenScope};
use lifeguard_core::archive::AuditRecord;

use crate::error::StoreError;

/// A department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Stable id (`[a-z0-9-]`, at most 64 bytes).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Database id.
    pub id: i64,
    /// Sign-in name, unique (lowercase); also the `author` of the items they write.
    pub login: String,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Department id.
    pub department: Option<String>,
    /// Their manager's id.
    pub manager: Option<i64>,
    /// Their one role.
    pub role: Role,
    /// For reviewers: the area they review (one of `lifeguard_core::access::REVIEW_AREAS`).
    pub area: Option<String>,
    /// Whether they may sign in.
    pub active: bool,
    /// When they were added.
    pub created_at: Timestamp,
}

/// A person to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    /// Sign-in name (lowercase, unique).
    pub login: String,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Department id (must exist).
    pub department: Option<String>,
    /// Manager's id (must exist).
    pub manager: Option<i64>,
    /// Role.
    pub role: Role,
    /// Review area, for reviewers.
    pub area: Option<String>,
    /// An argon2id PHC string, or `None` for a person who cannot sign in yet.
    pub password_hash: Option<String>,
}

/// Changes to a person; `None` leaves a field as it is. `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonPatch {
    /// New full name.
    pub name: Option<String>,
    /// New e-mail.
    pub email: Option<String>,
    /// New department.
    pub department: Option<Option<String>>,
    /// New manager (a person may not manage themselves, directly or through others).
    pub manager: Option<Option<i64>>,
    /// New role.
    pub role: Option<Role>,
    /// New review area.
    pub area: Option<Option<String>>,
    /// Activate or deactivate (deactivating ends their sessions and revokes their tokens).
    pub active: Option<bool>,
    /// New argon2id password hash.
    pub password_hash: Option<String>,
}

/// A social media account the organization archives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Database id.
    pub id: i64,
    /// Platform (lowercase), as on archived items.
    pub platform: String,
    /// The handle, as the `account` of archived items.
    pub handle: String,
    /// Display name.
    pub name: String,
    /// Whose it is: for an employee's own account the employee, for a corporate one the person
    /// responsible. Items from it belong to that person's team.
    pub owner: Option<i64>,
    /// The department it speaks for.
    pub department: Option<String>,
    /// When it was added.
    pub created_at: Timestamp,
}

/// An account to add. Platform and handle together are unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// Platform (lowercase).
    pub platform: String,
    /// Handle.
    pub handle: String,
    /// Display name.
    pub name: String,
    /// Owner's person id.
    pub owner: Option<i64>,
    /// Department id.
    pub department: Option<String>,
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Public id, part of the token's text (`lgt_<id>_<secret>`).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Whose it is: it acts as that person, within its scopes.
    pub person: i64,
    /// What it may do.
    pub scopes: Vec<TokenScope>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// A token to store. Only the SHA-256 of its secret is kept: the secret is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Public id (`[a-z0-9]`, unique).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Whose it is.
    pub person: i64,
    /// What it may do (at least one).
    pub scopes: Vec<TokenScope>,
    /// SHA-256 of the secret.
    pub secret_sha256: [u8; 32],
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
}

/// A sign-in session to store. Only the SHA-256 of the cookie's value is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the session cookie's value.
    pub id_sha256: [u8; 32],
    /// Who signed in.
    pub person: i64,
    /// The session's CSRF token, echoed by every form.
    pub csrf: String,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// A live session with its person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who.
    pub person: Person,
    /// The CSRF token.
    pub csrf: String,
    /// When it started.
    pub created_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// After how many failures in a row, and for how long, a login is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Failures in a row that lock the login.
    pub max_failures: u32,
    /// How long it stays locked.
    pub lock_for: SignedDuration,
}

/// A login's failure count, after a failure was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    /// Failures in a row.
    pub failures: u32,
    /// Locked until then, if locked.
    pub locked_until: Option<Timestamp>,
}

/// A setting and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Key (`[a-z0-9_.]`).
    pub key: String,
    /// Value.
    pub value: String,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action, or this action's family (`login` also matches `login.failed`).
    pub action: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// Recorded at or after.
    pub since: Option<Timestamp>,
    /// Recorded before.
    pub until: Option<Timestamp>,
    /// Only entries before this entry number (the cursor).
    pub before: Option<u64>,
    /// At most this many (1 to 1,000).
    pub limit: u32,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its entry number in the chain.
    pub seq: u64,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// What it says.
    pub record: AuditRecord,
}

/// The organization's directory. Every method that changes something takes the audit record
/// to write with it, in the same transaction, and returns after both are committed.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Writes an audit entry on its own (for actions that change nothing else here, such as
    /// a refused request worth recording). Returns its entry number.
    async fn record_action(&self, audit: &AuditRecord, at: Timestamp) -> Result<u64, StoreError>;

    /// Audit entries, newest first.
    async fn audit_trail(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;

    /// Every department, by id.
    async fn departments(&self) -> Result<Vec<Department>, StoreError>;

    /// Adds a department or renames it.
    async fn put_department(
        &self,
        department: &Department,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Every person, by login.
    async fn people(&self) -> Result<Vec<Person>, StoreError>;

    /// One person.
    async fn person(&self, id: i64) -> Result<Option<Person>, StoreError>;

    /// One person by login.
    async fn person_by_login(&self, login: &str) -> Result<Option<Person>, StoreError>;

    /// A person's password hash, if they have one.
    async fn password_hash(&self, id: i64) -> Result<Option<String>, StoreError>;

    /// Everyone who reports to `manager`, directly or through others (not `manager`).
    async fn team(&self, manager: i64) -> Result<Vec<Person>, StoreError>;

    /// Adds a person. Fails with `Invalid` if the login is taken or the department or manager
    /// does not exist.
    async fn create_person(
        &self,
        person: &NewPerson,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<Person, StoreError>;

    /// Changes a person. Fails with `Invalid` for an unknown person, department or manager, or
    /// a manager chain that would loop.
    async fn update_person(
        &self,
        id: i64,
        patch: &PersonPatch,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<Person, StoreError>;

    /// Every account, by platform and handle.
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;

    /// Adds an account. Fails with `Invalid` if the platform and handle are taken.
    async fn create_account(
        &self,
        account: &NewAccount,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<Account, StoreError>;

    /// API tokens: one person's, or everyone's.
    async fn tokens(&self, person: Option<i64>) -> Result<Vec<Token>, StoreError>;

    /// Stores a new token.
    async fn create_token(
        &self,
        token: &NewToken,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<Token, StoreError>;

    /// Revokes a token (already revoked: `Invalid`).
    async fn revoke_token(
        &self,
        id: &str,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<Token, StoreError>;

    /// A token with the SHA-256 of its secret and its person, to authenticate a request.
    async fn token_secret(&self, id: &str)
    -> Result<Option<(Token, [u8; 32], Person)>, StoreError>;

    /// Starts a session (a successful sign-in): stores it, clears the login's failure count and
    /// writes the audit entry, in one transaction.
    async fn create_session(
        &self,
        session: &NewSession,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The live session with this id hash at `now`, if its person is still active.
    async fn session(
        &self,
        id_sha256: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError>;

    /// Ends a session (sign-out) and writes the audit entry.
    async fn end_session(
        &self,
        id_sha256: &[u8; 32],
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Deletes sessions that ended before `now`; returns how many.
    async fn expire_sessions(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// Records a failed sign-in for `login` (known or not) with its audit entry, and locks the
    /// login when `lockout.max_failures` failures come in a row.
    async fn login_failed(
        &self,
        login: &str,
        lockout: Lockout,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<LoginFailures, StoreError>;

    /// Until when `login` is locked at `now`, if it is.
    async fn locked_until(
        &self,
        login: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError>;

    /// Every setting, by key.
    async fn settings(&self) -> Result<Vec<Setting>, StoreError>;

    /// Sets a setting.
    async fn set_setting(
        &self,
        setting: &Setting,
        audit: &AuditRecord,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
