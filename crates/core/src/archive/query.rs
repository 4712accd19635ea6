//! Search queries: words, "quoted phrases" and prefix* terms, all of which must match.
//!
//! Text is reduced to [`tokens`] (letters and digits, lowercase, accents removed) before it is
//! indexed, and queries go through the same function, so SQLite, PostgreSQL and the pure
//! matcher used for legal holds all agree on what a word is.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Longest query accepted, in bytes.
pub const MAX_QUERY: usize = 1_000;
/// Most terms in one query.
pub const MAX_TERMS: usize = 32;

/// One part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A whole word.
    Word(String),
    /// Words next to each other, in order.
    Phrase(Vec<String>),
    /// Any word starting with this.
    Prefix(String),
}

/// A parsed query: every term must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    terms: Vec<Term>,
}

/// A query that cannot be parsed, with the column (in characters, from 1) of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query column {column}: {message}")]
pub struct QueryError {
    /// Where, counting characters from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Query {
    /// Parses a query. Punctuation between words is ignored, as it is in indexed text.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        if text.len() > MAX_QUERY {
            return Err(QueryError {
                column: 1,
                message: format!("longer than {MAX_QUERY} bytes"),
            });
        }
        let mut terms = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if c == '"' {
                chars.next();
                let body_start = start + 1;
                let mut end = None;
                for (i, c) in chars.by_ref() {
                    if c == '"' {
                        end = Some(i);
                        break;
                    }
                }
                let Some(end) = end else {
                    return Err(QueryError {
                        column: text[..start].chars().count() + 1,
                        message: "this quote is never closed".into(),
                    });
                };
                let words = tokens(&text[body_start..end]);
                match words.len() {
                    0 => {}
                    1 => terms.extend(words.into_iter().map(Term::Word)),
                    _ => terms.push(Term::Phrase(words)),
                }
            } else if c.is_whitespace() {
                chars.next();
            } else {
                let mut end = text.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || c == '"' {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                let chunk = &text[start..end];
                let prefix = chunk.ends_with('*');
                let mut words = tokens(chunk.trim_end_matches('*'));
                if prefix {
                    if let Some(last) = words.pop() {
                        terms.extend(words.into_iter().map(Term::Word));
                        terms.push(Term::Prefix(last));
                    }
                } else if words.len() > 1 {
                    // "e-mail" or "don't": the index saw separate words in a row.
                    terms.push(Term::Phrase(words));
                } else {
                    terms.extend(words.into_iter().map(Term::Word));
                }
            }
        }
        if terms.len() > MAX_TERMS {
            return Err(QueryError { column: 1, message: format!("more than {MAX_TERMS} terms") });
        }
        // Only letters and digits are indexed: a query of nothing else ("🚀", "*") would match
        // every item, which no one who typed it meant (and a hold by it would hold everything).
        if terms.is_empty() && !text.trim().is_empty() {
            return Err(QueryError {
                column: 1,
                message: "no words to search for: only letters and digits are indexed".into(),
            });
        }
        Ok(Query { terms })
    }

    /// The terms, in the order written.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// True for a query with no terms, which every item matches.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether a text matches, by the same rules as the search index.
    pub fn matches(&self, text: &str) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        let words: Vec<String> = tokens(text).iter().map(|w| fold_final_sigma(w)).collect();
        let fold = |word: &String| fold_final_sigma(word);
        self.terms.iter().all(|term| match term {
            Term::Word(word) => words.contains(&fold(word)),
            Term::Prefix(prefix) => {
                let prefix = fold(prefix);
                words.iter().any(|w| w.starts_with(prefix.as_str()))
            }
            Term::Phrase(phrase) => {
                let phrase: Vec<String> = phrase.iter().map(fold).collect();
                words.windows(phrase.len()).any(|window| window == phrase.as_slice())
            }
        })
    }
}

/// The word with a final sigma (`ς`) written as the other sigma (`σ`). Lowercasing letter by
/// letter, as [`tokens`] does, turns a capital `Σ` into `σ` even at a word's end, while text
/// typed in lower case has `ς` there: a word matches whichever way its text was written.
pub fn fold_final_sigma(word: &str) -> String {
    word.replace('ς', "σ")
}

/// The spellings of a word in the index that mean the same word: itself, and, for a word
/// ending in a sigma, the same word ending in the other one (see [`fold_final_sigma`]).
pub fn sigma_spellings(word: &str) -> Vec<String> {
    let mut spellings = vec![word.to_owned()];
    if let Some(stem) = word.strip_suffix('σ') {
        spellings.push(format!("{stem}ς"));
    } else if let Some(stem) = word.strip_suffix('ς') {
        spellings.push(format!("{stem}σ"));
    }
    spellings
}

/// The words of a text as [`tokens`] finds them, joined by single spaces: what the search
/// index is given. Written into one string, since it runs once for every archived item.
pub fn index_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.is_ascii() {
        for word in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        }
        return out;
    }
    let mut in_word = false;
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if !in_word && !out.is_empty() {
                out.push(' ');
            }
            in_word = true;
            out.extend(c.to_lowercase());
        } else {
            in_word = false;
        }
    }
    out
}

/// The words of a text as the index sees them: runs of letters and digits, lowercased, with
/// accents and other combining marks removed after compatibility decomposition.
pub fn tokens(text: &str) -> Vec<String> {
    if text.is_ascii() {
        // Nothing to decompose: most posts take this lane.
        return text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
    }
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
