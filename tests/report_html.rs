#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The HTML page of `scangate report` rendered in a real browser: headless
//! Chromium (Debian's package, `scripts/install-browser.sh`) loads the page
//! from disk with the network off, and the DOM it dumps must hold the
//! charts with the numbers of the three-repository fake. A screenshot is
//! written to `target/report-html/report.png` for a person to look at.

mod report_fake;

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

/// The flags every Chromium run gets: headless, no sandbox (CI containers
/// run as root), and nothing that reaches the network or a profile.
fn chromium(profile: &Path) -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/report-html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the fake's report page and returns its path.
fn page(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    report_fake::write_all(&data);
    let html = out_dir().join("report.html");
    let out = report_fake::report_from(
        &data,
        &["--format", "html", "--output", html.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    html
}

/// The elements of `dom` that open with `<TAG` and carry `class="CLASS…"`,
/// as their opening tags.
fn tags<'a>(dom: &'a str, tag: &str, class: &str) -> Vec<&'a str> {
    let re = Regex::new(&format!(r#"<{tag}\b[^>]*\bclass="{class}[^"]*"[^>]*>"#)).unwrap();
    re.find_iter(dom).map(|m| m.as_str()).collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let re = Regex::new(&format!(r#"\b{name}="([^"]*)""#)).unwrap();
    re.captures(tag)
        .and_then(|c| c.get(1))
        .map_or("", |m| m.as_str())
}

/// The part of `dom` from the chart of `repo` (all images) to the next chart.
fn repo_chart<'a>(dom: &'a str, repo: &str) -> &'a str {
    let start = dom
        .find(&format!(r#"data-repo="{repo}" data-image="""#))
        .unwrap_or_else(|| panic!("no chart for {repo}"));
    let end = dom[start..].find("</svg>").unwrap() + start;
    &dom[start..end]
}

#[test]
fn chromium_renders_the_charts_with_the_fake_numbers() {
    assert!(
        Command::new("chromium")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "chromium is not installed: run scripts/install-browser.sh (scripts/test.sh does)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let html = page(tmp.path());
    let url = format!("file://{}", html.display());

    let dumped = chromium(&tmp.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let dom = String::from_utf8(dumped.stdout).unwrap();
    // Chromium parsed the page: its DOM serialisation has the sections.
    assert_eq!(tags(&dom, "section", "repo").len(), 3, "{dom}");

    // One chart per repository and one per image with releases: 3 + 3.
    let charts = tags(&dom, "svg", "trend");
    assert_eq!(charts.len(), 6);

    // app-service: week 37 pushed 8 MEDIUM (101 and 103) with 102 blocked;
    // week 38 has no pushed release; week 39 pushed 2 MEDIUM (108) with 107
    // blocked; week 40's only release (109) has expired reports.
    let app = repo_chart(&dom, "acme/app-service");
    let bars: Vec<(&str, &str, &str)> = tags(app, "rect", "bar")
        .into_iter()
        .map(|t| {
            (
                attr(t, "class"),
                attr(t, "data-week"),
                attr(t, "data-count"),
            )
        })
        .collect();
    assert_eq!(
        bars,
        [
            ("bar sev-MEDIUM", "2026-W37", "8"),
            ("bar sev-MEDIUM", "2026-W39", "2")
        ]
    );
    let blocked: Vec<(&str, &str)> = tags(app, "path", "blocked")
        .into_iter()
        .map(|t| (attr(t, "data-week"), attr(t, "data-count")))
        .collect();
    assert_eq!(blocked, [("2026-W37", "1"), ("2026-W39", "1")]);
    let unknown: Vec<&str> = tags(app, "rect", "unknown")
        .into_iter()
        .map(|t| attr(t, "data-week"))
        .collect();
    assert_eq!(unknown, ["2026-W40"]);
    let weeks: Vec<&str> = tags(app, "g", "week")
        .into_iter()
        .map(|t| attr(t, "data-week"))
        .collect();
    assert_eq!(weeks, ["2026-W37", "2026-W38", "2026-W39", "2026-W40"]);

    // model-service: the week-40 release was blocked, none pushed.
    let model = repo_chart(&dom, "acme/model-service");
    assert_eq!(tags(model, "rect", "bar").len(), 3);
    assert_eq!(tags(model, "path", "blocked").len(), 1);

    // Nothing on the page reaches outside it.
    for needle in ["<script", "http://", "https://", "<link", "@import"] {
        let text = std::fs::read_to_string(&html).unwrap();
        let outside = text.replace("http://www.w3.org/2000/svg", "");
        assert!(!outside.contains(needle), "the page holds {needle}");
    }

    let png = out_dir().join("report.png");
    let _ = std::fs::remove_file(&png);
    let shot = chromium(&tmp.path().join("profile-shot"))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,2600")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "not a screenshot"
    );
}
