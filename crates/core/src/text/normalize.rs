//! The normalization shared by terms and posts: folding, leetspeak, word
//! segmentation, separator joining, and the run-collapsed skeleton that the
//! automaton searches.
//!
//! Text is read in one pass. Each raw token (a run of characters without a
//! separator) is folded into [`Unit`]s that remember their byte span in the
//! original text, resolved (leetspeak, symbols, apostrophes), split into
//! words, and each word is appended to the skeleton with an [`Info`] per
//! byte. Plain ASCII words, most of any post, take a lane that writes only
//! skeleton bytes and recomputes their [`Info`]s when a candidate match needs
//! them. Terms and posts go through exactly the same code, which is what
//! keeps matching consistent in any script.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// What a folded character can still become once its neighbours are known.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Letter,
    Digit,
    /// A CJK ideograph or kana: a word on its own, since those scripts do not
    /// put spaces between words.
    Solo,
    Dollar,
    At,
    /// A sign that reads as a letter between letters: `!` and `¡` (i), `|` (l), `¢` and `©`
    /// (c), `€` (e).
    Sign,
    Apos,
    Hash,
    /// A leading `#` or `@`: part of the word but also a word boundary.
    Prefix,
    /// Inside a word but not matched against (a joining apostrophe).
    Drop,
    Sep,
}

impl Class {
    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A digit read as a letter; `Unit::digit` keeps the digit to undo it.
const LEET: u8 = 1;
/// A symbol read as a letter ('$', '@', '!', '|').
const SYMBOL: u8 = 2;
/// A dropped apostrophe of a trailing "'s": a word end may fall before it.
const SUFFIX: u8 = 4;

#[derive(Clone, Copy, Debug)]
struct Unit {
    ch: char,
    start: u32,
    end: u32,
    class: Class,
    flags: u8,
    digit: u8,
}

impl Unit {
    fn is_word_char(&self) -> bool {
        matches!(self.class, Class::Letter | Class::Digit)
    }

    fn is_original_letter(&self) -> bool {
        self.class == Class::Letter && self.flags & (LEET | SYMBOL) == 0
    }

    /// A one-character word that rule 4 may join with its neighbours.
    fn is_spellable(&self) -> bool {
        self.class == Class::Letter || (self.class == Class::Digit && leet_digit(self.ch).is_some())
    }

    fn become_letter(&mut self, ch: char) {
        self.ch = ch;
        self.class = Class::Letter;
        self.flags |= SYMBOL;
    }
}

/// A cached fold of one non-ASCII character: its first `len` units.
#[derive(Clone, Copy, Debug)]
struct Folded {
    key: char,
    len: u8,
    units: [(char, Class); 2],
}

impl Folded {
    const SLOTS: usize = 512;
    /// `len` of a fold too long to cache: fold again.
    const LONG: u8 = u8::MAX;
}

/// `Info::flags`: the character is a letter, so its run length is compared
/// leniently.
pub(super) const LETTER: u8 = 1;

/// What the verifier needs to know about one skeleton byte. Every byte of a
/// multi-byte character carries the same copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Info {
    /// Byte span in the original text of the whole run this character stands for.
    pub(super) start: u32,
    pub(super) end: u32,
    /// How many equal characters the skeleton collapsed into this one.
    pub(super) run: u16,
    pub(super) flags: u8,
}

/// Where a word is, and where its [`Info`]s are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Word {
    /// Offset of its first skeleton byte.
    skel: u32,
    /// Offset of its first byte in the original text.
    orig: u32,
    /// Index of its first entry in `Normalized::info`, or [`LANE`].
    info: u32,
}

/// A word written by the ASCII lane, whose [`Info`]s are not stored but
/// recomputed from the original text when a candidate match needs them.
const LANE: u32 = u32::MAX;

/// Reusable normalization buffers and the result of the last
/// [`Normalized::run`].
///
/// The automaton only needs the skeleton, and the word boundaries follow
/// from the skeleton itself (see [`Normalized::word_starts`] and
/// [`Normalized::ends_word`]); run lengths and original offsets are only
/// needed for the rare candidate. So the ASCII lane writes nothing but
/// skeleton bytes, and [`Normalized::details`] recomputes its words' details
/// on demand; words from the general path store theirs as they go.
#[derive(Clone, Debug)]
pub(super) struct Normalized {
    /// Words separated by single spaces, runs of equal characters collapsed.
    /// It only grows: `len` is how much of it is in use, which spares the
    /// lane Vec's length bookkeeping.
    skel: Vec<u8>,
    len: usize,
    words: Vec<Word>,
    /// One entry per skeleton byte of the general path's words.
    info: Vec<Info>,
    /// Skeleton offsets (of a character's last byte) where a word may also
    /// end: before a possessive "'s".
    inner_ends: Vec<u32>,
    /// The raw token being read.
    token: Vec<Unit>,
    /// What one non-ASCII character folds into.
    folded: Vec<Unit>,
    /// Recent folds of non-ASCII characters, direct-mapped by code point:
    /// Unicode's tables cost ~100 ns a character, and a post in another
    /// script uses a few dozen distinct ones.
    cache: Vec<Folded>,
    /// One-character words that rule 4 may still join, and the gap between
    /// them (see [`Normalized::joining_gap`]).
    spelled: Vec<Unit>,
    spelled_gap: (char, u32),
    /// Separators read since the last word: how many, and the first three.
    gap_len: u32,
    gap: [char; 3],
    /// Off only in tests, which check that both lanes agree.
    ascii_lane: bool,
}

impl Default for Normalized {
    fn default() -> Self {
        Self {
            skel: Vec::new(),
            len: 0,
            words: Vec::new(),
            info: Vec::new(),
            inner_ends: Vec::new(),
            token: Vec::new(),
            folded: Vec::new(),
            cache: Vec::new(),
            spelled: Vec::new(),
            spelled_gap: (' ', 1),
            gap_len: 0,
            gap: [' '; 3],
            ascii_lane: true,
        }
    }
}

impl Normalized {
    /// A normalizer that sends every token through the general path.
    #[cfg(test)]
    pub(super) fn without_ascii_lane() -> Self {
        Self { ascii_lane: false, ..Self::default() }
    }

    /// The skeleton: words one space apart, runs collapsed.
    pub(super) fn skel(&self) -> &[u8] {
        &self.skel[..self.len]
    }

    /// Number of words in the last normalized text.
    pub(super) fn word_count(&self) -> usize {
        self.words.len()
    }

    /// Index of the word that the skeleton byte at `at` belongs to.
    pub(super) fn word_at(&self, at: usize) -> u32 {
        let after = self.words.partition_point(|w| w.skel as usize <= at);
        u32::try_from(after.saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// The skeleton offset of each word's start, in order. A match may start
    /// there, and also just after a leading `#` or `@`.
    pub(super) fn word_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().map(|w| w.skel as usize)
    }

    /// The skeleton offsets where a match may start, in order: each word's
    /// start, and just after a leading `#` or `@`. The search walks the same
    /// starts from [`Normalized::word_starts`].
    #[cfg(test)]
    pub(super) fn match_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().flat_map(|w| {
            let at = w.skel as usize;
            let prefixed = matches!(self.skel.get(at), Some(b'#' | b'@'));
            std::iter::once(at).chain(prefixed.then_some(at + 1))
        })
    }

    /// Whether a match may end after skeleton offset `at` (a character's last
    /// byte): at a word's end, or before a possessive "'s".
    pub(super) fn ends_word(&self, at: usize) -> bool {
        let skel = self.skel();
        skel.get(at + 1).is_none_or(|&b| b == b' ')
            || (!self.inner_ends.is_empty() && self.inner_ends.binary_search(&(at as u32)).is_ok())
    }

    /// Writes into `out` the [`Info`] of each skeleton byte in `from..to`,
    /// `text` being the text last normalized.
    pub(super) fn details(&self, text: &str, from: usize, to: usize, out: &mut Vec<Info>) {
        out.clear();
        let Ok(first) = usize::try_from(self.word_at(from)) else {
            return;
        };
        let skel_from = self.words.get(first).map_or(0, |w| w.skel as usize);
        for (k, word) in self.words.iter().enumerate().skip(first) {
            if word.skel as usize >= to {
                break;
            }
            if k > first {
                out.push(Info { start: word.orig, end: word.orig, run: 1, flags: 0 });
            }
            if word.info == LANE {
                let mut detail = Detail { info: out };
                let _ = lane_word(limit(text).as_bytes(), word.orig as usize, &mut detail);
            } else {
                let end = self.words.get(k + 1).map_or(self.len, |next| next.skel as usize - 1);
                let at = word.info as usize;
                out.extend_from_slice(&self.info[at..at + end - word.skel as usize]);
            }
        }
        out.truncate(to - skel_from);
        out.drain(..(from - skel_from).min(out.len()));
    }

    /// Writes the normalized words (runs not collapsed), one space apart.
    pub(super) fn display(&self, text: &str, out: &mut String) {
        let mut info = Vec::new();
        self.details(text, 0, self.len, &mut info);
        let Ok(skel) = std::str::from_utf8(self.skel()) else {
            return;
        };
        for (at, ch) in skel.char_indices() {
            let run = info.get(at).map_or(1, |info| info.run);
            for _ in 0..run {
                out.push(ch);
            }
        }
    }

    /// Normalizes `text`, replacing the previous result. Offsets are only
    /// meaningful with the same `text` passed to [`Normalized::details`].
    pub(super) fn run(&mut self, text: &str) {
        let text = limit(text);
        self.len = 0;
        self.words.clear();
        self.info.clear();
        self.inner_ends.clear();
        self.token.clear();
        self.spelled.clear();
        self.gap_len = 0;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // `limit` keeps every offset within u32.
            let start = i as u32;
            let b = bytes[i];
            if !b.is_ascii() {
                let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
                    i += 1;
                    continue;
                };
                let len = c.len_utf8();
                let end = start + len as u32;
                let folded = self.fold_cached(c);
                let cached = folded.units.get(..usize::from(folded.len)).unwrap_or_default();
                for &(ch, class) in cached {
                    self.feed(Unit { ch, start, end, class, flags: 0, digit: 0 });
                }
                if folded.len == Folded::LONG {
                    let mut units = std::mem::take(&mut self.folded);
                    units.clear();
                    fold_non_ascii(c, start, end, &mut units);
                    for unit in &units {
                        self.feed(*unit);
                    }
                    self.folded = units;
                }
                // A removed mark or invisible character belongs to the letter
                // before it, so that a match's span covers it ("f̶u̶c̶k̶").
                if folded.len == 0
                    && let Some(last) = self.token.last_mut()
                {
                    last.end = end;
                }
                i += len;
                continue;
            }
            let (ch, class) = ASCII[b as usize];
            if class == Class::Sep && self.token.is_empty() {
                self.note_gap(ch as char);
                i += 1;
                continue;
            }
            if self.ascii_lane
                && self.token.is_empty()
                && starts_lane_word(bytes, i)
                && let Some(end) = self.ascii_lane(bytes, i)
            {
                i = end;
                continue;
            }
            self.feed(Unit { ch: ch as char, start, end: start + 1, class, flags: 0, digit: 0 });
            i += 1;
        }
        self.end_token();
        self.flush_spelled();
    }

    /// Folds `c` through the cache. A result of more than two units is not
    /// cached, and comes back as [`Folded::LONG`].
    fn fold_cached(&mut self, c: char) -> Folded {
        if self.cache.is_empty() {
            self.cache.resize(
                Folded::SLOTS,
                Folded { key: '\0', len: 0, units: [('\0', Class::Sep); 2] },
            );
        }
        let slot = c as usize % Folded::SLOTS;
        if self.cache[slot].key == c {
            return self.cache[slot];
        }
        let mut units = std::mem::take(&mut self.folded);
        units.clear();
        fold_non_ascii(c, 0, 0, &mut units);
        let folded = match units.as_slice() {
            [] => Folded { key: c, len: 0, units: [('\0', Class::Sep); 2] },
            [a] => Folded { key: c, len: 1, units: [(a.ch, a.class), ('\0', Class::Sep)] },
            [a, b] => Folded { key: c, len: 2, units: [(a.ch, a.class), (b.ch, b.class)] },
            _ => Folded { key: c, len: Folded::LONG, units: [('\0', Class::Sep); 2] },
        };
        self.folded = units;
        self.cache[slot] = folded;
        folded
    }

    fn feed(&mut self, unit: Unit) {
        match unit.class {
            Class::Sep => {
                self.end_token();
                self.note_gap(unit.ch);
            }
            Class::Solo => {
                self.end_token();
                self.word(&[unit]);
            }
            _ => self.token.push(unit),
        }
    }

    /// Resolves the raw token read so far and splits it into words wherever a
    /// symbol turned out to be punctuation.
    fn end_token(&mut self) {
        if self.token.is_empty() {
            return;
        }
        let mut token = std::mem::take(&mut self.token);
        let seen = token.iter().fold(0, |seen, u| seen | u.class.bit());
        if seen == Class::Letter.bit() || seen == Class::Digit.bit() {
            self.word(&token);
        } else {
            resolve_token(&mut token);
            let mut k = 0;
            while k < token.len() {
                if token[k].class == Class::Sep {
                    self.note_gap(token[k].ch);
                    k += 1;
                    continue;
                }
                let start = k;
                while k < token.len() && token[k].class != Class::Sep {
                    k += 1;
                }
                restore_number(&mut token[start..k]);
                self.word(&token[start..k]);
            }
        }
        token.clear();
        self.token = token;
    }

    #[inline]
    fn note_gap(&mut self, c: char) {
        if let Some(slot) = self.gap.get_mut(self.gap_len as usize) {
            *slot = c;
        }
        self.gap_len += 1;
    }

    /// The gap since the last word as rule 4 sees it, if it may join
    /// one-letter words: one joining character ("f.u"), or one other than a
    /// space with a space after it ("f. u") or on both sides ("f . u").
    /// Returns the joining character and the gap's length, which must stay
    /// the same along a chain.
    fn joining_gap(&self) -> Option<(char, u32)> {
        let [first, second, third] = self.gap;
        let joins = match self.gap_len {
            1 => is_joiner(first),
            2 => first != ' ' && is_joiner(first) && second == ' ',
            3 => first == ' ' && second != ' ' && is_joiner(second) && third == ' ',
            _ => false,
        };
        let joiner = if self.gap_len == 3 { second } else { first };
        joins.then_some((joiner, self.gap_len))
    }

    /// Takes one word. One-character words wait in `spelled` until it is
    /// known whether rule 4 joins them ("f.u.c.k").
    fn word(&mut self, units: &[Unit]) {
        match units {
            [unit] if unit.is_spellable() => {
                // A chain keeps to its first gap: "f.u.c.k s.h.i.t" is two
                // words, not "fuckshit".
                let gap = self.joining_gap();
                let linked = !self.spelled.is_empty()
                    && gap.is_some_and(|gap| self.spelled.len() == 1 || gap == self.spelled_gap);
                if let (true, Some(gap)) = (linked, gap) {
                    self.spelled_gap = gap;
                } else {
                    self.flush_spelled();
                }
                self.spelled.push(*unit);
            }
            _ => {
                self.flush_spelled();
                self.emit(units);
            }
        }
        self.gap_len = 0;
    }

    /// Rule 4: three or more one-character words, each pair separated by
    /// exactly one joining character, become one word, leet digits included.
    fn flush_spelled(&mut self) {
        if self.spelled.is_empty() {
            return;
        }
        let mut spelled = std::mem::take(&mut self.spelled);
        if spelled.len() >= 3 && spelled.iter().any(|u| u.class == Class::Letter) {
            for unit in &mut spelled {
                if unit.class == Class::Digit {
                    to_leet(unit);
                }
            }
            self.emit(&spelled);
        } else {
            for k in 0..spelled.len() {
                self.emit(&spelled[k..=k]);
            }
        }
        spelled.clear();
        self.spelled = spelled;
    }

    /// Makes room for `extra` more skeleton bytes.
    fn reserve(&mut self, extra: usize) {
        let needed = self.len + extra;
        if self.skel.len() < needed {
            self.skel.resize(needed.max(2 * self.skel.len()).max(64), 0);
        }
    }

    /// Starts a word in the skeleton, with its separating space.
    fn begin_word(&mut self, orig: u32, info: u32) {
        self.reserve(1);
        if !self.words.is_empty() {
            self.skel[self.len] = b' ';
            self.len += 1;
        }
        self.words.push(Word { skel: self.len as u32, orig, info });
    }

    fn push_char(&mut self, ch: char, info: Info) {
        let mut buf = [0; 4];
        let bytes = ch.encode_utf8(&mut buf).as_bytes();
        self.reserve(bytes.len());
        for &b in bytes {
            self.skel[self.len] = b;
            self.info.push(info);
            self.len += 1;
        }
    }

    /// The ASCII lane: writes plain ASCII words straight from the bytes,
    /// starting at a token where [`starts_lane_word`] holds, and going on
    /// through the following words for as long as they are that simple (see
    /// [`lane_word`]; a one-letter word only when a longer lane word or the
    /// end follows). Returns where it stopped, or `None` if it wrote
    /// nothing. It must write exactly what the general path would, which a
    /// property test checks.
    #[inline(never)]
    fn ascii_lane(&mut self, bytes: &[u8], from: usize) -> Option<usize> {
        // Pending one-letter words wait for the next word, which settles
        // whether rule 4 joins them: a lane word (never one character)
        // flushes them, as the general path would; if the lane declines,
        // they stay for the general path.
        if !self.spelled.is_empty() {
            if lane_word(bytes, from, &mut Check)?.single {
                return None;
            }
            self.flush_spelled();
        }
        // Each word needs at most its bytes plus a space, and every word but
        // the first consumed at least one separator byte.
        self.reserve(bytes.len() - from + 1);
        let mut i = from;
        let mut letters_end = from;
        let mut len = self.len;
        let mut space = usize::from(!self.words.is_empty());
        loop {
            let mut out = SkelOnly { skel: &mut self.skel, n: len + space, possessive: None };
            let Some(word) = lane_word(bytes, i, &mut out) else {
                break;
            };
            let (n, possessive) = (out.n, out.possessive);
            let mut next = word.end;
            while bytes.get(next).is_some_and(|&c| ASCII_SEP[usize::from(c)]) {
                next += 1;
            }
            // A one-letter word is a word on its own when a longer word or
            // the end of the text follows; otherwise rule 4 may join it, and
            // the general path takes over.
            if word.single
                && next < bytes.len()
                && lane_word(bytes, next, &mut Check).is_none_or(|w| w.single)
            {
                break;
            }
            if space == 1
                && let Some(slot) = self.skel.get_mut(len)
            {
                *slot = b' ';
            }
            self.words.push(Word { skel: (len + space) as u32, orig: i as u32, info: LANE });
            if let Some(at) = possessive {
                self.inner_ends.push(at as u32);
            }
            len = n;
            space = 1;
            letters_end = word.letters_end;
            i = next;
        }
        self.len = len;
        if i == from {
            return None;
        }
        // Only a pending one-letter word looks at the gap, and the lane
        // leaves none.
        self.gap_len = 0;
        for &b in &bytes[letters_end..i] {
            self.note_gap(char::from(b));
        }
        Some(i)
    }

    fn emit(&mut self, units: &[Unit]) {
        let Some(first) = units.first() else {
            return;
        };
        self.begin_word(first.start, self.info.len() as u32);
        // Skeleton offset of the last emitted character, its char, and
        // whether the next unit may extend its run.
        let mut last = usize::MAX;
        let mut last_ch = '\0';
        let mut mergeable = false;
        for unit in units {
            match unit.class {
                Class::Drop => {
                    if unit.flags & SUFFIX != 0 && last != usize::MAX {
                        self.inner_ends.push(self.len as u32 - 1);
                        mergeable = false;
                    }
                    continue;
                }
                Class::Prefix => {
                    last = self.len;
                    self.push_char(
                        unit.ch,
                        Info { start: unit.start, end: unit.end, run: 1, flags: 0 },
                    );
                    mergeable = false;
                    continue;
                }
                _ => {}
            }
            if mergeable && last_ch == unit.ch {
                // The last character's entries are the last of `info`.
                let from = self.info.len() - (self.len - last);
                for info in &mut self.info[from..] {
                    info.run = info.run.saturating_add(1);
                    info.end = unit.end;
                }
                continue;
            }
            let flags = if unit.class == Class::Letter { LETTER } else { 0 };
            last = self.len;
            self.push_char(unit.ch, Info { start: unit.start, end: unit.end, run: 1, flags });
            last_ch = unit.ch;
            mergeable = unit.class != Class::Solo;
        }
    }
}

/// Whether the ASCII lane may start a word at `at`: two letters, a letter
/// and an apostrophe and a letter ("I've"), or a leading `#`/`@` and a
/// letter. None of these can be a one-letter word; one-letter words are only
/// taken after a lane word (see [`Normalized::ascii_lane`]).
fn starts_lane_word(bytes: &[u8], at: usize) -> bool {
    let letter = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_alphabetic);
    match bytes.get(at) {
        Some(b'#' | b'@') => letter(at + 1),
        Some(c) if c.is_ascii_alphabetic() => {
            letter(at + 1) || (bytes.get(at + 1) == Some(&b'\'') && letter(at + 2))
        }
        _ => false,
    }
}

/// Endings that follow an apostrophe in English contractions ("he'll", "we're", "I've",
/// "she'd", "I'm", "don't"). The apostrophe before them separates words, so "he'll" is not
/// the word "hell" and "we'll" is not "well". See the policy authors' report on contractions.
const CONTRACTIONS: [&[u8]; 6] = [b"ll", b"re", b"ve", b"d", b"m", b"t"];

/// Whether `rest` (what follows an apostrophe) is a contraction ending that ends the word.
fn ascii_contraction(rest: &[u8]) -> bool {
    CONTRACTIONS.iter().any(|ending| {
        rest.len() >= ending.len()
            && rest[..ending.len()].iter().zip(ending.iter()).all(|(a, b)| a | 0x20 == *b)
            && rest
                .get(ending.len())
                .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'\'' && c.is_ascii())
    })
}

/// The same test on the general path's units, which are already lowercased.
fn unit_contraction(rest: &[Unit]) -> bool {
    CONTRACTIONS.iter().any(|ending| {
        rest.len() >= ending.len()
            && rest[..ending.len()].iter().zip(ending.iter()).all(|(u, b)| u.ch == char::from(*b))
            && rest.get(ending.len()).is_none_or(|u| !u.is_word_char() && u.class != Class::Apos)
    })
}

/// The lowercase of an ASCII letter, and 0 for any other byte.
static ASCII_LOWER: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphabetic() {
            table[b] = c | 0x20;
        }
        b += 1;
    }
    table
};

/// Whether a byte is an ASCII separator, by byte.
static ASCII_SEP: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = matches!(ASCII[b].1, Class::Sep);
        b += 1;
    }
    table
};

/// Where [`lane_word`] writes: the skeleton alone when normalizing, the
/// [`Info`]s alone when a candidate needs them.
trait LaneOut {
    /// A new skeleton character at original offset `at`.
    fn push(&mut self, c: u8, at: u32, flags: u8);
    /// The last character's run grows by the letter at `at`.
    fn extend(&mut self, at: u32);
    /// A word may also end after the last character (a possessive follows).
    fn possessive(&mut self);

    /// Takes the run of ASCII letters at `bytes[from..]`, lowercased, each
    /// extending the run of the one before when equal; `last` is the last
    /// character taken (0 for none). Returns where the letters end.
    fn letters(&mut self, bytes: &[u8], from: usize, last: &mut u8) -> usize {
        let mut i = from;
        while let Some(&b) = bytes.get(i) {
            if !b.is_ascii_alphabetic() {
                break;
            }
            let c = b | 0x20;
            if c == *last {
                self.extend(i as u32);
            } else {
                self.push(c, i as u32, LETTER);
                *last = c;
            }
            i += 1;
        }
        i
    }
}

struct SkelOnly<'a> {
    skel: &'a mut [u8],
    n: usize,
    possessive: Option<usize>,
}

impl LaneOut for SkelOnly<'_> {
    fn push(&mut self, c: u8, _: u32, _: u8) {
        self.skel[self.n] = c;
        self.n += 1;
    }

    fn extend(&mut self, _: u32) {}

    fn possessive(&mut self) {
        self.possessive = Some(self.n - 1);
    }

    /// The lane's inner loop, kept tight: only the skeleton is written,
    /// eight bytes at a time (see [`ascii_letters`]), so a word's end costs
    /// no mispredicted branch. Letters are copied as they are, and runs
    /// collapsed afterwards in the rare word that has one.
    fn letters(&mut self, bytes: &[u8], from: usize, last: &mut u8) -> usize {
        let src = bytes.get(from..).unwrap_or_default();
        // The lane reserved a skeleton byte per byte of the text.
        let dst = self.skel.get_mut(self.n..).unwrap_or_default();
        let len = src.len().min(dst.len());
        let (src, dst) = (&src[..len], &mut dst[..len]);
        let mut prev = *last;
        let mut repeats = false;
        let mut taken = 0;
        let mut whole = true;
        while let (Some(chunk), Some(slot)) =
            (src.get(taken..taken + 8), dst.get_mut(taken..taken + 8))
        {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let (lower, count) = ascii_letters(word);
            slot.copy_from_slice(&lower.to_le_bytes());
            repeats |= repeats_in(lower, prev, count);
            if count > 0 {
                prev = (lower >> (8 * (count - 1))) as u8;
            }
            taken += count;
            if count < 8 {
                whole = false;
                break;
            }
        }
        // Fewer than eight bytes left.
        if whole {
            for (slot, &b) in dst[taken..].iter_mut().zip(&src[taken..]) {
                let c = ASCII_LOWER[usize::from(b)];
                if c == 0 {
                    break;
                }
                *slot = c;
                repeats |= c == prev;
                prev = c;
                taken += 1;
            }
        }
        let mut n = taken;
        if repeats {
            let mut run = *last;
            n = 0;
            for k in 0..taken {
                let c = dst[k];
                if c != run {
                    dst[n] = c;
                    n += 1;
                    run = c;
                }
            }
        }
        self.n += n;
        *last = prev;
        from + taken
    }
}

const LANES_01: u64 = 0x0101_0101_0101_0101;
const LANES_80: u64 = 0x8080_8080_8080_8080;

/// Eight bytes of text (little-endian) → the same bytes with ASCII letters
/// lowercased (other bytes garbage), and how many of them, from the first,
/// are ASCII letters.
fn ascii_letters(word: u64) -> (u64, usize) {
    // Bit 7 of each byte cleared, so the additions below carry into no
    // neighbour; `| 0x20` lowercases a letter and sends no other byte into
    // `a..=z`.
    let lower = (word | (0x20 * LANES_01)) & !LANES_80;
    let at_least_a = lower.wrapping_add((0x80 - u64::from(b'a')) * LANES_01);
    let past_z = lower.wrapping_add((0x80 - u64::from(b'z') - 1) * LANES_01);
    let letters = at_least_a & !past_z & !word & LANES_80;
    let count = ((!letters & LANES_80).trailing_zeros() / 8) as usize;
    (lower, count)
}

/// Whether any of the first `count` bytes of `lower` equals the byte before
/// it, `prev` standing before the first.
fn repeats_in(lower: u64, prev: u8, count: usize) -> bool {
    let diff = lower ^ (lower << 8 | u64::from(prev));
    // A zero byte's subtraction borrows and sets its bit 7; a borrow only
    // ever moves up, so the lowest set bit is always a true zero.
    let zeros = diff.wrapping_sub(LANES_01) & !diff & LANES_80;
    let within = if count >= 8 { u64::MAX } else { (1u64 << (8 * count)) - 1 };
    zeros & within != 0
}

/// Writes nothing: whether the lane takes a word.
struct Check;

impl LaneOut for Check {
    fn push(&mut self, _: u8, _: u32, _: u8) {}

    fn extend(&mut self, _: u32) {}

    fn possessive(&mut self) {}
}

struct Detail<'a> {
    info: &'a mut Vec<Info>,
}

impl LaneOut for Detail<'_> {
    fn push(&mut self, _: u8, at: u32, flags: u8) {
        self.info.push(Info { start: at, end: at + 1, run: 1, flags });
    }

    fn extend(&mut self, at: u32) {
        if let Some(info) = self.info.last_mut() {
            info.run = info.run.saturating_add(1);
            info.end = at + 1;
        }
    }

    fn possessive(&mut self) {}
}

/// A word accepted by [`lane_word`].
struct LaneWord {
    /// Byte offset after its last letter.
    letters_end: usize,
    /// Byte offset after the separators read with it: a run of '!', or the
    /// apostrophe before a contraction.
    end: usize,
    /// Whether it is a single letter, which rule 4 may join with others.
    single: bool,
}

/// Reads the word at `bytes[from..]` if it is simple: an optional leading
/// `#` or `@`, ASCII letters with single apostrophes between them, then
/// either an optional run of `!` and an ASCII separator or the end, or the
/// apostrophe of a contraction ("don't" reads "don"). Returns `None` for
/// anything else; what it wrote to `out` is then garbage. The one
/// definition of a lane word, used both to write the skeleton and to
/// recompute details.
fn lane_word<O: LaneOut>(bytes: &[u8], from: usize, out: &mut O) -> Option<LaneWord> {
    let mut i = from;
    if let Some(&prefix @ (b'#' | b'@')) = bytes.get(i) {
        out.push(prefix, i as u32, 0);
        i += 1;
    }
    let mut last = 0;
    let mut split = false;
    loop {
        i = out.letters(bytes, i, &mut last);
        // An apostrophe between letters joins them; before a final "s" it
        // is also a word end, and the "s" starts a new run.
        if last != 0
            && bytes.get(i) == Some(&b'\'')
            && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
        {
            // Before a contraction it separates words instead ("don't" is
            // "don t"), which the lane reads as two words when the token
            // ends with the contraction: then no symbol after it can change
            // how the token resolves ("I'm$" is not a contraction).
            if ascii_contraction(&bytes[i + 1..]) {
                let mut after = i + 1;
                while bytes.get(after).is_some_and(u8::is_ascii_alphabetic) {
                    after += 1;
                }
                if bytes.get(after).is_some_and(|&c| !ASCII_SEP[usize::from(c)]) {
                    return None;
                }
                split = true;
                break;
            }
            let letter_at = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_alphabetic);
            // An apostrophe after the "s" joins on too, unless it splits off
            // a contraction ("x's'm").
            let joined_on = letter_at(i + 2)
                || (bytes.get(i + 2) == Some(&b'\'')
                    && letter_at(i + 3)
                    && !ascii_contraction(&bytes[i + 3..]));
            if bytes[i + 1] | 0x20 == b's' && !joined_on {
                out.possessive();
                last = 0;
            }
            i += 1;
            continue;
        }
        break;
    }
    let letters_end = i;
    if split {
        i += 1;
    } else {
        // A '!' after letters and before a separator is one too.
        while bytes.get(i) == Some(&b'!') {
            i += 1;
        }
        if bytes.get(i).is_some_and(|&c| !ASCII_SEP[usize::from(c)]) {
            return None;
        }
    }
    let single = letters_end == from + 1;
    // A lone `#` or `@` is punctuation.
    if letters_end == from || single && !bytes[from].is_ascii_alphabetic() {
        return None;
    }
    Some(LaneWord { letters_end, end: i, single })
}

/// Offsets are stored as u32 to keep [`Info`] small; a post can never be
/// that long, so the rare absurd input is matched on its first 4 GiB only.
fn limit(text: &str) -> &str {
    let max = u32::MAX as usize - 1;
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// Resolves one raw token (units with no separator between them) in place.
/// Order matters: digits first, because "5h!7" needs the 7 to be a letter
/// before the '!' can be seen between letters.
fn resolve_token(u: &mut [Unit]) {
    let n = u.len();
    if u.iter().any(|x| x.class == Class::Letter) && !is_number_with_suffix(u) {
        for unit in u.iter_mut() {
            if unit.class == Class::Digit {
                to_leet(unit);
            }
        }
    }
    let is_letter = |u: &[Unit], k: usize| u.get(k).is_some_and(|x| x.class == Class::Letter);
    // A digit read as a letter does not make a '$' an 's': "US$5" is money.
    let is_number = |u: &[Unit], k: usize| {
        u.get(k).is_some_and(|x| x.class == Class::Digit || x.flags & LEET != 0)
    };
    // Right to left, so each '$' of "a$$hole" sees the 's' made from the next one.
    for k in (0..n).rev() {
        if u[k].class == Class::Dollar && is_letter(u, k + 1) && !is_number(u, k + 1) {
            u[k].become_letter('s');
        }
    }
    // A trailing run after a letter ("a$$") is an 's' too.
    for k in 0..n {
        if u[k].class == Class::Dollar && k > 0 && is_letter(u, k - 1) && !is_number(u, k + 1) {
            u[k].become_letter('s');
        }
    }
    for k in 0..n {
        let after_letter = k > 0 && is_letter(u, k - 1);
        let at_word_start = k == 0 || u[k - 1].class == Class::Sep;
        let before_word_char = u.get(k + 1).is_some_and(Unit::is_word_char);
        match u[k].class {
            Class::At if after_letter => u[k].become_letter('a'),
            // A handle never holds a '$', so "@$$hole" is leetspeak, not a mention.
            Class::At
                if at_word_start
                    && u.get(k + 1).is_some_and(|x| x.flags & SYMBOL != 0 && x.ch == 's') =>
            {
                u[k].become_letter('a')
            }
            Class::At | Class::Hash if at_word_start && before_word_char => {
                u[k].class = Class::Prefix
            }
            Class::Sign if after_letter && is_letter(u, k + 1) => {
                u[k].become_letter(sign_letter(u[k].ch));
            }
            Class::Dollar | Class::At | Class::Hash | Class::Sign => u[k].class = Class::Sep,
            _ => {}
        }
    }
    // Apostrophes last: they join whatever the symbols became, except before a
    // contraction, which they separate.
    for k in 0..n {
        if u[k].class == Class::Apos {
            let joins = k > 0
                && u[k - 1].is_word_char()
                && u.get(k + 1).is_some_and(Unit::is_word_char)
                && !unit_contraction(&u[k + 1..]);
            u[k].class = if joins { Class::Drop } else { Class::Sep };
        }
    }
    // A joining apostrophe before an "s" that ends the word is also a word end.
    for k in 0..n {
        if u[k].class == Class::Drop
            && u.get(k + 1).is_some_and(|x| x.ch == 's')
            && u.get(k + 2).is_none_or(|x| x.class == Class::Sep)
        {
            u[k].flags |= SUFFIX;
        }
    }
}

/// A word made only of digits stays a number even when its raw token had
/// letters ("sh1t!2024" → "shit" and "2024").
fn restore_number(word: &mut [Unit]) {
    if word.iter().any(Unit::is_original_letter) {
        return;
    }
    for unit in word {
        if unit.flags & LEET != 0 {
            unit.ch = unit.digit as char;
            unit.class = Class::Digit;
            unit.flags &= !LEET;
        }
    }
}

/// The letter a [`Class::Sign`] stands for.
fn sign_letter(c: char) -> char {
    match c {
        '!' | '¡' => 'i',
        '|' => 'l',
        '€' => 'e',
        _ => 'c',
    }
}

fn to_leet(unit: &mut Unit) {
    if let Some(letter) = leet_digit(unit.ch) {
        unit.digit = unit.ch as u8;
        unit.ch = letter;
        unit.class = Class::Letter;
        unit.flags |= LEET;
    }
}

fn leet_digit(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return None,
    })
}

/// Ordinals and unit suffixes ("1st", "80s", "4k", "1080p") are numbers,
/// not leetspeak.
fn is_number_with_suffix(u: &[Unit]) -> bool {
    let digits = u.iter().take_while(|x| x.class == Class::Digit).count();
    let rest = &u[digits..];
    if digits == 0 || rest.iter().any(|x| x.class != Class::Letter) {
        return false;
    }
    match rest {
        [a] => matches!(a.ch, 's' | 'k' | 'm' | 'x' | 'd' | 'p'),
        [a, b] => matches!((a.ch, b.ch), ('s', 't') | ('n', 'd') | ('r', 'd') | ('t', 'h')),
        _ => false,
    }
}

/// Characters that may separate spelled-out letters ("f.u.c.k", "s-h-i-t").
fn is_joiner(c: char) -> bool {
    matches!(c, '.' | '-' | '_' | '*' | ' ' | '/' | '\\' | '+' | '~' | '·' | '•' | '–' | '—')
}

/// Lowercased ASCII and its class, indexed by byte.
static ASCII: [(u8, Class); 128] = {
    let mut table = [(0u8, Class::Sep); 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = match c {
            b'a'..=b'z' => (c, Class::Letter),
            b'A'..=b'Z' => (c + 32, Class::Letter),
            b'0'..=b'9' => (c, Class::Digit),
            b'$' => (c, Class::Dollar),
            b'@' => (c, Class::At),
            b'!' | b'|' => (c, Class::Sign),
            b'\'' => (c, Class::Apos),
            b'#' => (c, Class::Hash),
            _ => (c, Class::Sep),
        };
        b += 1;
    }
    table
};

/// Compatibility-decomposes, lowercases, strips accents and maps look-alikes.
/// Full decomposition (NFKD) rather than NFKC+NFD: the marks are dropped
/// anyway, so recomposing would be wasted work.
fn fold_non_ascii(c: char, start: u32, end: u32, units: &mut Vec<Unit>) {
    if is_invisible(c) || is_accent(c) {
        return;
    }
    decompose_compatible(c, |d| {
        if is_accent(d) {
            return;
        }
        for lower in d.to_lowercase() {
            if is_accent(lower) || is_invisible(lower) {
                continue;
            }
            let mut push = |ch: char| {
                let (ch, class) = classify(ch);
                units.push(Unit { ch, start, end, class, flags: 0, digit: 0 });
            };
            match lookalike(lower) {
                // Case folding turns "ß" into "ss", so "SCHEISSE" equals "scheiße".
                'ß' => {
                    push('s');
                    push('s');
                }
                mapped => push(mapped),
            }
        }
    });
}

fn classify(c: char) -> (char, Class) {
    if c.is_ascii() {
        let (ch, class) = ASCII[c as usize];
        return (ch as char, class);
    }
    let class = match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' => return ('\'', Class::Apos),
        '¡' | '¢' | '©' | '€' => Class::Sign,
        _ if is_solo(c) => Class::Solo,
        _ if c.is_alphabetic() => Class::Letter,
        _ if c.is_numeric() => Class::Digit,
        // Vowel signs and viramas of Indic and other scripts are word parts.
        _ if is_combining_mark(c) => Class::Letter,
        _ => Class::Sep,
    };
    (c, class)
}

/// Diacritics stripped from letters: the Latin/Greek/Cyrillic combining
/// blocks, Hebrew points and Arabic harakat. Other scripts' marks are
/// letters' integral parts and are kept.
fn is_accent(c: char) -> bool {
    matches!(
        c as u32,
        0x0300..=0x036F
            | 0x0483..=0x0489
            | 0x0591..=0x05BD
            | 0x05BF
            | 0x05C1..=0x05C2
            | 0x05C4..=0x05C5
            | 0x05C7
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x0670
            | 0x06D6..=0x06DC
            | 0x06DF..=0x06E4
            | 0x06E7..=0x06E8
            | 0x06EA..=0x06ED
            | 0x1AB0..=0x1AFF
            | 0x1DC0..=0x1DFF
            | 0x20D0..=0x20FF
            | 0xFE20..=0xFE2F
    )
}

/// Invisible characters (Unicode's default-ignorables, plus the Arabic
/// tatweel that only stretches a word) are removed rather than treated as
/// separators: "f\u{200B}uck" is written to look like "fuck".
fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x0640
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Han ideographs and kana: each is its own word (as in Unicode word
/// segmentation), so terms in these scripts match inside unspaced text.
fn is_solo(c: char) -> bool {
    matches!(
        c as u32,
        0x3005..=0x3007
            | 0x3041..=0x309F
            | 0x30A0..=0x30FF
            | 0x31F0..=0x31FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xF900..=0xFAFF
            | 0x20000..=0x3134F
    )
}

/// Maps a lowercase letter that looks like a Latin letter to that letter.
/// Only lowercase forms are listed, so a term and a post agree whatever their
/// case.
fn lookalike(c: char) -> char {
    let code = c as u32;
    // Negative circled and negative squared capitals (🅐, 🅰) are symbols
    // with no decomposition.
    if let 0x1F150..=0x1F169 | 0x1F170..=0x1F189 = code {
        let base = if code >= 0x1F170 { 0x1F170 } else { 0x1F150 };
        return char::from(b'a' + (code - base) as u8);
    }
    // Regional indicators, the letters flags are made of, spell words too: "🇸🇭🇮🇹" is two
    // flags and a well-known way to write "shit".
    if let 0x1F1E6..=0x1F1FF = code {
        return char::from(b'a' + (code - 0x1F1E6) as u8);
    }
    match c {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'е' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' | 'ү' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'і' => 'i',
        'ј' => 'j',
        'ԁ' => 'd',
        'ӏ' => 'l',
        'һ' => 'h',
        'ԛ' => 'q',
        'ԝ' => 'w',
        // Armenian
        'օ' => 'o',
        'ս' => 'u',
        'հ' => 'h',
        'ո' => 'n',
        'ց' => 'g',
        'զ' => 'q',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'γ' => 'y',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ω' => 'w',
        'ϲ' => 'c',
        'ϳ' => 'j',
        // Case folding, not a look-alike: final sigma is sigma.
        'ς' => 'σ',
        // Latin letters with strokes or bars (no decomposition) and small capitals.
        'ı' => 'i',
        'ȷ' => 'j',
        'ɑ' => 'a',
        'ɡ' => 'g',
        'ø' => 'o',
        'ł' => 'l',
        'đ' => 'd',
        'ħ' => 'h',
        'ŧ' => 't',
        'ɨ' => 'i',
        'ƀ' => 'b',
        'ɇ' => 'e',
        'ɉ' => 'j',
        'ɍ' => 'r',
        'ɏ' => 'y',
        'ƚ' | 'ɫ' => 'l',
        'ƶ' | 'ȥ' | 'ʐ' => 'z',
        // Letters with hooks, which fancy-text generators use for plain ones ("ƒuck").
        'ƒ' => 'f',
        'ɓ' => 'b',
        'ƈ' => 'c',
        'ɗ' | 'ɖ' => 'd',
        'ɠ' => 'g',
        'ɦ' => 'h',
        'ƙ' => 'k',
        'ɱ' => 'm',
        'ɲ' => 'n',
        'ƥ' => 'p',
        'ʠ' => 'q',
        'ɽ' => 'r',
        'ʂ' => 's',
        'ƭ' | 'ʈ' => 't',
        'ʋ' => 'v',
        'ƴ' => 'y',
        'ᴀ' => 'a',
        'ʙ' => 'b',
        'ᴄ' => 'c',
        'ᴅ' => 'd',
        'ᴇ' => 'e',
        'ꜰ' => 'f',
        'ɢ' => 'g',
        'ʜ' => 'h',
        'ɪ' => 'i',
        'ᴊ' => 'j',
        'ᴋ' => 'k',
        'ʟ' => 'l',
        'ᴍ' => 'm',
        'ɴ' => 'n',
        'ᴏ' => 'o',
        'ᴘ' => 'p',
        'ʀ' => 'r',
        'ꜱ' => 's',
        'ᴛ' => 't',
        'ᴜ' => 'u',
        'ᴠ' => 'v',
        'ᴡ' => 'w',
        'ʏ' => 'y',
        'ᴢ' => 'z',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Everything a normalization produces, with details spelled out.
    type Snapshot = (Vec<u8>, Vec<Info>, Vec<(u32, u32)>, Vec<u32>);

    fn snapshot(norm: &Normalized, text: &str) -> Snapshot {
        let mut info = Vec::new();
        norm.details(text, 0, norm.len, &mut info);
        let words = norm.words.iter().map(|w| (w.skel, w.orig)).collect();
        (norm.skel().to_vec(), info, words, norm.inner_ends.clone())
    }

    fn both_lanes(text: &str) -> (Snapshot, Snapshot) {
        let mut fast = Normalized::default();
        fast.run(text);
        let mut general = Normalized::without_ascii_lane();
        general.run(text);
        (snapshot(&fast, text), snapshot(&general, text))
    }

    /// Each word followed by the separator of the same index.
    fn interleave(words: &[String], seps: &[String]) -> String {
        words.iter().zip(seps).flat_map(|(word, sep)| [word.as_str(), sep.as_str()]).collect()
    }

    #[test]
    fn skeleton_collapses_runs_and_keeps_offsets() {
        for mut norm in [Normalized::default(), Normalized::without_ascii_lane()] {
            let text = "Fuuuck  #ad";
            norm.run(text);
            assert_eq!(norm.skel(), b"fuck #ad");
            let mut info = Vec::new();
            norm.details(text, 0, 8, &mut info);
            let runs: Vec<u16> = info.iter().map(|i| i.run).collect();
            assert_eq!(runs, [1, 3, 1, 1, 1, 1, 1, 1]);
            assert_eq!((info[1].start, info[1].end), (1, 4));
            norm.details(text, 1, 2, &mut info);
            assert_eq!(info.len(), 1);
            assert_eq!((info[0].start, info[0].end), (1, 4));
            assert_eq!(norm.match_starts().collect::<Vec<_>>(), [0, 5, 6]);
            assert!(
                norm.ends_word(3) && norm.ends_word(7) && !norm.ends_word(2) && !norm.ends_word(6)
            );
            assert_eq!(norm.word_count(), 2);
            assert_eq!(
                (norm.word_at(0), norm.word_at(4), norm.word_at(5), norm.word_at(7)),
                (0, 0, 1, 1)
            );
        }
    }

    #[test]
    fn possessive_s_is_a_word_end_without_merging_runs() {
        for mut norm in [Normalized::default(), Normalized::without_ascii_lane()] {
            norm.run("boss's");
            assert_eq!(norm.skel(), b"boss");
            assert!(norm.ends_word(2) && norm.ends_word(3) && !norm.ends_word(1));
        }
    }

    #[test]
    fn lanes_agree_on_examples() {
        for text in [
            "a b c",
            "ab cd",
            "ab, c.d.e",
            "x y zz",
            "hi!",
            "I've",
            "ab",
            "a",
            "fo\u{441}k",
            "ab\u{301}c",
            "#ab's!! @c",
            "x y I'm",
            "aa'm$",
            "don't go, a b I'm",
            "wow!! a x! c",
            "x's't y",
            "I's'm here",
            "abcdefgh abcdefghi",
            "aaaaaaaabbbbbbbbc",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ zzzzzzzzzZ",
            "abcdefgé abcdefghé",
            "hellooooo[world`",
        ] {
            let (fast, general) = both_lanes(text);
            assert_eq!(fast, general, "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn lanes_agree_on_ascii(text in "[a-zA-Z .,\\-_*/#@$!|'0-9\n]{0,60}") {
            let (fast, general) = both_lanes(&text);
            prop_assert_eq!(fast, general);
        }

        #[test]
        fn lanes_agree_on_word_shapes(
            words in proptest::collection::vec("[#@]?[a-cS]{1,4}('[a-cs]{1,3}){0,2}[!1$']{0,2}", 0..8),
            seps in proptest::collection::vec("[ .,\\-]{1,2}", 8),
        ) {
            let text = interleave(&words, &seps);
            let (fast, general) = both_lanes(&text);
            prop_assert_eq!(fast, general, "{:?}", text);
        }

        /// Words around and past the lane's eight-byte steps, with runs across them.
        #[test]
        fn lanes_agree_on_long_words(
            words in proptest::collection::vec("[aAbB]{1,20}|[a-zA-Z]{6,18}", 1..6),
            seps in proptest::collection::vec("[ ,\\[`{@]|é|😀", 6),
        ) {
            let text = interleave(&words, &seps);
            let (fast, general) = both_lanes(&text);
            prop_assert_eq!(fast, general, "{:?}", text);
        }

        #[test]
        fn lanes_agree_on_mixed_text(text in "([a-z ]|\\PC){0,40}") {
            let (fast, general) = both_lanes(&text);
            prop_assert_eq!(fast, general);
        }
    }
}
