//! The *report* stage: what a run found, as a unified diff and text for a
//! person, or as versioned JSON for a program. Nothing here decides anything.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::error::Refusal;
use crate::migrate::MigratedJob;

/// The JSON schema identifier; bumped on any incompatible change.
pub const SCHEMA: &str = "scangate/v1";

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum FileStatus {
    Migrated {
        jobs: Vec<MigratedJob>,
        diff: String,
        written: bool,
        /// Other jobs of the file that may push where scangate cannot see.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unseen: Vec<Refusal>,
    },
    Unchanged {
        /// Jobs that may push where scangate cannot see (a script file
        /// after a registry login): said, as nothing else would be.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unseen: Vec<Refusal>,
    },
    Skipped {
        reason: String,
    },
    Refused {
        refusals: Vec<Refusal>,
    },
    Error {
        message: String,
    },
}

/// One file's line in the report.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    #[serde(flatten)]
    pub status: FileStatus,
}

/// The whole run, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schema: &'static str,
    pub files: Vec<FileReport>,
}

/// A unified diff of `old` → `new` with `a/` and `b/` headers, coloured
/// with ANSI escapes when `color` is set. Empty when the texts are equal.
pub fn unified_diff(path: &str, old: &str, new: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    for (i, group) in diff.grouped_ops(3).iter().enumerate() {
        if i == 0 {
            out.push_str(&paint("1", &format!("--- a/{path}\n+++ b/{path}\n")));
        }
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let (o, n) = (first.old_range().start, first.new_range().start);
        let header = format!(
            "@@ -{},{} +{},{} @@\n",
            o + 1,
            last.old_range().end - o,
            n + 1,
            last.new_range().end - n
        );
        out.push_str(&paint("36", &header));
        for op in group {
            for change in diff.iter_changes(op) {
                let (sign, code) = match change.tag() {
                    ChangeTag::Delete => ("-", "31"),
                    ChangeTag::Insert => ("+", "32"),
                    ChangeTag::Equal => (" ", ""),
                };
                let mut line = format!("{sign}{}", change.value());
                if !line.ends_with('\n') {
                    line.push_str("\n\\ No newline at end of file\n");
                }
                out.push_str(&if code.is_empty() {
                    line
                } else {
                    paint(code, line.trim_end_matches('\n')) + "\n"
                });
            }
        }
    }
    out
}

/// One line per migrated job: what it became.
pub fn job_summary(job: &MigratedJob) -> String {
    let platforms = if job.platforms.is_empty() {
        String::new()
    } else {
        format!(", {}", job.platforms.join(" "))
    };
    let moved = match job.moved_steps {
        0 => String::new(),
        1 => ", 1 later step moved after the push".into(),
        n => format!(", {n} later steps moved after the push"),
    };
    let late = match job.late_scans {
        0 => String::new(),
        _ => "; the Trivy scan that ran after the push (too late to stop it) stays after it in the push job, and the new gate runs before the push".to_owned(),
    };
    let condition = job
        .push_if
        .as_deref()
        .map_or(String::new(), |c| format!(", pushes only if {c}"));
    if job.layout == "steps" {
        return format!(
            "job `{}`: build → Trivy gate → push, in one job (gate before the push{platforms}{condition}){late}",
            job.job
        );
    }
    format!(
        "job `{}` → `{}` → `{}` → `{}` (Trivy gate before the push{platforms}{moved}{condition}){late}",
        job.job, job.build_job, job.scan_job, job.job
    )
}

/// What a person must know of a migrated job beyond its summary: that it
/// was put in one job and why, and what the original already got wrong.
pub fn job_notes(path: &str, job: &MigratedJob) -> String {
    let mut out = String::new();
    if let Some(why) = &job.fallback {
        out.push_str(&format!(
            "  note: job `{}` stays one job (build, Trivy gate, push) because splitting it was not possible: {why}\n",
            job.job
        ));
        if let Some(fix) = job.fallback_fix.as_deref().filter(|f| !f.is_empty()) {
            out.push_str(&format!("  help: to split it: {fix}\n"));
        }
        out.push_str(
            "  help: `[layout] fallback = \"refuse\"` in scangate.toml refuses such jobs instead\n",
        );
    }
    if let Some((written, variable)) = job.moved_expressions.first() {
        let more = match job.moved_expressions.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        out.push_str(&format!(
            "  note: job `{}`: the rewritten script reads `{written}` as `{variable}`{more}: a shell variable (set in the step's `env:` unless the runner sets it), never a value pasted into the script (zizmor's fix for template injection)\n",
            job.job
        ));
    }
    out.push_str(&warnings_text(path, &job.warnings));
    out
}

/// Warnings as compiler-style messages: `path:line:col: warning: …` and a
/// help line each.
pub fn warnings_text(path: &str, warnings: &[Refusal]) -> String {
    let mut out = String::new();
    for w in warnings {
        out.push_str(&format!(
            "{path}:{}: warning: job `{}`: {}\n",
            w.at, w.job, w.reason
        ));
        if !w.hint.is_empty() {
            out.push_str(&format!("  help: {}\n", w.hint));
        }
    }
    out
}

/// A refusal as a compiler-style message: `path:line:col: …` and a help line.
pub fn refusal_text(path: &str, r: &Refusal) -> String {
    let mut out = format!(
        "{path}:{}: needs manual migration (file left unchanged): job `{}`: {}\n",
        r.at, r.job, r.reason
    );
    if !r.hint.is_empty() {
        out.push_str(&format!("  help: {}\n", r.hint));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_headers_and_hunks() {
        let d = unified_diff("w.yml", "a\nb\nc\n", "a\nx\nc\n", false);
        assert_eq!(
            d,
            "--- a/w.yml\n+++ b/w.yml\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n"
        );
        assert_eq!(unified_diff("w.yml", "a\n", "a\n", false), "");
    }
}
