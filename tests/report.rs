#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate report --from DIR` on the three-repository fake
//! (`report_fake`): one test per metric, each expected number worked out by
//! hand from the fake's schedule (the comments say how).

mod report_fake;

use std::path::Path;
use std::sync::LazyLock;

use serde_json::{Value, json};

/// The fake, written once for all tests (read-only afterwards).
static FAKE: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    report_fake::write_all(dir.path());
    dir
});

fn run_report(dir: &Path, extra: &[&str]) -> std::process::Output {
    report_fake::report_from(dir, extra)
}

fn json_report() -> Value {
    report_fake::json_of(&run_report(FAKE.path(), &["--format", "json"]))
}

fn repo(report: &Value, name: &str) -> Value {
    report["report"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repo"] == name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .clone()
}

#[test]
fn the_document_names_its_schema_and_window() {
    let r = json_report();
    assert_eq!(r["schema"], "scangate/v1");
    assert_eq!(r["report"]["since"], "2026-09-01");
    assert_eq!(r["report"]["until"], "2026-10-31");
    let names: Vec<&str> = r["report"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repo"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "acme/app-frontend",
            "acme/app-service",
            "acme/model-service"
        ]
    );
}

#[test]
fn gate_coverage() {
    let r = json_report();
    // app-frontend: release.yml is migrated, prerelease.yml still pushes the
    // same image without a gate, so the image is not gated.
    assert_eq!(
        repo(&r, "acme/app-frontend")["coverage"],
        json!({"images_total": 1, "images_gated": 0, "ungated": ["ghcr.io/acme/app-frontend"]})
    );
    assert_eq!(
        repo(&r, "acme/app-service")["coverage"],
        json!({"images_total": 1, "images_gated": 1, "ungated": []})
    );
}

#[test]
fn releases_pushed_blocked_and_failed() {
    let r = json_report();
    // 105 (pull request, push skipped) and 106 (cancelled after the push)
    // are no releases; 108 pushed, then its release step failed: pushed.
    assert_eq!(
        repo(&r, "acme/app-service")["releases"],
        json!({"attempted": 7, "pushed": 4, "blocked": 2, "failed_other": 1,
               "runs": {"pushed": [101, 103, 108, 109], "blocked": [102, 107], "failed_other": [104]}})
    );
    // 200 is before --since; 204's push step failed.
    assert_eq!(
        repo(&r, "acme/model-service")["releases"]["runs"],
        json!({"pushed": [201, 202, 205], "blocked": [203], "failed_other": [204]})
    );
    // 301 ran the ungated prerelease.yml: not a release of a gated workflow;
    // 303 timed out.
    assert_eq!(
        repo(&r, "acme/app-frontend")["releases"]["runs"],
        json!({"pushed": [302], "blocked": [], "failed_other": [303]})
    );
}

#[test]
fn vulnerabilities_in_the_last_pushed_release() {
    let r = json_report();
    let model = &repo(&r, "acme/model-service")["images"][0];
    assert_eq!(model["image"], "ghcr.io/acme/model-service");
    let last = &model["last_pushed"];
    // 205 pushed alpine with libssl fixed: 2 fixable MEDIUM, scanned on two
    // platforms, counted once.
    assert_eq!(last["run"], 205);
    assert_eq!(last["tag"], "v1.2.1-pre2");
    assert_eq!(
        last["vulnerabilities"],
        json!({"CRITICAL": 0, "HIGH": 0, "MEDIUM": 2, "LOW": 0, "UNKNOWN": 0, "fixable": 2})
    );
    let platforms: Vec<&str> = last["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux-amd64", "linux-arm64"]);
    assert_eq!(last["platforms"][1]["vulnerabilities"]["MEDIUM"], 2);
}

#[test]
fn outdated_base_images() {
    let r = json_report();
    // alpine 3.10.2 carries EOSL: true in the Trivy sample.
    let last = &repo(&r, "acme/app-frontend")["images"][0]["last_pushed"];
    assert_eq!(last["os"], "alpine 3.10.2");
    assert_eq!(last["eol"], true);
}

#[test]
fn expired_artifacts_leave_vulnerabilities_unknown() {
    let out = run_report(FAKE.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "expired artifacts are no error");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let app = repo(&r, "acme/app-service");
    let last = &app["images"][0]["last_pushed"];
    assert_eq!(last["run"], 109);
    assert_eq!(last["reports"], "expired");
    assert_eq!(last["vulnerabilities"], Value::Null);
    assert!(
        app["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("expired for run 109")),
        "{}",
        app["notes"]
    );
}

#[test]
fn vulnerabilities_stopped_and_time_to_fix() {
    let r = json_report();
    // 102 and 107 each held debian's fixable CRITICAL; the next pushed
    // release.yml runs came 20.5 h (09-09 09:00 → 09-10 05:30) and 3 h later.
    assert_eq!(
        repo(&r, "acme/app-service")["stopped"],
        json!({"CRITICAL": 2, "HIGH": 0, "unknown_runs": [], "hours_to_fix": [20.5, 3.0]})
    );
    // 203 was never followed by a pushed release.yml run.
    assert_eq!(
        repo(&r, "acme/model-service")["stopped"]["hours_to_fix"],
        json!([null])
    );
}

#[test]
fn weeks_and_trend() {
    let r = json_report();
    let app = repo(&r, "acme/app-service");
    let weeks: Vec<(&str, u64, u64, u64, Value)> = app["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["week"].as_str().unwrap(),
                w["pushed"].as_u64().unwrap(),
                w["blocked"].as_u64().unwrap(),
                w["failed_other"].as_u64().unwrap(),
                w["vulnerabilities"]["MEDIUM"].clone(),
            )
        })
        .collect();
    // 09-08..09-10 are ISO week 37: 101 and 103 pushed alpine (4 + 4), 102
    // blocked; 104 (09-16) failed in week 38; week 39 holds 107 blocked and
    // 108 (2 MEDIUM); week 40 holds 109, expired.
    assert_eq!(
        weeks,
        [
            ("2026-W37", 2, 1, 0, json!(8)),
            ("2026-W38", 0, 0, 1, Value::Null),
            ("2026-W39", 1, 1, 0, json!(2)),
            ("2026-W40", 1, 0, 0, Value::Null),
        ]
    );
    assert_eq!(app["trend"]["first"], "2026-W37");
    assert_eq!(app["trend"]["last"], "2026-W39");
    assert_eq!(app["trend"]["change"]["MEDIUM"], -6);
}

#[test]
fn the_same_input_gives_byte_identical_json() {
    let a = run_report(FAKE.path(), &["--format", "json"]).stdout;
    let b = run_report(FAKE.path(), &["--format", "json"]).stdout;
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn markdown_and_text_show_the_same_numbers() {
    let md = String::from_utf8(run_report(FAKE.path(), &["--format", "markdown"]).stdout).unwrap();
    assert!(md.starts_with("# scangate report\n"), "{md}");
    assert!(
        md.contains("| acme/app-service | 1/1 | 7 | 4 | 2 | 1 | CRITICAL 2, HIGH 0 |"),
        "{md}"
    );
    assert!(md.contains("| pushed | 4 | 101, 103, 108, 109 |"), "{md}");
    let text = String::from_utf8(run_report(FAKE.path(), &[]).stdout).unwrap();
    assert!(
        text.contains("time to the next pushed release: 20.5 h, 3 h"),
        "{text}"
    );
    assert!(
        text.contains("not gated: ghcr.io/acme/app-frontend"),
        "{text}"
    );
}

#[test]
fn html_needs_an_output_file() {
    let out = run_report(FAKE.path(), &["--format", "html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output FILE"));
}

#[test]
fn a_broken_body_is_named_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    report_fake::write_all(dir.path());
    let run = dir.path().join("acme/app-service/runs/101/run.json");
    std::fs::write(&run, "{\n  \"id\": 101,\n  \"path\": \n}").unwrap();
    let out = run_report(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4:1:", run.display())), "{err}");
}

#[test]
fn a_hostile_artifact_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    report_fake::write_all(dir.path());
    let zip = dir
        .path()
        .join("acme/app-service/runs/103/scangate-build-and-push-reports.zip");
    assert!(zip.is_file(), "the fake names the artifact after the job");
    std::fs::write(&zip, b"PK\x03\x04 not really a zip").unwrap();
    let out = run_report(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let app = repo(&r, "acme/app-service");
    assert!(
        app["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("run 103: artifact scangate-build-and-push-reports: not a readable zip")),
        "{}",
        app["notes"]
    );
    // 103 still counts as pushed; week 37 now sums 101 alone.
    assert_eq!(app["releases"]["pushed"], 4);
    assert_eq!(app["weeks"][0]["vulnerabilities"]["MEDIUM"], 4);
    assert_eq!(app["weeks"][0]["unknown"], 1);
}

#[test]
fn the_step_names_the_report_reads_are_the_ones_migrate_writes() {
    use scangate::metrics::model::{GATE_STEP, PUSH_STEP};
    // The outcome of a run is read from its steps' names: they must be the
    // names the templates give the gate and push steps.
    for repo in report_fake::repos() {
        for (file, text) in repo.workflows.iter().filter(|(_, t)| t.contains("-scan:")) {
            assert!(
                text.contains(&format!("- name: {GATE_STEP}")),
                "{}/{file}",
                repo.name
            );
            assert!(
                text.contains(&format!("- name: {PUSH_STEP}")),
                "{}/{file}",
                repo.name
            );
        }
    }
}
