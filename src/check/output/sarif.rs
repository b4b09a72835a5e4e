//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning
//! (`github/codeql-action/upload-sarif`).
//!
//! One reporting descriptor per rule (each rule checks one gate invariant),
//! listed whether or not it fired, so that `ruleIndex` means the same in
//! every run. Regions are 1-based, as SARIF requires. A remote check gives
//! one run per repository (code scanning takes up to 20 runs per file);
//! errors become tool execution notifications and mark the run
//! unsuccessful. `partialFingerprints` leave the line out, so an alert
//! survives lines being added above it.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::check::finding::{FileCheck, FileStatus, Report};
use crate::check::rules::ALL;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// `gate-exit-code` → `GateExitCode`, SARIF's human-readable rule name.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn driver() -> Value {
    let rules: Vec<Value> = ALL
        .iter()
        .map(|r| {
            let invariant = match r.meta().invariant {
                0 => "migration".to_owned(),
                n => format!("invariant-{n}"),
            };
            json!({
                "id": r.id(),
                "name": pascal(r.id()),
                "shortDescription": { "text": r.description() },
                "fullDescription": { "text": r.description() },
                "help": { "text": r.help(), "markdown": r.help() },
                "defaultConfiguration": { "level": "error" },
                "properties": {
                    "tags": ["security", "supply-chain", invariant],
                    "precision": "high",
                    "problem.severity": "error",
                    "security-severity": "8.0"
                }
            })
        })
        .collect();
    json!({
        "name": "scangate",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules
    })
}

/// A relative, `/`-separated URI reference for a path; absolute paths
/// become `file://` URIs. Characters outside the URI's unreserved set are
/// percent-encoded.
pub fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut path = path.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// FNV-1a: a small, stable, dependency-free hash for fingerprints.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn results(files: &[&FileCheck]) -> (Vec<Value>, Vec<Value>) {
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for file in files {
        let location =
            json!({ "physicalLocation": { "artifactLocation": { "uri": uri(&file.path) } } });
        match &file.status {
            // Notes of pushes scangate cannot read name no rule of the
            // report's: the text, GitHub and JSON formats carry them.
            FileStatus::Checked { findings, .. } => {
                for f in findings {
                    let index = ALL.iter().position(|r| r.id() == f.rule);
                    let job = f.job.as_deref().unwrap_or("");
                    results.push(json!({
                        "ruleId": f.rule,
                        "ruleIndex": index,
                        "level": "error",
                        "message": { "text": format!("{}\nFix: {}", f.message, f.help) },
                        "locations": [{
                            "physicalLocation": {
                                "artifactLocation": { "uri": uri(&file.path) },
                                "region": { "startLine": f.at.line, "startColumn": f.at.column }
                            }
                        }],
                        "partialFingerprints": {
                            "scangateFinding/v1": fingerprint(&[f.rule, &file.path, job, &f.message])
                        }
                    }));
                }
            }
            FileStatus::Error { message } => notes.push(json!({
                "level": "error",
                "message": { "text": message },
                "locations": [location]
            })),
            FileStatus::Skipped { .. } => {}
        }
    }
    (results, notes)
}

fn run(files: &[&FileCheck], repo: Option<(&str, Option<&str>)>) -> Value {
    let (results, mut notes) = results(files);
    if let Some((_, Some(error))) = repo {
        notes.push(json!({ "level": "error", "message": { "text": error } }));
    }
    let mut run = json!({
        "tool": { "driver": driver() },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "invocations": [{
            "executionSuccessful": notes.is_empty(),
            "toolExecutionNotifications": notes
        }]
    });
    if let Some((name, _)) = repo {
        run["properties"] = json!({ "repository": name });
    }
    run
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let runs: Vec<Value> = if report.repositories.is_empty() {
        vec![run(&report.files.iter().collect::<Vec<_>>(), None)]
    } else {
        report
            .repositories
            .iter()
            .map(|r| {
                let files: Vec<&FileCheck> = report
                    .files
                    .iter()
                    .filter(|f| f.repo.as_deref() == Some(r.repo.as_str()))
                    .collect();
                run(&files, Some((&r.repo, r.error.as_deref())))
            })
            .collect()
    };
    let doc = json!({ "$schema": SCHEMA, "version": "2.1.0", "runs": runs });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(
            uri("./.github/workflows/a b.yml"),
            ".github/workflows/a%20b.yml"
        );
        assert_eq!(uri("/tmp/x.yml"), "file:///tmp/x.yml");
        assert_eq!(pascal("gate-exit-code"), "GateExitCode");
    }
}
