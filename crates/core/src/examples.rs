//! A policy's examples are its tests: each example post must trigger exactly the rules it names.

use std::fmt::Write as _;

use crate::engine::Engine;
use crate::policy::{Example, Policy};

/// The result of one example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<'a> {
    /// The example.
    pub example: &'a Example,
    /// The rule ids the post triggered, sorted, each once.
    pub triggered: Vec<String>,
}

impl Outcome<'_> {
    /// True when the post triggered exactly the expected rules.
    pub fn passed(&self) -> bool {
        let mut expected = self.example.expect.clone();
        expected.sort();
        expected.dedup();
        expected == self.triggered
    }
}

/// Runs every example of a policy through its engine.
pub fn run<'a>(policy: &'a Policy, engine: &Engine) -> Vec<Outcome<'a>> {
    policy
        .examples
        .iter()
        .map(|example| {
            let verdict = engine.check(&example.post());
            let mut triggered: Vec<String> =
                verdict.findings.iter().map(|f| f.rule.id.clone()).collect();
            triggered.sort();
            triggered.dedup();
            Outcome { example, triggered }
        })
        .collect()
}

/// A report for people: one block per failing example, then `N passed, N failed`.
pub fn report(file: &str, outcomes: &[Outcome<'_>]) -> String {
    let mut out = String::new();
    let mut failed = 0;
    for outcome in outcomes.iter().filter(|o| !o.passed()) {
        failed += 1;
        let at = outcome.example.at;
        let expected = list(&outcome.example.expect);
        let got = list(&outcome.triggered);
        let _ = writeln!(
            out,
            "{file}:{}:{}: example failed: expected {expected}, got {got}\n    text: {:?}",
            at.line, at.column, outcome.example.text
        );
    }
    let passed = outcomes.len() - failed;
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    out
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() { "nothing".to_owned() } else { format!("[{}]", ids.join(", ")) }
}
