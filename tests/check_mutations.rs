#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `check` against breakages of the gate, applied to our own migrated
//! fixtures.
//!
//! Each fixture is migrated in the test with the library [`Migrator`], so the
//! test follows whatever the templates write today. The clean result must
//! give no finding. Then each breakage the issue lists is applied as a text
//! edit — found by content, never by a fixed line number — and the test
//! asserts that the right rule fires at the line the edit touched (computed
//! here from the text, not by scangate's locator), and that no other rule
//! fires except `migration-pending` where `migrate` would indeed rewrite the
//! broken file.
//!
//! A few edits keep the gate intact (a hand-tuned scan job) and must give no
//! finding at all: drift is semantic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use scangate::check::finding::Finding;
use scangate::check::{Checked, Checker, Options};
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::{Migrator, Outcome, Source};

// ---------------------------------------------------------------------------
// Fixtures, migrated
// ---------------------------------------------------------------------------

struct Migrated {
    name: String,
    text: String,
    /// Ids of the push jobs `migrate` wrote (the original job ids).
    jobs: Vec<String>,
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for repo in std::fs::read_dir(&root).unwrap() {
        let wf = repo.unwrap().path().join(".github/workflows");
        let Ok(entries) = std::fs::read_dir(&wf) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no fixtures found");
    out
}

fn migrated_fixtures() -> Vec<Migrated> {
    let migrator = Migrator::new(Pins::embedded(), Policy::default()).unwrap();
    let mut out = Vec::new();
    for path in fixtures() {
        let source = Source::from_bytes(&path, &std::fs::read(&path).unwrap()).unwrap();
        let name = format!(
            "{}/{}",
            path.parent()
                .and_then(|p| p.parent())
                .and_then(|p| p.parent())
                .and_then(|p| p.file_name())
                .unwrap()
                .to_string_lossy(),
            path.file_name().unwrap().to_string_lossy()
        );
        match migrator.migrate(&source).unwrap() {
            // The breakages edit the three jobs of a split; a job that went
            // in one job instead (ecr.yml) is `check`ed in the one-job modes
            // of tests/validators.rs.
            Outcome::Migrated { jobs, .. } if jobs.iter().any(|j| j.fallback.is_some()) => {}
            Outcome::Migrated { text, jobs } => out.push(Migrated {
                name,
                text,
                jobs: jobs.into_iter().map(|j| j.job).collect(),
            }),
            other => panic!("{name}: expected the fixture to migrate, got {other:?}"),
        }
    }
    out
}

fn checker() -> Checker {
    Checker::new(Policy::default(), Pins::embedded(), Options::default())
}

fn check(name: &str, text: &str) -> Vec<Finding> {
    let source = Source::from_bytes(Path::new(name), text.as_bytes()).unwrap();
    match checker().check(&source).unwrap() {
        Checked::Findings { findings, .. } => findings,
        Checked::NotAWorkflow(why) => panic!("{name}: not a workflow: {why}"),
    }
}

fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| format!("{:4} | {l}\n", i + 1))
        .collect()
}

fn show(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("  {}:{} {} {}\n", f.at.line, f.at.column, f.rule, f.message))
        .collect()
}

// ---------------------------------------------------------------------------
// Text helpers (independent of scangate's locator)
// ---------------------------------------------------------------------------

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

fn join(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The index of the line that is the key of job `id` (`<indent>id:`).
fn job_line(ls: &[String], id: &str) -> Option<usize> {
    let jobs = ls.iter().position(|l| l.trim_end() == "jobs:")?;
    (jobs + 1..ls.len()).find(|&i| {
        let l = &ls[i];
        indent(l) > 0 && l.trim() == format!("{id}:")
    })
}

/// The lines of job `id`: its key line up to the next line at the same or a
/// lower indentation.
fn job_range(ls: &[String], id: &str) -> Option<(usize, usize)> {
    let start = job_line(ls, id)?;
    let ind = indent(&ls[start]);
    let end = (start + 1..ls.len())
        .find(|&i| !ls[i].trim().is_empty() && indent(&ls[i]) <= ind)
        .unwrap_or(ls.len());
    Some((start, end))
}

/// The step (dash line) in `range` whose `name:` starts with `prefix`.
fn step_named(ls: &[String], range: (usize, usize), prefix: &str) -> Option<usize> {
    (range.0..range.1).find(|&i| {
        let t = ls[i].trim_start();
        t.strip_prefix("- name: ")
            .is_some_and(|n| n.trim_matches(['"', '\'']).starts_with(prefix))
    })
}

/// The lines of the step whose dash is on `dash`, without trailing blanks.
fn step_range(ls: &[String], dash: usize) -> (usize, usize) {
    let ind = indent(&ls[dash]);
    let mut end = (dash + 1..ls.len())
        .find(|&i| !ls[i].trim().is_empty() && indent(&ls[i]) <= ind)
        .unwrap_or(ls.len());
    while end > dash + 1 && ls[end - 1].trim().is_empty() {
        end -= 1;
    }
    (dash, end)
}

/// Column (0-based) where the content of a step's keys starts.
fn step_content_col(ls: &[String], dash: usize) -> usize {
    let l = &ls[dash];
    let after = &l[indent(l) + 1..];
    indent(l) + 1 + (after.len() - after.trim_start().len())
}

/// The scan job (`<job>-scan`) of a migrated push job.
fn scan_job(job: &str) -> String {
    format!("{job}-scan")
}

// ---------------------------------------------------------------------------
// Breakages
// ---------------------------------------------------------------------------

/// Where a breakage must be reported.
struct Expect {
    rule: &'static str,
    /// 1-based line and column.
    line: usize,
    column: Option<usize>,
}

type Breakage = fn(&Migrated) -> Option<(String, Expect)>;

/// The push job no longer needs the scan job.
fn needs_dropped(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let job = &m.jobs[0];
    let range = job_range(&ls, job)?;
    let i = (range.0..range.1).find(|&i| ls[i].trim_start().starts_with("needs:"))?;
    let scan = scan_job(job);
    let new = ls[i]
        .replace(&format!(", {scan}"), "")
        .replace(&format!("{scan}, "), "");
    if new == ls[i] {
        return None;
    }
    ls[i] = new;
    Some((
        join(&ls),
        Expect {
            rule: "ungated-push",
            line: i + 1,
            column: Some(indent(&ls[i]) + 1),
        },
    ))
}

/// The gate step's exit code set to 0 (on every platform's command).
fn exit_code_zero(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &scan_job(&m.jobs[0]))?;
    let first = (range.0..range.1).find(|&i| ls[i].contains("--exit-code 1"))?;
    for l in &mut ls[range.0..range.1] {
        *l = l.replace("--exit-code 1", "--exit-code 0");
    }
    let column = ls[first].find("--exit-code").unwrap() + 1;
    Some((
        join(&ls),
        Expect {
            rule: "gate-exit-code",
            line: first + 1,
            column: Some(column),
        },
    ))
}

/// The gate fails only on CRITICAL.
fn severity_below_policy(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &scan_job(&m.jobs[0]))?;
    let first = (range.0..range.1).find(|&i| ls[i].contains("--severity CRITICAL,HIGH"))?;
    for l in &mut ls[range.0..range.1] {
        *l = l.replace("--severity CRITICAL,HIGH", "--severity CRITICAL");
    }
    let column = ls[first].find("--severity").unwrap() + 1;
    Some((
        join(&ls),
        Expect {
            rule: "gate-severity",
            line: first + 1,
            column: Some(column),
        },
    ))
}

/// `continue-on-error: true` on the gate step.
fn gate_step_continues(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &scan_job(&m.jobs[0]))?;
    let dash = step_named(&ls, range, "Gate on")?;
    let col = step_content_col(&ls, dash);
    ls.insert(
        dash + 1,
        format!("{}continue-on-error: true", " ".repeat(col)),
    );
    Some((
        join(&ls),
        Expect {
            rule: "gate-continue-on-error",
            line: dash + 2,
            column: Some(col + 1),
        },
    ))
}

/// `continue-on-error: true` on the scan job.
fn scan_job_continues(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let (start, _) = job_range(&ls, &scan_job(&m.jobs[0]))?;
    let child = indent(&ls[start + 1]);
    ls.insert(
        start + 1,
        format!("{}continue-on-error: true", " ".repeat(child)),
    );
    Some((
        join(&ls),
        Expect {
            rule: "gate-continue-on-error",
            line: start + 2,
            column: Some(child + 1),
        },
    ))
}

fn push_job_if(m: &Migrated, condition: &str) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let (start, end) = job_range(&ls, &m.jobs[0])?;
    let child = indent(&ls[start + 1]);
    // Replace an existing job-level `if:` (a push condition) or add one.
    let existing = (start + 1..end)
        .find(|&i| indent(&ls[i]) == child && ls[i].trim_start().starts_with("if:"));
    let at = match existing {
        Some(i) => {
            ls[i] = format!("{}if: {condition}", " ".repeat(child));
            i
        }
        None => {
            ls.insert(start + 1, format!("{}if: {condition}", " ".repeat(child)));
            start + 1
        }
    };
    Some((
        join(&ls),
        Expect {
            rule: "push-condition-bypass",
            line: at + 1,
            column: Some(child + 1),
        },
    ))
}

/// `if: always()` on the push job.
fn push_job_always(m: &Migrated) -> Option<(String, Expect)> {
    push_job_if(m, "always()")
}

/// `if: ${{ failure() }}` on the push job.
fn push_job_failure(m: &Migrated) -> Option<(String, Expect)> {
    push_job_if(m, "${{ failure() }}")
}

/// `if: ${{ !cancelled() }}` on the push step.
fn push_step_not_cancelled(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &m.jobs[0])?;
    let dash = step_named(&ls, range, "Push the scanned image")?;
    let col = step_content_col(&ls, dash);
    let bypass = format!("{}if: ${{{{ !cancelled() }}}}", " ".repeat(col));
    // A guarded image's push step has an `if:` of its own: replaced.
    let (from, to) = step_range(&ls, dash);
    let at = match (from..to).find(|&i| indent(&ls[i]) == col && ls[i][col..].starts_with("if:")) {
        Some(own) => {
            ls[own] = bypass;
            own
        }
        None => {
            ls.insert(dash + 1, bypass);
            dash + 1
        }
    };
    Some((
        join(&ls),
        Expect {
            rule: "push-condition-bypass",
            line: at + 1,
            column: Some(col + 1),
        },
    ))
}

/// The gate step removed from the scan job.
fn gate_step_removed(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let scan = scan_job(&m.jobs[0]);
    let range = job_range(&ls, &scan)?;
    let dash = step_named(&ls, range, "Gate on")?;
    let (from, to) = step_range(&ls, dash);
    ls.drain(from..to);
    let line = job_line(&ls, &scan)?;
    Some((
        join(&ls),
        Expect {
            rule: "gate-missing",
            line: line + 1,
            column: Some(indent(&ls[line]) + 1),
        },
    ))
}

/// A new job that builds and pushes without any scan.
fn new_unscanned_job(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let start = job_line(&ls, &m.jobs[0])?;
    let j = " ".repeat(indent(&ls[start]));
    let pin = Pins::embedded().uses("docker/build-push-action");
    while ls.last().is_some_and(|l| l.trim().is_empty()) {
        ls.pop();
    }
    ls.push(String::new());
    ls.push(format!("{j}hotfix:"));
    ls.push(format!("{j}  runs-on: ubuntu-latest"));
    ls.push(format!("{j}  steps:"));
    ls.push(format!("{j}    - uses: {pin}"));
    let dash = ls.len() - 1;
    ls.push(format!("{j}      with:"));
    ls.push(format!("{j}        push: true"));
    ls.push(format!("{j}        tags: ghcr.io/acme/hotfix:latest"));
    Some((
        join(&ls),
        Expect {
            rule: "ungated-push",
            line: dash + 1,
            column: Some(j.len() + 5),
        },
    ))
}

/// The push job rebuilds the image instead of pushing the scanned artifact.
fn push_job_rebuilds(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &m.jobs[0])?;
    let dash = step_named(&ls, range, "Push the scanned image")?;
    let (from, to) = step_range(&ls, dash);
    let d = " ".repeat(indent(&ls[dash]));
    let c = " ".repeat(step_content_col(&ls, dash));
    let pin = Pins::embedded().uses("docker/build-push-action");
    let step = vec![
        format!("{d}- name: Build and push"),
        format!("{c}uses: {pin}"),
        format!("{c}with:"),
        format!("{c}  push: true"),
        format!("{c}  tags: ghcr.io/acme/app:latest"),
    ];
    ls.splice(from..to, step);
    Some((
        join(&ls),
        Expect {
            rule: "push-rebuilds",
            line: from + 1,
            column: Some(d.len() + 1),
        },
    ))
}

/// An action of the scan job pinned by tag instead of SHA.
fn action_unpinned(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &scan_job(&m.jobs[0]))?;
    let i = (range.0..range.1).find(|&i| ls[i].contains("uses: aquasecurity/setup-trivy@"))?;
    let at = ls[i].find("uses:").unwrap();
    ls[i] = format!("{}uses: aquasecurity/setup-trivy@v0.3.1", &ls[i][..at]);
    Some((
        join(&ls),
        Expect {
            rule: "unpinned-action",
            line: i + 1,
            column: Some(at + 1),
        },
    ))
}

/// The reports upload no longer runs when the gate fails.
fn reports_upload_condition_removed(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &scan_job(&m.jobs[0]))?;
    let dash = step_named(&ls, range, "Publish the scan reports")?;
    let (from, to) = step_range(&ls, dash);
    let cond = (from..to).find(|&i| ls[i].trim_start().starts_with("if:"))?;
    ls.remove(cond);
    Some((
        join(&ls),
        Expect {
            rule: "reports-not-published",
            line: dash + 1,
            column: Some(indent(&ls[dash]) + 1),
        },
    ))
}

/// The reports upload step removed.
fn reports_upload_removed(m: &Migrated) -> Option<(String, Expect)> {
    let mut ls = lines(&m.text);
    let scan = scan_job(&m.jobs[0]);
    let range = job_range(&ls, &scan)?;
    let dash = step_named(&ls, range, "Publish the scan reports")?;
    let (from, to) = step_range(&ls, dash);
    ls.drain(from..to);
    let line = job_line(&ls, &scan)?;
    Some((
        join(&ls),
        Expect {
            rule: "reports-not-published",
            line: line + 1,
            column: Some(indent(&ls[line]) + 1),
        },
    ))
}

/// The rules of breakages after which no gate protects the push.
const GATE_BREAKING: &[&str] = &[
    "ungated-push",
    "gate-exit-code",
    "gate-severity",
    "gate-continue-on-error",
    "push-condition-bypass",
    "gate-missing",
];

const BREAKAGES: &[(&str, Breakage)] = &[
    ("push job no longer needs the scan", needs_dropped),
    ("exit-code 0", exit_code_zero),
    ("severities below the policy", severity_below_policy),
    ("continue-on-error on the gate step", gate_step_continues),
    ("continue-on-error on the scan job", scan_job_continues),
    ("if: always() on the push job", push_job_always),
    ("if: failure() on the push job", push_job_failure),
    ("if: !cancelled() on the push step", push_step_not_cancelled),
    ("gate step removed", gate_step_removed),
    ("new job pushing unscanned", new_unscanned_job),
    ("push job rebuilds", push_job_rebuilds),
    ("action pinned by tag", action_unpinned),
    (
        "reports upload without !cancelled()",
        reports_upload_condition_removed,
    ),
    ("reports upload removed", reports_upload_removed),
];

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn clean_migrated_fixtures_give_no_findings() {
    for m in migrated_fixtures() {
        let findings = check(&m.name, &m.text);
        assert!(
            findings.is_empty(),
            "{}: findings on the clean migrated workflow:\n{}\n{}",
            m.name,
            show(&findings),
            numbered(&m.text)
        );
    }
}

#[test]
fn each_breakage_fires_its_rule_at_the_edited_line() {
    let fixtures = migrated_fixtures();
    let mut failures = Vec::new();
    for (what, breakage) in BREAKAGES {
        let mut applied = 0;
        for m in &fixtures {
            let Some((text, expect)) = breakage(m) else {
                continue;
            };
            applied += 1;
            let findings = check(&m.name, &text);
            let hit = findings.iter().any(|f| {
                f.rule == expect.rule
                    && f.at.line == expect.line
                    && expect.column.is_none_or(|c| f.at.column == c)
            });
            // A breakage that takes the gate away from the push makes a
            // workflow's own signing step after it vouch for unscanned
            // bytes too: a second true finding (docker-publish signs).
            let consequence = GATE_BREAKING
                .contains(&expect.rule)
                .then_some("signed-before-gate");
            let allowed: BTreeSet<&str> = [expect.rule, "migration-pending"]
                .into_iter()
                .chain(consequence)
                .collect();
            let stray: Vec<&Finding> = findings
                .iter()
                .filter(|f| !allowed.contains(f.rule))
                .collect();
            if !hit || !stray.is_empty() {
                failures.push(format!(
                    "{what} in {}: expected {} at {}:{}, got:\n{}\n{}",
                    m.name,
                    expect.rule,
                    expect.line,
                    expect.column.map_or("?".into(), |c| c.to_string()),
                    show(&findings),
                    numbered(&text)
                ));
            }
        }
        if applied == 0 {
            failures.push(format!("{what}: applies to no fixture"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Replaces the gate step of the first fixture with `step` (lines at the
/// step's indentation, `{d}` = dash indent, `{c}` = content indent).
fn with_gate_step(m: &Migrated, step: &[&str]) -> Option<String> {
    let mut ls = lines(&m.text);
    let range = job_range(&ls, &scan_job(&m.jobs[0]))?;
    let dash = step_named(&ls, range, "Gate on")?;
    let (from, to) = step_range(&ls, dash);
    let d = " ".repeat(indent(&ls[dash]));
    let c = " ".repeat(step_content_col(&ls, dash));
    let new: Vec<String> = step
        .iter()
        .map(|l| l.replace("{d}", &d).replace("{c}", &c))
        .collect();
    ls.splice(from..to, new);
    Some(join(&ls))
}

#[test]
fn a_hand_tuned_gate_that_still_gates_passes() {
    let pin = Pins::embedded().uses("aquasecurity/trivy-action");
    let action = format!("{{c}}uses: {pin}");
    let variants: Vec<Vec<&str>> = vec![
        // trivy-action instead of a script, same policy.
        vec![
            "{d}- name: Gate with trivy-action",
            action.as_str(),
            "{c}with:",
            "{c}  input: ${{ runner.temp }}/image",
            "{c}  severity: HIGH,CRITICAL",
            "{c}  exit-code: '1'",
            "{c}  ignore-unfixed: true",
        ],
        // Stricter than the policy, another non-zero exit code.
        vec![
            "{d}- name: Stricter gate",
            "{c}run: trivy image --input \"$RUNNER_TEMP/x\" --severity=CRITICAL,HIGH,MEDIUM --exit-code=2",
        ],
    ];
    let fixtures = migrated_fixtures();
    let mut tried = 0;
    for m in &fixtures {
        for v in &variants {
            let Some(text) = with_gate_step(m, v) else {
                continue;
            };
            tried += 1;
            let findings = check(&m.name, &text);
            assert!(
                findings.is_empty(),
                "{}: a gate that still gates was reported:\n{}\n{}",
                m.name,
                show(&findings),
                numbered(&text)
            );
        }
    }
    assert!(tried > 0);
}

#[test]
fn every_ungated_push_of_an_unmigrated_fixture_is_reported() {
    for path in fixtures() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        let findings = check(&name, &text);
        let rules: BTreeSet<&str> = findings.iter().map(|f| f.rule).collect();
        assert!(
            rules.contains("ungated-push") && rules.contains("migration-pending"),
            "{name}: {rules:?}\n{}",
            show(&findings)
        );
    }
}
