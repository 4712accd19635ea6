//! Search latency over an existing archive: the first page (20 results, newest first) of a
//! one-word query with a date filter, for a fixed list of words and date windows, timed inside
//! the process (warm, as a server would run it). Prints p50, p95, p99 and the slowest.
//!
//! `ARCHIVE_BENCH_URL=sqlite:PATH|postgres://… cargo bench -p lifeguard-store --bench search`
//! (bench/archive.sh runs it on the archive it built). Without the variable it does nothing.

use std::time::{Duration, Instant};

use lifeguard_core::archive::Query;
use lifeguard_store::{Filters, Location, SearchRequest};

/// Words from common to rare in social media text.
const WORDS: &[&str] = &[
    "the", "you", "love", "good", "people", "trump", "game", "music", "happy", "vote", "police",
    "weekend", "tomorrow", "school", "birthday", "gun", "coffee", "football", "liberals", "apple",
];

/// Window lengths, in days.
const WINDOWS: &[i64] = &[7, 30, 90, 365];

fn main() {
    let Ok(url) = std::env::var("ARCHIVE_BENCH_URL") else {
        eprintln!("skipped: set ARCHIVE_BENCH_URL to an archive (bench/archive.sh does)");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = lifeguard_store::open(&Location::Url(url)).await.expect("open the archive");
        let stats = store.stats().await.expect("stats");
        let Some((oldest, newest)) = stats.span else {
            eprintln!("the archive is empty");
            return;
        };
        let span_days = (newest.as_second() - oldest.as_second()) / 86_400;
        let mut timings = Vec::new();
        let mut slowest = Vec::new();
        let mut hits = 0usize;
        // Deterministic spread of window starts across the archive's time span.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..10 {
            for (w, word) in WORDS.iter().enumerate() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let window = WINDOWS[(w + round) % WINDOWS.len()];
                let offset = i64::try_from(seed % u64::try_from(span_days.max(1)).unwrap_or(1)).unwrap_or(0);
                let since = oldest.checked_add(jiff::SignedDuration::from_hours(24 * offset)).expect("time");
                let until = since.checked_add(jiff::SignedDuration::from_hours(24 * window)).expect("time");
                let mut request = SearchRequest::new(Query::parse(word).expect("query"));
                request.filters = Filters { since: Some(since), until: Some(until), ..Filters::default() };
                let start = Instant::now();
                let page = store.search(&request).await.expect("search");
                timings.push(start.elapsed());
                slowest.push((start.elapsed(), *word, window, page.items.len()));
                hits += page.items.len();
            }
        }
        timings.sort();
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        if std::env::var_os("ARCHIVE_BENCH_SLOWEST").is_some() {
            for (time, word, window, found) in slowest.iter().take(12) {
                eprintln!("  {:>6.1} ms  {word} over {window} days: {found} results", time.as_secs_f64() * 1e3);
            }
        }
        let at = |p: f64| timings[((timings.len() as f64 * p).ceil() as usize).saturating_sub(1)];
        let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
        println!(
            "search ({}, {} items): {} queries, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} results in all)",
            store.backend(),
            stats.items,
            timings.len(),
            ms(at(0.50)),
            ms(at(0.95)),
            ms(at(0.99)),
            ms(timings[timings.len() - 1]),
            hits
        );
    });
}
