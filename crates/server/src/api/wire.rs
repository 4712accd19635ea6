//! The JSON the API answers with, for the records more than one route returns. The store's
//! types stay free of serialization; these are the contract, and their schemas are in the
//! OpenAPI document. Times are RFC 3339 strings in UTC with microseconds.

use lifeguard_core::archive::format_time;
use lifeguard_store::{Account, Department, ItemSummary, Person, Setting, Token};
use serde::Serialize;
use utoipa::ToSchema;

/// A time as the API writes it.
pub(super) fn time(at: jiff::Timestamp) -> String {
    format_time(at)
}

/// A person, without anything secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Person)]
pub(super) struct PersonJson {
    /// Database id.
    id: i64,
    /// Sign-in name; also the `author` of the items they write.
    login: String,
    /// Full name.
    name: String,
    /// E-mail address.
    email: String,
    /// Department id.
    department: Option<String>,
    /// Their manager's id.
    manager: Option<i64>,
    /// `admin`, `compliance`, `supervisor`, `reviewer`, `employee` or `auditor`.
    role: &'static str,
    /// For reviewers: `legal`, `security`, `privacy` or `brand`.
    area: Option<String>,
    /// Whether they may sign in.
    active: bool,
    /// When they were added.
    created_at: String,
}

impl From<Person> for PersonJson {
    fn from(person: Person) -> PersonJson {
        PersonJson {
            id: person.id,
            login: person.login,
            name: person.name,
            email: person.email,
            department: person.department,
            manager: person.manager,
            role: person.role.name(),
            area: person.area,
            active: person.active,
            created_at: time(person.created_at),
        }
    }
}

/// A department.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Department)]
pub(super) struct DepartmentJson {
    /// Stable id: 1 to 64 bytes of `a-z`, `0-9` and `-`.
    id: String,
    /// Display name.
    name: String,
}

impl From<Department> for DepartmentJson {
    fn from(department: Department) -> DepartmentJson {
        DepartmentJson { id: department.id, name: department.name }
    }
}

/// A social media account the organization archives.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account)]
pub(super) struct AccountJson {
    /// Database id.
    id: i64,
    /// Platform (lowercase), as on archived items.
    platform: String,
    /// The handle, as the `account` of archived items.
    handle: String,
    /// Display name.
    name: String,
    /// The id of the person responsible for it; its items belong to their team.
    owner: Option<i64>,
    /// The department it speaks for.
    department: Option<String>,
    /// When it was added.
    created_at: String,
}

impl From<Account> for AccountJson {
    fn from(account: Account) -> AccountJson {
        AccountJson {
            id: account.id,
            platform: account.platform,
            handle: account.handle,
            name: account.name,
            owner: account.owner,
            department: account.department,
            created_at: time(account.created_at),
        }
    }
}

/// An API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub(super) struct TokenJson {
    /// Public id: the `<id>` in `lgt_<id>_<secret>`.
    id: String,
    /// What it is for.
    name: String,
    /// The id of the person it acts as.
    person: i64,
    /// What it may do: `check`, `ingest`, `read`, `admin`.
    scopes: Vec<&'static str>,
    /// When it was made.
    created_at: String,
    /// When it stops working, if ever.
    expires_at: Option<String>,
    /// When it was revoked, if it was.
    revoked_at: Option<String>,
}

impl From<Token> for TokenJson {
    fn from(token: Token) -> TokenJson {
        TokenJson {
            id: token.id,
            name: token.name,
            person: token.person,
            scopes: token.scopes.iter().map(|scope| scope.name()).collect(),
            created_at: time(token.created_at),
            expires_at: token.expires_at.map(time),
            revoked_at: token.revoked_at.map(time),
        }
    }
}

/// A setting.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Setting)]
pub(super) struct SettingJson {
    /// Key: 1 to 64 bytes of `a-z`, `0-9`, `_` and `.`.
    key: String,
    /// Value.
    value: String,
}

impl From<Setting> for SettingJson {
    fn from(setting: Setting) -> SettingJson {
        SettingJson { key: setting.key, value: setting.value }
    }
}

/// An archived item version, as search lists it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Item)]
pub(super) struct ItemJson {
    /// The item's entry number in the chain: its id in the archive.
    seq: u64,
    /// Platform (lowercase).
    platform: String,
    /// The organization's account it was captured from.
    account: String,
    /// The platform's id for it.
    external_id: String,
    /// `post`, `reply`, `comment`, `message`, `repost`, `story`, `profile`, `bio`, `banner` or
    /// `pinned`.
    kind: String,
    /// Who wrote it.
    author: String,
    /// `employee`, `corporate` or `third_party`.
    author_type: String,
    /// When the platform says it was made.
    created_at: Option<String>,
    /// When the archive received it.
    captured_at: String,
    /// `original`, `edit` or `deletion`.
    change: String,
    /// For edits and deletions: the entry number of the version this one revises.
    revises: Option<u64>,
    /// The action of the verdict it was given on the way in (`null` for a deletion without
    /// text).
    verdict: Option<String>,
    /// How many findings that verdict had.
    findings: u32,
    /// The text, or `null` once disposed of under retention.
    text: Option<String>,
    /// Whether its content was disposed of.
    disposed: bool,
}

impl From<ItemSummary> for ItemJson {
    fn from(item: ItemSummary) -> ItemJson {
        ItemJson {
            seq: item.seq,
            platform: item.platform,
            account: item.account,
            external_id: item.external_id,
            kind: item.kind,
            author: item.author,
            author_type: item.author_type,
            created_at: item.created_at.map(time),
            captured_at: time(item.captured_at),
            change: item.change,
            revises: item.revises,
            verdict: item.action,
            findings: item.findings,
            disposed: item.text.is_none(),
            text: item.text,
        }
    }
}
