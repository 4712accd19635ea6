//! Retention and legal holds: the pure decision of whether an item's content may be disposed.
//!
//! Everything errs towards keeping: an item no retention rule covers is kept forever, the
//! longest of several matching rules applies, the clock starts at the later of the platform's
//! and the archive's time, and one version of an item that is held or still within retention
//! keeps every version of it.

use jiff::{Span, Timestamp, tz::TimeZone};

use super::query::Query;
use crate::item::{AuthorType, ContentKind};

/// How long to keep something, in calendar units (six years from 29 February is 28 February).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// Years.
    pub years: u16,
    /// Months.
    pub months: u16,
    /// Days.
    pub days: u32,
}

/// A retention period or time that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RetentionError(pub String);

impl Keep {
    /// Parses `6y`, `6 years`, `18 months`, `90d`, `1y 6mo` or ISO 8601 `P6Y`.
    pub fn parse(text: &str) -> Result<Keep, RetentionError> {
        let span: Span = text.trim().parse().map_err(|err| {
            RetentionError(format!(
                "`{text}` is not a period such as `6y`, `18 months` or `P90D` ({err})"
            ))
        })?;
        let bad = |what: &str| RetentionError(format!("`{text}`: {what}"));
        if span.is_negative() {
            return Err(bad("a retention period cannot be negative"));
        }
        if span.get_hours() != 0
            || span.get_minutes() != 0
            || span.get_seconds() != 0
            || span.get_milliseconds() != 0
            || span.get_microseconds() != 0
            || span.get_nanoseconds() != 0
        {
            return Err(bad("give retention in years, months, weeks or days"));
        }
        let days = i64::from(span.get_days()) + 7 * i64::from(span.get_weeks());
        let keep = Keep {
            years: u16::try_from(span.get_years()).map_err(|_| bad("too many years"))?,
            months: u16::try_from(span.get_months()).map_err(|_| bad("too many months"))?,
            days: u32::try_from(days).map_err(|_| bad("too many days"))?,
        };
        if keep.years > 200 {
            return Err(bad("more than 200 years"));
        }
        Ok(keep)
    }

    /// When something that started at `start` may go; `None` if that is beyond the calendar.
    pub fn expires(&self, start: Timestamp) -> Option<Timestamp> {
        let span = Span::new()
            .try_years(i64::from(self.years))
            .ok()?
            .try_months(i64::from(self.months))
            .ok()?
            .try_days(i64::from(self.days))
            .ok()?;
        let civil = TimeZone::UTC.to_datetime(start).checked_add(span).ok()?;
        TimeZone::UTC.to_timestamp(civil).ok()
    }

    /// The period in ISO 8601 (`P6Y`), as stored.
    pub fn iso(&self) -> String {
        let mut out = String::from("P");
        if self.years > 0 {
            out.push_str(&format!("{}Y", self.years));
        }
        if self.months > 0 {
            out.push_str(&format!("{}M", self.months));
        }
        if self.days > 0 || out.len() == 1 {
            out.push_str(&format!("{}D", self.days));
        }
        out
    }
}

/// How long items of some kinds, platforms and author types are kept. Empty lists match all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    /// The rule's name.
    pub id: String,
    /// Kinds covered.
    pub kinds: Vec<ContentKind>,
    /// Platforms covered (lowercase).
    pub platforms: Vec<String>,
    /// Author types covered.
    pub author_types: Vec<AuthorType>,
    /// The period.
    pub keep: Keep,
}

impl RetentionRule {
    /// True when the rule applies to the item.
    pub fn covers(&self, item: &ItemFacts<'_>) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&item.kind))
            && (self.platforms.is_empty()
                || self.platforms.iter().any(|p| p.eq_ignore_ascii_case(item.platform)))
            && (self.author_types.is_empty() || self.author_types.contains(&item.author_type))
    }
}

/// What a legal hold covers. Every part given must match; a hold with no parts covers all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HoldScope {
    /// Authors (any of them).
    pub authors: Vec<String>,
    /// Accounts (any of them).
    pub accounts: Vec<String>,
    /// Platforms (any of them).
    pub platforms: Vec<String>,
    /// A search query the text must match.
    pub query: Option<Query>,
    /// Items made at or after this time.
    pub from: Option<Timestamp>,
    /// Items made before this time.
    pub until: Option<Timestamp>,
}

/// A legal hold: what it covers, why, and who owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The hold's name.
    pub id: String,
    /// Why it was placed (a matter, a request).
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// What it covers.
    pub scope: HoldScope,
}

impl Hold {
    /// True when the hold covers the item.
    pub fn covers(&self, item: &ItemFacts<'_>) -> bool {
        let scope = &self.scope;
        let time = item.created_at.unwrap_or(item.captured_at);
        (scope.authors.is_empty()
            || scope.authors.iter().any(|a| a.eq_ignore_ascii_case(item.author)))
            && (scope.accounts.is_empty()
                || scope.accounts.iter().any(|a| a.eq_ignore_ascii_case(item.account)))
            && (scope.platforms.is_empty()
                || scope.platforms.iter().any(|p| p.eq_ignore_ascii_case(item.platform)))
            && scope.from.is_none_or(|from| time >= from)
            && scope.until.is_none_or(|until| time < until)
            && scope.query.as_ref().is_none_or(|query| query.matches(item.text))
    }
}

/// The facts about one archived version that retention and holds look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemFacts<'a> {
    /// Platform.
    pub platform: &'a str,
    /// Account.
    pub account: &'a str,
    /// Author.
    pub author: &'a str,
    /// Author type.
    pub author_type: AuthorType,
    /// Kind.
    pub kind: ContentKind,
    /// Text.
    pub text: &'a str,
    /// Platform time.
    pub created_at: Option<Timestamp>,
    /// Archive time.
    pub captured_at: Timestamp,
}

/// The decision for an item (all its versions together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retention {
    /// No retention rule covers it: kept until a rule does.
    NoRule,
    /// Within its retention period.
    Within {
        /// When the last version's period ends.
        until: Timestamp,
    },
    /// Under a legal hold.
    Held {
        /// The hold's id.
        hold: String,
    },
    /// Expired and not held: its content may be disposed.
    Dispose {
        /// The rule whose period ended.
        rule: String,
        /// When the last version's period ended.
        expired_at: Timestamp,
    },
}

/// Decides whether an item's versions may be disposed at `now`. Holds are checked first, so a
/// held item reports its hold even when it is also within retention.
pub fn disposable(
    versions: &[ItemFacts<'_>],
    rules: &[RetentionRule],
    holds: &[Hold],
    now: Timestamp,
) -> Retention {
    for version in versions {
        if let Some(hold) = holds.iter().find(|hold| hold.covers(version)) {
            return Retention::Held { hold: hold.id.clone() };
        }
    }
    let mut latest: Option<(Timestamp, &str)> = None;
    for version in versions {
        let start = version.created_at.map_or(version.captured_at, |c| c.max(version.captured_at));
        let mut longest: Option<(Timestamp, &str)> = None;
        for rule in rules.iter().filter(|rule| rule.covers(version)) {
            let Some(expires) = rule.keep.expires(start) else {
                return Retention::Within { until: Timestamp::MAX };
            };
            if longest.is_none_or(|(t, _)| expires > t) {
                longest = Some((expires, &rule.id));
            }
        }
        let Some(longest) = longest else {
            return Retention::NoRule;
        };
        if latest.is_none_or(|(t, _)| longest.0 > t) {
            latest = Some(longest);
        }
    }
    match latest {
        None => Retention::NoRule,
        Some((until, _)) if now < until => Retention::Within { until },
        Some((expired_at, rule)) => Retention::Dispose { rule: rule.to_owned(), expired_at },
    }
}
