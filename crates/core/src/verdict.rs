//! Findings and verdicts: what the engine says about a post, and why.
//!
//! A verdict is self-explaining: each finding carries the rule, the clause it enforces and the
//! rule's message, and the verdict carries the policy version and hash that produced it, so a
//! stored verdict can be explained years later without the engine that made it.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::detect::Entity;

/// What should happen to a post. Ordered from weakest to strongest, so a verdict's action is
/// the maximum of its findings' actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Action {
    /// Nothing to do; a finding with this action is only noted.
    #[default]
    Allow,
    /// Publish, and put it in front of a supervisor.
    Flag,
    /// Hold until an approver says yes.
    RequireApproval,
    /// Do not publish.
    Block,
}

impl Action {
    /// Every action, weakest first.
    pub const ALL: [Action; 4] =
        [Action::Allow, Action::Flag, Action::RequireApproval, Action::Block];

    /// The stable name used in policies and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::RequireApproval => "require_approval",
            Action::Block => "block",
        }
    }

    /// True when someone has to act: flag, approval or block.
    pub fn needs_action(self) -> bool {
        self != Action::Allow
    }
}

/// How serious a finding is, for triage and reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// Minor.
    #[default]
    Low,
    /// Worth a look.
    Medium,
    /// Serious.
    High,
    /// Harmful the moment it is public.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] =
        [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The stable name used in policies and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// An unknown action or severity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}` (expected one of: {expected})")]
pub struct UnknownValue {
    what: &'static str,
    given: String,
    expected: &'static str,
}

impl FromStr for Action {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| UnknownValue {
            what: "action",
            given: s.to_owned(),
            expected: "allow, flag, require_approval, block",
        })
    }
}

impl FromStr for Severity {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL.into_iter().find(|sev| sev.name() == s).ok_or_else(|| UnknownValue {
            what: "severity",
            given: s.to_owned(),
            expected: "low, medium, high, critical",
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a finding says about its rule; shared by every finding of that rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule's id.
    pub id: String,
    /// The id of the clause the rule enforces.
    pub clause: String,
    /// The clause's title, for people.
    pub clause_title: String,
    /// The rule's category (`offensive`, `personal_data`, …).
    pub category: String,
    /// How serious a finding of this rule is.
    pub severity: Severity,
    /// What a finding of this rule asks for.
    pub action: Action,
    /// What the author is told.
    pub message: String,
}

/// Which policy produced a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyStamp {
    /// The policy's id.
    pub id: String,
    /// The policy's version.
    pub version: String,
    /// SHA-256 (hex) over the policy document and its term files.
    pub hash: String,
}

/// One rule matching one place in a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that matched, with its clause and message.
    pub rule: Arc<RuleInfo>,
    /// Start of the match: a byte offset into the post's UTF-8 text, on a char boundary.
    pub start: usize,
    /// End of the match (exclusive), a byte offset on a char boundary.
    pub end: usize,
    /// The matched text, `text[start..end]`.
    pub matched: String,
    /// For detector rules, what was found (`credit_card`, `email`, …).
    pub entity: Option<Entity>,
}

impl Finding {
    /// The action this finding asks for.
    pub fn action(&self) -> Action {
        self.rule.action
    }
}

/// The engine's answer for one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The policy version that produced this verdict.
    pub policy: Arc<PolicyStamp>,
    /// The strongest action among the findings, `allow` when there are none.
    pub action: Action,
    /// Every finding, ordered by start offset, then end, then rule order in the policy.
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// True when someone has to act on this post.
    pub fn needs_action(&self) -> bool {
        self.action.needs_action()
    }

    /// True when a finding of this category is present.
    pub fn has_category(&self, category: &str) -> bool {
        self.findings.iter().any(|f| f.rule.category == category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_order_from_weakest_to_strongest() {
        assert!(Action::Allow < Action::Flag);
        assert!(Action::Flag < Action::RequireApproval);
        assert!(Action::RequireApproval < Action::Block);
        assert!(!Action::Allow.needs_action());
        assert!(Action::Flag.needs_action());
    }

    #[test]
    fn names_round_trip() {
        for action in Action::ALL {
            assert_eq!(action.name().parse::<Action>(), Ok(action));
        }
        for severity in Severity::ALL {
            assert_eq!(severity.name().parse::<Severity>(), Ok(severity));
        }
        assert_eq!(
            "blok".parse::<Action>().unwrap_err().to_string(),
            "unknown action `blok` (expected one of: allow, flag, require_approval, block)"
        );
    }
}
