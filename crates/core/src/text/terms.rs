//! Compiling term lists into one Aho-Corasick automaton over skeletons, and
//! verifying its candidates (word boundaries, run lengths) in a post.

use std::collections::BTreeMap;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::{contiguous, noncontiguous};
use aho_corasick::{Anchored, MatchKind, dfa};

use super::normalize::{Info, LETTER, Normalized};
use super::{TermError, TermMatch};

/// Longest accepted term, in bytes of the term as written.
pub(super) const MAX_TERM_BYTES: usize = 200;

/// Above this estimated size the DFA's speed is not worth its memory and
/// build time, and the contiguous NFA (several times smaller, a little
/// slower per byte) is used instead.
const DFA_BUDGET_BYTES: usize = 32 << 20;

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

#[derive(Clone, Debug, Default)]
pub(super) struct Builder {
    /// Skeleton → pattern id, in insertion order of first appearance.
    ids: BTreeMap<Vec<u8>, u32>,
    /// Per pattern id: its skeleton and variants.
    patterns: Vec<(Vec<u8>, Spellings)>,
    norm: Normalized,
    info: Vec<Info>,
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
            aut: Aut::Empty,
            pattern_variants: Vec::with_capacity(self.patterns.len()),
            variants: Vec::new(),
            runs: Vec::new(),
            lists: Vec::new(),
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
        if !self.patterns.is_empty() {
            let skeletons: Vec<&[u8]> = self.patterns.iter().map(|(s, _)| s.as_slice()).collect();
            compiled.aut = compile(&skeletons)?;
        }
        Ok(compiled)
    }
}

fn compile(skeletons: &[&[u8]]) -> Result<Aut, TermError> {
    let build_error = |e: aho_corasick::BuildError| TermError::Build { reason: e.to_string() };
    // No prefilter: searches are anchored walks that step the automaton by
    // hand (see `Search::run`).
    let nnfa = noncontiguous::Builder::new()
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(skeletons)
        .map_err(build_error)?;
    if estimate_dfa_bytes(skeletons) <= DFA_BUDGET_BYTES {
        let built = dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .byte_classes(true)
            .start_kind(aho_corasick::StartKind::Anchored)
            .build_from_noncontiguous(&nnfa);
        if let Ok(dfa) = built {
            return Ok(Aut::Dfa(dfa));
        }
    }
    contiguous::Builder::new()
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .byte_classes(true)
        .build_from_noncontiguous(&nnfa)
        .map(Aut::Nfa)
        .map_err(build_error)
}

/// Upper bound of the DFA's transition table: trie states (distinct
/// prefixes) times the padded alphabet (byte classes) times 4 bytes.
fn estimate_dfa_bytes(skeletons: &[&[u8]]) -> usize {
    let mut sorted = skeletons.to_vec();
    sorted.sort_unstable();
    let mut states = 2usize;
    let mut seen = [false; 256];
    for (i, s) in sorted.iter().enumerate() {
        let shared = if i == 0 { 0 } else { common_prefix(sorted[i - 1], s) };
        states += s.len() - shared;
        for &b in *s {
            seen[b as usize] = true;
        }
    }
    // Each byte used in a pattern is its own class, and the gaps between them
    // at most one more each.
    let distinct = seen.iter().filter(|&&s| s).count();
    let stride = (2 * distinct + 1).next_power_of_two().min(256);
    states.saturating_mul(stride).saturating_mul(4)
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[derive(Clone, Debug)]
enum Aut {
    Empty,
    Dfa(dfa::DFA),
    Nfa(contiguous::NFA),
}

/// The immutable matcher state behind [`super::TermMatcher`].
#[derive(Clone, Debug)]
pub(super) struct Compiled {
    aut: Aut,
    /// Per pattern id: range into `variants`.
    pattern_variants: Vec<(u32, u32)>,
    variants: Vec<Variant>,
    runs: Vec<u16>,
    lists: Vec<u32>,
}

impl Compiled {
    pub(super) fn is_empty(&self) -> bool {
        matches!(self.aut, Aut::Empty)
    }

    pub(super) fn memory_usage(&self) -> usize {
        let aut = match &self.aut {
            Aut::Empty => 0,
            Aut::Dfa(d) => d.memory_usage(),
            Aut::Nfa(n) => n.memory_usage(),
        };
        aut + self.pattern_variants.len() * 8
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
        let search = Search { compiled: self, text, norm, detail, out };
        match &self.aut {
            Aut::Empty => {}
            Aut::Dfa(a) => search.run(a),
            Aut::Nfa(a) => search.run(a),
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
        for start in self.norm.match_starts() {
            let mut sid = root;
            for (at, &byte) in hay.iter().enumerate().skip(start) {
                sid = aut.next_state(Anchored::Yes, sid, byte);
                if !aut.is_special(sid) {
                    continue;
                }
                if aut.is_dead(sid) {
                    break;
                }
                if !aut.is_match(sid) || !self.norm.ends_word(at) {
                    continue;
                }
                // A match state also lists the terms that are suffixes of
                // the path; those start elsewhere and have their own walk.
                for i in 0..aut.match_len(sid) {
                    let pid = aut.match_pattern(sid, i);
                    if aut.pattern_len(pid) == at + 1 - start {
                        self.verify(pid.as_usize(), start, at + 1);
                    }
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
