//! The dashboard: what came in over the last 30 days, what needs action, and the latest items
//! that do, all within the person's audience.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use lifeguard_core::Action;
use lifeguard_core::access::Role;
use lifeguard_core::archive::Query;
use lifeguard_store::{Audience, Filters, ItemSummary, MAX_LIMIT, SearchRequest};

use super::util::{Badge, TimeView};
use super::{Ctx, Layout, PageError, render};

/// Days the chart covers, today included.
const DAYS: i64 = 30;
/// The chart pages through at most this many searches of `MAX_LIMIT` items (5,000 items),
/// so the dashboard costs the same on a huge archive; beyond that it says it is incomplete.
const SCAN_PAGES: usize = 5;
/// Items needing action are counted the same way (exactly, from the archive's own counts,
/// for people who see everything).
const COUNT_PAGES: usize = 5;
/// Latest items needing action shown.
const LATEST: usize = 10;

const SECONDS_PER_DAY: i64 = 86_400;

/// The chart's drawing area, in the SVG's own units.
const PLOT_LEFT: i64 = 44;
const PLOT_TOP: i64 = 10;
const PLOT_BOTTOM: i64 = 220;
const SLOT: i64 = 19;
const BAR: i64 = 15;

/// The stacked actions, bottom first, with their CSS class and label.
const STACK: [(Action, &str, &str); 4] = [
    (Action::Allow, "allow", "Allowed"),
    (Action::Flag, "flag", "Flagged"),
    (Action::RequireApproval, "require_approval", "Needs approval"),
    (Action::Block, "block", "Blocked"),
];

/// One day's counts.
struct Day {
    date: String,
    counts: [u64; 4],
    total: u64,
}

/// One part of a stacked bar.
struct Segment {
    y: i64,
    height: i64,
    class: &'static str,
    title: String,
}

/// One day's bar.
struct Bar {
    x: i64,
    segments: Vec<Segment>,
}

/// A date under the chart.
struct Tick {
    x: i64,
    label: String,
}

/// One count of items needing action.
struct OpenCount {
    class: &'static str,
    label: &'static str,
    count: u64,
    capped: bool,
    href: String,
}

/// One of the latest items needing action.
struct Latest {
    seq: u64,
    platform: String,
    account: String,
    author: String,
    action: Badge,
    time: TimeView,
}

#[derive(Template)]
#[template(path = "dashboard.html", config = "templates/askama.toml")]
struct DashboardPage {
    layout: Layout,
    days: Vec<Day>,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
    max: u64,
    scanned: u64,
    incomplete: bool,
    stack: Vec<(&'static str, &'static str)>,
    open: Vec<OpenCount>,
    latest: Vec<Latest>,
    whose: &'static str,
}

/// `GET /`.
pub(crate) async fn show(ctx: Ctx) -> Response {
    let result = dashboard(&ctx).await;
    ctx.finish(result)
}

async fn dashboard(ctx: &Ctx) -> Result<Response, PageError> {
    let audience = ctx.audience().await?;
    let today = Timestamp::now().as_second().div_euclid(SECONDS_PER_DAY);
    let first_day = today - (DAYS - 1);
    let since = Timestamp::from_second(first_day * SECONDS_PER_DAY)
        .map_err(|err| PageError::internal("the chart's first day", &err))?;
    let filters = Filters { since: Some(since), audience: audience.clone(), ..Filters::default() };
    let (items, incomplete) = scan(ctx, filters, SCAN_PAGES).await?;
    let mut days: Vec<Day> = (first_day..=today)
        .map(|day| Day { date: day_label(day), counts: [0; 4], total: 0 })
        .collect();
    for item in &items {
        let time = item.created_at.unwrap_or(item.captured_at);
        let day = time.as_second().div_euclid(SECONDS_PER_DAY);
        let Some(action) = item.action.as_deref().and_then(|a| a.parse::<Action>().ok()) else {
            continue;
        };
        let (Ok(index), Some(slot)) =
            (usize::try_from(day - first_day), STACK.iter().position(|s| s.0 == action))
        else {
            continue;
        };
        if let Some(counts) = days.get_mut(index) {
            counts.counts[slot] += 1;
            counts.total += 1;
        }
    }
    let max = days.iter().map(|d| d.total).max().unwrap_or(0).max(1);
    let bars = bars(&days, max);
    let ticks = [0, 7, 14, 21, DAYS - 1]
        .into_iter()
        .filter_map(|i| {
            let day = days.get(usize::try_from(i).ok()?)?;
            Some(Tick { x: PLOT_LEFT + i * SLOT + BAR / 2, label: day.date[5..].to_owned() })
        })
        .collect();
    let open = open_counts(ctx, audience.as_ref()).await?;
    let latest = latest(ctx, audience.as_ref()).await?;
    let page = DashboardPage {
        layout: ctx.layout("Dashboard", "/"),
        days,
        bars,
        ticks,
        max,
        scanned: items.len() as u64,
        incomplete,
        stack: STACK.iter().map(|&(_, class, label)| (class, label)).collect(),
        open,
        latest,
        whose: match (&audience, ctx.principal.person.role) {
            (None, _) => "Everything in the archive.",
            (Some(_), Role::Supervisor) => "Your items and your team's.",
            (Some(_), _) => "Your own items.",
        },
    };
    render(StatusCode::OK, &page)
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (UTC).
fn day_label(day: i64) -> String {
    Timestamp::from_second(day * SECONDS_PER_DAY)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn bars(days: &[Day], max: u64) -> Vec<Bar> {
    let height = PLOT_BOTTOM - PLOT_TOP;
    // Heights come from the running total, so rounding never opens gaps in a stack.
    let y_of = |count: u64| {
        let scaled = i64::try_from(count.saturating_mul(height as u64) / max).unwrap_or(height);
        PLOT_BOTTOM - scaled
    };
    days.iter()
        .zip(0_i64..)
        .map(|(day, i)| {
            let mut below = 0;
            let mut segments = Vec::new();
            for (slot, &(_, class, label)) in STACK.iter().enumerate() {
                let count = day.counts[slot];
                if count == 0 {
                    continue;
                }
                let bottom = y_of(below);
                below += count;
                let top = y_of(below);
                segments.push(Segment {
                    y: top,
                    height: (bottom - top).max(1),
                    class,
                    title: format!("{}: {count} {}", day.date, label.to_lowercase()),
                });
            }
            Bar { x: PLOT_LEFT + i * SLOT, segments }
        })
        .collect()
}

/// Pages through a search, newest first, for at most `pages` pages. Also says whether it
/// stopped before the end.
async fn scan(
    ctx: &Ctx,
    filters: Filters,
    pages: usize,
) -> Result<(Vec<ItemSummary>, bool), PageError> {
    let mut request =
        SearchRequest { query: Query::default(), filters, limit: MAX_LIMIT, cursor: None };
    let mut items = Vec::new();
    for _ in 0..pages {
        let page = ctx.state.store.search(&request).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => return Ok((items, false)),
        }
    }
    Ok((items, true))
}

async fn open_counts(ctx: &Ctx, audience: Option<&Audience>) -> Result<Vec<OpenCount>, PageError> {
    let exact = match audience {
        None => Some(ctx.state.store.stats().await?.by_action),
        Some(_) => None,
    };
    let mut out = Vec::new();
    for &(action, class, label) in &STACK[1..] {
        let (count, capped) = match &exact {
            Some(by_action) => {
                let count =
                    by_action.iter().find(|(name, _)| name == action.name()).map_or(0, |(_, n)| *n);
                (count, false)
            }
            None => {
                let filters = Filters {
                    action: Some(action),
                    audience: audience.cloned(),
                    ..Filters::default()
                };
                let (items, capped) = scan(ctx, filters, COUNT_PAGES).await?;
                (items.len() as u64, capped)
            }
        };
        out.push(OpenCount {
            class,
            label,
            count,
            capped,
            href: format!("/archive?verdict={}", action.name()),
        });
    }
    Ok(out)
}

async fn latest(ctx: &Ctx, audience: Option<&Audience>) -> Result<Vec<Latest>, PageError> {
    let mut found: Vec<ItemSummary> = Vec::new();
    for &(action, ..) in &STACK[1..] {
        let filters =
            Filters { action: Some(action), audience: audience.cloned(), ..Filters::default() };
        let request =
            SearchRequest { query: Query::default(), filters, limit: LATEST as u32, cursor: None };
        found.extend(ctx.state.store.search(&request).await?.items);
    }
    // Each search is newest first; their cursors order them together the same way.
    found.sort_by_key(|item| std::cmp::Reverse((item.cursor.sort_at, item.cursor.seq)));
    found.truncate(LATEST);
    Ok(found
        .into_iter()
        .map(|item| Latest {
            seq: item.seq,
            platform: item.platform,
            account: item.account,
            author: item.author,
            action: Badge::new(item.action.as_deref().unwrap_or_default()),
            time: TimeView::new(item.created_at.unwrap_or(item.captured_at)),
        })
        .collect())
}
