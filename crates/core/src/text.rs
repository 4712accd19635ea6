//! Evasion-robust, whole-word, Unicode-aware matching of term lists in post
//! text.
//!
//! A [`TermMatcherBuilder`] collects terms into numbered lists and builds a
//! [`TermMatcher`]; [`TermMatcher::find_all`] reports every whole-word
//! occurrence of every term as a [`TermMatch`] whose byte span points into the
//! *original* post text, covering the whole evasion (`"f.u.c.k"`, `"sh1t"`,
//! `"fuuuuck"`).
//!
//! # How matching works
//!
//! Terms and posts go through the **same** normalization, so a term in any
//! script matches the same text written in that script. All lists share one
//! Aho-Corasick automaton over the normalized, run-collapsed form; each
//! candidate it finds is then verified for word boundaries and letter runs.
//! [`normalize_for_display`] shows the normalized form of any text.
//!
//! ## 1. Folding (per character)
//!
//! - Case: Unicode lowercase, plus `ß` → `ss` (so `SCHEISSE` = `scheiße`).
//! - Compatibility: fullwidth (`ｆｕｃｋ`), mathematical alphanumerics
//!   (`𝐟𝐮𝐜𝐤`), circled letters, ligatures, superscripts and the like become
//!   plain letters and digits (NFKD).
//! - Accents are stripped: `pùta` → `puta`, `naïve` → `naive`; so are
//!   combining marks typed on their own (`f̶u̶c̶k̶`, "zalgo" text), Hebrew points
//!   and Arabic harakat. Other scripts' combining marks (Indic vowel signs,
//!   viramas) are part of the word.
//! - Look-alikes: Cyrillic `а в е к м н о р с т у х ѕ і ј ԁ ӏ һ ԛ ԝ ү`, Greek
//!   `α β γ ε η ι κ ν ο ρ τ υ χ ω ϲ`, Latin small capitals (`ꜰᴜᴄᴋ`), stroked
//!   and hooked letters (`ø ł đ ħ ƒ ɗ ƙ`), Armenian `օ ս հ ո ց զ`, negative circled/squared
//!   letters (`🅰`) and regional indicators (the letters of flags, `🇸🇭🇮🇹`) become the
//!   Latin letter they look like, so `fuсk` with a Cyrillic `с` is `fuck`.
//!   Only lowercase forms are mapped, after lowercasing, so case never matters;
//!   the cost is that an uppercase-only look-alike (Greek `Η`, which
//!   lowercases to `η`) maps to what its lowercase looks like (`n`).
//! - Invisible characters (zero-width space and joiners, soft hyphen, bidi
//!   controls, variation selectors, Arabic tatweel) are removed: `f\u{200B}uck`
//!   is `fuck`.
//!
//! ASCII skips all of this except lowercasing.
//!
//! ## 2. Leetspeak
//!
//! Inside a token (a run of characters with no whitespace or punctuation
//! other than `$ @ ! | ' # ¡ ¢ © €`) that contains at least one letter:
//! `0→o 1→i 3→e 4→a 5→s 7→t 8→b 9→g`; `$→s` before a letter or ending a run
//! after a letter, but never next to a digit (`$hit`, `a$$`, but `US$5` is
//! `us 5`); `@→a` after a letter (`b@stard`); `!→i`, `|→l`, `¡→i`, `¢→c`,
//! `©→c` and `€→e` between letters (`sh!t`, `fu¢k`). Tokens of digits only stay numbers (`2024`, `5318008`), and so
//! do numbers with an ordinal or unit suffix (`1st`, `2nd`, `80s`, `4k`,
//! `1080p`, `3d`, `10x`, `5m`). A symbol that is not read as a letter is
//! punctuation and splits the token: `sh1t!2024` is `shit 2024`.
//!
//! ## 3. Words
//!
//! Words are runs of Unicode letters, digits and (non-accent) combining marks
//! after steps 1–2. Everything else (spaces, punctuation, emoji, control
//! characters such as NUL, CR and LF) is a separator; a run of separators is
//! a single word break.
//!
//! - Apostrophes (`'`, `’`, `ʼ`) between two word characters are **removed and
//!   join the word** (`o'clock` is `oclock`), except before the endings of
//!   English contractions (`'ll`, `'re`, `'ve`, `'d`, `'m`, `'t`), where they
//!   separate words: `he'll` is `he ll`, so it never matches the term `hell`,
//!   and the term `don't` matches `don't` but not `dont`. A final `'s` joins
//!   and is also a word end, so the term `bitch` matches `bitch's` (and the
//!   term `bitch's` matches `bitchs`).
//! - `#` and `@` at the start of a word are kept (hashtags, mentions) and the
//!   word may match from either side of them: the terms `ad` and `#ad` both
//!   match `#ad`, `fuck` matches `#fuck` and `@fuck`, but `#ad` does not match
//!   `ad` or `#adidas`. An `@` after a letter is leetspeak (`me@user` is
//!   `meauser`); `@ss` is a mention, not `ass`, but `@$$` starts `a$$`, since
//!   no handle holds a `$` (`@$$hole` is `asshole`).
//! - Each CJK ideograph and kana is a word by itself, since those scripts do
//!   not space words: the term `傻逼` matches in `你是傻逼吗`. Other unspaced
//!   scripts (Thai, Lao, Khmer, Myanmar) form one word per spaced run, so
//!   their terms match only whole runs.
//!
//! Word numbering ([`TermMatch::first_word`], [`TermMatcher::word_count`])
//! counts these words from 0; a hashtag or a spelled-out word (step 4) is one
//! word.
//!
//! ## 4. Spelled-out letters
//!
//! Three or more one-letter words, each pair separated by the same gap
//! throughout, are joined into one word. A gap is one character among
//! `. - _ * / \ + ~ · • – —` and space, or one of those other than space with
//! a space after it or on both sides: `f.u.c.k`, `f u c k`, `s-h-i-t`,
//! `f. u. c. k` and `f . u . c . k` → `fuck`, `shit` (digits among them are
//! read as leet: `s.h.1.t`), and `f.u.c.k s.h.i.t` is two words. Trade-offs: a
//! run of one-letter words in ordinary text (`a b c`, the initials of
//! `J. R. R. Tolkien`) also becomes one word; `i am a` is unaffected (only
//! two are one letter, and not adjacent); `f.u-c.k` and `f . u.c . k` (mixed
//! gaps), `f..u..c..k` and `f  u  c  k` are not joined; and `f u c k y o u`
//! becomes the single word `fuckyou`, which the two-word term `fuck you` does
//! not match (add `fuckyou` too). One-letter terms are therefore not found
//! inside such a run.
//!
//! ## 5. Repeated letters
//!
//! The automaton searches a skeleton in which runs of the same letter are
//! collapsed, then each candidate is verified run by run: a term's run of `k`
//! letters matches a post's run of `m` iff `m == k`, or `m >= 3` and `m >= k`.
//! So `fuuuuck` and `shiiit` match `fuck` and `shit`, but `good` does not
//! match the term `god` nor `god` the term `good`; `goood` matches both.
//! Digits must repeat exactly (`2000` is not `200`).
//!
//! ## 6. Whole words
//!
//! A match starts and ends at word boundaries of the normalized text, so
//! `ass` does not match `classic` or `assess`. A multi-word term matches
//! across any separator run: `shut up` matches `shut...up` and `shut  UP`.
//!
//! # Results
//!
//! [`TermMatcher::find_all`] reports, for every list a term belongs to, every
//! occurrence, sorted by start then list then end; overlapping occurrences of
//! different terms are all reported (`fucking` and `fucking off` both match
//! in `fucking off`; `fuck` does not, being a different word), while
//! identical (list, span) results from different spellings of a term are
//! reported once. Spans are byte ranges of the original text on character
//! boundaries, from the first to the last character that produced the match,
//! including removed marks and invisible characters attached to them (a
//! leading `#` is included only when the term has it). A post longer than
//! 4 GiB is matched on its first 4 GiB.
//!
//! # Performance
//!
//! Plain ASCII words, most of a typical post, are written to the skeleton
//! straight from the bytes; everything else takes a general path, with a
//! per-[`Scratch`] cache of non-ASCII characters' folds. The automaton is a
//! contiguous NFA with byte classes (dense near the root), searched by
//! anchored walks from the positions where a match may start, which die
//! within a few bytes in ordinary text; a walk is not even taken where no
//! term begins with the next two or three bytes, which bitmaps of the terms'
//! first bytes tell. A walk is bounded by the longest term,
//! so a check costs at most (words in the post) × (longest term's normalized
//! length). A check allocates nothing once its [`Scratch`] has grown to the
//! size of the largest post seen.

mod normalize;
mod terms;
#[cfg(test)]
mod tests;

use normalize::Normalized;

/// Builds a [`TermMatcher`]. A term may be added to several lists; a list is
/// a `u32` chosen by the caller.
#[derive(Clone, Debug, Default)]
pub struct TermMatcherBuilder {
    inner: terms::Builder,
}

impl TermMatcherBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `term` to `list`. Adding the same term to the same list twice
    /// has no further effect.
    ///
    /// # Errors
    ///
    /// [`TermError::Empty`] when the term normalizes to nothing (`""`,
    /// `"!!!"`), and [`TermError::TooLong`] when it is longer than 200 bytes.
    pub fn add(&mut self, list: u32, term: &str) -> Result<(), TermError> {
        self.inner.add(list, term)
    }

    /// Whether no term was added.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Compiles the terms into one automaton.
    ///
    /// # Errors
    ///
    /// [`TermError::Build`] when the automaton would exceed Aho-Corasick's
    /// limits (millions of terms).
    pub fn build(self) -> Result<TermMatcher, TermError> {
        Ok(TermMatcher { compiled: self.inner.build()? })
    }
}

/// Why a term or a term list was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    /// The term has no letters or digits once normalized.
    #[error("term {term:?} has no letters or digits to match")]
    Empty {
        /// The term as given.
        term: String,
    },
    /// The term is longer than the 200-byte limit.
    #[error("term {term:?} is {len} bytes long, over the limit of 200")]
    TooLong {
        /// The term as given.
        term: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The automaton could not be built.
    #[error("term lists are too large to compile: {reason}")]
    Build {
        /// Aho-Corasick's explanation.
        reason: String,
    },
}

/// Matches term lists in post text. Immutable; share it between threads
/// through an `Arc`, with one [`Scratch`] per thread.
#[derive(Clone, Debug)]
pub struct TermMatcher {
    compiled: terms::Compiled,
}

/// One occurrence of a term of one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermMatch {
    /// The list the term was added to.
    pub list: u32,
    /// Byte offset in the original text where the match starts (a char
    /// boundary).
    pub start: usize,
    /// Byte offset in the original text where the match ends (a char
    /// boundary), covering the whole matched evasion.
    pub end: usize,
    /// 0-based index of the match's first word among the post's words.
    pub first_word: u32,
    /// 0-based index of the match's last word among the post's words.
    pub last_word: u32,
}

/// Reusable buffers, so that a check allocates nothing in steady state. Keep
/// one per thread.
#[derive(Clone, Default)]
pub struct Scratch {
    norm: Normalized,
    detail: Vec<normalize::Info>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

impl Scratch {
    /// A scratch with empty buffers; they grow to the largest post seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`TermMatcher::word_count`] without allocating.
    pub fn word_count(&mut self, text: &str) -> usize {
        self.norm.run(text);
        self.norm.word_count()
    }
}

impl TermMatcher {
    /// Whether the matcher has no terms (and so never matches).
    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }

    /// Appends every whole-word occurrence of every term in `text`, for every
    /// list it belongs to, ordered by start (then list, then end). What was
    /// already in `out` is left as is.
    pub fn find_all(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<TermMatch>) {
        if self.is_empty() {
            return;
        }
        let base = out.len();
        scratch.norm.run(text);
        self.compiled.scan(text, &scratch.norm, &mut scratch.detail, out);
        let found = &mut out[base..];
        if found.len() > 1 {
            found.sort_unstable_by_key(|m| (m.start, m.list, m.end));
            let mut kept = base + 1;
            for i in base + 1..out.len() {
                if out[i] != out[kept - 1] {
                    out[kept] = out[i];
                    kept += 1;
                }
            }
            out.truncate(kept);
        }
    }

    /// Number of words in `text` as the matcher counts them, consistent with
    /// [`TermMatch::first_word`] and [`TermMatch::last_word`]. Allocates; use
    /// [`Scratch::word_count`] on a hot path.
    pub fn word_count(text: &str) -> usize {
        Scratch::new().word_count(text)
    }

    /// Approximate heap size of the compiled matcher, in bytes.
    pub fn memory_usage(&self) -> usize {
        self.compiled.memory_usage()
    }
}

/// The normalized form used for matching, words one space apart (before runs
/// of repeated letters are collapsed; a run longer than 65,535 is shown at
/// that length). For tests, `policy explain` and debugging.
pub fn normalize_for_display(text: &str) -> String {
    let mut norm = Normalized::default();
    norm.run(text);
    let mut out = String::with_capacity(text.len());
    norm.display(text, &mut out);
    out
}
