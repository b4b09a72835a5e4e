//! `--format github`: workflow commands that GitHub turns into annotations,
//! `::error file=…,line=…,col=…,title=…::message`.
//!
//! Escaping follows `@actions/core`: in the message, `%`, `\r` and `\n`
//! become `%25`, `%0D`, `%0A`; in property values also `:` and `,` become
//! `%3A` and `%2C` (a path or title with a comma would otherwise end the
//! property early). zizmor's GitHub output does not escape; this one must,
//! because a job name or a path is user text.
//!
//! A remote finding is about a file of another repository, which an
//! annotation cannot point into; it becomes an annotation without `file=`,
//! with the repository and position in its text.

use std::io::{self, Write};

use super::{plural, shown_path};
use crate::check::finding::{FileStatus, Report};

/// Escapes the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(out: &mut dyn Write, props: &[(&str, String)], message: &str) -> io::Result<()> {
    annotation(out, "error", props, message)
}

/// A workflow command of `level` (`error`, or `notice` for what is said
/// but is no drift).
fn annotation(
    out: &mut dyn Write,
    level: &str,
    props: &[(&str, String)],
    message: &str,
) -> io::Result<()> {
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    writeln!(
        out,
        "::{level} {}::{}",
        props.join(","),
        escape_data(message)
    )
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let remote = !report.repositories.is_empty();
    for repo in &report.repositories {
        if let Some(e) = &repo.error {
            command(
                out,
                &[("title", format!("scangate: cannot read {}", repo.repo))],
                e,
            )?;
        }
    }
    for file in &report.files {
        match &file.status {
            FileStatus::Checked { findings, notes } => {
                let levelled = findings.iter().map(|f| ("error", f));
                for (level, f) in levelled.chain(notes.iter().map(|n| ("notice", n))) {
                    let text = format!("{}\nFix: {}", f.message, f.help);
                    if remote {
                        let shown = shown_path(file.repo.as_deref(), &file.path);
                        annotation(
                            out,
                            level,
                            &[("title", format!("scangate {}", f.rule))],
                            &format!("{shown}:{}: {text}", f.at),
                        )?;
                    } else {
                        annotation(
                            out,
                            level,
                            &[
                                ("file", file.path.trim_start_matches("./").to_owned()),
                                ("line", f.at.line.to_string()),
                                ("col", f.at.column.to_string()),
                                ("title", format!("scangate {}", f.rule)),
                            ],
                            &text,
                        )?;
                    }
                }
            }
            FileStatus::Error { message } => {
                let mut props = vec![("title", "scangate: error".to_owned())];
                if !remote {
                    props.insert(0, ("file", file.path.trim_start_matches("./").to_owned()));
                }
                command(out, &props, message)?;
            }
            FileStatus::Skipped { .. } => {}
        }
    }
    let n = report.finding_count();
    let errors = report.error_count();
    writeln!(
        out,
        "scangate check: {}, {} in {}",
        plural(n, "finding"),
        plural(errors, "error"),
        plural(report.files.len(), "file")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_actions_core() {
        assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
