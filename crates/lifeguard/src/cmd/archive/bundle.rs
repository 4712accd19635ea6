//! Export bundles: `archive export` writes matching entries, a fresh signed checkpoint and a
//! manifest; `archive verify-export` checks a bundle with nothing but the files (and,
//! optionally, a public key the verifier already trusts). The format is specified in
//! `docs/archive-format.md`, and `crates/lifeguard/tests/verify_export.py` checks the same
//! bundles independently.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufRead as _, BufReader, BufWriter, Read as _, Write};
use std::path::Path;

use anyhow::{Context as _, bail};
use lifeguard_core::archive::{
    ChainVerifier, Checkpoint, Entry, EntryKind, SigningKey, VerifyingKey, canonical_json,
    format_time, hex, parse_canonical, parse_hex, parse_strict,
};
use lifeguard_store::{Filters, SearchRequest, Store};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::cli::{FilterArgs, Format};
use crate::exit::Exit;

/// The bundle's format name and version, in its manifest.
pub(crate) const FORMAT: &str = "lifeguard-export";
pub(crate) const VERSION: u64 = 1;
/// Longest manifest read.
const MAX_MANIFEST: u64 = 1 << 20;
/// Longest line in entries.jsonl: the largest payload (text, raw payload) escaped, with room.
const MAX_LINE: usize = 64 << 20;
/// Entries read from the store at a time.
const PAGE: u64 = 5_000;

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
    lines: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        self.lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Default)]
struct Counts {
    entries: u64,
    payloads: u64,
    omitted: u64,
    disposed: u64,
    items: u64,
    verdicts: u64,
}

impl Counts {
    fn json(&self) -> Value {
        json!({
            "entries": self.entries, "payloads": self.payloads, "omitted": self.omitted,
            "disposed": self.disposed, "items": self.items, "verdicts": self.verdicts,
        })
    }
}

pub(crate) async fn export(
    store: &dyn Store,
    key: &SigningKey,
    query_text: Option<&str>,
    filter_args: &FilterArgs,
    out: &Path,
) -> anyhow::Result<Exit> {
    let query = super::query(query_text)?;
    let filters = super::filters(filter_args)?;
    let filtered = !query.is_empty() || filters != Filters::default();
    if out.exists()
        && fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_some()
    {
        bail!("{} is not empty; export into a new folder", out.display());
    }
    super::checkpoint(store, key).await?;
    let Some(checkpoint) = store.checkpoints().await?.pop() else {
        bail!("the archive is empty: nothing to export");
    };
    let matching: Option<HashSet<u64>> = if filtered {
        let mut request =
            SearchRequest { query, filters: filters.clone(), limit: 1_000, cursor: None };
        let mut seqs = HashSet::new();
        loop {
            let page = store.search(&request).await?;
            seqs.extend(page.items.iter().map(|item| item.seq));
            match page.next {
                Some(next) => request.cursor = Some(next),
                None => break,
            }
        }
        Some(seqs)
    } else {
        None
    };

    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let entries_path = out.join("entries.jsonl");
    let file = File::create(&entries_path)
        .with_context(|| format!("cannot create {}", entries_path.display()))?;
    let mut writer =
        HashingWriter { inner: BufWriter::new(file), hasher: Sha256::new(), bytes: 0, lines: 0 };
    let mut counts = Counts::default();
    let mut from = 1;
    'pages: while from <= checkpoint.seq {
        let entries = store.entries(from, PAGE).await?;
        if entries.is_empty() {
            break;
        }
        for entry in &entries {
            if entry.seq > checkpoint.seq {
                break 'pages;
            }
            let included = match (&matching, entry.kind) {
                (None, _) => true,
                (Some(set), EntryKind::Item) => set.contains(&entry.seq),
                (Some(set), EntryKind::Verdict) => entry
                    .payload
                    .as_deref()
                    .and_then(|p| parse_canonical(p).ok())
                    .and_then(|v| v.get("item").and_then(Value::as_u64))
                    .is_some_and(|item| set.contains(&item)),
                // The audit trail names people and their addresses: a filtered export
                // carries only its hashes, like any other entry outside the filter.
                (Some(_), EntryKind::Action) => false,
                (Some(_), _) => true,
            };
            write_entry(&mut writer, entry, included, &mut counts)?;
        }
        from = entries.last().map_or(checkpoint.seq + 1, |e| e.seq + 1);
    }
    writer.flush()?;
    let HashingWriter { inner, hasher, bytes, lines } = writer;
    inner.into_inner().map_err(|err| err.into_error())?.sync_all()?;
    if counts.entries != checkpoint.seq {
        bail!(
            "the archive returned {} entries but its checkpoint is at entry {}",
            counts.entries,
            checkpoint.seq
        );
    }
    let manifest = json!({
        "format": FORMAT,
        "version": VERSION,
        "created_at": format_time(jiff::Timestamp::now()),
        "filters": filters_json(query_text, filter_args),
        "files": [{"name": "entries.jsonl", "sha256": hex(&hasher.finalize()), "bytes": bytes, "lines": lines}],
        "counts": counts.json(),
        "chain": {"first": 1, "last": checkpoint.seq, "head": hex(&checkpoint.head)},
        "checkpoint": checkpoint_json(&checkpoint),
        "public_key": key.verifying_key().to_hex(),
    });
    let manifest_path = out.join("manifest.json");
    let mut file = File::create(&manifest_path)
        .with_context(|| format!("cannot create {}", manifest_path.display()))?;
    file.write_all(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    say!(
        "exported {} entries ({} with content, {} left out by the filters, {} disposed) to {}",
        counts.entries,
        counts.payloads,
        counts.omitted,
        counts.disposed,
        out.display()
    );
    say!(
        "chain head: entry {} {} signed by key {}",
        checkpoint.seq,
        hex(&checkpoint.head),
        checkpoint.key_id
    );
    Ok(Exit::Ok)
}

fn filters_json(query: Option<&str>, f: &FilterArgs) -> Value {
    json!({
        "query": query, "platform": f.platform, "account": f.account, "author": f.author,
        "author_type": f.author_type, "kind": f.kind, "since": f.since, "until": f.until,
        "verdict": f.verdict, "category": f.category, "rule": f.rule,
        "has_findings": if f.has_findings { Some(true) } else if f.no_findings { Some(false) } else { None },
    })
}

fn checkpoint_json(checkpoint: &Checkpoint) -> Value {
    json!({
        "seq": checkpoint.seq,
        "head": hex(&checkpoint.head),
        "signed_at": checkpoint.signed_at,
        "key_id": checkpoint.key_id,
        "signature": hex(&checkpoint.signature),
    })
}

fn write_entry(
    out: &mut impl Write,
    entry: &Entry,
    included: bool,
    counts: &mut Counts,
) -> io::Result<()> {
    counts.entries += 1;
    match entry.kind {
        EntryKind::Item => counts.items += 1,
        EntryKind::Verdict => counts.verdicts += 1,
        _ => {}
    }
    let (state, payload) = match (&entry.payload, included) {
        (None, _) => {
            counts.disposed += 1;
            ("disposed", "null")
        }
        (Some(_), false) => {
            counts.omitted += 1;
            ("omitted", "null")
        }
        (Some(payload), true) => {
            counts.payloads += 1;
            ("present", payload.as_str())
        }
    };
    // The payload is canonical JSON already, so it is written as it is.
    writeln!(
        out,
        "{{\"seq\":{},\"kind\":\"{}\",\"recorded_at\":{},\"prev\":\"{}\",\"payload_sha256\":\"{}\",\"hash\":\"{}\",\"state\":\"{state}\",\"payload\":{payload}}}",
        entry.seq,
        entry.kind.name(),
        serde_json::to_string(&entry.recorded_at).unwrap_or_default(),
        hex(&entry.prev),
        hex(&entry.payload_hash),
        hex(&entry.hash),
    )
}

/// Why a bundle does not verify: the message names the file, line and entry.
struct NotIntact(String);

pub(crate) fn verify_export(
    dir: &Path,
    public_key: Option<&str>,
    format: Format,
) -> anyhow::Result<Exit> {
    let manifest_path = dir.join("manifest.json");
    let mut text = String::new();
    File::open(&manifest_path)
        .with_context(|| format!("cannot open {}", manifest_path.display()))?
        .take(MAX_MANIFEST)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let manifest: Value = serde_json::from_str(&text).map_err(|err| {
        anyhow::anyhow!("{}:{}:{}: {err}", manifest_path.display(), err.line(), err.column())
    })?;
    let trusted = match public_key {
        Some(given) => Some(read_key(given)?),
        None => None,
    };
    let result = check_bundle(dir, &manifest, trusted.as_ref());
    let mut out = io::stdout().lock();
    match result {
        Ok(summary) => {
            if trusted.is_none() {
                // The bundle vouches for itself: it is whole and unchanged since it was signed,
                // but by whom only a key from elsewhere can tell.
                eprintln!(
                    "note: checked against the public key the bundle carries; pass --public-key \
                     with the archive's key (`lifeguard archive public-key`) to know who signed it"
                );
            }
            match format {
                Format::Json => writeln!(out, "{}", json!({"ok": true, "summary": summary}))?,
                Format::Text => writeln!(out, "ok: {summary}")?,
            }
            Ok(Exit::Ok)
        }
        Err(NotIntact(message)) => {
            match format {
                Format::Json => writeln!(out, "{}", json!({"ok": false, "error": message}))?,
                Format::Text => writeln!(out, "NOT INTACT: {message}")?,
            }
            Ok(Exit::NeedsAction)
        }
    }
}

fn read_key(given: &str) -> anyhow::Result<VerifyingKey> {
    let text = if parse_hex(given.trim()).is_some() {
        given.to_owned()
    } else {
        fs::read_to_string(given).with_context(|| {
            format!("--public-key: `{given}` is neither 64 hex digits nor a readable file")
        })?
    };
    VerifyingKey::from_hex(&text)
        .with_context(|| format!("--public-key: `{}` is not an Ed25519 public key", text.trim()))
}

fn field<'a>(value: &'a Value, path: &str) -> Result<&'a Value, NotIntact> {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .ok_or_else(|| NotIntact(format!("manifest.json: `{path}` is missing")))
}

fn text_field<'a>(value: &'a Value, path: &str) -> Result<&'a str, NotIntact> {
    field(value, path)?
        .as_str()
        .ok_or_else(|| NotIntact(format!("manifest.json: `{path}` is not a string")))
}

fn number_field(value: &Value, path: &str) -> Result<u64, NotIntact> {
    field(value, path)?
        .as_u64()
        .ok_or_else(|| NotIntact(format!("manifest.json: `{path}` is not a number")))
}

fn hash_field(value: &Value, path: &str) -> Result<[u8; 32], NotIntact> {
    parse_hex(text_field(value, path)?)
        .ok_or_else(|| NotIntact(format!("manifest.json: `{path}` is not 64 hex digits")))
}

fn check_bundle(
    dir: &Path,
    manifest: &Value,
    trusted: Option<&VerifyingKey>,
) -> Result<String, NotIntact> {
    if text_field(manifest, "format")? != FORMAT {
        return Err(NotIntact(format!("manifest.json: format is not `{FORMAT}`")));
    }
    let version = number_field(manifest, "version")?;
    if version != VERSION {
        return Err(NotIntact(format!(
            "manifest.json: bundle version {version} is not supported (this is version {VERSION})"
        )));
    }
    let files = field(manifest, "files")?
        .as_array()
        .ok_or_else(|| NotIntact("manifest.json: `files` is not a list".into()))?;
    if files.len() != 1 {
        return Err(NotIntact(format!(
            "manifest.json: `files` lists {} files; a version {VERSION} bundle has entries.jsonl alone",
            files.len()
        )));
    }
    for file in files {
        let name = text_field(file, "name")?;
        if name != "entries.jsonl" {
            return Err(NotIntact(format!(
                "manifest.json: unexpected file `{name}` (only entries.jsonl belongs in a bundle)"
            )));
        }
        let (sha256, bytes, lines) = digest_file(&dir.join(name))?;
        if hex(&sha256) != text_field(file, "sha256")? {
            return Err(NotIntact(format!(
                "{name}: SHA-256 differs from the manifest (the file was changed)"
            )));
        }
        if bytes != number_field(file, "bytes")? || lines != number_field(file, "lines")? {
            return Err(NotIntact(format!("{name}: size differs from the manifest")));
        }
    }
    if !files.iter().any(|f| f.get("name").and_then(Value::as_str) == Some("entries.jsonl")) {
        return Err(NotIntact("manifest.json: entries.jsonl is not listed".into()));
    }
    let bundle_key = VerifyingKey::from_hex(text_field(manifest, "public_key")?)
        .map_err(|err| NotIntact(format!("manifest.json: public_key: {err}")))?;
    if trusted.is_some_and(|key| *key != bundle_key) {
        return Err(NotIntact("the bundle was signed with another key than the one given".into()));
    }
    let signature = parse_signature(text_field(manifest, "checkpoint.signature")?)?;
    let checkpoint = Checkpoint {
        seq: number_field(manifest, "checkpoint.seq")?,
        head: hash_field(manifest, "checkpoint.head")?,
        signed_at: text_field(manifest, "checkpoint.signed_at")?.to_owned(),
        key_id: text_field(manifest, "checkpoint.key_id")?.to_owned(),
        signature,
    };
    checkpoint.verify(&bundle_key).map_err(|err| NotIntact(err.to_string()))?;

    if number_field(manifest, "chain.first")? != 1 {
        return Err(NotIntact(
            "manifest.json: chain.first must be 1 (a bundle holds the chain from its start)".into(),
        ));
    }
    let counts = walk_entries(&dir.join("entries.jsonl"))?;
    let (last, head) = counts.head.ok_or_else(|| NotIntact("entries.jsonl: no entries".into()))?;
    if last != number_field(manifest, "chain.last")? || head != hash_field(manifest, "chain.head")?
    {
        return Err(NotIntact(format!(
            "entries.jsonl ends at entry {last}, which is not the manifest's chain head"
        )));
    }
    if checkpoint.seq != last || checkpoint.head != head {
        return Err(NotIntact(format!(
            "the signed checkpoint (entry {}) is not the chain's head (entry {last})",
            checkpoint.seq
        )));
    }
    for (name, value) in [
        ("entries", counts.counts.entries),
        ("payloads", counts.counts.payloads),
        ("omitted", counts.counts.omitted),
        ("disposed", counts.counts.disposed),
        ("items", counts.counts.items),
        ("verdicts", counts.counts.verdicts),
    ] {
        if number_field(manifest, &format!("counts.{name}"))? != value {
            return Err(NotIntact(format!(
                "manifest.json: counts.{name} differs from the entries ({value})"
            )));
        }
    }
    let c = &counts.counts;
    Ok(format!(
        "{} entries ({} with content, {} left out by the export's filters, {} disposed); head is entry {last} {}; checkpoint signed by key {}",
        c.entries,
        c.payloads,
        c.omitted,
        c.disposed,
        hex(&head),
        checkpoint.key_id
    ))
}

fn parse_signature(text: &str) -> Result<[u8; 64], NotIntact> {
    let bad = || NotIntact("manifest.json: checkpoint.signature is not 128 hex digits".into());
    if text.len() != 128 {
        return Err(bad());
    }
    let first = parse_hex(&text[..64]).ok_or_else(bad)?;
    let second = parse_hex(&text[64..]).ok_or_else(bad)?;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&first);
    signature[32..].copy_from_slice(&second);
    Ok(signature)
}

fn digest_file(path: &Path) -> Result<([u8; 32], u64, u64), NotIntact> {
    let unreadable = |err: io::Error| NotIntact(format!("{}: {err}", path.display()));
    let mut file = File::open(path).map_err(unreadable)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let (mut bytes, mut lines) = (0u64, 0u64);
    loop {
        let n = file.read(&mut buffer).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
        lines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
    }
    Ok((hasher.finalize().into(), bytes, lines))
}

struct Walked {
    counts: Counts,
    head: Option<(u64, [u8; 32])>,
}

fn walk_entries(path: &Path) -> Result<Walked, NotIntact> {
    let file = File::open(path).map_err(|err| NotIntact(format!("{}: {err}", path.display())))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut chain = ChainVerifier::new();
    let mut counts = Counts::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|err| NotIntact(format!("entries.jsonl: {err}")))?;
        if n == 0 {
            break;
        }
        number += 1;
        let at = |message: String| NotIntact(format!("entries.jsonl:{number}: {message}"));
        if line.len() > MAX_LINE {
            return Err(at(format!("line longer than {MAX_LINE} bytes")));
        }
        if line.last() != Some(&b'\n') {
            return Err(at("the last line has no line feed (the file was cut short)".into()));
        }
        let text = std::str::from_utf8(&line).map_err(|err| at(format!("not UTF-8: {err}")))?;
        let value = parse_strict(text).map_err(|err| at(err.to_string()))?;
        let (entry, state) = entry_from_line(&value).map_err(at)?;
        counts.entries += 1;
        match entry.kind {
            EntryKind::Item => counts.items += 1,
            EntryKind::Verdict => counts.verdicts += 1,
            _ => {}
        }
        let checked = match state {
            "present" => {
                counts.payloads += 1;
                chain.push(&entry)
            }
            "omitted" => {
                counts.omitted += 1;
                chain.push_omitted(&entry)
            }
            _ => {
                counts.disposed += 1;
                chain.push(&entry)
            }
        };
        checked.map_err(|err| at(err.to_string()))?;
    }
    let head = chain.finish().map_err(|err| NotIntact(format!("entries.jsonl: {err}")))?;
    Ok(Walked { counts, head })
}

/// The keys of a line of entries.jsonl, and no others.
const LINE_KEYS: [&str; 8] =
    ["seq", "kind", "recorded_at", "prev", "payload_sha256", "hash", "state", "payload"];

fn entry_from_line(value: &Value) -> Result<(Entry, &str), String> {
    let object = value.as_object().ok_or("a line must be a JSON object")?;
    if let Some(extra) = object.keys().find(|k| !LINE_KEYS.contains(&k.as_str())) {
        return Err(format!("unexpected key `{extra}`"));
    }
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("`{key}` is missing or not a string"))
    };
    let hash =
        |key: &str| parse_hex(text(key)?).ok_or_else(|| format!("`{key}` is not 64 hex digits"));
    let seq = value.get("seq").and_then(Value::as_u64).ok_or("`seq` is missing or not a number")?;
    let kind: EntryKind = text("kind")?.parse()?;
    let state = text("state")?;
    let payload = match (state, value.get("payload")) {
        ("present", Some(payload)) if payload.is_object() => Some(canonical_json(payload)),
        ("present", _) => {
            return Err(format!("entry {seq}: state is present but the payload is not an object"));
        }
        ("omitted", _) if kind == EntryKind::Disposition => {
            return Err(format!("entry {seq}: a disposition entry is never omitted from a bundle"));
        }
        ("omitted" | "disposed", Some(Value::Null) | None) => None,
        ("omitted" | "disposed", Some(_)) => {
            return Err(format!("entry {seq}: a {state} entry carries a payload"));
        }
        (other, _) => return Err(format!("entry {seq}: unknown state `{other}`")),
    };
    let entry = Entry {
        seq,
        kind,
        recorded_at: text("recorded_at")?.to_owned(),
        prev: hash("prev")?,
        payload_hash: hash("payload_sha256")?,
        hash: hash("hash")?,
        payload,
    };
    Ok((entry, state))
}
