//! Who may do what. One table decides every route: each handler names the [`Permission`] it
//! needs, and `tests/matrix.rs` checks every route for every role against one declared matrix.

use lifeguard_core::access::{Role, TokenScope};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Check a draft against the policy.
    CheckDraft,
    /// Read archived items (within the person's audience, see [`sees_everything`]).
    ReadItems,
    /// Push items into the archive.
    IngestItems,
    /// Read the policy.
    ReadPolicy,
    /// List people, departments and accounts.
    ReadDirectory,
    /// Add and change people, departments and accounts.
    ManageDirectory,
    /// List, create and revoke API tokens.
    ManageTokens,
    /// Read the audit trail.
    ReadAudit,
    /// Change settings.
    ManageSettings,
}

impl Permission {
    /// Whether a role has this permission.
    pub fn allows(self, role: Role) -> bool {
        use Permission::*;
        use Role::*;
        match self {
            CheckDraft | ReadItems | ReadPolicy => true,
            IngestItems => matches!(role, Admin | Compliance),
            ReadDirectory => matches!(role, Admin | Compliance | Auditor),
            ManageDirectory | ManageTokens | ManageSettings => role == Admin,
            ReadAudit => matches!(role, Compliance | Auditor),
        }
    }

    /// The token scope a request made with an API token needs for this permission.
    pub fn scope(self) -> TokenScope {
        use Permission::*;
        match self {
            CheckDraft => TokenScope::Check,
            IngestItems => TokenScope::Ingest,
            ReadItems | ReadPolicy | ReadDirectory | ReadAudit => TokenScope::Read,
            ManageDirectory | ManageTokens | ManageSettings => TokenScope::Admin,
        }
    }
}

/// Whether a role reads every archived item; the others read only their own (employee) or
/// their team's and their own (supervisor).
pub fn sees_everything(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Compliance | Role::Auditor | Role::Reviewer)
}

/// The scopes a person of this role may give a token: never more than the role allows.
pub fn grantable_scopes(role: Role) -> Vec<TokenScope> {
    TokenScope::ALL
        .into_iter()
        .filter(|scope| {
            [
                Permission::CheckDraft,
                Permission::IngestItems,
                Permission::ReadItems,
                Permission::ManageDirectory,
            ]
            .into_iter()
            .any(|permission| permission.scope() == *scope && permission.allows(role))
        })
        .collect()
}

/// The archived items a person may read: `None` for everything, else their own (items they
/// wrote or posted from an account they own) and, for supervisors, those of everyone who
/// reports to them, directly or through others.
pub async fn audience(
    store: &dyn lifeguard_store::Store,
    person: &lifeguard_store::Person,
) -> Result<Option<lifeguard_store::Audience>, lifeguard_store::StoreError> {
    if sees_everything(person.role) {
        return Ok(None);
    }
    let mut people = vec![person.clone()];
    if person.role == Role::Supervisor {
        people.extend(store.team(person.id).await?);
    }
    let ids: std::collections::HashSet<i64> = people.iter().map(|p| p.id).collect();
    let accounts = store
        .accounts()
        .await?
        .into_iter()
        .filter(|account| account.owner.is_some_and(|owner| ids.contains(&owner)))
        .map(|account| account.handle)
        .collect();
    Ok(Some(lifeguard_store::Audience {
        authors: people.into_iter().map(|p| p.login).collect(),
        accounts,
    }))
}

/// Whether an item (by its author and account) is in an audience.
pub fn in_audience(
    audience: Option<&lifeguard_store::Audience>,
    author: &str,
    account: &str,
) -> bool {
    audience.is_none_or(|audience| {
        audience.authors.iter().any(|a| a == author)
            || audience.accounts.iter().any(|a| a == account)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_and_auditors_change_nothing() {
        for role in Role::ALL {
            assert_eq!(Permission::ManageDirectory.allows(role), role == Role::Admin);
            assert_eq!(Permission::ManageTokens.allows(role), role == Role::Admin);
        }
        assert!(!Permission::IngestItems.allows(Role::Auditor));
        assert!(Permission::ReadAudit.allows(Role::Auditor));
        assert!(!Permission::ReadAudit.allows(Role::Admin));
        assert_eq!(grantable_scopes(Role::Employee), vec![TokenScope::Check, TokenScope::Read]);
        assert_eq!(grantable_scopes(Role::Admin), TokenScope::ALL.to_vec());
    }
}
