//! Criterion benchmarks of the check engine: checking typical posts and compiling policies,
//! with the built-in default policy and with the default policy plus a 10,000-term lexicon.
//!
//! ```text
//! cargo bench -p lifeguard-core --bench engine               # measure everything
//! cargo bench -p lifeguard-core --bench engine -- compile/   # only what matches a filter
//! cargo test  -p lifeguard-core --bench engine               # run each benchmark once
//! ```
//!
//! Benchmarks (throughput is in posts, so `thrpt` reads as posts per second):
//!
//! - `check/default_policy/<post>` and `check/default_plus_10k_lexicon/<post>` for each post of
//!   [`POSTS`] (a post with nothing to find, a profane one, one with an e-mail address and a card
//!   number, one naming a lexicon word) and `…/mix`, the [`MIX`] of ordinary posts, one after
//!   another;
//! - `compile/default_policy` and `compile/default_plus_10k_lexicon`: [`load`], which parses the
//!   Markdown, reads the term files (from memory here), compiles the engine and hashes the policy.
//!
//! The lexicon is generated in process by the same algorithm, tables and seed as
//! `bench/lexicon.py`, which `bench/speed.sh` runs for the end-to-end benchmark, so both measure
//! the identical 10,000 terms (keep the two in sync). The mix of the lexicon is described there:
//! mostly generated pseudo-words and two-word phrases, plus real words and phrases that do occur
//! in tweets. The posts below were written for this benchmark.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lifeguard_core::default_policy::{POLICY, TERM_FILES};
use lifeguard_core::policy::{MemoryFiles, load};
use lifeguard_core::{Engine, Post};

/// Typical single posts, by name.
const POSTS: &[(&str, &str)] = &[
    (
        "clean",
        "Just finished a 10k run along the canal with the team, perfect weather this morning! \
         Who is up for brunch on Sunday? @user #running",
    ),
    (
        "profane",
        "@user this is the worst fucking update ever, what a load of shit. Fix your damn app",
    ),
    (
        "email_and_card",
        "@user please refund me at jane.doe@example.com, my card is 4111 1111 1111 1111 exp 12/27. thanks!",
    ),
    (
        "lexicon_term",
        "Left my umbrella at the airport again and the lost luggage desk is closed. Classic Monday",
    ),
];

/// Ordinary posts of a timeline, mostly with nothing to find, checked one after another.
const MIX: &[&str] = &[
    "@user @user Totally agree, the second half was so much better than the first. What a game!",
    "New blog post: five things we learned shipping our app to a million users https://example.com/blog/five",
    "Can't believe it's already Friday 😅 where did the week go?",
    "@user Thanks for the follow! Looking forward to your talk at the meetup next week.",
    "Traffic on the bridge is terrible again this morning. Leaving 20 minutes earlier tomorrow.",
    "RT @user: Our team is hiring engineers in Berlin and Lisbon, DM me if you are interested #jobs",
    "@user you are an idiot and everyone knows it",
    "Happy birthday to my amazing sister!!! 🎉🎂 love you so much",
    "Anyone else's internet down? Third time this week, @user please fix it",
    "The new album dropped at midnight and I've had it on repeat since. Track 4 is a masterpiece.",
    "Reminder: polls close at 8pm tonight, bring your ID. Every vote counts! #ElectionDay",
    "honestly this is the best pizza in town, fight me",
];

/// Where the lexicon sits in the policy's folder, and the clause that uses it: the same text that
/// `bench/speed.sh` appends to the default policy.
const LEXICON_FILE: &str = "terms/bench-lexicon.txt";
const LEXICON_CLAUSE: &str = r#"

## Benchmark lexicon {#bench-lexicon}

Written by `bench/speed.sh`: the generated 10,000-term lexicon of `bench/lexicon.py`.

```rules
[[rule]]
id = "BENCH-LEXICON"
category = "confidential"
severity = "medium"
action = "flag"
message = "Mentions a term of the benchmark lexicon."
terms_file = "terms/bench-lexicon.txt"
```
"#;
const LEXICON_TERMS: usize = 10_000;
/// The default seed of `bench/lexicon.py`.
const LEXICON_SEED: u64 = 0x11FE_6AAD;

// The tables of `bench/lexicon.py`, in the same order.
const ONSETS: &[&str] = &[
    "", "b", "bl", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h",
    "j", "k", "kr", "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "sp", "st",
    "t", "th", "tr", "v", "w", "z",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "oo", "ou", "y"];
const CODAS: &[&str] =
    &["", "", "", "", "n", "r", "l", "s", "t", "m", "k", "nd", "rk", "st", "x", "ng", "ld", "rn"];
/// Real words, separated by white space.
const REAL_WORDS: &str = "
umbrella volcano tractor podcast referee lottery festival vaccine pancake tornado mortgage
blizzard sandwich dinosaur penguin jellyfish marathon bakery laundry skyscraper violin saxophone
telescope avocado cucumber broccoli lemonade espresso cappuccino burrito guacamole popcorn
pretzel cupcake waffle lasagna spaghetti sushi kebab earthquake thunderstorm wildfire glacier
canyon meadow orchard vineyard lighthouse harbor airport subway railway highway bicycle scooter
motorcycle helicopter submarine spaceship astronaut galaxy asteroid comet satellite rocket
microscope laboratory chemistry biology algebra calculus grammar dictionary encyclopedia library
museum gallery theater cinema orchestra symphony ballet opera karaoke playlist album vinyl
headphones microphone guitar drummer quarterback touchdown playoffs championship tournament
stadium goalkeeper pitcher umpire wrestling boxing gymnastics skateboard surfing hiking camping
fishing gardening knitting painting sculpture photography selfie hashtag emoji meme blogger
influencer subscriber livestream webcam keyboard laptop smartphone charger wifi bluetooth
password spreadsheet printer scanner elevator escalator parking ticket passport luggage suitcase
backpack wallet sunglasses sneakers pajamas sweater jacket raincoat necklace bracelet earrings
lipstick perfume shampoo toothpaste vitamin aspirin dentist pharmacy
";
/// Real two-word phrases, separated by commas (line breaks count as spaces).
const REAL_PHRASES: &str = "
climate change, social media, ice cream, white house, health care, border wall, tax cuts, press
conference, prime minister, vice president, election day, town hall, middle class, minimum wage,
student loans, real estate, stock market, interest rates, gas prices, black friday, super bowl,
world cup, game day, happy birthday, good morning, new album, movie night, road trip, coffee
shop, video game, fan club, talk show, red carpet, breaking news, twitter account, hate speech,
mental health
";

/// splitmix64, exactly as `bench/lexicon.py` has it.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("less than n, which is a usize")
    }
}

/// A pronounceable pseudo-word of 2 to 4 syllables (`pseudo_word` of `bench/lexicon.py`).
fn pseudo_word(rng: &mut SplitMix64) -> String {
    let roll = rng.below(100);
    let syllables = if roll < 50 {
        2
    } else if roll < 85 {
        3
    } else {
        4
    };
    let mut word = String::new();
    for i in 0..syllables {
        let onset = if i == 0 {
            ONSETS[rng.below(ONSETS.len())]
        } else {
            ONSETS[1 + rng.below(ONSETS.len() - 1)]
        };
        word.push_str(onset);
        word.push_str(VOWELS[rng.below(VOWELS.len())]);
    }
    word.push_str(CODAS[rng.below(CODAS.len())]);
    word
}

/// A generated word of at least 4 letters that is not taken yet.
fn fresh(rng: &mut SplitMix64, taken: &HashSet<String>) -> String {
    loop {
        let word = pseudo_word(rng);
        if word.len() >= 4 && !taken.contains(&word) {
            return word;
        }
    }
}

/// The lexicon as a term file: `count` distinct terms, one per line (`lexicon` of
/// `bench/lexicon.py`, byte for byte).
fn lexicon(count: usize, seed: u64) -> String {
    let mut rng = SplitMix64(seed);
    let real_words: Vec<&str> = REAL_WORDS.split_whitespace().collect();
    // A phrase may be wrapped across lines above: normalize its spacing.
    let real_phrases =
        REAL_PHRASES.split(',').map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "));
    let mut terms: Vec<String> =
        real_words.iter().map(|w| (*w).to_owned()).chain(real_phrases).collect();
    let mut taken: HashSet<String> = terms.iter().cloned().collect();
    let phrases = count * 12 / 100;
    let singles = count
        .checked_sub(terms.len() + phrases)
        .expect("the count leaves room for generated words");
    for _ in 0..singles {
        let word = fresh(&mut rng, &taken);
        taken.insert(word.clone());
        terms.push(word);
    }
    let mut made = 0;
    while made < phrases {
        let first = if rng.below(2) == 0 {
            real_words[rng.below(real_words.len())].to_owned()
        } else {
            fresh(&mut rng, &taken)
        };
        let phrase = format!("{first} {}", fresh(&mut rng, &taken));
        if taken.insert(phrase.clone()) {
            terms.push(phrase);
            made += 1;
        }
    }
    for i in (1..terms.len()).rev() {
        let j = rng.below(i + 1);
        terms.swap(i, j);
    }
    terms.iter().map(|t| format!("{t}\n")).collect()
}

/// A policy held in memory: its Markdown and its term files.
struct Source {
    markdown: String,
    files: MemoryFiles,
}

impl Source {
    /// The built-in default policy.
    fn default_policy() -> Source {
        Source { markdown: POLICY.to_owned(), files: MemoryFiles::new(TERM_FILES.iter().copied()) }
    }

    /// The default policy plus a clause whose rule flags any term of the 10,000-term lexicon.
    fn with_lexicon() -> Source {
        let lexicon = lexicon(LEXICON_TERMS, LEXICON_SEED);
        let files = TERM_FILES.iter().copied().chain([(LEXICON_FILE, lexicon.as_str())]);
        Source { markdown: format!("{POLICY}{LEXICON_CLAUSE}"), files: MemoryFiles::new(files) }
    }

    /// Parses and compiles, as `lifeguard` does at start-up.
    fn compile(&self) -> Engine {
        let loaded = load("bench/policy.md", &self.markdown, &self.files);
        let Some(engine) = loaded.engine else {
            let errors: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
            panic!("the bench policy does not compile:\n{}", errors.join("\n"));
        };
        engine
    }
}

fn check(c: &mut Criterion) {
    let default = Source::default_policy().compile();
    let with_lexicon = Source::with_lexicon().compile();
    // The lexicon rule must be live, or the lexicon benchmarks measure nothing; and only the
    // lexicon post may hit it, so the other posts cost the same work under both policies.
    for &(name, text) in POSTS {
        let hits = with_lexicon
            .check(&Post::new(text))
            .findings
            .iter()
            .any(|f| f.rule.id == "BENCH-LEXICON");
        assert_eq!(
            hits,
            name == "lexicon_term",
            "post `{name}`: lexicon finding expected: {}",
            !hits
        );
    }

    let mut group = c.benchmark_group("check");
    for (policy, engine) in
        [("default_policy", &default), ("default_plus_10k_lexicon", &with_lexicon)]
    {
        group.throughput(Throughput::Elements(1));
        for &(name, text) in POSTS {
            let post = Post::new(text);
            group.bench_function(format!("{policy}/{name}"), |b| {
                b.iter(|| engine.check(black_box(&post)))
            });
        }
        let mix: Vec<Post<'_>> = MIX.iter().map(|text| Post::new(text)).collect();
        group.throughput(Throughput::Elements(mix.len() as u64));
        group.bench_function(format!("{policy}/mix"), |b| {
            b.iter(|| {
                for post in &mix {
                    black_box(engine.check(black_box(post)));
                }
            });
        });
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    // A compile of the lexicon takes tens of milliseconds: ten samples are plenty.
    group.sample_size(10);
    for (name, source) in [
        ("default_policy", Source::default_policy()),
        ("default_plus_10k_lexicon", Source::with_lexicon()),
    ] {
        // Dropping the engines is not part of compiling.
        group.bench_function(name, |b| b.iter_with_large_drop(|| source.compile()));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = check, compile
}
criterion_main!(benches);
