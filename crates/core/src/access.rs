//! Who may do what: the roles people hold and the scopes API tokens carry. The route-by-route
//! decisions live in the server; the names here are the stable ones stored and shown.

use std::fmt;
use std::str::FromStr;

use crate::item::UnknownName;

/// A person's role. Each person holds exactly one; it decides every page and API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Manages people, accounts, tokens and settings; reads everything.
    Admin,
    /// Owns the policy and the archive: search, holds, the audit trail.
    Compliance,
    /// Reads and reviews the items of their team (everyone who reports to them).
    Supervisor,
    /// Reviews flagged items in one area (legal, security, privacy, brand).
    Reviewer,
    /// Checks their own drafts and reads their own items.
    Employee,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Compliance,
        Role::Supervisor,
        Role::Reviewer,
        Role::Employee,
        Role::Auditor,
    ];

    /// The stable name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Compliance => "compliance",
            Role::Supervisor => "supervisor",
            Role::Reviewer => "reviewer",
            Role::Employee => "employee",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Role, UnknownName> {
        Role::ALL
            .into_iter()
            .find(|role| role.name() == text)
            .ok_or_else(|| UnknownName::new("role", text, Role::ALL.iter().map(|r| r.name())))
    }
}

/// The review areas a reviewer can hold.
pub const REVIEW_AREAS: [&str; 4] = ["legal", "security", "privacy", "brand"];

/// What an API token may do. A token never does more than its owner's role allows either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenScope {
    /// Check drafts (the pre-publication check).
    Check,
    /// Push items into the archive.
    Ingest,
    /// Read archived items and the policy.
    Read,
    /// Manage people, accounts and tokens.
    Admin,
}

impl TokenScope {
    /// Every scope.
    pub const ALL: [TokenScope; 4] =
        [TokenScope::Check, TokenScope::Ingest, TokenScope::Read, TokenScope::Admin];

    /// The stable name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            TokenScope::Check => "check",
            TokenScope::Ingest => "ingest",
            TokenScope::Read => "read",
            TokenScope::Admin => "admin",
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TokenScope {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<TokenScope, UnknownName> {
        TokenScope::ALL.into_iter().find(|scope| scope.name() == text).ok_or_else(|| {
            UnknownName::new("token scope", text, TokenScope::ALL.iter().map(|s| s.name()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
        }
        for scope in TokenScope::ALL {
            assert_eq!(scope.name().parse::<TokenScope>(), Ok(scope));
        }
        let err = "root".parse::<Role>().unwrap_err().to_string();
        assert!(err.contains("unknown role `root`") && err.contains("auditor"), "{err}");
    }
}
