//! What the engine checks: a post's text and the facts about it that rules can be scoped by.

use std::fmt;
use std::str::FromStr;

/// The kind of content an interaction is. Static kinds (profile, bio, banner, pinned) are the
/// ones an organization approves before they go up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ContentKind {
    /// An original post.
    #[default]
    Post,
    /// A reply to another post.
    Reply,
    /// A comment on a post or page.
    Comment,
    /// A direct or private message.
    Message,
    /// A repost, share or quote.
    Repost,
    /// A story or other short-lived post.
    Story,
    /// A profile's name or display fields.
    Profile,
    /// A profile's biography text.
    Bio,
    /// A profile's banner or header image text.
    Banner,
    /// A post pinned to the top of a profile.
    Pinned,
}

impl ContentKind {
    /// Every kind, in declaration order.
    pub const ALL: [ContentKind; 10] = [
        ContentKind::Post,
        ContentKind::Reply,
        ContentKind::Comment,
        ContentKind::Message,
        ContentKind::Repost,
        ContentKind::Story,
        ContentKind::Profile,
        ContentKind::Bio,
        ContentKind::Banner,
        ContentKind::Pinned,
    ];

    /// The stable name used in policies, JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ContentKind::Post => "post",
            ContentKind::Reply => "reply",
            ContentKind::Comment => "comment",
            ContentKind::Message => "message",
            ContentKind::Repost => "repost",
            ContentKind::Story => "story",
            ContentKind::Profile => "profile",
            ContentKind::Bio => "bio",
            ContentKind::Banner => "banner",
            ContentKind::Pinned => "pinned",
        }
    }

    /// True for content that stays up and represents the organization: profile, bio, banner, pinned.
    pub fn is_static(self) -> bool {
        matches!(
            self,
            ContentKind::Profile | ContentKind::Bio | ContentKind::Banner | ContentKind::Pinned
        )
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Who wrote an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum AuthorType {
    /// Someone who works for the organization, posting for it or about it.
    #[default]
    Employee,
    /// An official account of the organization.
    Corporate,
    /// Anyone else posting on the organization's pages: not its own speech.
    ThirdParty,
}

impl AuthorType {
    /// Every author type, in declaration order.
    pub const ALL: [AuthorType; 3] =
        [AuthorType::Employee, AuthorType::Corporate, AuthorType::ThirdParty];

    /// The stable name used in policies, JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            AuthorType::Employee => "employee",
            AuthorType::Corporate => "corporate",
            AuthorType::ThirdParty => "third_party",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// An unknown kind or author type name, with the names that are known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}` (expected one of: {expected})")]
pub struct UnknownName {
    what: &'static str,
    given: String,
    expected: String,
}

impl UnknownName {
    /// An unknown `what` named `given`, listing the names that are known.
    pub fn new<'a>(
        what: &'static str,
        given: &str,
        known: impl Iterator<Item = &'a str>,
    ) -> UnknownName {
        UnknownName { what, given: given.to_owned(), expected: names(known) }
    }
}

impl FromStr for ContentKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContentKind::ALL.into_iter().find(|kind| kind.name() == s).ok_or_else(|| UnknownName {
            what: "kind",
            given: s.to_owned(),
            expected: names(ContentKind::ALL.iter().map(|k| k.name())),
        })
    }
}

impl FromStr for AuthorType {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuthorType::ALL.into_iter().find(|author| author.name() == s).ok_or_else(|| UnknownName {
            what: "author type",
            given: s.to_owned(),
            expected: names(AuthorType::ALL.iter().map(|a| a.name())),
        })
    }
}

impl fmt::Display for ContentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for AuthorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// One post as the engine sees it: borrowed, so checking copies nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Post<'a> {
    /// The text, exactly as written; finding spans are byte offsets into it.
    pub text: &'a str,
    /// What kind of content it is.
    pub kind: ContentKind,
    /// Who wrote it.
    pub author: AuthorType,
    /// The platform's name as ingested (`x`, `mastodon`, `linkedin`), if known.
    pub platform: Option<&'a str>,
}

impl<'a> Post<'a> {
    /// A post by an employee with no platform: the defaults of `lifeguard check`.
    pub fn new(text: &'a str) -> Post<'a> {
        Post { text, ..Post::default() }
    }
}

/// Which kinds, author types and platforms a rule applies to; empty parts mean "all".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    kinds: u16,
    authors: u8,
    platforms: Vec<String>,
}

impl Scope {
    /// A scope from lists; an empty list leaves that dimension open. Platform names compare
    /// case-insensitively.
    pub fn new(kinds: &[ContentKind], authors: &[AuthorType], platforms: &[String]) -> Scope {
        Scope {
            kinds: kinds.iter().fold(0, |mask, kind| mask | kind.bit()),
            authors: authors.iter().fold(0, |mask, author| mask | author.bit()),
            platforms: platforms.iter().map(|p| p.to_lowercase()).collect(),
        }
    }

    /// True when the scope covers every post.
    pub fn is_everything(&self) -> bool {
        self.kinds == 0 && self.authors == 0 && self.platforms.is_empty()
    }

    /// True when a post is in scope.
    pub fn covers(&self, post: &Post<'_>) -> bool {
        (self.kinds == 0 || self.kinds & post.kind.bit() != 0)
            && (self.authors == 0 || self.authors & post.author.bit() != 0)
            && (self.platforms.is_empty()
                || post.platform.is_some_and(|platform| {
                    self.platforms.iter().any(|p| p.eq_ignore_ascii_case(platform))
                }))
    }

    /// The kinds in scope, empty when all are.
    pub fn kinds(&self) -> Vec<ContentKind> {
        ContentKind::ALL.into_iter().filter(|k| self.kinds & k.bit() != 0).collect()
    }

    /// The author types in scope, empty when all are.
    pub fn authors(&self) -> Vec<AuthorType> {
        AuthorType::ALL.into_iter().filter(|a| self.authors & a.bit() != 0).collect()
    }

    /// The platforms in scope (lowercased), empty when all are.
    pub fn platforms(&self) -> &[String] {
        &self.platforms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ContentKind::ALL {
            assert_eq!(kind.name().parse::<ContentKind>(), Ok(kind));
        }
        for author in AuthorType::ALL {
            assert_eq!(author.name().parse::<AuthorType>(), Ok(author));
        }
        let err = "tweet".parse::<ContentKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown kind `tweet` (expected one of: post, reply, comment, message, repost, story, profile, bio, banner, pinned)"
        );
    }

    #[test]
    fn scope_checks_each_dimension() {
        let scope = Scope::new(
            &[ContentKind::Bio, ContentKind::Pinned],
            &[AuthorType::Corporate],
            &["X".to_owned()],
        );
        let bio = Post {
            text: "",
            kind: ContentKind::Bio,
            author: AuthorType::Corporate,
            platform: Some("x"),
        };
        assert!(scope.covers(&bio));
        assert!(!scope.covers(&Post { kind: ContentKind::Post, ..bio }));
        assert!(!scope.covers(&Post { author: AuthorType::Employee, ..bio }));
        assert!(!scope.covers(&Post { platform: None, ..bio }));
        assert!(!scope.covers(&Post { platform: Some("mastodon"), ..bio }));
        assert!(Scope::default().covers(&bio));
        assert!(Scope::default().is_everything());
    }
}
