//! Markdown + TOML to [`Policy`], collecting every problem instead of stopping at the first.
//!
//! Rule and example blocks are split at their `[[rule]]` / `[[example]]` headers and each
//! table is parsed on its own, so one broken rule costs that rule only and the diagnostics of
//! all the others are still reported. Within a table, each field is read on its own, and
//! unknown keys and missing fields are found by this parser rather than by serde, so a typo or
//! a value of the wrong type hides none of the table's other problems.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;
use toml::Spanned;
use toml::de::DeTable;

use super::{
    Clause, Example, Located, MAX_POLICY_BYTES, MAX_WITHIN_WORDS, Matcher, Meta, Ownership, Parsed,
    Policy, Rule, TermSource,
};
use crate::detect::{Entity, Region};
use crate::item::{AuthorType, ContentKind, Scope};
use crate::location::{Diagnostic, LineIndex};
use crate::verdict::{Action, Severity};

/// Parses a policy document. `file` names it in diagnostics.
pub fn parse(file: &str, source: &str) -> Parsed {
    let mut parser = DocParser {
        file,
        source,
        lines: LineIndex::new(source),
        diagnostics: Vec::new(),
        meta: Meta::default(),
        clauses: Vec::new(),
        rules: Vec::new(),
        rejected: Vec::new(),
        examples: Vec::new(),
        rule_ids_seen: Vec::new(),
        body_start: 0,
    };
    parser.run();
    let DocParser { diagnostics, meta, clauses, rules, rejected, examples, body_start, .. } =
        parser;
    let mut diagnostics = diagnostics;
    diagnostics.sort_by_key(|d| d.position);
    Parsed {
        policy: Policy {
            file: file.to_owned(),
            source: source.to_owned(),
            body_start,
            meta,
            clauses,
            rules,
            rejected,
            examples,
        },
        diagnostics,
    }
}

struct DocParser<'a> {
    file: &'a str,
    source: &'a str,
    lines: LineIndex<'a>,
    diagnostics: Vec<Diagnostic>,
    meta: Meta,
    clauses: Vec<Clause>,
    rules: Vec<Rule>,
    rejected: Vec<Rule>,
    examples: Vec<Example>,
    /// Ids of every rule whose table parsed, valid or not, so examples naming a rule that has
    /// its own error are not reported twice.
    rule_ids_seen: Vec<String>,
    /// Where the Markdown body starts, after the front matter.
    body_start: usize,
}

/// Where the pieces of a fenced block are, as byte ranges of the whole document.
struct Block {
    tag: String,
    content: Range<usize>,
    at: usize,
}

impl<'a> DocParser<'a> {
    fn run(&mut self) {
        if self.source.len() > MAX_POLICY_BYTES {
            self.error(
                0,
                format!(
                    "policy is {} bytes, more than the limit of {MAX_POLICY_BYTES} bytes",
                    self.source.len()
                ),
            );
            return;
        }
        let body_start = self.front_matter();
        self.body_start = body_start;
        let mut pending_examples = Vec::new();
        let mut heading: Option<(HeadingLevel, Option<String>, usize, String)> = None;
        let mut block: Option<Block> = None;
        let body = &self.source[body_start..];
        let options = Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_TABLES;
        for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
            let range = range.start + body_start..range.end + body_start;
            match event {
                Event::Start(Tag::Heading { level, id, .. }) => {
                    heading =
                        Some((level, id.map(|id| id.to_string()), range.start, String::new()));
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, id, at, title)) = heading.take() {
                        self.clause(level, id, at, title.trim().to_owned());
                    }
                }
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                    let tag = info.split_whitespace().next().unwrap_or("").to_owned();
                    block = Some(Block { tag, content: range.end..range.end, at: range.start });
                }
                Event::Text(text) | Event::Code(text) => {
                    if let Some((_, _, _, title)) = heading.as_mut() {
                        title.push_str(&text);
                    } else if let Some(block) = block.as_mut() {
                        if block.content.is_empty() {
                            block.content = range.clone();
                        }
                        block.content.end = range.end;
                    }
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some(block) = block.take() {
                        match block.tag.as_str() {
                            "rules" => self.rules_block(&block),
                            "examples" => pending_examples.push(block),
                            "rule" | "example" | "policy-rules" | "policy-examples" => {
                                self.warning(
                                    block.at,
                                    format!(
                                        "a `{}` block is shown as code; did you mean `rules` or `examples`?",
                                        block.tag
                                    ),
                                );
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        // Examples are read after every rule, so they can name rules written further down.
        for block in pending_examples {
            self.examples_block(&block);
        }
    }

    /// Reads the `+++` front matter and returns where the Markdown body starts.
    fn front_matter(&mut self) -> usize {
        let bom = if self.source.starts_with('\u{feff}') { 3 } else { 0 };
        let text = &self.source[bom..];
        let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
        if text[..first_line_end].trim_end() != "+++" {
            self.error(
                bom,
                "the policy must start with `+++` front matter (id, title, version, effective)",
            );
            return bom;
        }
        let toml_start = bom + first_line_end;
        let mut offset = toml_start;
        for line in self.source[toml_start..].split_inclusive('\n') {
            if line.trim_end() == "+++" {
                self.meta(toml_start..offset);
                return offset + line.len();
            }
            offset += line.len();
        }
        self.error(bom, "the front matter has no closing `+++` line");
        self.source.len()
    }

    fn meta(&mut self, range: Range<usize>) {
        // Unknown keys are found by `unknown_meta_keys` instead of `deny_unknown_fields`, so a
        // typo in one key does not hide the problems of all the others.
        #[derive(Deserialize)]
        struct RawMeta {
            id: Spanned<String>,
            title: Spanned<String>,
            version: Spanned<String>,
            effective: Spanned<toml::Value>,
            #[serde(default)]
            regions: Vec<Spanned<String>>,
            #[serde(default)]
            ownership: RawOwnership,
        }
        #[derive(Deserialize, Default)]
        struct RawOwnership {
            #[serde(default)]
            responsible: Vec<String>,
            #[serde(default)]
            accountable: Vec<String>,
            #[serde(default)]
            consulted: Vec<String>,
            #[serde(default)]
            informed: Vec<String>,
        }
        self.unknown_meta_keys(range.clone());
        let Some(raw) = self.toml::<RawMeta>(range.clone()) else { return };
        let base = range.start;
        if !is_policy_id(raw.id.get_ref()) {
            self.error(
                base + raw.id.span().start,
                format!(
                    "policy id `{}` must be lowercase letters, digits, `.`, `_` or `-`",
                    raw.id.get_ref()
                ),
            );
        }
        if raw.title.get_ref().trim().is_empty() {
            self.error(base + raw.title.span().start, "the title is empty");
        }
        let version = raw.version.get_ref();
        if version.is_empty() || version.chars().any(char::is_whitespace) {
            self.error(
                base + raw.version.span().start,
                "the version must be non-empty text without spaces",
            );
        }
        let effective = match raw.effective.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) => d.to_string(),
            _ => String::new(),
        };
        if !is_date(&effective) {
            self.error(
                base + raw.effective.span().start,
                "`effective` must be a date written YYYY-MM-DD",
            );
        }
        let mut regions: Vec<Region> = Vec::new();
        for code in &raw.regions {
            match code.get_ref().parse::<Region>() {
                Ok(region) if regions.contains(&region) => self.error(
                    base + code.span().start,
                    format!("region `{region}` is listed twice in `regions`"),
                ),
                Ok(region) => regions.push(region),
                Err(message) => self.error(base + code.span().start, message),
            }
        }
        let ownership = raw.ownership;
        if ownership.accountable.iter().all(|name| name.trim().is_empty()) {
            self.warning(
                base,
                "no one is accountable for this policy: name someone in `accountable` under \
                 `[ownership]`",
            );
        }
        self.meta = Meta {
            id: raw.id.into_inner(),
            title: raw.title.into_inner(),
            version: raw.version.into_inner(),
            effective,
            regions,
            ownership: Ownership {
                responsible: ownership.responsible,
                accountable: ownership.accountable,
                consulted: ownership.consulted,
                informed: ownership.informed,
            },
        };
    }

    /// Reports keys of the front matter that mean nothing, each at its place, however the
    /// TOML writes them (`[ownership]`, dotted keys, inline tables). A syntax error is left to
    /// the reading of the fields, which reports it.
    fn unknown_meta_keys(&mut self, range: Range<usize>) {
        let Ok(document) = DeTable::parse(&self.source[range.clone()]) else { return };
        let base = range.start;
        for (key, value) in document.get_ref() {
            let Some(field) = META_FIELDS.iter().find(|field| field.name == key.get_ref()) else {
                self.error(base + key.span().start, unknown_field(key.get_ref(), META_FIELDS));
                continue;
            };
            let Some(table) = value.get_ref().as_table().filter(|_| !field.nested.is_empty())
            else {
                continue;
            };
            for (inner, _) in table {
                let name = inner.get_ref();
                if field.nested.iter().any(|nested| nested.name == name) {
                    continue;
                }
                // TOML puts every key after a `[table]` header into that table.
                let message = if META_FIELDS.iter().any(|top| top.name == name) {
                    format!(
                        "`{name}` is read as part of `[{}]` here: move it above that line",
                        field.name
                    )
                } else {
                    unknown_field(name, field.nested)
                };
                self.error(base + inner.span().start, message);
            }
        }
    }

    fn clause(&mut self, level: HeadingLevel, id: Option<String>, at: usize, title: String) {
        if let Some(id) = &id {
            if !is_clause_id(id) {
                self.error(at, format!("clause id `{id}` must be lowercase letters and digits joined by `-`, `.` or `_`"));
            } else if let Some(first) = self.clauses.iter().find(|c| c.id.as_deref() == Some(id)) {
                let line = first.at.line;
                self.error(at, format!("clause id `{id}` is already used at line {line}"));
            }
        }
        self.clauses.push(Clause { id, title, level: level as u8, at: self.lines.position(at) });
    }

    fn rules_block(&mut self, block: &Block) {
        let clause = match self.clauses.last() {
            Some(clause) if clause.id.is_some() => self.clauses.len() - 1,
            Some(clause) => {
                let title = clause.title.clone();
                self.error(block.at, format!("rules must sit under a clause with an id: add `{{#some-id}}` to the heading \"{title}\""));
                return;
            }
            None => {
                self.error(block.at, "rules must sit under a clause heading with an id");
                return;
            }
        };
        for range in self.tables(block, "rule") {
            for table in self.parse_tables(range.clone(), "rule", RULE_FIELDS) {
                let raw = self.raw_rule(&table, range.start);
                self.rule(raw, clause, range.start);
            }
        }
    }

    fn examples_block(&mut self, block: &Block) {
        for range in self.tables(block, "example") {
            for table in self.parse_tables(range.clone(), "example", EXAMPLE_FIELDS) {
                let raw = self.raw_example(&table, range.start);
                self.example(raw, range.start);
            }
        }
    }

    /// Splits a block into one range per `[[name]]` table; text before the first header is an
    /// error unless it is blank or comments.
    fn tables(&mut self, block: &Block, name: &str) -> Vec<Range<usize>> {
        let header = format!("[[{name}]]");
        let mut tables: Vec<Range<usize>> = Vec::new();
        let mut offset = block.content.start;
        for line in self.source[block.content.clone()].split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.starts_with(&header) {
                tables.push(offset..offset + line.len());
            } else if let Some(last) = tables.last_mut() {
                last.end = offset + line.len();
            } else if !trimmed.is_empty() && !trimmed.starts_with('#') {
                let column = line.len() - line.trim_start().len();
                self.error(offset + column, format!("expected `{header}` before this line"));
            }
            offset += line.len();
        }
        if tables.is_empty() && block.content.is_empty() {
            self.warning(block.at, format!("empty `{name}s` block"));
        }
        tables
    }

    /// Parses one `[[name]]` range into its tables, reporting a syntax error, or every key of
    /// them (and of the tables nested in them) that means nothing, each at its place.
    fn parse_tables(
        &mut self,
        range: Range<usize>,
        name: &str,
        fields: &[Field],
    ) -> Vec<DeTable<'a>> {
        let source = self.source;
        let document = match DeTable::parse(&source[range.clone()]) {
            Ok(document) => document.into_inner(),
            Err(err) => {
                let at = range.start + err.span().map_or(0, |span| span.start);
                self.error(at, one_line(err.message()));
                return Vec::new();
            }
        };
        let mut tables = Vec::new();
        for (key, value) in &document {
            let Some(array) = value.get_ref().as_array().filter(|_| key.get_ref() == name) else {
                continue;
            };
            for table in array.iter().filter_map(|table| table.get_ref().as_table()) {
                self.unknown_keys_in(table, range.start, fields);
                tables.push(table.clone());
            }
        }
        tables
    }

    /// Reads one field of a table on its own, so that a value of the wrong type costs that
    /// field only; the field is then listed in `fields.failed`.
    fn field<T: for<'de> Deserialize<'de>>(
        &mut self,
        fields: &mut TableFields<'_, '_>,
        key: &'static str,
        base: usize,
    ) -> Option<T> {
        let (_, value) = fields.table.iter().find(|(name, _)| name.get_ref() == key)?;
        let at = value.span().start;
        match T::deserialize(toml::de::ValueDeserializer::from(value.clone())) {
            Ok(value) => Some(value),
            Err(err) => {
                fields.failed.push(key);
                let name = match fields.parent {
                    Some(parent) => format!("{parent}.{key}"),
                    None => key.to_owned(),
                };
                let message = format!("`{name}`: {}", one_line(err.message()));
                self.error(base + err.span().map_or(at, |span| span.start), message);
                None
            }
        }
    }

    /// Reads the table under `key` field by field with `read`, reporting a value that is not a
    /// table; a field of it that did not fit marks `key` as failed too.
    fn nested<T>(
        &mut self,
        fields: &mut TableFields<'_, '_>,
        key: &'static str,
        base: usize,
        read: impl FnOnce(&mut Self, &mut TableFields<'_, '_>) -> T,
    ) -> Option<Spanned<T>> {
        let (_, value) = fields.table.iter().find(|(name, _)| name.get_ref() == key)?;
        let Some(table) = value.get_ref().as_table() else {
            fields.failed.push(key);
            let message = format!("`{key}`: expected a table, like `{key} = {{ … }}`");
            self.error(base + value.span().start, message);
            return None;
        };
        let mut inner = TableFields { table, parent: Some(key), failed: Vec::new() };
        let raw = read(self, &mut inner);
        if !inner.failed.is_empty() {
            fields.failed.push(key);
        }
        Some(Spanned::new(value.span(), raw))
    }

    fn raw_rule(&mut self, table: &DeTable<'_>, base: usize) -> RawRule {
        let f = &mut TableFields { table, parent: None, failed: Vec::new() };
        RawRule {
            id: self.field(f, "id", base),
            category: self.field(f, "category", base),
            severity: self.field(f, "severity", base),
            action: self.field(f, "action", base),
            message: self.field(f, "message", base),
            kinds: self.field(f, "kinds", base).unwrap_or_default(),
            authors: self.field(f, "authors", base).unwrap_or_default(),
            platforms: self.field(f, "platforms", base).unwrap_or_default(),
            unless: self.field(f, "unless", base).unwrap_or_default(),
            unless_file: self.field(f, "unless_file", base),
            describe: self.field(f, "describe", base),
            terms: self.field(f, "terms", base),
            terms_file: self.field(f, "terms_file", base),
            regex: self.field(f, "regex", base),
            proximity: self.nested(f, "proximity", base, |p, f| RawProximity {
                first: p.field(f, "first", base).unwrap_or_default(),
                first_file: p.field(f, "first_file", base),
                second: p.field(f, "second", base).unwrap_or_default(),
                second_file: p.field(f, "second_file", base),
                within: p.field(f, "within", base),
                ordered: p.field(f, "ordered", base).unwrap_or_default(),
                same_sentence: p.field(f, "same_sentence", base).unwrap_or_default(),
                failed: f.failed.clone(),
            }),
            detect: self.field(f, "detect", base),
            links: self.nested(f, "links", base, |p, f| RawLinks {
                deny: p.field(f, "deny", base).unwrap_or_default(),
                allow: p.field(f, "allow", base).unwrap_or_default(),
                shorteners: p.field(f, "shorteners", base).unwrap_or_default(),
                ip: p.field(f, "ip", base).unwrap_or_default(),
                lookalike: p.field(f, "lookalike", base).unwrap_or_default(),
            }),
            disclosure: self.nested(f, "disclosure", base, |p, f| RawDisclosure {
                triggers: p.field(f, "triggers", base).unwrap_or_default(),
                triggers_file: p.field(f, "triggers_file", base),
                markers: p.field(f, "markers", base).unwrap_or_default(),
                markers_file: p.field(f, "markers_file", base),
                within: p.field(f, "within", base),
                failed: f.failed.clone(),
            }),
            always: self.field(f, "always", base),
            failed: std::mem::take(&mut f.failed),
        }
    }

    fn raw_example(&mut self, table: &DeTable<'_>, base: usize) -> RawExample {
        let f = &mut TableFields { table, parent: None, failed: Vec::new() };
        RawExample {
            text: self.field(f, "text", base),
            expect: self.field(f, "expect", base),
            kind: self.field(f, "kind", base),
            author: self.field(f, "author", base),
            platform: self.field(f, "platform", base),
            failed: std::mem::take(&mut f.failed),
        }
    }

    fn unknown_keys_in(&mut self, table: &DeTable<'_>, base: usize, fields: &[Field]) {
        for (key, value) in table {
            match fields.iter().find(|field| field.name == key.get_ref()) {
                Some(field) if !field.nested.is_empty() => {
                    if let Some(nested) = value.get_ref().as_table() {
                        self.unknown_keys_in(nested, base, field.nested);
                    }
                }
                Some(_) => {}
                None => {
                    let message = unknown_field(key.get_ref(), fields);
                    self.error(base + key.span().start, message);
                }
            }
        }
    }

    /// Parses one TOML range, reporting a syntax or shape error at its place.
    fn toml<T: for<'de> Deserialize<'de>>(&mut self, range: Range<usize>) -> Option<T> {
        match toml::from_str::<T>(&self.source[range.clone()]) {
            Ok(value) => Some(value),
            Err(err) => {
                let at = range.start + err.span().map_or(0, |span| span.start);
                self.error(at, one_line(err.message()));
                None
            }
        }
    }

    fn rule(&mut self, raw: RawRule, clause: usize, base: usize) {
        let errors_before = self.diagnostics.iter().filter(|d| d.is_error()).count();
        let at = |span: Range<usize>| base + span.start;
        let header = self.rule_header_at(base);
        // Missing fields are reported here rather than by serde, so they hide nothing else.
        for (field, present) in [
            ("id", raw.id.is_some()),
            ("category", raw.category.is_some()),
            ("severity", raw.severity.is_some()),
            ("action", raw.action.is_some()),
            ("message", raw.message.is_some()),
        ] {
            if !present && !raw.failed.contains(&field) {
                self.error(header, format!("missing field `{field}`"));
            }
        }
        let id = raw.id.as_ref().map(|id| id.get_ref().clone()).unwrap_or_default();
        if let Some(spanned) = &raw.id {
            if !is_rule_id(&id) {
                self.error(
                    at(spanned.span()),
                    format!("rule id `{id}` may only hold letters, digits, `.`, `_` and `-`"),
                );
            } else if self.rule_ids_seen.contains(&id) {
                self.error(at(spanned.span()), format!("rule id `{id}` is already used"));
            }
            self.rule_ids_seen.push(id.clone());
        }
        if let Some(category) = &raw.category
            && !is_category(category.get_ref())
        {
            self.error(
                at(category.span()),
                format!("category `{}` must be a snake_case word", category.get_ref()),
            );
        }
        let severity = raw.severity.as_ref().and_then(|s| self.parse_value::<Severity>(s, base));
        let action = raw.action.as_ref().and_then(|a| self.parse_value::<Action>(a, base));
        if let Some(message) = &raw.message
            && message.get_ref().trim().is_empty()
        {
            self.error(at(message.span()), "the message is empty");
        }
        let kinds: Vec<ContentKind> =
            raw.kinds.iter().filter_map(|k| self.parse_value::<ContentKind>(k, base)).collect();
        let authors: Vec<AuthorType> =
            raw.authors.iter().filter_map(|a| self.parse_value::<AuthorType>(a, base)).collect();
        let unless_file = raw.unless_file.as_ref().and_then(|f| self.term_file(f, base));
        let matcher = self.matcher(&raw, &id, base, header);
        // Values of the wrong type were reported while the fields were read, before this count.
        let rejected = !raw.failed.is_empty()
            || self.diagnostics.iter().filter(|d| d.is_error()).count() > errors_before;
        let Some(matcher) = matcher else { return };
        let rule = Rule {
            id,
            clause,
            category: raw.category.map(Spanned::into_inner).unwrap_or_default(),
            // Only a rejected rule can lack these, and it is never enforced.
            severity: severity.unwrap_or_default(),
            action: action.unwrap_or_default(),
            message: raw.message.map(|m| m.into_inner().trim().to_owned()).unwrap_or_default(),
            scope: Scope::new(&kinds, &authors, &raw.platforms),
            matcher,
            unless: raw.unless,
            unless_file,
            describe: raw
                .describe
                .map(|d| d.into_inner().trim().to_owned())
                .filter(|d| !d.is_empty()),
            at: self.lines.position(header),
        };
        if rejected {
            self.rejected.push(rule);
        } else {
            self.rules.push(rule);
        }
    }

    /// The offset of the `[[rule]]` header a table starts with.
    fn rule_header_at(&self, base: usize) -> usize {
        let text = &self.source[base..];
        base + (text.len() - text.trim_start().len())
    }

    fn matcher(&mut self, raw: &RawRule, id: &str, base: usize, header: usize) -> Option<Matcher> {
        let mut given = Vec::new();
        if raw.terms.is_some() || raw.terms_file.is_some() {
            given.push("terms");
        }
        for (present, name) in [
            (raw.regex.is_some(), "regex"),
            (raw.proximity.is_some(), "proximity"),
            (raw.detect.is_some(), "detect"),
            (raw.links.is_some(), "links"),
            (raw.disclosure.is_some(), "disclosure"),
            (raw.always.is_some(), "always"),
        ] {
            if present {
                given.push(name);
            }
        }
        match given.len() {
            // A way of matching with a value of the wrong type was reported already.
            0 if raw.failed.iter().any(|field| MATCHER_FIELDS.contains(field)) => return None,
            0 => {
                self.error(header, format!("rule `{id}` has nothing to match: give one of terms, terms_file, regex, proximity, detect, links, disclosure or always"));
                return None;
            }
            1 => {}
            _ => {
                self.error(header, format!("rule `{id}` has more than one way of matching ({}): split it into one rule each", given.join(", ")));
                return None;
            }
        }
        if raw.terms.is_some() || raw.terms_file.is_some() {
            let source = self.term_source(
                raw.terms.clone().unwrap_or_default(),
                raw.terms_file.as_ref(),
                base,
            );
            if raw.terms.as_ref().is_some_and(Vec::is_empty) && raw.terms_file.is_none() {
                self.error(header, format!("rule `{id}` has an empty term list"));
            }
            return Some(Matcher::Terms(source));
        }
        if let Some(regex) = &raw.regex {
            return Some(Matcher::Regex(self.located(regex, base)));
        }
        if let Some(proximity) = &raw.proximity {
            let p = proximity.get_ref();
            let at = base + proximity.span().start;
            let first = self.term_source(p.first.clone(), p.first_file.as_ref(), base);
            let second = self.term_source(p.second.clone(), p.second_file.as_ref(), base);
            let failed = |field: &str| p.failed.contains(&field);
            if first.is_empty() && !failed("first") && !failed("first_file") {
                self.error(at, "proximity needs terms in `first` (or `first_file`)");
            }
            if second.is_empty() && !failed("second") && !failed("second_file") {
                self.error(at, "proximity needs terms in `second` (or `second_file`)");
            }
            let within = match &p.within {
                Some(within) => self.within(within, base)?,
                None if failed("within") => return None,
                None => {
                    self.error(at, "proximity needs `within`: how many words apart, at most");
                    return None;
                }
            };
            return Some(Matcher::Proximity {
                first,
                second,
                within,
                ordered: p.ordered,
                same_sentence: p.same_sentence,
            });
        }
        if let Some(detect) = &raw.detect {
            let mut entities = Vec::new();
            for name in detect {
                match Entity::parse(name.get_ref()) {
                    Some(entity) => entities.push(entity),
                    None => {
                        let known: Vec<&str> = Entity::ALL.iter().map(|e| e.name()).collect();
                        self.error(
                            base + name.span().start,
                            format!(
                                "unknown entity `{}` (expected one of: {})",
                                name.get_ref(),
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
            if detect.is_empty() {
                self.error(
                    header,
                    format!("rule `{id}` detects nothing: list entities in `detect`"),
                );
            }
            return Some(Matcher::Detect(entities));
        }
        if let Some(links) = &raw.links {
            let l = links.get_ref();
            if l.deny.is_empty() && l.allow.is_empty() && !l.shorteners && !l.ip && !l.lookalike {
                self.error(base + links.span().start, "links matches nothing: give `deny`, `allow`, `shorteners = true`, `ip = true` or `lookalike = true`");
            }
            let deny = l.deny.iter().filter_map(|d| self.domain(d, base)).collect();
            let allow = l.allow.iter().filter_map(|d| self.domain(d, base)).collect();
            return Some(Matcher::Links {
                deny,
                allow,
                shorteners: l.shorteners,
                ip: l.ip,
                lookalike: l.lookalike,
            });
        }
        if let Some(disclosure) = &raw.disclosure {
            let d = disclosure.get_ref();
            let at = base + disclosure.span().start;
            let triggers = self.term_source(d.triggers.clone(), d.triggers_file.as_ref(), base);
            let markers = self.term_source(d.markers.clone(), d.markers_file.as_ref(), base);
            let failed = |field: &str| d.failed.contains(&field);
            if triggers.is_empty() && !failed("triggers") && !failed("triggers_file") {
                self.error(at, "disclosure needs `triggers`");
            }
            if markers.is_empty() && !failed("markers") && !failed("markers_file") {
                self.error(at, "disclosure needs `markers`");
            }
            let within = match &d.within {
                Some(within) => self.within(within, base)?,
                None => 8,
            };
            return Some(Matcher::Disclosure { triggers, markers, within });
        }
        if let Some(always) = &raw.always {
            if !always.get_ref() {
                self.error(
                    base + always.span().start,
                    "`always = false` matches nothing: remove the rule or set it to true",
                );
            }
            return Some(Matcher::Always);
        }
        None
    }

    fn within(&mut self, within: &Spanned<i64>, base: usize) -> Option<u32> {
        match u32::try_from(*within.get_ref()) {
            Ok(n) if (1..=MAX_WITHIN_WORDS).contains(&n) => Some(n),
            _ => {
                self.error(
                    base + within.span().start,
                    format!("`within` must be from 1 to {MAX_WITHIN_WORDS} words"),
                );
                None
            }
        }
    }

    fn term_source(
        &mut self,
        terms: Vec<String>,
        file: Option<&Spanned<String>>,
        base: usize,
    ) -> TermSource {
        let file = file.and_then(|f| self.term_file(f, base));
        TermSource { terms, file }
    }

    fn term_file(&mut self, file: &Spanned<String>, base: usize) -> Option<Located<String>> {
        let path = file.get_ref();
        let leaves_folder = path.starts_with('/')
            || path.starts_with('\\')
            || path.contains(':')
            || path.split(['/', '\\']).any(|part| part == "..");
        if path.is_empty() || leaves_folder {
            self.error(
                base + file.span().start,
                format!("term file `{path}` must be a relative path inside the policy's folder"),
            );
            return None;
        }
        Some(self.located(file, base))
    }

    fn located(&self, value: &Spanned<String>, base: usize) -> Located<String> {
        Located {
            value: value.get_ref().clone(),
            at: self.lines.position(base + value.span().start),
        }
    }

    /// A domain of a `deny` or `allow` list, lowercased and without a trailing dot; `None`, with
    /// an error that says what to write instead, for an entry no link's host could ever match
    /// (`https://evil.com`, `evil.com/x`, `*.evil.com`, `evil com`).
    fn domain(&mut self, value: &Spanned<String>, base: usize) -> Option<String> {
        let written = value.get_ref().trim();
        let domain = written.trim_end_matches('.').to_lowercase();
        let at = base + value.span().start;
        let host = |s: &str| {
            let s = s.split_once("://").map_or(s, |(_, rest)| rest);
            let s = s.rsplit_once('@').map_or(s, |(_, host)| host);
            s[..s.find(['/', '?', '#', ':']).unwrap_or(s.len())].trim_start_matches("*.").to_owned()
        };
        let bracketed = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']'));
        if let Some(address) = bracketed.filter(|d| d.parse::<std::net::Ipv6Addr>().is_ok()) {
            return Some(address.to_owned());
        }
        let problem = if domain.is_empty() {
            "an empty domain matches no link".to_owned()
        } else if domain.parse::<std::net::IpAddr>().is_ok() {
            return Some(domain);
        } else if domain.contains(['/', '?', '#', '@', ':']) {
            format!(
                "`{written}` is not a domain: links are matched by their host alone, so write `{}`",
                host(&domain)
            )
        } else if domain.starts_with("*.") {
            format!(
                "`{written}`: a domain covers its subdomains already, so write `{}`",
                host(&domain)
            )
        } else if domain.starts_with('.')
            || domain.contains("..")
            || !domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        {
            format!(
                "`{written}` is not a domain name (letters, digits, `-` and dots between labels)"
            )
        } else {
            return Some(domain);
        };
        self.error(at, problem);
        None
    }

    fn parse_value<T: std::str::FromStr>(
        &mut self,
        value: &Spanned<String>,
        base: usize,
    ) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        match value.get_ref().parse::<T>() {
            Ok(parsed) => Some(parsed),
            Err(err) => {
                self.error(base + value.span().start, err.to_string());
                None
            }
        }
    }

    fn example(&mut self, raw: RawExample, base: usize) {
        let header = self.rule_header_at(base);
        for (field, present) in [("text", raw.text.is_some()), ("expect", raw.expect.is_some())] {
            if !present && !raw.failed.contains(&field) {
                self.error(header, format!("missing field `{field}`"));
            }
        }
        let mut ok = raw.failed.is_empty();
        for id in raw.expect.iter().flat_map(|expect| expect.get_ref()) {
            if !self.rule_ids_seen.contains(id.get_ref()) {
                self.error(
                    base + id.span().start,
                    format!("example expects unknown rule `{}`", id.get_ref()),
                );
                ok = false;
            }
        }
        let kind = match &raw.kind {
            Some(kind) => self.parse_value::<ContentKind>(kind, base),
            None => Some(ContentKind::default()),
        };
        let author = match &raw.author {
            Some(author) => self.parse_value::<AuthorType>(author, base),
            None => Some(AuthorType::default()),
        };
        let (Some(kind), Some(author), Some(text), Some(expect), true) =
            (kind, author, raw.text, raw.expect, ok)
        else {
            return;
        };
        self.examples.push(Example {
            text,
            kind,
            author,
            platform: raw.platform,
            expect: expect.into_inner().into_iter().map(Spanned::into_inner).collect(),
            at: self.lines.position(header),
        });
    }

    fn error(&mut self, offset: usize, message: impl Into<String>) {
        let position = self.lines.position(offset);
        self.diagnostics.push(Diagnostic::error(self.file, position, message));
    }

    fn warning(&mut self, offset: usize, message: impl Into<String>) {
        let position = self.lines.position(offset);
        self.diagnostics.push(Diagnostic::warning(self.file, position, message));
    }
}

/// A key of a policy table, and the keys of the table it holds, if any.
struct Field {
    name: &'static str,
    nested: &'static [Field],
}

const fn field(name: &'static str) -> Field {
    Field { name, nested: &[] }
}

/// The keys of the front matter, as `DocParser::meta` reads them.
const META_FIELDS: &[Field] = &[
    field("id"),
    field("title"),
    field("version"),
    field("effective"),
    field("regions"),
    Field {
        name: "ownership",
        nested: &[
            field("responsible"),
            field("accountable"),
            field("consulted"),
            field("informed"),
        ],
    },
];

/// The keys of a `[[rule]]` table, as `RawRule` and the raw structs below read them.
const RULE_FIELDS: &[Field] = &[
    field("id"),
    field("category"),
    field("severity"),
    field("action"),
    field("message"),
    field("kinds"),
    field("authors"),
    field("platforms"),
    field("unless"),
    field("unless_file"),
    field("describe"),
    field("terms"),
    field("terms_file"),
    field("regex"),
    Field {
        name: "proximity",
        nested: &[
            field("first"),
            field("first_file"),
            field("second"),
            field("second_file"),
            field("within"),
            field("ordered"),
            field("same_sentence"),
        ],
    },
    field("detect"),
    Field {
        name: "links",
        nested: &[
            field("deny"),
            field("allow"),
            field("shorteners"),
            field("ip"),
            field("lookalike"),
        ],
    },
    Field {
        name: "disclosure",
        nested: &[
            field("triggers"),
            field("triggers_file"),
            field("markers"),
            field("markers_file"),
            field("within"),
        ],
    },
    field("always"),
];

/// "unknown field", with the likely meant key when there is one: a near spelling of a key of
/// this table, or a key that belongs in one of its nested tables.
fn unknown_field(key: &str, fields: &[Field]) -> String {
    let expected: Vec<&str> = fields.iter().map(|field| field.name).collect();
    let expected = expected.join(", ");
    let near = fields
        .iter()
        .map(|field| (strsim::damerau_levenshtein(key, field.name), field.name))
        .filter(|&(distance, name)| distance <= 2 && distance < name.len().min(key.len()))
        .min();
    if let Some((_, name)) = near {
        return format!(
            "unknown field `{key}`: did you mean `{name}`? (expected one of: {expected})"
        );
    }
    let homes: Vec<String> = fields
        .iter()
        .filter(|field| field.nested.iter().any(|nested| nested.name == key))
        .map(|field| format!("`{}`", field.name))
        .collect();
    if !homes.is_empty() {
        return format!("unknown field `{key}`: it belongs in {}", homes.join(" or "));
    }
    format!("unknown field `{key}` (expected one of: {expected})")
}

/// The keys of a rule that each give a way of matching.
const MATCHER_FIELDS: &[&str] =
    &["terms", "terms_file", "regex", "proximity", "detect", "links", "disclosure", "always"];

/// The keys of an `[[example]]` table.
const EXAMPLE_FIELDS: &[Field] =
    &[field("text"), field("expect"), field("kind"), field("author"), field("platform")];

/// One `[[rule]]` table, read field by field (`DocParser::raw_rule`).
struct RawRule {
    id: Option<Spanned<String>>,
    category: Option<Spanned<String>>,
    severity: Option<Spanned<String>>,
    action: Option<Spanned<String>>,
    message: Option<Spanned<String>>,
    kinds: Vec<Spanned<String>>,
    authors: Vec<Spanned<String>>,
    platforms: Vec<String>,
    unless: Vec<String>,
    unless_file: Option<Spanned<String>>,
    describe: Option<Spanned<String>>,
    terms: Option<Vec<String>>,
    terms_file: Option<Spanned<String>>,
    regex: Option<Spanned<String>>,
    proximity: Option<Spanned<RawProximity>>,
    detect: Option<Vec<Spanned<String>>>,
    links: Option<Spanned<RawLinks>>,
    disclosure: Option<Spanned<RawDisclosure>>,
    always: Option<Spanned<bool>>,
    /// Fields present with a value of the wrong type, already reported.
    failed: Vec<&'static str>,
}

/// A rule's `proximity` table, read field by field (`DocParser::nested`).
struct RawProximity {
    first: Vec<String>,
    first_file: Option<Spanned<String>>,
    second: Vec<String>,
    second_file: Option<Spanned<String>>,
    within: Option<Spanned<i64>>,
    ordered: bool,
    same_sentence: bool,
    /// Fields present with a value of the wrong type, already reported.
    failed: Vec<&'static str>,
}

/// A rule's `links` table.
struct RawLinks {
    deny: Vec<Spanned<String>>,
    allow: Vec<Spanned<String>>,
    shorteners: bool,
    ip: bool,
    lookalike: bool,
}

/// A rule's `disclosure` table.
struct RawDisclosure {
    triggers: Vec<String>,
    triggers_file: Option<Spanned<String>>,
    markers: Vec<String>,
    markers_file: Option<Spanned<String>>,
    within: Option<Spanned<i64>>,
    /// Fields present with a value of the wrong type, already reported.
    failed: Vec<&'static str>,
}

/// One `[[example]]` table, read field by field (`DocParser::raw_example`).
struct RawExample {
    text: Option<String>,
    expect: Option<Spanned<Vec<Spanned<String>>>>,
    kind: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    platform: Option<String>,
    /// Fields present with a value of the wrong type, already reported.
    failed: Vec<&'static str>,
}

/// A table being read field by field, the key of the rule's field that holds it (none for a
/// rule or an example), and the fields whose values did not fit.
struct TableFields<'t, 'i> {
    table: &'t DeTable<'i>,
    parent: Option<&'static str>,
    failed: Vec<&'static str>,
}

fn one_line(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_policy_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn is_clause_id(id: &str) -> bool {
    is_policy_id(id)
}

fn is_rule_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_category(category: &str) -> bool {
    let mut chars = category.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_date(date: &str) -> bool {
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else { return false };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) =
        (year.parse::<u32>(), month.parse::<u32>(), day.parse::<u32>())
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}
