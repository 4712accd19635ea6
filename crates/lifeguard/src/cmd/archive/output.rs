//! How archive records look on the terminal and in `--format json`. The JSON here is the
//! command line's contract; the canonical payloads inside it are the archive's own.

use std::io::{self, Write};

use indicatif::{ProgressBar, ProgressStyle};
use lifeguard_core::archive::{RetentionRule, format_time, hex};
use lifeguard_store::{HoldRecord, ItemDetail, ItemSummary, Stats};
use serde_json::{Value, json};

/// A progress bar on stderr when it is a terminal; `None` otherwise.
pub(crate) fn progress_bar(message: &'static str, length: u64) -> Option<ProgressBar> {
    if !super::interactive() {
        return None;
    }
    let bar = ProgressBar::new(length);
    let style =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message);
    Some(bar)
}

pub(crate) fn summary_json(item: &ItemSummary) -> Value {
    json!({
        "id": item.seq,
        "platform": item.platform,
        "account": item.account,
        "external_id": item.external_id,
        "kind": item.kind,
        "author": item.author,
        "author_type": item.author_type,
        "created_at": item.created_at.map(format_time),
        "captured_at": format_time(item.captured_at),
        "change": item.change,
        "revises": item.revises,
        "verdict": item.action,
        "findings": item.findings,
        "text": item.text,
        "disposed": item.text.is_none(),
    })
}

fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match flat.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

pub(crate) fn summary_text(out: &mut impl Write, item: &ItemSummary) -> io::Result<()> {
    let when = format_time(item.created_at.unwrap_or(item.captured_at));
    let verdict = match (&item.action, item.findings) {
        (Some(action), 0) => action.clone(),
        (Some(action), n) => format!("{action}, {n} finding{}", if n == 1 { "" } else { "s" }),
        (None, _) => "not checked".to_owned(),
    };
    let change =
        if item.change == "original" { String::new() } else { format!(" {}", item.change) };
    writeln!(
        out,
        "#{} {} {}{} {} by {} ({}) on {} [{}]",
        item.seq,
        &when[..19],
        item.kind,
        change,
        item.external_id,
        if item.author.is_empty() { "?" } else { &item.author },
        item.author_type,
        item.platform,
        verdict
    )?;
    match &item.text {
        Some(text) => writeln!(out, "    {}", one_line(text, 160)),
        None => writeln!(out, "    (content disposed of under retention)"),
    }
}

pub(crate) fn detail_json(detail: &ItemDetail) -> Value {
    json!({
        "item": summary_json(&detail.summary),
        "payload": detail.payload,
        "entry": {
            "seq": detail.entry.seq,
            "kind": detail.entry.kind.name(),
            "recorded_at": detail.entry.recorded_at,
            "prev": hex(&detail.entry.prev),
            "payload_sha256": hex(&detail.entry.payload_hash),
            "hash": hex(&detail.entry.hash),
        },
        "versions": detail.versions.iter().map(|v| json!({
            "id": v.seq, "change": v.change, "captured_at": format_time(v.captured_at)
        })).collect::<Vec<_>>(),
        "verdicts": detail.verdicts.iter().map(|v| json!({
            "entry": v.entry.seq,
            "hash": hex(&v.entry.hash),
            "payload": v.payload,
        })).collect::<Vec<_>>(),
        "disposed_by": detail.disposed_by,
    })
}

pub(crate) fn detail_text(out: &mut impl Write, detail: &ItemDetail) -> io::Result<()> {
    let s = &detail.summary;
    writeln!(out, "item #{} — {} {} on {}", s.seq, s.kind, s.external_id, s.platform)?;
    writeln!(out, "  account:     {}", s.account)?;
    writeln!(out, "  author:      {} ({})", s.author, s.author_type)?;
    if let Some(created) = s.created_at {
        writeln!(out, "  created:     {}", format_time(created))?;
    }
    writeln!(out, "  captured:    {}", format_time(s.captured_at))?;
    if let Some(revises) = s.revises {
        writeln!(out, "  {}: of #{revises}", s.change)?;
    }
    match &s.text {
        Some(text) => {
            writeln!(out, "  text:")?;
            for line in text.lines() {
                writeln!(out, "    {line}")?;
            }
        }
        None => writeln!(
            out,
            "  text:        disposed of under retention (disposition entry #{})",
            detail.disposed_by.map_or_else(|| "?".to_owned(), |d| d.to_string())
        )?,
    }
    if let Some(payload) = &detail.payload {
        for link in payload["links"].as_array().into_iter().flatten() {
            writeln!(out, "  link:        {}", link.as_str().unwrap_or_default())?;
        }
        for media in payload["media"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "  media:       {} ({})",
                media["name"].as_str().unwrap_or_default(),
                media["type"].as_str().unwrap_or("?")
            )?;
        }
    }
    writeln!(out, "  chain:       entry {} hash {}", detail.entry.seq, hex(&detail.entry.hash))?;
    writeln!(out, "               prev {}", hex(&detail.entry.prev))?;
    if detail.versions.len() > 1 {
        writeln!(out, "  versions:")?;
        for version in &detail.versions {
            let this = if version.seq == s.seq { "  ← this one" } else { "" };
            writeln!(
                out,
                "    #{} {} captured {}{this}",
                version.seq,
                version.change,
                format_time(version.captured_at)
            )?;
        }
    }
    for verdict in &detail.verdicts {
        match &verdict.payload {
            Some(payload) => {
                writeln!(
                    out,
                    "  verdict:     {} by policy {} v{} (entry {})",
                    payload["action"].as_str().unwrap_or("?"),
                    payload["policy"]["id"].as_str().unwrap_or("?"),
                    payload["policy"]["version"].as_str().unwrap_or("?"),
                    verdict.entry.seq
                )?;
                for finding in payload["findings"].as_array().into_iter().flatten() {
                    writeln!(
                        out,
                        "    {} {} ({}, {}) at {}..{}: {:?}",
                        finding["action"].as_str().unwrap_or("?"),
                        finding["rule"].as_str().unwrap_or("?"),
                        finding["category"].as_str().unwrap_or("?"),
                        finding["severity"].as_str().unwrap_or("?"),
                        finding["start"],
                        finding["end"],
                        finding["match"].as_str().unwrap_or_default()
                    )?;
                }
            }
            None => writeln!(out, "  verdict:     disposed of (entry {})", verdict.entry.seq)?,
        }
    }
    Ok(())
}

fn counts(pairs: &[(String, u64)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

pub(crate) fn stats_json(stats: &Stats, backend: &str) -> Value {
    json!({
        "backend": backend,
        "entries": stats.entries,
        "items": stats.items,
        "verdicts": stats.verdicts,
        "disposed": stats.disposed,
        "by_platform": counts(&stats.by_platform),
        "by_kind": counts(&stats.by_kind),
        "by_verdict": counts(&stats.by_action),
        "active_holds": stats.active_holds,
        "retention_rules": stats.retention_rules,
        "checkpoints": stats.checkpoints,
        "last_checkpoint": stats.last_checkpoint,
        "head": stats.head.map(|(seq, hash)| json!({"seq": seq, "hash": hex(&hash)})),
        "oldest": stats.span.map(|(oldest, _)| format_time(oldest)),
        "newest": stats.span.map(|(_, newest)| format_time(newest)),
    })
}

pub(crate) fn stats_text(out: &mut impl Write, stats: &Stats, backend: &str) -> io::Result<()> {
    let list = |pairs: &[(String, u64)]| {
        pairs.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    };
    writeln!(out, "archive ({backend})")?;
    writeln!(out, "  entries:          {}", stats.entries)?;
    writeln!(out, "  items:            {} ({} disposed)", stats.items, stats.disposed)?;
    writeln!(out, "  verdicts:         {}", stats.verdicts)?;
    writeln!(out, "  by platform:      {}", list(&stats.by_platform))?;
    writeln!(out, "  by kind:          {}", list(&stats.by_kind))?;
    writeln!(out, "  by verdict:       {}", list(&stats.by_action))?;
    if let Some((oldest, newest)) = stats.span {
        writeln!(out, "  items made:       {} to {}", format_time(oldest), format_time(newest))?;
    }
    writeln!(out, "  legal holds:      {} in force", stats.active_holds)?;
    writeln!(out, "  retention rules:  {}", stats.retention_rules)?;
    let last = stats
        .last_checkpoint
        .map_or_else(|| "none".to_owned(), |seq| format!("last at entry {seq}"));
    writeln!(out, "  checkpoints:      {} ({last})", stats.checkpoints)?;
    if let Some((seq, hash)) = stats.head {
        writeln!(out, "  head:             entry {seq} {}", hex(&hash))?;
    }
    Ok(())
}

pub(crate) fn rule_json(rule: &RetentionRule) -> Value {
    json!({
        "id": rule.id,
        "keep": rule.keep.iso(),
        "kinds": rule.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
        "platforms": rule.platforms,
        "author_types": rule.author_types.iter().map(|a| a.name()).collect::<Vec<_>>(),
    })
}

pub(crate) fn rule_text(rule: &RetentionRule) -> String {
    let or_all =
        |list: Vec<String>| if list.is_empty() { "all".to_owned() } else { list.join(", ") };
    format!(
        "{}: keep {} — kinds: {}; platforms: {}; author types: {}",
        rule.id,
        rule.keep.iso(),
        or_all(rule.kinds.iter().map(|k| k.name().to_owned()).collect()),
        or_all(rule.platforms.clone()),
        or_all(rule.author_types.iter().map(|a| a.name().to_owned()).collect()),
    )
}

pub(crate) fn hold_json(record: &HoldRecord) -> Value {
    let scope = &record.hold.scope;
    json!({
        "id": record.hold.id,
        "reason": record.hold.reason,
        "owner": record.hold.owner,
        "entry": record.placed,
        "placed_at": format_time(record.placed_at),
        "scope": {
            "authors": scope.authors,
            "accounts": scope.accounts,
            "platforms": scope.platforms,
            "query": record.query,
            "since": scope.from.map(format_time),
            "until": scope.until.map(format_time),
        },
        "released": record.released.as_ref().map(|(seq, reason, by)| json!({"entry": seq, "reason": reason, "by": by})),
    })
}

pub(crate) fn hold_text(record: &HoldRecord) -> String {
    let state = match &record.released {
        Some((seq, reason, by)) => format!("released by {by} ({reason}, entry {seq})"),
        None => "in force".to_owned(),
    };
    let scope = &record.hold.scope;
    let mut parts = Vec::new();
    if !scope.authors.is_empty() {
        parts.push(format!("authors {}", scope.authors.join(", ")));
    }
    if !scope.accounts.is_empty() {
        parts.push(format!("accounts {}", scope.accounts.join(", ")));
    }
    if !scope.platforms.is_empty() {
        parts.push(format!("platforms {}", scope.platforms.join(", ")));
    }
    if let Some(query) = &record.query {
        parts.push(format!("text matching {query}"));
    }
    if let Some(from) = scope.from {
        parts.push(format!("from {}", format_time(from)));
    }
    if let Some(until) = scope.until {
        parts.push(format!("until {}", format_time(until)));
    }
    let covers = if parts.is_empty() { "everything".to_owned() } else { parts.join("; ") };
    format!(
        "{} — {state}; owner {}; reason: {}; covers {covers}; placed {} (entry {})",
        record.hold.id,
        record.hold.owner,
        record.hold.reason,
        format_time(record.placed_at),
        record.placed
    )
}
