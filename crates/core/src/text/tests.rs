//! Behaviour tests of the public matching API: one table per rule of the
//! module documentation, then property tests.

use std::fmt::Write as _;

use proptest::prelude::*;

use super::*;

fn matcher(terms: &[(u32, &str)]) -> TermMatcher {
    let mut builder = TermMatcherBuilder::new();
    for &(list, term) in terms {
        builder.add(list, term).expect("valid term");
    }
    builder.build().expect("builds")
}

/// Renders each match as `list 3 10..17 "f.u.c.k" words 2..2`, joined by "; ".
fn render(text: &str, found: &[TermMatch]) -> String {
    let mut out = String::new();
    for m in found {
        if !out.is_empty() {
            out.push_str("; ");
        }
        let _ = write!(
            out,
            "list {} {}..{} {:?} words {}..{}",
            m.list,
            m.start,
            m.end,
            &text[m.start..m.end],
            m.first_word,
            m.last_word
        );
    }
    out
}

fn matches(terms: &[(u32, &str)], text: &str) -> String {
    let mut found = Vec::new();
    matcher(terms).find_all(text, &mut Scratch::new(), &mut found);
    render(text, &found)
}

/// Terms, a text, and the expected rendering of the matches.
type Case<'a> = (&'a [(u32, &'a str)], &'a str, &'a str);

fn check(table: &[Case<'_>]) {
    for &(terms, text, expected) in table {
        assert_eq!(matches(terms, text), expected, "terms {terms:?} in {text:?}");
    }
}

const FUCK: &[(u32, &str)] = &[(1, "fuck")];
const SHIT: &[(u32, &str)] = &[(2, "shit")];

#[test]
fn case_and_compatibility_folding() {
    check(&[
        (FUCK, "FUCK this", r#"list 1 0..4 "FUCK" words 0..0"#),
        (FUCK, "oh FuCk", r#"list 1 3..7 "FuCk" words 1..1"#),
        (FUCK, "ｆｕｃｋ", r#"list 1 0..12 "ｆｕｃｋ" words 0..0"#),
        (FUCK, "𝐟𝐮𝐜𝐤 it", r#"list 1 0..16 "𝐟𝐮𝐜𝐤" words 0..0"#),
        (FUCK, "ⓕⓤⓒⓚ", r#"list 1 0..12 "ⓕⓤⓒⓚ" words 0..0"#),
        (FUCK, "ꜰᴜᴄᴋ", r#"list 1 0..12 "ꜰᴜᴄᴋ" words 0..0"#),
        (&[(1, "ｆｕｃｋ")], "so fuck", r#"list 1 3..7 "fuck" words 1..1"#),
        (&[(1, "scheiße")], "SCHEISSE", r#"list 1 0..8 "SCHEISSE" words 0..0"#),
        (&[(1, "SCHEISSE")], "so eine Scheiße", r#"list 1 8..16 "Scheiße" words 2..2"#),
    ]);
}

#[test]
fn accents_are_stripped() {
    check(&[
        (&[(1, "puta")], "pùta madre", r#"list 1 0..5 "pùta" words 0..0"#),
        (&[(1, "pùta")], "PUTA", r#"list 1 0..4 "PUTA" words 0..0"#),
        (&[(1, "cabrón")], "eres un CABRÓN", r#"list 1 8..15 "CABRÓN" words 2..2"#),
        // A combining grave accent typed after the letter.
        (&[(1, "puta")], "pu\u{300}ta", r#"list 1 0..6 "pu\u{300}ta" words 0..0"#),
        // Strike-through and "zalgo" marks.
        (
            FUCK,
            "f\u{336}u\u{336}c\u{336}k\u{336}",
            r#"list 1 0..12 "f\u{336}u\u{336}c\u{336}k\u{336}" words 0..0"#,
        ),
        (
            FUCK,
            "f\u{30d}\u{34e}u\u{317}ck",
            r#"list 1 0..10 "f\u{30d}\u{34e}u\u{317}ck" words 0..0"#,
        ),
        (&[(1, "ｃｏｏｌ")], "çóól", r#"list 1 0..7 "çóól" words 0..0"#),
    ]);
}

#[test]
fn lookalike_letters_from_other_scripts() {
    check(&[
        // Cyrillic с (U+0441) in the middle of Latin.
        (FUCK, "fu\u{441}k", "list 1 0..5 \"fu\u{441}k\" words 0..0"),
        // Cyrillic а, е, о, р, х and Greek ο, ι, κ.
        (
            &[(1, "poop")],
            "\u{440}\u{43e}\u{3bf}p",
            "list 1 0..7 \"\u{440}\u{43e}\u{3bf}p\" words 0..0",
        ),
        (&[(1, "ass")], "\u{430}ss", "list 1 0..4 \"\u{430}ss\" words 0..0"),
        (&[(1, "sex")], "s\u{435}\u{445}", "list 1 0..5 \"s\u{435}\u{445}\" words 0..0"),
        (&[(1, "dick")], "d\u{3b9}c\u{3ba}", "list 1 0..6 \"d\u{3b9}c\u{3ba}\" words 0..0"),
        // Uppercase Cyrillic folds to the same look-alike.
        (FUCK, "FU\u{421}K", "list 1 0..5 \"FU\u{421}K\" words 0..0"),
        // Latin letters with hooks and bars, as fancy-text generators write them.
        (FUCK, "\u{192}uck", "list 1 0..5 \"\u{192}uck\" words 0..0"),
        (FUCK, "\u{191}UCK", "list 1 0..5 \"\u{191}UCK\" words 0..0"),
        (SHIT, "\u{282}\u{266}i\u{1ad}", "list 2 0..7 \"\u{282}\u{266}i\u{1ad}\" words 0..0"),
        // Regional indicator letters, alone or as flags.
        (
            SHIT,
            "\u{1F1F8}\u{1F1ED}\u{1F1EE}\u{1F1F9} happens",
            "list 2 0..16 \"\u{1F1F8}\u{1F1ED}\u{1F1EE}\u{1F1F9}\" words 0..0",
        ),
        (
            FUCK,
            "\u{1F1EB} \u{1F1FA} \u{1F1E8} \u{1F1F0}",
            "list 1 0..19 \"\u{1F1EB} \u{1F1FA} \u{1F1E8} \u{1F1F0}\" words 0..0",
        ),
        (SHIT, "go \u{1F1FA}\u{1F1F8} team", ""),
        // Armenian ս, հ, օ, ց and capital Ս.
        (FUCK, "f\u{57d}ck", "list 1 0..5 \"f\u{57d}ck\" words 0..0"),
        (SHIT, "s\u{570}it", "list 2 0..5 \"s\u{570}it\" words 0..0"),
        (&[(1, "poop")], "p\u{585}\u{585}p", "list 1 0..6 \"p\u{585}\u{585}p\" words 0..0"),
        (&[(1, "go")], "\u{581}o", "list 1 0..3 \"\u{581}o\" words 0..0"),
        (FUCK, "F\u{54d}CK", "list 1 0..5 \"F\u{54d}CK\" words 0..0"),
    ]);
}

#[test]
fn terms_in_other_scripts() {
    check(&[
        (&[(1, "сука")], "ты СУКА!", r#"list 1 5..13 "СУКА" words 1..1"#),
        // Both sides fold to the same look-alikes, so the transliteration matches too.
        (&[(1, "сука")], "cyka blyat", r#"list 1 0..4 "cyka" words 0..0"#),
        (&[(1, "μαλάκα")], "ΜΑΛΑΚΑ", r#"list 1 0..12 "ΜΑΛΑΚΑ" words 0..0"#),
        (&[(1, "μαλάκα")], "re malaka", ""),
        (&[(1, "傻逼")], "你是傻逼吗", r#"list 1 6..12 "傻逼" words 2..3"#),
        (&[(1, "傻逼")], "傻 逼", r#"list 1 0..7 "傻 逼" words 0..1"#),
        (&[(1, "बकवास")], "यह बकवास है", r#"list 1 7..22 "बकवास" words 1..1"#),
        (&[(1, "كلب")], "يا كَلْب", r#"list 1 5..15 "ك\u{64e}ل\u{652}ب" words 1..1"#),
    ]);
}

#[test]
fn invisible_characters_are_removed() {
    check(&[
        (
            FUCK,
            "f\u{200b}u\u{200d}c\u{ad}k",
            r#"list 1 0..12 "f\u{200b}u\u{200d}c\u{ad}k" words 0..0"#,
        ),
        (FUCK, "\u{feff}fuck", r#"list 1 3..7 "fuck" words 0..0"#),
        (FUCK, "fu\u{fe0f}ck", r#"list 1 0..7 "fu\u{fe0f}ck" words 0..0"#),
    ]);
}

#[test]
fn emoji_nul_and_line_endings_separate_words() {
    check(&[
        (FUCK, "fuck🔥", r#"list 1 0..4 "fuck" words 0..0"#),
        (FUCK, "🔥🔥fuck🔥", r#"list 1 8..12 "fuck" words 0..0"#),
        (FUCK, "fuck\0you", "list 1 0..4 \"fuck\" words 0..0"),
        (&[(1, "fuck you")], "fuck\0you", "list 1 0..8 \"fuck\\0you\" words 0..1"),
        (FUCK, "hello\r\nfuck\r\n", r#"list 1 7..11 "fuck" words 1..1"#),
        (&[(1, "shut up")], "shut\r\nup", r#"list 1 0..8 "shut\r\nup" words 0..1"#),
        (FUCK, "😀 fu🔥ck", ""),
    ]);
}

#[test]
fn leetspeak_inside_words() {
    check(&[
        (SHIT, "sh1t", r#"list 2 0..4 "sh1t" words 0..0"#),
        (SHIT, "5H17", r#"list 2 0..4 "5H17" words 0..0"#),
        (SHIT, "$hit", r#"list 2 0..4 "$hit" words 0..0"#),
        (SHIT, "sh!t happens", r#"list 2 0..4 "sh!t" words 0..0"#),
        (SHIT, "5h!7", r#"list 2 0..4 "5h!7" words 0..0"#),
        (&[(1, "ass")], "kiss my a$$", r#"list 1 8..11 "a$$" words 2..2"#),
        (&[(1, "asshole")], "a$$hole", r#"list 1 0..7 "a$$hole" words 0..0"#),
        (&[(1, "bastard")], "b@stard", r#"list 1 0..7 "b@stard" words 0..0"#),
        (
            &[(1, "hello")],
            "h3ll0 he|lo",
            r#"list 1 0..5 "h3ll0" words 0..0; list 1 6..11 "he|lo" words 1..1"#,
        ),
        (&[(1, "bitch")], "81tch", r#"list 1 0..5 "81tch" words 0..0"#),
        (&[(1, "gag")], "9a9", r#"list 1 0..3 "9a9" words 0..0"#),
        // A symbol that is not read as a letter is punctuation.
        (SHIT, "sh1t!2024", r#"list 2 0..4 "sh1t" words 0..0"#),
        (&[(1, "2024")], "sh1t!2024", r#"list 1 5..9 "2024" words 1..1"#),
        (SHIT, "shit!!!", r#"list 2 0..4 "shit" words 0..0"#),
        // Signs that look like letters, between letters only.
        (SHIT, "sh¡t", r#"list 2 0..5 "sh¡t" words 0..0"#),
        (
            FUCK,
            "fu¢k and fu©k",
            r#"list 1 0..5 "fu¢k" words 0..0; list 1 10..15 "fu©k" words 2..2"#,
        ),
        (&[(1, "bitch")], "b¡t¢h", r#"list 1 0..7 "b¡t¢h" words 0..0"#),
        (&[(1, "prick")], "pr¡¢k", ""),
        (&[(1, "hello")], "h€llo", r#"list 1 0..7 "h€llo" words 0..0"#),
        (&[(1, "iola"), (2, "5c"), (3, "c"), (4, "e5")], "¡ola! 5¢ © 2026 €5", ""),
    ]);
}

#[test]
fn numbers_are_not_leetspeak() {
    check(&[
        (&[(1, "boobies")], "5318008", ""),
        (&[(1, "sos")], "505", ""),
        (&[(1, "ass")], "455", ""),
        (&[(1, "5318008")], "call 5318008 now", r#"list 1 5..12 "5318008" words 1..1"#),
        (&[(1, "ist")], "the 1st time", ""),
        (&[(1, "bos")], "the 80s", ""),
        (&[(1, "ak")], "4k video", ""),
        (&[(1, "us")], "US$5", r#"list 1 0..2 "US" words 0..0"#),
        (&[(1, "s100")], "$100", ""),
    ]);
}

#[test]
fn apostrophes_join_words_but_split_contractions() {
    check(&[
        (&[(1, "oclock")], "at 5 o'clock", r#"list 1 5..12 "o'clock" words 2..2"#),
        (&[(1, "don't")], "I don't care", r#"list 1 2..7 "don't" words 1..2"#),
        (&[(1, "dont")], "I don't care", ""),
        (&[(1, "don’t")], "DON'T", r#"list 1 0..5 "DON'T" words 0..1"#),
        (&[(1, "don")], "don't", r#"list 1 0..3 "don" words 0..0"#),
        (&[(1, "hell")], "he'll be there, we'll see", ""),
        (&[(1, "well")], "we’ll see", ""),
        (&[(1, "shell")], "SHE'LL", ""),
        (&[(1, "ill")], "I'll go, I'm in, I've been, I'd say", ""),
        (&[(1, "fuck")], "fuck'd up", r#"list 1 0..4 "fuck" words 0..0"#),
        (&[(1, "bitch")], "that bitch's car", r#"list 1 5..10 "bitch" words 1..1"#),
        (&[(1, "bitch")], "bitch’s", r#"list 1 0..5 "bitch" words 0..0"#),
        (&[(1, "bitch's")], "bitchs", r#"list 1 0..6 "bitchs" words 0..0"#),
        (&[(1, "boss")], "the boss's desk", r#"list 1 4..8 "boss" words 1..1"#),
        (&[(1, "fuck")], "'fuck'", r#"list 1 1..5 "fuck" words 0..0"#),
    ]);
}

#[test]
fn hashtags_and_mentions() {
    let terms: &[(u32, &str)] = &[(1, "ad"), (2, "#ad")];
    check(&[
        (terms, "#ad", r##"list 2 0..3 "#ad" words 0..0; list 1 1..3 "ad" words 0..0"##),
        (
            terms,
            "great product #ad",
            r##"list 2 14..17 "#ad" words 2..2; list 1 15..17 "ad" words 2..2"##,
        ),
        (terms, "an ad", r#"list 1 3..5 "ad" words 1..1"#),
        (terms, "#adidas", ""),
        (terms, "##ad", r##"list 2 1..4 "#ad" words 0..0; list 1 2..4 "ad" words 0..0"##),
        (terms, "x#ad", r#"list 1 2..4 "ad" words 1..1"#),
        (FUCK, "#fuck", r#"list 1 1..5 "fuck" words 0..0"#),
        (FUCK, "@fuck", r#"list 1 1..5 "fuck" words 0..0"#),
        (&[(1, "user")], "hi @user", r#"list 1 4..8 "user" words 1..1"#),
        (&[(1, "@user")], "hi @user", r#"list 1 3..8 "@user" words 1..1"#),
        (&[(1, "@user")], "hi user", ""),
        // A leading '@' is a mention, not leetspeak.
        (&[(1, "ass")], "@ss", ""),
        // No handle holds a '$': this one is leetspeak.
        (&[(1, "asshole")], "you @$$hole", r#"list 1 4..11 "@$$hole" words 1..1"#),
        (&[(1, "user")], "me@user", ""),
        (&[(1, "ass")], "@classic_ass", r#"list 1 9..12 "ass" words 1..1"#),
    ]);
}

#[test]
fn spelled_out_letters_are_joined() {
    check(&[
        (FUCK, "f.u.c.k", r#"list 1 0..7 "f.u.c.k" words 0..0"#),
        (FUCK, "F U C K", r#"list 1 0..7 "F U C K" words 0..0"#),
        (FUCK, "f*u*c*k you", r#"list 1 0..7 "f*u*c*k" words 0..0"#),
        (
            FUCK,
            "f_u_c_k f/u/c/k f-u-c-k",
            r#"list 1 0..7 "f_u_c_k" words 0..0; list 1 8..15 "f/u/c/k" words 1..1; list 1 16..23 "f-u-c-k" words 2..2"#,
        ),
        // A chain keeps to one separator, so two spelled words stay two.
        (
            &[(1, "fuck"), (2, "shit")],
            "f.u.c.k s.h.i.t",
            r#"list 1 0..7 "f.u.c.k" words 0..0; list 2 8..15 "s.h.i.t" words 1..1"#,
        ),
        (FUCK, "f.u-c.k", ""),
        (SHIT, "s-h-i-t", r#"list 2 0..7 "s-h-i-t" words 0..0"#),
        (SHIT, "s.h.1.t", r#"list 2 0..7 "s.h.1.t" words 0..0"#),
        (SHIT, "oh s h i t", r#"list 2 3..10 "s h i t" words 1..1"#),
        (FUCK, "you f.u.c.k off", r#"list 1 4..11 "f.u.c.k" words 1..1"#),
        (FUCK, "ｆ．ｕ．ｃ．ｋ", r#"list 1 0..21 "ｆ．ｕ．ｃ．ｋ" words 0..0"#),
        // A joiner with a space after it or on both sides, the same throughout.
        (FUCK, "f. u. c. k", r#"list 1 0..10 "f. u. c. k" words 0..0"#),
        (FUCK, "so f . u . c . k it", r#"list 1 3..16 "f . u . c . k" words 1..1"#),
        (SHIT, "s - h - i - t", r#"list 2 0..13 "s - h - i - t" words 0..0"#),
        (&[(1, "tolkien")], "J. R. R. Tolkien", r#"list 1 9..16 "Tolkien" words 1..1"#),
        // Other gaps, mixed gaps or only two letters: not joined.
        (FUCK, "f . u.c . k", ""),
        (FUCK, "f .u .c .k", ""),
        (FUCK, "f..u..c..k", ""),
        (FUCK, "f  u  c  k", ""),
        (FUCK, "f.u ck", ""),
        (FUCK, "f,u,c,k", ""),
        (&[(1, "iama")], "i am a", ""),
        (&[(1, "am")], "i am a", r#"list 1 2..4 "am" words 1..1"#),
        (&[(1, "fuckyou")], "f u c k y o u", r#"list 1 0..13 "f u c k y o u" words 0..0"#),
        (&[(1, "fuck you")], "f u c k y o u", ""),
    ]);
}

#[test]
fn repeated_letters() {
    let god_good: &[(u32, &str)] = &[(1, "god"), (2, "good")];
    check(&[
        (FUCK, "fuuuuck", r#"list 1 0..7 "fuuuuck" words 0..0"#),
        (FUCK, "FFFUUUCCCKKK", r#"list 1 0..12 "FFFUUUCCCKKK" words 0..0"#),
        (SHIT, "shiiit", r#"list 2 0..6 "shiiit" words 0..0"#),
        (SHIT, "sh11111t", r#"list 2 0..8 "sh11111t" words 0..0"#),
        (FUCK, "f.u.u.u.c.k", r#"list 1 0..11 "f.u.u.u.c.k" words 0..0"#),
        // Two of a letter is a different word, not a stretched one.
        (FUCK, "fuuck", ""),
        (god_good, "good", r#"list 2 0..4 "good" words 0..0"#),
        (god_good, "god", r#"list 1 0..3 "god" words 0..0"#),
        (god_good, "gooood", r#"list 1 0..6 "gooood" words 0..0; list 2 0..6 "gooood" words 0..0"#),
        (
            &[(1, "fuuuck")],
            "fuck fuuck fuuuck fuuuuuuck",
            r#"list 1 11..17 "fuuuck" words 2..2; list 1 18..27 "fuuuuuuck" words 3..3"#,
        ),
        (&[(1, "200")], "2000 200 20", r#"list 1 5..8 "200" words 1..1"#),
    ]);
}

#[test]
fn whole_words_only() {
    let ass: &[(u32, &str)] = &[(1, "ass")];
    check(&[
        (ass, "classic", ""),
        (ass, "assess", ""),
        (ass, "glass", ""),
        (ass, "Scunthorpe assassin", ""),
        (ass, "ass.", r#"list 1 0..3 "ass" words 0..0"#),
        (ass, "(ass)", r#"list 1 1..4 "ass" words 0..0"#),
        (ass, "kick-ass", r#"list 1 5..8 "ass" words 1..1"#),
        (&[(1, "cunt")], "Scunthorpe", ""),
    ]);
}

#[test]
fn multi_word_terms_span_any_separators() {
    let shut_up: &[(u32, &str)] = &[(3, "shut up")];
    check(&[
        (shut_up, "shut...up", r#"list 3 0..9 "shut...up" words 0..1"#),
        (shut_up, "just SHUT  UP!", r#"list 3 5..13 "SHUT  UP" words 1..2"#),
        (shut_up, "shut-up", r#"list 3 0..7 "shut-up" words 0..1"#),
        (shut_up, "shutup", ""),
        (shut_up, "shut it up", ""),
        (
            &[(4, "kill yourself")],
            "go k1ll   y0urself",
            r#"list 4 3..18 "k1ll   y0urself" words 1..2"#,
        ),
        (&[(4, "kill yourself")], "kill yourselfie", ""),
    ]);
}

#[test]
fn overlapping_terms_and_lists() {
    let terms: &[(u32, &str)] = &[(1, "fucking"), (2, "fucking off"), (3, "off"), (1, "fuck")];
    check(&[
        (
            terms,
            "fucking off",
            r#"list 1 0..7 "fucking" words 0..0; list 2 0..11 "fucking off" words 0..1; list 3 8..11 "off" words 1..1"#,
        ),
        (
            &[(1, "fuck"), (2, "fuck off")],
            "fuck off",
            r#"list 1 0..4 "fuck" words 0..0; list 2 0..8 "fuck off" words 0..1"#,
        ),
        // One term in several lists: one match per list, in list order.
        (
            &[(7, "spam"), (3, "spam"), (7, "spam")],
            "spam",
            r#"list 3 0..4 "spam" words 0..0; list 7 0..4 "spam" words 0..0"#,
        ),
        // Two spellings of one term in one list report the span once.
        (
            &[(1, "fuck"), (1, "fuuuck"), (1, "f.u.c.k")],
            "fuuuuck",
            r#"list 1 0..7 "fuuuuck" words 0..0"#,
        ),
    ]);
}

#[test]
fn find_all_appends_and_reuses_scratch() {
    let m = matcher(&[(1, "fuck"), (2, "shit")]);
    let mut scratch = Scratch::new();
    let sentinel = TermMatch { list: 99, start: 0, end: 0, first_word: 0, last_word: 0 };
    let mut out = vec![sentinel];
    m.find_all("shit fuck", &mut scratch, &mut out);
    assert_eq!(out[0], sentinel);
    assert_eq!(
        render("shit fuck", &out[1..]),
        r#"list 2 0..4 "shit" words 0..0; list 1 5..9 "fuck" words 1..1"#
    );
    let long = "word ".repeat(500) + "fuck";
    out.clear();
    m.find_all(&long, &mut scratch, &mut out);
    assert_eq!(render(&long, &out), r#"list 1 2500..2504 "fuck" words 500..500"#);
    out.clear();
    m.find_all("nothing here", &mut scratch, &mut out);
    assert!(out.is_empty());
}

#[test]
fn long_runs_and_long_posts() {
    let m = matcher(&[(1, "fuck"), (2, "shut up")]);
    // Runs longer than a u16 saturate rather than wrap.
    let stretched = format!("f{}ck", "u".repeat(70_000));
    let mut found = Vec::new();
    m.find_all(&stretched, &mut Scratch::new(), &mut found);
    assert_eq!(found, [TermMatch { list: 1, start: 0, end: 70_003, first_word: 0, last_word: 0 }]);
    let post = "word shut up ".repeat(10_000);
    found.clear();
    m.find_all(&post, &mut Scratch::new(), &mut found);
    assert_eq!(found.len(), 10_000);
    assert_eq!((found[9_999].first_word, found[9_999].last_word), (29_998, 29_999));
}

#[test]
fn debug_output_stays_short() {
    let mut builder = TermMatcherBuilder::new();
    for i in 0..1000 {
        builder.add(1, &format!("term{i}x")).expect("valid term");
    }
    assert!(format!("{builder:?}").len() < 100);
    let m = builder.build().expect("builds");
    assert!(format!("{m:?}").len() < 200);
    assert!(format!("{:?}", Scratch::new()).len() < 100);
}

#[test]
fn rejected_terms() {
    let mut builder = TermMatcherBuilder::new();
    assert_eq!(builder.add(1, ""), Err(TermError::Empty { term: String::new() }));
    assert_eq!(builder.add(1, "!!!"), Err(TermError::Empty { term: "!!!".into() }));
    assert_eq!(
        builder.add(1, " \u{200b} 🔥 "),
        Err(TermError::Empty { term: " \u{200b} 🔥 ".into() })
    );
    let long = "a".repeat(201);
    assert_eq!(builder.add(1, &long), Err(TermError::TooLong { term: long.clone(), len: 201 }));
    assert!(builder.add(1, &"a".repeat(200)).is_ok());
    assert!(builder.add(1, "#1").is_ok());
    assert_eq!(
        TermError::Empty { term: "!!!".into() }.to_string(),
        r#"term "!!!" has no letters or digits to match"#
    );
    assert_eq!(
        TermError::TooLong { term: "abc".into(), len: 201 }.to_string(),
        r#"term "abc" is 201 bytes long, over the limit of 200"#
    );
}

#[test]
fn empty_matcher_matches_nothing() {
    let m = TermMatcherBuilder::default().build().expect("builds");
    assert!(m.is_empty());
    let mut out = Vec::new();
    m.find_all("fuck", &mut Scratch::default(), &mut out);
    assert!(out.is_empty());
    assert!(!matcher(FUCK).is_empty());
}

#[test]
fn normalized_form_for_display() {
    let table = [
        ("F.U.C.K you!!! 5h1t", "fuck you shit"),
        ("fuuuuck", "fuuuuck"),
        ("don't bitch's he'll", "don t bitchs he ll"),
        ("#ad #adidas @user me@ss", "#ad #adidas @user meass"),
        ("sh1t!2024 5318008 1st 80s 4k", "shit 2024 5318008 1st 80s 4k"),
        ("a$$hole a$$ US$5 $100", "asshole ass us 5 100"),
        ("ｆｕｃｋ 𝐟𝐮𝐜𝐤 pùta fu\u{441}k", "fuck fuck puta fuck"),
        ("Scheiße", "scheisse"),
        ("你是傻逼吗", "你 是 傻 逼 吗"),
        ("i am a", "i am a"),
        ("a b c", "abc"),
        ("x\0y\r\nz", "x y z"),
        ("e-mail", "e mail"),
        ("", ""),
        ("!!! ...", ""),
    ];
    for (text, expected) in table {
        assert_eq!(normalize_for_display(text), expected, "{text:?}");
    }
}

#[test]
fn word_counting_agrees_with_matches() {
    let table = [
        ("", 0),
        ("   ", 0),
        ("hello world", 2),
        ("f.u.c.k you", 2),
        ("#ad don't stop", 4),
        ("你好", 2),
        ("one,two;three", 3),
        ("sh1t!2024", 2),
    ];
    for (text, expected) in table {
        assert_eq!(TermMatcher::word_count(text), expected, "{text:?}");
        assert_eq!(Scratch::new().word_count(text), expected, "{text:?}");
    }
}

#[test]
fn matcher_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TermMatcher>();
    assert_send_sync::<Scratch>();
    let m = std::sync::Arc::new(matcher(FUCK));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let m = std::sync::Arc::clone(&m);
            std::thread::spawn(move || {
                let mut out = Vec::new();
                m.find_all("oh fuck", &mut Scratch::new(), &mut out);
                out.len()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().expect("thread"), 1);
    }
}

#[test]
fn many_terms_in_one_automaton() {
    let mut builder = TermMatcherBuilder::new();
    for i in 0..5000u32 {
        let term = format!("w{}x{}", i, i % 7);
        builder.add(i % 3, &term).expect("valid term");
    }
    builder.add(9, "needle").expect("valid term");
    let m = builder.build().expect("builds");
    assert_eq!(matches_with(&m, "a needle in w123x4 and w124x4"), {
        r#"list 9 2..8 "needle" words 1..1; list 0 12..18 "w123x4" words 3..3"#
    });
    assert!(m.memory_usage() > 0);
}

fn matches_with(m: &TermMatcher, text: &str) -> String {
    let mut found = Vec::new();
    m.find_all(text, &mut Scratch::new(), &mut found);
    render(text, &found)
}

fn fixed_matcher() -> TermMatcher {
    matcher(&[
        (1, "fuck"),
        (2, "shit"),
        (3, "shut up"),
        (4, "#ad"),
        (4, "ad"),
        (5, "сука"),
        (6, "傻逼"),
        (7, "a"),
    ])
}

fn check_invariants(text: &str, found: &[TermMatch]) -> Result<(), TestCaseError> {
    let words = u32::try_from(TermMatcher::word_count(text)).unwrap_or(u32::MAX);
    for pair in found.windows(2) {
        prop_assert!(
            (pair[0].start, pair[0].list, pair[0].end) < (pair[1].start, pair[1].list, pair[1].end)
        );
    }
    for m in found {
        prop_assert!(m.start < m.end && m.end <= text.len(), "{m:?}");
        prop_assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end), "{m:?}");
        prop_assert!(m.first_word <= m.last_word && m.last_word < words, "{m:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics_and_spans_are_valid(text in any::<String>()) {
        let m = fixed_matcher();
        let mut found = Vec::new();
        m.find_all(&text, &mut Scratch::new(), &mut found);
        check_invariants(&text, &found)?;
        let _ = normalize_for_display(&text);
    }

    #[test]
    fn evasion_like_text_never_panics_and_spans_are_valid(
        text in "([a-zA-Z0-9 .\\-_*/#@$!|'’\u{200b}\u{301}\u{441}\u{3bf}ｆ傻🔥\r\n\0]){0,60}"
    ) {
        let m = fixed_matcher();
        let mut found = Vec::new();
        m.find_all(&text, &mut Scratch::new(), &mut found);
        check_invariants(&text, &found)?;
    }

    #[test]
    fn a_term_between_spaces_is_always_found(
        words in proptest::collection::vec("[a-z]{2,8}", 1..4),
        before in "[ -~]{0,40}",
        after in "[ -~]{0,40}",
        list in 0u32..5,
    ) {
        let term = words.join(" ");
        let m = matcher(&[(list, &term), (99, "zz")]);
        let text = format!("{before} {term} {after}");
        let mut found = Vec::new();
        m.find_all(&text, &mut Scratch::new(), &mut found);
        let start = before.len() + 1;
        let expected = (list, start, start + term.len());
        prop_assert!(
            found.iter().any(|f| (f.list, f.start, f.end) == expected),
            "{term:?} not found in {text:?}: {found:?}"
        );
    }

    /// Terms of every length the start filter tells apart (one, two, three, four and more
    /// bytes), after a `#` or `@` and before a possessive, among other terms that share
    /// their first bytes.
    #[test]
    fn a_term_is_found_whatever_its_length_and_neighbours(
        term in "[a-e]{1,6}",
        others in proptest::collection::vec("[a-e]{1,6}", 0..6),
        tag in "[#@]?",
        possessive in "('s)?",
    ) {
        let mut terms: Vec<(u32, &str)> = vec![(7, term.as_str())];
        terms.extend(others.iter().map(|t| (1, t.as_str())));
        let m = matcher(&terms);
        let text = format!("xx {tag}{term}{possessive} yy");
        let mut found = Vec::new();
        m.find_all(&text, &mut Scratch::new(), &mut found);
        prop_assert!(found.iter().any(|f| f.list == 7), "{term:?} not found in {text:?}: {found:?}");
    }

    #[test]
    fn matching_is_deterministic(text in "\\PC{0,80}", noise in "[ -~]{0,40}") {
        let m = fixed_matcher();
        let mut scratch = Scratch::new();
        let mut first = Vec::new();
        m.find_all(&text, &mut scratch, &mut first);
        // A used scratch and a fresh one give the same answer.
        let mut other = Vec::new();
        m.find_all(&noise, &mut scratch, &mut other);
        let mut second = Vec::new();
        m.find_all(&text, &mut scratch, &mut second);
        let mut third = Vec::new();
        fixed_matcher().find_all(&text, &mut Scratch::new(), &mut third);
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(&first, &third);
    }
}
