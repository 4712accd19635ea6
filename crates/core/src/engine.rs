//! The check engine: a policy compiled once, then applied to any number of posts.
//!
//! Compiling does all the work that does not depend on the post: every term of every rule
//! (matches, exceptions, proximity lists, disclosure triggers and markers) goes into one
//! automaton; every pattern is compiled once, and all of them without their look-arounds go
//! into one set that tells in a single pass which patterns can match; every wanted entity goes
//! into one detector set. Checking a post is then one pass of each over the text, and the
//! rules only look at what those passes found. [`Engine::check`] borrows the post, never fails and allocates only for
//! findings.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use regex::bytes::{RegexSet, RegexSetBuilder};
use regex::{Regex, RegexBuilder};
use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, HirKind, Repetition};
use sha2::{Digest, Sha256};

use crate::detect::{self, Detection, Detectors, Entity, Link};
use crate::item::{Post, Scope};
use crate::location::{Diagnostic, Position};
use crate::policy::{
    FileError, Files, MAX_REGEX_BYTES, MAX_REGEX_COMPILED_BYTES, MAX_TERM_FILE_BYTES, Matcher,
    Policy, Rule, TermSource,
};
use crate::text::{Scratch, TermMatch, TermMatcher, TermMatcherBuilder};
use crate::verdict::{Action, Finding, PolicyStamp, RuleInfo, Verdict};

/// A compiled policy version. Immutable; share it between threads with `Arc`.
#[derive(Debug)]
pub struct Engine {
    stamp: Arc<PolicyStamp>,
    rules: Vec<CompiledRule>,
    terms: TermMatcher,
    /// What each term list of the automaton is for, indexed by list id.
    lists: Vec<ListUse>,
    /// The exception lists' terms, as an exception's text must read.
    exceptions: ExceptionTerms,
    /// Each regex rule and its compiled pattern.
    regexes: Vec<RuleRegex>,
    /// One pass over the post's bytes that tells which regexes can match: every pattern with its
    /// look-arounds (`\b`, `^`, `$`) removed and its classes' non-ASCII parts widened (see
    /// [`relaxed`]), as one set. A relaxed pattern matches wherever the real one does, and a
    /// set without look-arounds stays on the lazy DFA even on non-ASCII text, where a Unicode
    /// `\b` sends a pattern to a backtracker (60% of check time on tweets with emoji, before
    /// this gate). `None` when the set is too large; then every pattern runs.
    regex_gate: Option<RegexSet>,
    detectors: Option<Detectors>,
    entity_rules: Vec<(Entity, usize)>,
    link_rules: Vec<usize>,
    always_rules: Vec<usize>,
}

/// A rule's regex.
#[derive(Debug)]
struct RuleRegex {
    rule: usize,
    regex: Regex,
}

#[derive(Debug)]
struct CompiledRule {
    info: Arc<RuleInfo>,
    scope: Scope,
    kind: RuleKind,
}

#[derive(Debug)]
enum RuleKind {
    Plain,
    Proximity {
        within: u32,
        ordered: bool,
        same_sentence: bool,
    },
    Disclosure {
        within: u32,
    },
    Links {
        /// The denied domains' [`detect::lookalike_key`]s.
        deny: Vec<String>,
        /// The allowed domains' [`detect::ascii_host`]s.
        allow: Vec<String>,
        shorteners: bool,
        ip: bool,
        lookalike: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Match,
    Exception,
    First,
    Second,
    Trigger,
    Marker,
}

#[derive(Debug, Clone, Copy)]
struct ListUse {
    rule: usize,
    role: Role,
}

/// Buffers reused from one check to the next, so checking allocates only for findings.
#[derive(Debug, Default)]
pub struct CheckScratch {
    text: Scratch,
    term_matches: Vec<TermMatch>,
    detections: Vec<Detection>,
    links: Vec<Link>,
    /// The look-alike key of the link host being checked against deny lists.
    host_key: String,
    /// The post's fullwidth forms read as ASCII, when it has any.
    ascii: detect::AsciiForms,
    candidates: Vec<Candidate>,
    exceptions: Vec<(usize, usize, usize)>,
    roles: Vec<(usize, Role, TermMatch)>,
    /// Per rule, the furthest end of a finding kept so far (see `Engine::verdict`).
    reach: Vec<Option<usize>>,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    rule: usize,
    start: usize,
    end: usize,
    entity: Option<Entity>,
}

thread_local! {
    static SCRATCH: RefCell<CheckScratch> = RefCell::new(CheckScratch::default());
}

impl Engine {
    /// Compiles a parsed policy, reading its term files through `files`. Every problem is
    /// returned, with its place; a policy with parse errors should not be compiled.
    pub fn compile(policy: &Policy, files: &dyn Files) -> Result<Engine, Vec<Diagnostic>> {
        Compiler::new(policy, files).run()
    }

    /// The policy id, version and hash that every verdict of this engine names.
    pub fn stamp(&self) -> &Arc<PolicyStamp> {
        &self.stamp
    }

    /// Number of rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Checks one post.
    pub fn check(&self, post: &Post<'_>) -> Verdict {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.check_with(post, &mut scratch),
            // Only reachable if a check re-entered itself on this thread; stay correct anyway.
            Err(_) => self.check_with(post, &mut CheckScratch::default()),
        })
    }

    /// Checks one post with caller-owned buffers.
    pub fn check_with(&self, post: &Post<'_>, scratch: &mut CheckScratch) -> Verdict {
        let text = post.text;
        scratch.candidates.clear();
        scratch.exceptions.clear();
        scratch.roles.clear();
        if !self.terms.is_empty() {
            self.term_candidates(post, scratch);
        }
        let with_links = !self.link_rules.is_empty();
        let reads_ascii = !self.regexes.is_empty() || self.detectors.is_some() || with_links;
        // Taken out while the passes borrow the rest of the scratch space, and put back.
        let mut ascii = std::mem::take(&mut scratch.ascii);
        let has_forms = reads_ascii && ascii.read(text);
        let forms = has_forms.then_some(&ascii);
        if !self.regexes.is_empty() {
            self.regex_candidates(post, forms, scratch);
        }
        if self.detectors.is_some() || with_links {
            scratch.detections.clear();
            scratch.links.clear();
            detect::find_all(
                self.detectors.as_ref(),
                with_links,
                text,
                forms,
                &mut scratch.detections,
                &mut scratch.links,
            );
            for detection in &scratch.detections {
                for &(entity, rule) in &self.entity_rules {
                    if entity == detection.entity && self.rules[rule].scope.covers(post) {
                        scratch.candidates.push(Candidate {
                            rule,
                            start: detection.start,
                            end: detection.end,
                            entity: Some(entity),
                        });
                    }
                }
            }
        }
        scratch.ascii = ascii;
        if with_links {
            self.link_candidates(post, scratch);
        }
        for &rule in &self.always_rules {
            if self.rules[rule].scope.covers(post) {
                scratch.candidates.push(Candidate {
                    rule,
                    start: 0,
                    end: text.len(),
                    entity: None,
                });
            }
        }
        self.verdict(text, scratch)
    }

    fn term_candidates(&self, post: &Post<'_>, scratch: &mut CheckScratch) {
        scratch.term_matches.clear();
        self.terms.find_all(post.text, &mut scratch.text, &mut scratch.term_matches);
        for m in &scratch.term_matches {
            let ListUse { rule, role } = self.lists[m.list as usize];
            if !self.rules[rule].scope.covers(post) {
                continue;
            }
            match role {
                Role::Match => scratch.candidates.push(Candidate {
                    rule,
                    start: m.start,
                    end: m.end,
                    entity: None,
                }),
                Role::Exception => {
                    if self.exceptions.is_exact(m.list, &post.text[m.start..m.end]) {
                        let (start, end) = with_punctuation(post.text, m.start, m.end);
                        scratch.exceptions.push((rule, start, end));
                    }
                }
                _ => scratch.roles.push((rule, role, *m)),
            }
        }
        // Exceptions come only from terms: prepared once here, for the pairing rules below and
        // for the verdict's other candidates.
        prepare_exceptions(&mut scratch.exceptions);
        if scratch.roles.is_empty() {
            return;
        }
        // An exception holds the terms a proximity or disclosure rule pairs up one by one:
        // "stocks" in "while stocks last" is no second term to "buy".
        if !scratch.exceptions.is_empty() {
            let exceptions = &scratch.exceptions;
            scratch.roles.retain(|&(rule, _, m)| !excepted(exceptions, rule, m.start, m.end));
        }
        scratch.roles.sort_by_key(|&(rule, role, m)| (rule, role, m.start));
        let roles = &scratch.roles;
        let mut at = 0;
        while at < roles.len() {
            let rule = roles[at].0;
            let end = at + roles[at..].iter().take_while(|r| r.0 == rule).count();
            let group = &roles[at..end];
            match self.rules[rule].kind {
                RuleKind::Proximity { within, ordered, same_sentence } => {
                    let options = ProximityOptions { within, ordered, same_sentence };
                    proximity(post.text, rule, group, options, &mut scratch.candidates);
                }
                RuleKind::Disclosure { within } => {
                    disclosure(post.text, rule, group, within, &mut scratch.candidates);
                }
                _ => {}
            }
            at = end;
        }
    }

    /// Runs the patterns over the text with its fullwidth forms read as ASCII (`forms`, when it
    /// has any), so that `ｆ＊ｃｋ` meets a pattern for `f*ck`; spans are in the text as written.
    fn regex_candidates(
        &self,
        post: &Post<'_>,
        forms: Option<&detect::AsciiForms>,
        scratch: &mut CheckScratch,
    ) {
        let text = forms.map_or(post.text, detect::AsciiForms::as_str);
        let original = |offset: usize| forms.map_or(offset, |forms| forms.original(offset));
        // Most posts match no pattern; `is_match` answers that with the cheaper
        // non-overlapping search before `matches` finds out which.
        if self.regex_gate.as_ref().is_some_and(|gate| !gate.is_match(text.as_bytes())) {
            return;
        }
        let gate = self.regex_gate.as_ref().map(|gate| gate.matches(text.as_bytes()));
        for (index, RuleRegex { rule, regex }) in self.regexes.iter().enumerate() {
            if gate.as_ref().is_some_and(|gate| !gate.matched(index))
                || !self.rules[*rule].scope.covers(post)
            {
                continue;
            }
            for m in regex.find_iter(text).filter(|m| !m.is_empty()) {
                scratch.candidates.push(Candidate {
                    rule: *rule,
                    start: original(m.start()),
                    end: original(m.end()),
                    entity: None,
                });
            }
        }
    }

    /// Turns the links `find_all` put in `scratch.links` into candidates.
    fn link_candidates(&self, post: &Post<'_>, scratch: &mut CheckScratch) {
        let CheckScratch { links, host_key, candidates, .. } = scratch;
        for link in links.iter() {
            let host = link.host.as_str();
            // Worked out on first need, once per link whatever the number of rules.
            let mut keyed = false;
            let mut lookalike_host = None;
            let mut ascii_host = None;
            for &rule in &self.link_rules {
                let compiled = &self.rules[rule];
                let RuleKind::Links { deny, allow, shorteners, ip, lookalike } = &compiled.kind
                else {
                    continue;
                };
                if !compiled.scope.covers(post) {
                    continue;
                }
                let denied = !deny.is_empty() && {
                    if !keyed {
                        detect::lookalike_key(host, host_key);
                        keyed = true;
                    }
                    deny.iter().any(|key| detect::host_matches(host_key, key))
                };
                let hit = (*ip && link.is_ip)
                    || (*shorteners && detect::is_shortener(host))
                    || denied
                    || (*lookalike
                        && (link.disguised
                            || *lookalike_host
                                .get_or_insert_with(|| detect::is_lookalike_host(host))))
                    || (!allow.is_empty() && {
                        let host = ascii_host.get_or_insert_with(|| detect::ascii_host(host));
                        !allow.iter().any(|domain| detect::host_matches(host, domain))
                    });
                if hit {
                    candidates.push(Candidate {
                        rule,
                        start: link.start,
                        end: link.end,
                        entity: None,
                    });
                }
            }
        }
    }

    fn verdict(&self, text: &str, scratch: &mut CheckScratch) -> Verdict {
        let CheckScratch { candidates, exceptions, reach, .. } = scratch;
        drop_excepted(candidates, exceptions);
        let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
        keep_outermost(candidates, self.rules.len(), reach, &mut kept);
        let mut findings: Vec<Finding> = Vec::with_capacity(kept.len());
        kept.sort_by_key(|c| (c.start, c.end, c.rule));
        let mut action = Action::Allow;
        for c in kept {
            let info = &self.rules[c.rule].info;
            action = action.max(info.action);
            findings.push(Finding {
                rule: Arc::clone(info),
                start: c.start,
                end: c.end,
                matched: text.get(c.start..c.end).unwrap_or_default().to_owned(),
                entity: c.entity,
            });
        }
        Verdict { policy: Arc::clone(&self.stamp), action, findings }
    }
}

/// Drops each candidate that lies within an exception (rule, start, end) of its own rule: the
/// exception is the larger, harmless text the match is part of ("pork butt", the company's
/// own address), so a match that only overlaps one ("jane.support@acme.example" around
/// "support@acme.example") still counts. `exceptions` are as [`prepare_exceptions`] leaves them.
fn drop_excepted(candidates: &mut Vec<Candidate>, exceptions: &[(usize, usize, usize)]) {
    if !exceptions.is_empty() {
        candidates.retain(|c| !excepted(exceptions, c.rule, c.start, c.end));
    }
}

/// Sorts exceptions by rule and start and raises each end to the furthest end of its rule so
/// far: then a span lies within one of its rule's exceptions exactly when the last of them
/// starting no later than the span reaches the span's end, and many matches against many
/// exceptions cost a sort and a binary search each, not their product.
fn prepare_exceptions(exceptions: &mut [(usize, usize, usize)]) {
    exceptions.sort_unstable();
    for at in 1..exceptions.len() {
        let (before, this) = (exceptions[at - 1], &mut exceptions[at]);
        if before.0 == this.0 {
            this.2 = this.2.max(before.2);
        }
    }
}

/// Whether `start..end` lies within an exception of `rule` (see [`prepare_exceptions`]).
fn excepted(exceptions: &[(usize, usize, usize)], rule: usize, start: usize, end: usize) -> bool {
    let upto = exceptions.partition_point(|e| (e.0, e.1) <= (rule, start));
    upto.checked_sub(1).is_some_and(|at| {
        let (excepted_rule, _, reached) = exceptions[at];
        excepted_rule == rule && reached >= end
    })
}

/// The span widened over the punctuation right around it: a term stops at its last letter or
/// digit, while a detector's finding may include a `+` before a phone number.
fn with_punctuation(text: &str, start: usize, end: usize) -> (usize, usize) {
    let is_punctuation = |c: char| !c.is_alphanumeric() && !c.is_whitespace();
    let before = text[..start].chars().rev().take_while(|&c| is_punctuation(c));
    let after = text[end..].chars().take_while(|&c| is_punctuation(c));
    (
        start - before.map(char::len_utf8).sum::<usize>(),
        end + after.map(char::len_utf8).sum::<usize>(),
    )
}

/// Appends to `kept` the candidates that lie inside no other candidate of the same rule (one of
/// two equal ones), in order of start, longest first. `reach` is scratch space that is all
/// `None` before and after; `rules` is the number of rules.
fn keep_outermost(
    candidates: &mut [Candidate],
    rules: usize,
    reach: &mut Vec<Option<usize>>,
    kept: &mut Vec<Candidate>,
) {
    // Longest first at each start, so a shorter match of the same rule inside a longer one
    // ("shut up" and "shut") is dropped as a duplicate. Every candidate kept before this one
    // starts no later, so this one lies inside one of them exactly when its rule's furthest
    // kept end reaches its end.
    candidates.sort_by_key(|c| (c.start, std::cmp::Reverse(c.end), c.rule));
    if reach.len() < rules {
        reach.resize(rules, None);
    }
    let first = kept.len();
    for c in candidates.iter() {
        let furthest = &mut reach[c.rule];
        if furthest.is_some_and(|end| c.end <= end) {
            continue;
        }
        *furthest = Some(c.end);
        kept.push(*c);
    }
    for c in &kept[first..] {
        reach[c.rule] = None;
    }
}

/// The terms of the exception lists. An exception is found like any term, through the
/// evasions a rule's terms are found through, but it only counts when the post writes it as
/// listed (letter case, spacing and punctuation between words aside): an allow-list that forgave "supp0rt@acme.example"
/// for "support@acme.example" would let through exactly what evasions are for.
#[derive(Debug, Default)]
struct ExceptionTerms {
    by_list: HashMap<u32, HashSet<String>>,
}

impl ExceptionTerms {
    fn add(&mut self, list: u32, term: &str) {
        self.by_list.entry(list).or_default().insert(Self::form(term));
    }

    fn is_exact(&self, list: u32, text: &str) -> bool {
        self.by_list.get(&list).is_some_and(|terms| terms.contains(&Self::form(text)))
    }

    /// The letters and digits, lowercased, each run of anything else between them as one
    /// space: "Fool-proof" and "fool proof" read alike, "f.o.o.l proof" does not.
    fn form(text: &str) -> String {
        let mut form = String::with_capacity(text.len());
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            if !form.is_empty() {
                form.push(' ');
            }
            form.extend(word.chars().flat_map(char::to_lowercase));
        }
        form
    }
}

#[derive(Debug, Clone, Copy)]
struct ProximityOptions {
    within: u32,
    ordered: bool,
    same_sentence: bool,
}

/// A term of `first` within `within` words of a term of `second`: one finding per `first`
/// occurrence, spanning it and the nearest qualifying `second` occurrence.
fn proximity(
    text: &str,
    rule: usize,
    group: &[(usize, Role, TermMatch)],
    options: ProximityOptions,
    out: &mut Vec<Candidate>,
) {
    let ProximityOptions { within, ordered, same_sentence } = options;
    // The group is sorted by role, then start; a later start never has an earlier first word.
    let seconds = {
        let from = group.partition_point(|r| r.1 < Role::Second);
        &group[from..group.partition_point(|r| r.1 <= Role::Second)]
    };
    // Only seconds whose first word lies in a window around the first can be near enough, so
    // a post full of one term costs time in proportion to its length, not to its square.
    let longest = seconds.iter().map(|r| r.2.last_word - r.2.first_word).max().unwrap_or(0);
    let firsts = group.iter().filter(|r| r.1 == Role::First).map(|r| r.2);
    for first in firsts {
        let lowest = first.first_word.saturating_sub(within.saturating_add(longest));
        let highest = first.last_word.saturating_add(within);
        let window = {
            let from = seconds.partition_point(|r| r.2.first_word < lowest);
            &seconds[from..seconds.partition_point(|r| r.2.first_word <= highest)]
        };
        let nearest = window
            .iter()
            .map(|r| r.2)
            .filter(|second| second.start != first.start || second.end != first.end)
            .filter(|second| !ordered || first.end <= second.start)
            .filter(|second| !same_sentence || !sentence_ends_between(text, &first, second))
            .map(|second| (word_distance(&first, &second), second))
            .filter(|(distance, _)| *distance <= within)
            .min_by_key(|(distance, second)| (*distance, second.start));
        if let Some((_, second)) = nearest {
            out.push(Candidate {
                rule,
                start: first.start.min(second.start),
                end: first.end.max(second.end),
                entity: None,
            });
        }
    }
}

/// Whether a sentence ends in the text between two matches: a `.`, `!` or `?` followed by
/// white space, or a line break. "e.g. " counts too; a decimal point does not.
fn sentence_ends_between(text: &str, a: &TermMatch, b: &TermMatch) -> bool {
    let (from, to) = if a.end <= b.start { (a.end, b.start) } else { (b.end, a.start) };
    let Some(gap) = text.get(from..to) else { return false };
    let gap = gap.as_bytes();
    gap.iter().enumerate().any(|(i, &c)| {
        c == b'\n'
            || (matches!(c, b'.' | b'!' | b'?')
                && gap.get(i + 1).is_some_and(u8::is_ascii_whitespace))
    })
}

/// Words from the end of one match to the start of the other; 0 when they overlap or touch.
fn word_distance(a: &TermMatch, b: &TermMatch) -> u32 {
    if b.first_word > a.last_word {
        b.first_word - a.last_word
    } else {
        a.first_word.saturating_sub(b.last_word)
    }
}

/// A trigger needs a marker among the first `within` words, and not buried in a pile of
/// hashtags; the finding points at the first trigger.
fn disclosure(
    text: &str,
    rule: usize,
    group: &[(usize, Role, TermMatch)],
    within: u32,
    out: &mut Vec<Candidate>,
) {
    let disclosed = group
        .iter()
        .any(|r| r.1 == Role::Marker && r.2.first_word < within && !buried(text, r.2.start));
    if disclosed {
        return;
    }
    if let Some(trigger) =
        group.iter().filter(|r| r.1 == Role::Trigger).map(|r| r.2).min_by_key(|m| m.start)
    {
        out.push(Candidate { rule, start: trigger.start, end: trigger.end, entity: None });
    }
}

/// Whether the marker starting at `start` comes after two or more hashtags in a row ("#fit
/// #run #ad"): a disclosure lost in a pile of hashtags is easy to miss, so it does not count.
fn buried(text: &str, start: usize) -> bool {
    let mut before = text[..start].strip_suffix('#').unwrap_or(&text[..start]);
    let mut hashtags = 0;
    while hashtags < 2 {
        let rest = before.trim_end();
        let token_start = rest.rfind(char::is_whitespace).map_or(0, |at| at + 1);
        if rest.len() == before.len() || !rest[token_start..].starts_with('#') {
            return false;
        }
        hashtags += 1;
        before = &rest[..token_start];
    }
    true
}

struct Compiler<'a> {
    policy: &'a Policy,
    files: &'a dyn Files,
    diagnostics: Vec<Diagnostic>,
    loaded: BTreeMap<String, Option<String>>,
    terms: TermMatcherBuilder,
    lists: Vec<ListUse>,
    exceptions: ExceptionTerms,
}

impl<'a> Compiler<'a> {
    fn new(policy: &'a Policy, files: &'a dyn Files) -> Compiler<'a> {
        Compiler {
            policy,
            files,
            diagnostics: Vec::new(),
            loaded: BTreeMap::new(),
            terms: TermMatcherBuilder::new(),
            lists: Vec::new(),
            exceptions: ExceptionTerms::default(),
        }
    }

    fn run(mut self) -> Result<Engine, Vec<Diagnostic>> {
        let mut rules = Vec::with_capacity(self.policy.rules.len());
        let mut patterns: Vec<(usize, String, Position)> = Vec::new();
        let mut entities: Vec<Entity> = Vec::new();
        let mut entity_rules = Vec::new();
        let mut link_rules = Vec::new();
        let mut always_rules = Vec::new();
        for (index, rule) in self.policy.rules.iter().enumerate() {
            let clause = self.policy.clause_of(rule);
            let info = Arc::new(RuleInfo {
                id: rule.id.clone(),
                clause: clause.id.clone().unwrap_or_default(),
                clause_title: clause.title.clone(),
                category: rule.category.clone(),
                severity: rule.severity,
                action: rule.action,
                message: rule.message.clone(),
            });
            self.add_terms(
                index,
                Role::Exception,
                &rule.unless,
                rule.unless_file.as_ref().map(|f| &f.value),
                rule,
            );
            for (role, source) in term_sources(&rule.matcher) {
                self.add_source(index, role, source, rule);
            }
            let kind = match &rule.matcher {
                Matcher::Terms(_) => RuleKind::Plain,
                Matcher::Regex(pattern) => {
                    patterns.push((index, pattern.value.clone(), pattern.at));
                    RuleKind::Plain
                }
                Matcher::Proximity { within, ordered, same_sentence, .. } => RuleKind::Proximity {
                    within: *within,
                    ordered: *ordered,
                    same_sentence: *same_sentence,
                },
                Matcher::Detect(wanted) => {
                    for &entity in wanted {
                        entity_rules.push((entity, index));
                        if !entities.contains(&entity) {
                            entities.push(entity);
                        }
                    }
                    RuleKind::Plain
                }
                Matcher::Links { deny, allow, shorteners, ip, lookalike } => {
                    link_rules.push(index);
                    let key = |domain: &String| {
                        let mut key = String::new();
                        detect::lookalike_key(domain, &mut key);
                        key
                    };
                    RuleKind::Links {
                        deny: deny.iter().map(key).collect(),
                        allow: allow.iter().map(|d| detect::ascii_host(d).into_owned()).collect(),
                        shorteners: *shorteners,
                        ip: *ip,
                        lookalike: *lookalike,
                    }
                }
                Matcher::Disclosure { within, .. } => RuleKind::Disclosure { within: *within },
                Matcher::Always => {
                    always_rules.push(index);
                    RuleKind::Plain
                }
            };
            rules.push(CompiledRule { info, scope: rule.scope.clone(), kind });
        }
        self.check_rejected();
        let regexes = self.regexes(&patterns);
        let regex_gate = regex_gate(&regexes);
        let terms = std::mem::take(&mut self.terms).build();
        if let Err(err) = &terms {
            let message = format!("the policy's terms cannot be compiled: {err}");
            self.diagnostics.push(Diagnostic::error(
                &self.policy.file,
                Position { line: 1, column: 1 },
                message,
            ));
        }
        if self.diagnostics.iter().any(Diagnostic::is_error) {
            self.diagnostics.sort();
            return Err(self.diagnostics);
        }
        let stamp = Arc::new(PolicyStamp {
            id: self.policy.meta.id.clone(),
            version: self.policy.meta.version.clone(),
            hash: self.hash(),
        });
        let regions = &self.policy.meta.regions;
        Ok(Engine {
            stamp,
            rules,
            terms: terms.expect("a term build error was reported above"),
            lists: self.lists,
            exceptions: self.exceptions,
            regexes,
            regex_gate,
            detectors: (!entities.is_empty())
                .then(|| Detectors::new(&entities).with_phone_regions(regions)),
            entity_rules,
            link_rules,
            always_rules,
        })
    }

    /// Compiles the patterns and term lists of the rules the parser rejected into scratch state
    /// and drops it, so that their problems are reported with the rest and the engine, its
    /// lists and its hash stay those of the valid rules alone.
    fn check_rejected(&mut self) {
        let policy = self.policy;
        if policy.rejected.is_empty() {
            return;
        }
        let terms = std::mem::take(&mut self.terms);
        let lists = std::mem::take(&mut self.lists);
        let exceptions = std::mem::take(&mut self.exceptions);
        let loaded = self.loaded.clone();
        let mut patterns = Vec::new();
        for rule in &policy.rejected {
            let unless_file = rule.unless_file.as_ref().map(|f| &f.value);
            self.add_terms(usize::MAX, Role::Exception, &rule.unless, unless_file, rule);
            for (role, source) in term_sources(&rule.matcher) {
                self.add_source(usize::MAX, role, source, rule);
            }
            if let Matcher::Regex(pattern) = &rule.matcher {
                patterns.push((usize::MAX, pattern.value.clone(), pattern.at));
            }
        }
        self.regexes(&patterns);
        self.terms = terms;
        self.lists = lists;
        self.exceptions = exceptions;
        self.loaded = loaded;
    }

    fn add_source(&mut self, rule_index: usize, role: Role, source: &TermSource, rule: &Rule) {
        self.add_terms(
            rule_index,
            role,
            &source.terms,
            source.file.as_ref().map(|f| &f.value),
            rule,
        );
    }

    fn add_terms(
        &mut self,
        rule_index: usize,
        role: Role,
        terms: &[String],
        file: Option<&String>,
        rule: &Rule,
    ) {
        if terms.is_empty() && file.is_none() {
            return;
        }
        let list = u32::try_from(self.lists.len()).expect("fewer than 4 billion term lists");
        self.lists.push(ListUse { rule: rule_index, role });
        for term in terms {
            if role == Role::Exception {
                self.exceptions.add(list, term);
            }
            if let Err(err) = self.terms.add(list, term) {
                let at = rule.at;
                self.diagnostics.push(Diagnostic::error(
                    &self.policy.file,
                    at,
                    format!("rule `{}`: {err}", rule.id),
                ));
            }
        }
        let Some(path) = file else { return };
        let Some(contents) = self.load(path, rule) else { return };
        let display = self.files.display(path);
        for (line_number, line) in contents.lines().enumerate() {
            let term = line.trim();
            if term.is_empty() || term.starts_with('#') {
                continue;
            }
            if role == Role::Exception {
                self.exceptions.add(list, term);
            }
            if let Err(err) = self.terms.add(list, term) {
                let column = line.len() - line.trim_start().len();
                let position = Position {
                    line: u32::try_from(line_number + 1).unwrap_or(u32::MAX),
                    column: u32::try_from(line[..column].chars().count() + 1).unwrap_or(u32::MAX),
                };
                self.diagnostics.push(Diagnostic::error(&display, position, err.to_string()));
            }
        }
    }

    /// Reads a term file once, however many rules name it.
    fn load(&mut self, path: &str, rule: &Rule) -> Option<String> {
        if let Some(loaded) = self.loaded.get(path) {
            return loaded.clone();
        }
        let at = term_file_position(rule, path).unwrap_or(rule.at);
        let contents = match self.files.read(path) {
            Ok(contents) if contents.len() > MAX_TERM_FILE_BYTES => {
                let message =
                    format!("term file `{path}` is larger than {MAX_TERM_FILE_BYTES} bytes");
                self.diagnostics.push(Diagnostic::error(&self.policy.file, at, message));
                None
            }
            Ok(contents) => Some(contents),
            Err(FileError::NotFound) => {
                let message = format!("term file `{path}` not found next to the policy");
                self.diagnostics.push(Diagnostic::error(&self.policy.file, at, message));
                None
            }
            Err(err) => {
                let message = format!("term file `{path}`: {err}");
                self.diagnostics.push(Diagnostic::error(&self.policy.file, at, message));
                None
            }
        };
        self.loaded.insert(path.to_owned(), contents.clone());
        contents
    }

    fn regexes(&mut self, patterns: &[(usize, String, Position)]) -> Vec<RuleRegex> {
        let mut regexes = Vec::with_capacity(patterns.len());
        for (rule, pattern, at) in patterns {
            if pattern.len() > MAX_REGEX_BYTES {
                let message = format!("regular expression is longer than {MAX_REGEX_BYTES} bytes");
                self.diagnostics.push(Diagnostic::error(&self.policy.file, *at, message));
                continue;
            }
            match RegexBuilder::new(pattern).size_limit(MAX_REGEX_COMPILED_BYTES).build() {
                Ok(regex) => regexes.push(RuleRegex { rule: *rule, regex }),
                Err(err) => {
                    let message = format!("bad regular expression: {}", regex_error(&err));
                    self.diagnostics.push(Diagnostic::error(&self.policy.file, *at, message));
                }
            }
        }
        regexes
    }

    /// SHA-256 over the document and every term file it loaded, each length-prefixed, so
    /// that no two different policies share a hash by moving bytes between files.
    fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"lifeguard-policy-v1\0");
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        field(self.policy.source.as_bytes());
        for (path, contents) in &self.loaded {
            field(path.as_bytes());
            field(contents.as_deref().unwrap_or_default().as_bytes());
        }
        let digest = hasher.finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The term lists a matcher reads, each with the role its matches play, in the order their lists
/// are numbered.
fn term_sources(matcher: &Matcher) -> Vec<(Role, &TermSource)> {
    match matcher {
        Matcher::Terms(source) => vec![(Role::Match, source)],
        Matcher::Proximity { first, second, .. } => {
            vec![(Role::First, first), (Role::Second, second)]
        }
        Matcher::Disclosure { triggers, markers, .. } => {
            vec![(Role::Trigger, triggers), (Role::Marker, markers)]
        }
        Matcher::Regex(_) | Matcher::Detect(_) | Matcher::Links { .. } | Matcher::Always => {
            Vec::new()
        }
    }
}

/// The position of the `*_file` field naming `path` in a rule, for "not found" errors.
fn term_file_position(rule: &Rule, path: &str) -> Option<Position> {
    term_sources(&rule.matcher)
        .into_iter()
        .filter_map(|(_, s)| s.file.as_ref())
        .chain(rule.unless_file.as_ref())
        .find(|f| f.value == path)
        .map(|f| f.at)
}

/// The set of relaxed patterns, in the order of `regexes`; `None` if there are none or the
/// set would be too large.
fn regex_gate(regexes: &[RuleRegex]) -> Option<RegexSet> {
    if regexes.is_empty() {
        return None;
    }
    let relaxed: Vec<String> = regexes.iter().map(|r| relaxed(r.regex.as_str())).collect();
    let limit = MAX_REGEX_COMPILED_BYTES.saturating_mul(regexes.len());
    RegexSetBuilder::new(relaxed).size_limit(limit).build().ok()
}

/// The pattern as the gate runs it, over bytes: without its look-arounds (`\b`, `^`, `$`, …),
/// and with the non-ASCII part of every class widened to a run of non-ASCII bytes. It matches
/// wherever the pattern does, since the UTF-8 form of any non-ASCII character is such a run,
/// and its automaton tells apart only ASCII bytes, so it has fewer and smaller states than one
/// over Unicode classes (`\s`, or `(?i)`, which adds the Kelvin sign to `k`).
fn relaxed(pattern: &str) -> String {
    match regex_syntax::Parser::new().parse(pattern) {
        Ok(hir) => gate_form(hir).to_string(),
        Err(_) => pattern.to_owned(),
    }
}

fn gate_form(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Look(_) => Hir::empty(),
        HirKind::Repetition(mut repetition) => {
            repetition.sub = Box::new(gate_form(*repetition.sub));
            Hir::repetition(repetition)
        }
        HirKind::Capture(mut capture) => {
            capture.sub = Box::new(gate_form(*capture.sub));
            Hir::capture(capture)
        }
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(gate_form).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(gate_form).collect()),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(literal) => Hir::literal(literal.0),
        HirKind::Class(Class::Bytes(class)) => Hir::class(Class::Bytes(class)),
        HirKind::Class(Class::Unicode(class)) => {
            let ascii = class.ranges().iter().filter(|r| r.start().is_ascii()).map(|r| {
                let end = if r.end().is_ascii() { r.end() as u8 } else { 0x7f };
                ClassBytesRange::new(r.start() as u8, end)
            });
            let ascii = Hir::class(Class::Bytes(ClassBytes::new(ascii)));
            if class.ranges().last().is_none_or(|r| r.end().is_ascii()) {
                return ascii;
            }
            let non_ascii = ClassBytes::new([ClassBytesRange::new(0x80, 0xff)]);
            let run = Hir::repetition(Repetition {
                min: 1,
                max: None,
                greedy: true,
                sub: Box::new(Hir::class(Class::Bytes(non_ascii))),
            });
            Hir::alternation(vec![ascii, run])
        }
    }
}

fn regex_error(err: &regex::Error) -> String {
    match err {
        regex::Error::Syntax(text) => {
            let last = text.lines().rev().find(|l| l.starts_with("error:")).unwrap_or(text);
            last.trim_start_matches("error:").trim().to_owned()
        }
        regex::Error::CompiledTooBig(limit) => format!("compiles to more than {limit} bytes"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
