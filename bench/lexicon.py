#!/usr/bin/env python3
"""Generates the speed benchmark's term lexicon, deterministically.

Usage: lexicon.py [--count N] [--seed S] OUT

Writes N (default 10,000) distinct lowercase terms, one per line, to OUT. No word list file is
read: everything comes from the syllable tables and the short lists of real words below and a
fixed-seed generator (splitmix64), so the same arguments always give the same bytes.
`crates/core/benches/engine.rs` implements the same algorithm with the same tables and seed and
produces the identical lexicon in process; keep the two in sync.

The mix, for N = 10,000 (the real-word lists are fixed; generated words fill the rest):

  * 158 real single English words of middling frequency that occur in tweets (REAL_WORDS:
    "umbrella", "podcast", "referee", ...) and 37 real two-word phrases (REAL_PHRASES:
    "climate change", "social media", ...), chosen so that a realistic share of posts match:
    2.9% of the shared tweets hold one of them;
  * 1,200 two-word phrases (12% of N) of generated words, half of them led by a real word
    ("passport gatfrond"), which exercise the automaton's partial-phrase paths;
  * 8,605 generated single pseudo-words of 2 to 4 syllables ("grainourk", "moospeclik"),
    none equal to a listed real word. A few happen to be English words ("behind", "drive",
    "river"), as in any made-up list.

Altogether 3.77% of the shared tweets match at least one term (ripgrep -w on the lowercased
text and lifeguard agree: 37,655 and 37,720 of the 1,000,000 benchmark posts).
Single words are 4 to 17 letters long (8.5 on average), phrases at most 30 characters.

The final list is shuffled, so real and generated terms are interleaved.
"""

import sys

MASK = (1 << 64) - 1

ONSETS = [
    "", "b", "bl", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h",
    "j", "k", "kr", "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "sp", "st",
    "t", "th", "tr", "v", "w", "z",
]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "oo", "ou", "y"]
CODAS = ["", "", "", "", "n", "r", "l", "s", "t", "m", "k", "nd", "rk", "st", "x", "ng", "ld", "rn"]

REAL_WORDS = """
umbrella volcano tractor podcast referee lottery festival vaccine pancake tornado
mortgage blizzard sandwich dinosaur penguin jellyfish marathon bakery laundry skyscraper
violin saxophone telescope avocado cucumber broccoli lemonade espresso cappuccino burrito
guacamole popcorn pretzel cupcake waffle lasagna spaghetti sushi kebab
earthquake thunderstorm wildfire glacier canyon meadow orchard vineyard lighthouse harbor
airport subway railway highway bicycle scooter motorcycle helicopter submarine spaceship
astronaut galaxy asteroid comet satellite rocket microscope laboratory chemistry biology
algebra calculus grammar dictionary encyclopedia library museum gallery theater cinema
orchestra symphony ballet opera karaoke playlist album vinyl headphones
microphone guitar drummer quarterback touchdown playoffs championship tournament stadium goalkeeper
pitcher umpire wrestling boxing gymnastics skateboard surfing hiking camping fishing
gardening knitting painting sculpture photography selfie hashtag emoji meme blogger
influencer subscriber livestream webcam keyboard laptop smartphone charger wifi bluetooth
password spreadsheet printer scanner elevator escalator parking ticket passport luggage
suitcase backpack wallet sunglasses sneakers pajamas sweater jacket raincoat necklace
bracelet earrings lipstick perfume shampoo toothpaste vitamin aspirin dentist pharmacy
""".split()

REAL_PHRASES = [
    "climate change", "social media", "ice cream", "white house", "health care", "border wall",
    "tax cuts", "press conference", "prime minister", "vice president", "election day",
    "town hall", "middle class", "minimum wage", "student loans", "real estate", "stock market",
    "interest rates", "gas prices", "black friday", "super bowl", "world cup", "game day",
    "happy birthday", "good morning", "new album", "movie night", "road trip", "coffee shop",
    "video game", "fan club", "talk show", "red carpet", "breaking news", "twitter account",
    "hate speech", "mental health",
]


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood 2014): tiny, well-mixed, and easy to mirror in Rust."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n


def pseudo_word(rng: SplitMix64) -> str:
    # 2 syllables 50%, 3 syllables 35%, 4 syllables 15%.
    roll = rng.below(100)
    syllables = 2 if roll < 50 else 3 if roll < 85 else 4
    word = ""
    for i in range(syllables):
        # Later syllables always start with a consonant, so vowels never pile up.
        onset = ONSETS[rng.below(len(ONSETS))] if i == 0 else ONSETS[1 + rng.below(len(ONSETS) - 1)]
        word += onset + VOWELS[rng.below(len(VOWELS))]
    # Only the last syllable may close with a consonant, so clusters stay pronounceable.
    return word + CODAS[rng.below(len(CODAS))]


def lexicon(count: int, seed: int) -> list[str]:
    rng = SplitMix64(seed)
    real = REAL_WORDS + REAL_PHRASES
    real_set = set(REAL_WORDS)
    taken = set(real)
    terms = list(real)
    phrases = count * 12 // 100
    singles = count - len(real) - phrases
    if singles < 0:
        raise ValueError(f"count must be at least {len(real) + phrases}")

    def fresh() -> str:
        while True:
            word = pseudo_word(rng)
            if len(word) >= 4 and word not in real_set and word not in taken:
                return word

    for _ in range(singles):
        word = fresh()
        taken.add(word)
        terms.append(word)
    made = 0
    while made < phrases:
        first = REAL_WORDS[rng.below(len(REAL_WORDS))] if rng.below(2) == 0 else fresh()
        phrase = first + " " + fresh()
        if phrase in taken:
            continue
        taken.add(phrase)
        terms.append(phrase)
        made += 1
    # Fisher-Yates.
    for i in range(len(terms) - 1, 0, -1):
        j = rng.below(i + 1)
        terms[i], terms[j] = terms[j], terms[i]
    return terms


def main() -> int:
    args = sys.argv[1:]
    count, seed, out = 10_000, 0x11FE6AAD, None
    while args:
        arg = args.pop(0)
        if arg == "--count" and args:
            count = int(args.pop(0))
        elif arg == "--seed" and args:
            seed = int(args.pop(0), 0)
        elif not arg.startswith("-") and out is None:
            out = arg
        else:
            print(__doc__.strip().splitlines()[2], file=sys.stderr)
            return 2
    if out is None:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    terms = lexicon(count, seed)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(term + "\n" for term in terms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
