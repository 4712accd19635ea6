//! Compiling term lists into one Aho-Corasick automaton over skeletons, and
//! verifying its candidates (word boundaries, run lengths) in a post.

use std::collections::BTreeMap;
use std::fmt;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::{contiguous, noncontiguous};
use aho_corasick::{Anchored, MatchKind};

use super::normalize::{Info, LETTER, Normalized};
use super::{TermError, TermMatch};

/// Longest accepted term, in bytes of the term as written.
pub(super) const MAX_TERM_BYTES: usize = 200;

/// One spelling of a skeleton: the run lengths its characters need and the
/// lists it belongs to. "god" and "good" share the skeleton "god" but are two
/// variants.
#[derive(Clone, Debug)]
struct Variant {
    /// Run length per skeleton byte, into `Compiled::runs`.
    runs: u32,
    lists: (u32, u32),
}

/// Run lengths of one spelling → the lists it was added to.
type Spellings = BTreeMap<Vec<u16>, Vec<u32>>;

#[derive(Clone, Default)]
pub(super) struct Builder {
    /// Skeleton → pattern id, in insertion order of first appearance.
    ids: BTreeMap<Vec<u8>, u32>,
    /// Per pattern id: its skeleton and variants.
    patterns: Vec<(Vec<u8>, Spellings)>,
    norm: Normalized,
    info: Vec<Info>,
}

/// Terse, since a builder may hold tens of thousands of terms.
impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").field("skeletons", &self.patterns.len()).finish_non_exhaustive()
    }
}

impl Builder {
    pub(super) fn add(&mut self, list: u32, term: &str) -> Result<(), TermError> {
        if term.len() > MAX_TERM_BYTES {
            return Err(TermError::TooLong { term: term.to_owned(), len: term.len() });
        }
        self.norm.run(term);
        let skel = self.norm.skel();
        if skel.is_empty() {
            return Err(TermError::Empty { term: term.to_owned() });
        }
        self.norm.details(term, 0, skel.len(), &mut self.info);
        let runs: Vec<u16> = self.info.iter().map(|i| i.run).collect();
        let next = u32::try_from(self.patterns.len()).unwrap_or(u32::MAX);
        let id = *self.ids.entry(skel.to_vec()).or_insert(next);
        if id == next {
            self.patterns.push((skel.to_vec(), BTreeMap::new()));
        }
        let lists = self.patterns[id as usize].1.entry(runs).or_default();
        if !lists.contains(&list) {
            lists.push(list);
        }
        Ok(())
    }

    pub(super) fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub(super) fn build(self) -> Result<Compiled, TermError> {
        let mut compiled = Compiled {
            aut: None,
            pattern_variants: Vec::with_capacity(self.patterns.len()),
            variants: Vec::new(),
            runs: Vec::new(),
            lists: Vec::new(),
            filter: StartFilter::default(),
        };
        for (_, variants) in &self.patterns {
            let first = compiled.variants.len() as u32;
            for (runs, lists) in variants {
                let variant = Variant {
                    runs: compiled.runs.len() as u32,
                    lists: (compiled.lists.len() as u32, lists.len() as u32),
                };
                compiled.runs.extend_from_slice(runs);
                let mut lists = lists.clone();
                lists.sort_unstable();
                compiled.lists.extend_from_slice(&lists);
                compiled.variants.push(variant);
            }
            compiled.pattern_variants.push((first, compiled.variants.len() as u32));
        }
        for (skel, _) in &self.patterns {
            match skel.as_slice() {
                [] => {}
                // A one-byte term may end before a possessive ("x's"), so any
                // byte may follow it.
                &[first] => {
                    for second in 0..=u8::MAX {
                        compiled.filter.mark_short(first, second);
                    }
                }
                &[first, second] => compiled.filter.mark_short(first, second),
                &[first, second, third] => compiled.filter.mark_three(first, second, third),
                &[first, second, third, fourth, ..] => {
                    compiled.filter.mark_long([first, second, third, fourth]);
                }
            }
        }
        if !self.patterns.is_empty() {
            let skeletons: Vec<&[u8]> = self.patterns.iter().map(|(s, _)| s.as_slice()).collect();
            compiled.aut = Some(compile(&skeletons)?);
        }
        Ok(compiled)
    }
}

/// Builds the automaton: a contiguous NFA with byte classes, not a DFA.
/// Searches are anchored walks from word starts (see `Search::run`) that
/// stay near the root, where the contiguous NFA's states are dense (one
/// lookup per byte, like a DFA) and a walk ends as soon as a transition is
/// missing, so there are no failure links to follow. Measured on a 10,000
/// term list, the DFA was barely faster (444 against 452 ns a post) but took
/// twice as long to build and five times the memory (4.4 against 0.8 MB).
fn compile(skeletons: &[&[u8]]) -> Result<contiguous::NFA, TermError> {
    // No prefilter: walks step the automaton by hand.
    let nnfa = noncontiguous::Builder::new()
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(skeletons)
        .map_err(|e| TermError::Build { reason: e.to_string() })?;
    // Dense states down to depth 3, where nearly all walks end, cost one
    // lookup per byte; deeper ones are sparse and rarely visited.
    contiguous::Builder::new()
        .dense_depth(3)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .byte_classes(true)
        .build_from_noncontiguous(&nnfa)
        .map_err(|e| TermError::Build { reason: e.to_string() })
}

/// The immutable matcher state behind [`super::TermMatcher`].
#[derive(Clone)]
pub(super) struct Compiled {
    /// `None` without terms.
    aut: Option<contiguous::NFA>,
    /// Per pattern id: range into `variants`.
    pattern_variants: Vec<(u32, u32)>,
    variants: Vec<Variant>,
    runs: Vec<u16>,
    lists: Vec<u32>,
    /// Which starts may begin a term at all.
    filter: StartFilter,
}

/// Skips the walks from starts that begin no term: most words of a post.
/// `pairs` has a bit per first two skeleton bytes of a term (indexed by
/// `first << 8 | second`), `short` the same for terms of at most two bytes
/// (every second byte for a one-byte term, which may end before a
/// possessive "'s"), `triples` a bit per hash of a three-byte term, and
/// `quads` a bit per hash of the first four bytes of a longer one. Exact on
/// two bytes; a false positive only costs a walk. A walk's steps go to
/// states spread over the whole automaton, each a likely cache miss, so the
/// four-byte test pays for its own miss into a 32 KiB table: with a
/// 10,000-term list, 23 % of a tweet's words walk instead of 51 %.
#[derive(Clone)]
struct StartFilter {
    pairs: Box<[u64; 1024]>,
    short: Box<[u64; 1024]>,
    triples: Box<[u64; 1024]>,
    quads: Box<[u64; 4096]>,
}

impl Default for StartFilter {
    fn default() -> Self {
        Self {
            pairs: Box::new([0; 1024]),
            short: Box::new([0; 1024]),
            triples: Box::new([0; 1024]),
            quads: Box::new([0; 4096]),
        }
    }
}

impl StartFilter {
    fn memory_usage(&self) -> usize {
        [&self.pairs[..], &self.short[..], &self.triples[..], &self.quads[..]]
            .iter()
            .map(|bits| std::mem::size_of_val(*bits))
            .sum()
    }

    fn pair(first: u8, second: u8) -> usize {
        usize::from(first) << 8 | usize::from(second)
    }

    /// A 16-bit hash of three bytes.
    fn triple(first: u8, second: u8, third: u8) -> usize {
        let key = u32::from(first) << 16 | u32::from(second) << 8 | u32::from(third);
        (key.wrapping_mul(0x9E37_79B1) >> 16) as usize
    }

    /// An 18-bit hash of four bytes.
    fn quad(bytes: [u8; 4]) -> usize {
        (u32::from_le_bytes(bytes).wrapping_mul(0x9E37_79B1) >> 14) as usize
    }

    fn set(bits: &mut [u64], at: usize) {
        bits[at >> 6] |= 1 << (at & 63);
    }

    fn get(bits: &[u64], at: usize) -> bool {
        bits[at >> 6] >> (at & 63) & 1 != 0
    }

    fn mark_short(&mut self, first: u8, second: u8) {
        Self::set(&mut self.pairs[..], Self::pair(first, second));
        Self::set(&mut self.short[..], Self::pair(first, second));
    }

    fn mark_three(&mut self, first: u8, second: u8, third: u8) {
        Self::set(&mut self.pairs[..], Self::pair(first, second));
        Self::set(&mut self.triples[..], Self::triple(first, second, third));
    }

    fn mark_long(&mut self, first: [u8; 4]) {
        Self::set(&mut self.pairs[..], Self::pair(first[0], first[1]));
        Self::set(&mut self.quads[..], Self::quad(first));
    }

    /// Whether a term may start at the beginning of `rest`, the skeleton
    /// from a match start on. A missing byte reads as a space, which ends a
    /// word just as the skeleton's end does.
    #[inline]
    fn may_start(&self, rest: &[u8]) -> bool {
        let [first, second, third, fourth] = match *rest {
            [a, b, c, d, ..] => [a, b, c, d],
            [a, b, c] => [a, b, c, b' '],
            [a, b] => [a, b, b' ', b' '],
            [a] => [a, b' ', b' ', b' '],
            [] => return false,
        };
        let pair = Self::pair(first, second);
        Self::get(&self.pairs[..], pair)
            && (Self::get(&self.short[..], pair)
                || Self::get(&self.triples[..], Self::triple(first, second, third))
                || Self::get(&self.quads[..], Self::quad([first, second, third, fourth])))
    }
}

/// Terse: the automaton's own `Debug` prints every state.
impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled")
            .field("skeletons", &self.pattern_variants.len())
            .field("spellings", &self.variants.len())
            .field("memory_usage", &self.memory_usage())
            .finish_non_exhaustive()
    }
}

impl Compiled {
    pub(super) fn is_empty(&self) -> bool {
        self.aut.is_none()
    }

    pub(super) fn memory_usage(&self) -> usize {
        let aut = self.aut.as_ref().map_or(0, Automaton::memory_usage);
        aut + self.filter.memory_usage()
            + self.pattern_variants.len() * 8
            + self.variants.len() * 12
            + self.runs.len() * 2
            + self.lists.len() * 4
    }

    /// Appends the verified matches in `norm`, which normalized `text`, to
    /// `out`, in automaton order. `detail` is scratch space.
    pub(super) fn scan(
        &self,
        text: &str,
        norm: &Normalized,
        detail: &mut Vec<Info>,
        out: &mut Vec<TermMatch>,
    ) {
        if let Some(aut) = &self.aut {
            Search { compiled: self, text, norm, detail, out }.run(aut);
        }
    }
}

/// One [`Compiled::scan`].
struct Search<'a> {
    compiled: &'a Compiled,
    text: &'a str,
    norm: &'a Normalized,
    detail: &'a mut Vec<Info>,
    out: &'a mut Vec<TermMatch>,
}

impl Search<'_> {
    /// Walks the automaton from each position where a match may start (word
    /// starts, and just after a leading `#` or `@`), anchored, until it dies.
    /// A whole-word match can start nowhere else, and a walk from a word
    /// start usually dies within a few bytes in the automaton's few hot
    /// states near the root, where an unanchored scan would step through
    /// every byte and spread over the whole transition table. The cost is
    /// bounded by (match starts) × (longest term's skeleton).
    fn run<A: Automaton>(mut self, aut: &A) {
        let hay = self.norm.skel();
        let Ok(root) = aut.start_state(Anchored::Yes) else {
            return;
        };
        let (norm, filter) = (self.norm, &self.compiled.filter);
        for start in norm.word_starts() {
            let rest = hay.get(start..).unwrap_or_default();
            if filter.may_start(rest) {
                self.walk(aut, root, rest, start);
            }
            if let Some((b'#' | b'@', rest)) = rest.split_first()
                && filter.may_start(rest)
            {
                self.walk(aut, root, rest, start + 1);
            }
        }
    }

    /// One anchored walk from skeleton offset `start`, `rest` being the
    /// skeleton from there on.
    #[inline(always)]
    fn walk<A: Automaton>(&mut self, aut: &A, root: StateID, rest: &[u8], start: usize) {
        let mut sid = root;
        for (len, &byte) in rest.iter().enumerate() {
            sid = aut.next_state(Anchored::Yes, sid, byte);
            if !aut.is_special(sid) {
                continue;
            }
            if aut.is_dead(sid) {
                break;
            }
            let at = start + len;
            if !aut.is_match(sid) || !self.norm.ends_word(at) {
                continue;
            }
            // A match state also lists the terms that are suffixes of the
            // path; those start elsewhere and have their own walk.
            for i in 0..aut.match_len(sid) {
                let pid = aut.match_pattern(sid, i);
                if aut.pattern_len(pid) == len + 1 {
                    self.verify(pid.as_usize(), start, at + 1);
                }
            }
        }
    }

    /// Checks the run lengths of every spelling of pattern `pid` against the
    /// skeleton bytes `from..to`, and reports those that fit.
    fn verify(&mut self, pid: usize, from: usize, to: usize) {
        let compiled = self.compiled;
        let Some(&(first_variant, end_variant)) = compiled.pattern_variants.get(pid) else {
            return;
        };
        self.norm.details(self.text, from, to, self.detail);
        let text = self.detail.as_slice();
        let (Some(first), Some(last)) = (text.first(), text.last()) else {
            return;
        };
        for variant in &compiled.variants[first_variant as usize..end_variant as usize] {
            let runs = &compiled.runs[variant.runs as usize..variant.runs as usize + text.len()];
            if !text.iter().zip(runs).all(|(t, &k)| runs_match(t, k)) {
                continue;
            }
            let (first_word, last_word) = (self.norm.word_at(from), self.norm.word_at(to - 1));
            let (at, len) = variant.lists;
            for &list in &compiled.lists[at as usize..(at + len) as usize] {
                self.out.push(TermMatch {
                    list,
                    start: first.start as usize,
                    end: last.end as usize,
                    first_word,
                    last_word,
                });
            }
        }
    }
}

/// A term's run of `k` equal letters matches a post's run of `m` when they
/// are equal, or when the post stretches the letter (3 or more) at least as
/// long: "fuuuck" is "fuck", but "good" is not "god". Digits must be exact.
fn runs_match(text: &Info, k: u16) -> bool {
    let m = text.run;
    m == k || (text.flags & LETTER != 0 && m >= 3 && m >= k)
}
