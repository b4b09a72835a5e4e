#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! Migration through the library API: every fixture migrates and its result
//! is a fixed point, and generated workflows of many shapes (indentation
//! width, sequence style, comments, blank lines, extra steps, a neighbour
//! job) migrate with every byte outside the job left alone.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::{Migrator, Outcome, Source};
use yaml_serde::Value;

fn migrator() -> Migrator {
    Migrator::new(Pins::embedded(), Policy::default()).expect("the embedded templates compile")
}

/// Migrates `text` as `path`; panics unless the outcome is `Migrated`.
fn migrated(migrator: &Migrator, path: &Path, text: &str) -> (String, Vec<String>) {
    let source = Source::from_bytes(path, text.as_bytes()).expect("readable");
    match migrator.migrate(&source) {
        Ok(Outcome::Migrated { text, jobs }) => (text, jobs.into_iter().map(|j| j.job).collect()),
        other => panic!(
            "{}: expected Migrated, got {other:?}\n{text}",
            path.display()
        ),
    }
}

fn outcome(migrator: &Migrator, path: &Path, text: &str) -> Outcome {
    let source = Source::from_bytes(path, text.as_bytes()).expect("readable");
    migrator
        .migrate(&source)
        .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

// ---------------------------------------------------------------------------
// The fixtures
// ---------------------------------------------------------------------------

/// The fixtures the brief names, with the job that builds and pushes.
const KNOWN: &[(&str, &str, &str)] = &[
    ("model-service", "release.yml", "release"),
    ("model-service", "prerelease.yml", "prerelease"),
    ("app-frontend", "release.yml", "docker"),
    ("app-frontend", "prerelease.yml", "prerelease-image"),
    ("app-service", "release.yml", "build-and-push"),
    ("app-service", "prerelease.yml", "publish"),
];

/// Every `fixtures/*/.github/workflows/*.y{a,}ml`, sorted.
fn all_fixtures() -> Vec<PathBuf> {
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
    out
}

#[test]
fn every_fixture_migrates_to_a_fixed_point() {
    let migrator = migrator();
    let fixtures = all_fixtures();
    for (service, file, _) in KNOWN {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(service)
            .join(".github/workflows")
            .join(file);
        assert!(fixtures.contains(&p), "fixture {} not found", p.display());
    }
    for path in &fixtures {
        let shown = path.display();
        let original = std::fs::read_to_string(path).unwrap();
        let source = Source::from_bytes(path, original.as_bytes()).expect("readable");
        let Ok(Outcome::Migrated { text, jobs: split }) = migrator.migrate(&source) else {
            panic!("{shown}: expected Migrated");
        };
        let jobs: Vec<String> = split.iter().map(|j| j.job.clone()).collect();
        assert!(!jobs.is_empty(), "{shown}: no job migrated");
        assert_ne!(text, original);
        let known = KNOWN
            .iter()
            .find(|(s, f, _)| path.ends_with(format!("{s}/.github/workflows/{f}")));
        if let Some((_, _, job)) = known {
            assert_eq!(jobs, [job.to_string()], "{shown}");
        }

        // The result is a workflow in which every migrated job became
        // three (one, where it could not be split: then all three are it).
        let doc: Value = yaml_serde::from_str(&text).unwrap();
        let ids: Vec<&str> = doc["jobs"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
            .collect();
        for j in &split {
            if j.fallback.is_none() {
                assert_eq!(j.build_job, format!("{}-build", j.job), "{shown}");
                assert_eq!(j.scan_job, format!("{}-scan", j.job), "{shown}");
            } else {
                assert_eq!((j.layout, &j.build_job), ("steps", &j.job), "{shown}");
            }
            for id in [&j.build_job, &j.scan_job, &j.job] {
                assert!(ids.contains(&id.as_str()), "{shown}: no job {id}");
            }
        }

        assert_eq!(
            outcome(&migrator, path, &text),
            Outcome::Unchanged,
            "{shown}: migrating the result again changes it"
        );
    }
}

// ---------------------------------------------------------------------------
// Generated workflows
// ---------------------------------------------------------------------------

/// Steps that may come before the build (none pushes, ids are unique).
const PRE_STEPS: &[&str] = &[
    "- name: Set up QEMU\n  uses: docker/setup-qemu-action@v4",
    "- name: Compute version\n  id: version\n  run: echo \"version=${GITHUB_REF_NAME#v}\" >> \"$GITHUB_OUTPUT\"",
    "- name: Test\n  run: |\n    make lint\n    make test",
    "- name: Log in to ghcr.io\n  uses: docker/login-action@v4\n  with:\n    registry: ghcr.io\n    username: ${{ github.actor }}\n    password: ${{ secrets.GITHUB_TOKEN }}",
    "- uses: docker/setup-buildx-action@v4",
];

/// Steps that may come after the push.
const POST_STEPS: &[&str] = &[
    "- name: Summary\n  run: echo \"released ${GITHUB_REF_NAME}\" >> \"$GITHUB_STEP_SUMMARY\"",
    "- name: Create release\n  uses: softprops/action-gh-release@v3\n  with:\n    generate_release_notes: true",
    "- name: Notify\n  env:\n    REF: ${{ github.ref_name }}\n  run: |\n    echo \"image for $REF is out\"",
];

const BUILD_STEP: &str = "- name: Build and push\n  uses: docker/build-push-action@v7\n  with:\n    context: .\n    push: true\n    tags: ghcr.io/acme/app:${{ github.ref_name }}";

/// A second image, built and pushed after the first in the same job.
const SECOND_BUILD: &str = "- name: Build and push the worker\n  uses: docker/build-push-action@v7\n  with:\n    context: worker\n    push: true\n    tags: ghcr.io/acme/worker:${{ github.ref_name }}";

const COMMENTS: &[&str] = &[
    "# pinned by tag for now",
    "# TODO: cache layers",
    "#no space after the hash",
    "# --- publishing ---",
];

/// Where the untouched job goes.
#[derive(Debug, Clone, Copy)]
enum Other {
    None,
    Before,
    After,
}

/// What goes between two steps.
#[derive(Debug, Clone)]
struct Gap {
    blank_before: usize,
    /// A comment line and its indentation: 0 = the items', 1 = column 0,
    /// 2 = the items' keys'.
    comment: Option<(usize, u8)>,
    blank_after: usize,
}

#[derive(Debug, Clone)]
struct Shape {
    width: usize,
    indentless: bool,
    pre: Vec<usize>,
    post: Vec<usize>,
    gaps: Vec<Gap>,
    other: Other,
    blank_between_jobs: bool,
    comment_before_other: bool,
    /// The job builds and pushes a second image.
    second_build: bool,
}

/// A generated workflow and the byte range of the migrated job in it.
struct Generated {
    text: String,
    job: std::ops::Range<usize>,
    other: Option<&'static str>,
}

/// Re-indents a step written with two-space nesting to `width`, with its
/// first line at `col`.
fn step_text(step: &str, col: usize, width: usize) -> String {
    let mut out = String::new();
    for (i, line) in step.lines().enumerate() {
        let depth = (line.len() - line.trim_start().len()) / 2;
        let pad = if i == 0 {
            col
        } else {
            // Keys of the item sit after "- "; deeper levels add `width`.
            col + 2 + (depth - 1) * width
        };
        out.push_str(&" ".repeat(pad));
        out.push_str(line.trim_start());
        out.push('\n');
    }
    out
}

fn other_job(width: usize, seq: usize) -> String {
    let i = " ".repeat(width);
    let s = " ".repeat(seq);
    format!(
        "{i}lint:\n{i}{i}runs-on: ubuntu-latest\n{i}{i}steps:\n{s}- uses: actions/checkout@v5\n{s}- name: Lint\n{s}  run: |\n{s}  {i}make lint\n"
    )
}

fn generate(shape: &Shape) -> Generated {
    let w = shape.width;
    let i = " ".repeat(w);
    let seq = if shape.indentless { 2 * w } else { 3 * w };

    let mut head = format!(
        "name: Release\n\non:\n{i}push:\n{i}{i}tags:\n{}- 'v*'\n\npermissions:\n{i}contents: read\n{i}packages: write\n\njobs:\n",
        if shape.indentless {
            i.repeat(2)
        } else {
            i.repeat(3)
        }
    );
    let mut tail = String::new();
    let blank = if shape.blank_between_jobs { "\n" } else { "" };
    match shape.other {
        Other::Before => {
            head.push_str(&other_job(w, seq));
            head.push_str(blank);
        }
        Other::After => {
            tail.push_str(blank);
            if shape.comment_before_other {
                tail.push_str(&format!("{i}# not an image job\n"));
            }
            tail.push_str(&other_job(w, seq));
        }
        Other::None => {}
    }

    let mut steps: Vec<&str> = vec!["- uses: actions/checkout@v5"];
    steps.extend(shape.pre.iter().map(|&n| PRE_STEPS[n]));
    steps.push(BUILD_STEP);
    if shape.second_build {
        steps.push(SECOND_BUILD);
    }
    steps.extend(shape.post.iter().map(|&n| POST_STEPS[n]));

    let mut job = format!("{i}release:\n{i}{i}runs-on: ubuntu-latest\n{i}{i}steps:\n");
    for (n, step) in steps.iter().enumerate() {
        if n > 0 {
            let gap = &shape.gaps[(n - 1) % shape.gaps.len()];
            job.push_str(&"\n".repeat(gap.blank_before));
            if let Some((c, at)) = gap.comment {
                let pad = match at {
                    0 => seq,
                    1 => 0,
                    _ => seq + 2,
                };
                job.push_str(&format!("{}{}\n", " ".repeat(pad), COMMENTS[c]));
            }
            job.push_str(&"\n".repeat(gap.blank_after));
        }
        job.push_str(&step_text(step, seq, w));
    }

    let start = head.len();
    let end = start + job.len();
    Generated {
        text: format!("{head}{job}{tail}"),
        job: start..end,
        other: (!matches!(shape.other, Other::None)).then_some("lint"),
    }
}

fn gap() -> impl Strategy<Value = Gap> {
    (
        0..3usize,
        proptest::option::of((0..COMMENTS.len(), 0..3u8)),
        0..2usize,
    )
        .prop_map(|(blank_before, comment, blank_after)| Gap {
            blank_before,
            comment,
            blank_after,
        })
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![Just(2usize), Just(3), Just(4)],
        any::<bool>(),
        proptest::sample::subsequence(
            (0..PRE_STEPS.len()).collect::<Vec<_>>(),
            0..=PRE_STEPS.len(),
        ),
        proptest::sample::subsequence(
            (0..POST_STEPS.len()).collect::<Vec<_>>(),
            0..=POST_STEPS.len(),
        ),
        proptest::collection::vec(gap(), 1..6),
        prop_oneof![Just(Other::None), Just(Other::Before), Just(Other::After)],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                width,
                indentless,
                pre,
                post,
                gaps,
                other,
                blank_between_jobs,
                comment_before_other,
                second_build,
            )| {
                Shape {
                    width,
                    indentless,
                    pre,
                    post,
                    gaps,
                    other,
                    blank_between_jobs,
                    comment_before_other,
                    second_build,
                }
            },
        )
}

#[test]
fn the_generator_writes_valid_workflows() {
    // The generator itself is checked, so that a failure below is scangate's.
    let shape = Shape {
        width: 3,
        indentless: true,
        pre: vec![2, 3],
        post: vec![2],
        gaps: vec![Gap {
            blank_before: 1,
            comment: Some((0, 1)),
            blank_after: 0,
        }],
        other: Other::After,
        blank_between_jobs: true,
        comment_before_other: true,
        second_build: false,
    };
    let g = generate(&shape);
    let doc: Value = yaml_serde::from_str(&g.text).unwrap();
    let steps = doc["jobs"]["release"]["steps"].as_sequence().unwrap();
    assert_eq!(steps.len(), 5);
    assert_eq!(steps[1]["run"], "make lint\nmake test\n");
    assert_eq!(steps[2]["with"]["registry"], "ghcr.io");
    assert_eq!(steps[3]["with"]["push"], true);
    assert_eq!(steps[4]["env"]["REF"], "${{ github.ref_name }}");
    assert_eq!(doc["jobs"]["lint"]["steps"][1]["run"], "make lint\n");
    assert!(g.text[g.job.clone()].starts_with("   release:\n"));
    assert!(g.text[g.job.end..].starts_with("\n   # not an image job\n   lint:\n"));
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

proptest! {
    // 64 cases keep the suite fast; PROPTEST_CASES=N explores more.
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn generated_workflows_migrate_locally_and_once(shape in shape()) {
        let g = generate(&shape);
        let parsed: Value = yaml_serde::from_str(&g.text)
            .unwrap_or_else(|e| panic!("generator wrote invalid YAML ({e}):\n{}", g.text));
        let migrator = migrator();
        let path = Path::new("release.yml");
        let (text, jobs) = migrated(&migrator, path, &g.text);
        prop_assert_eq!(jobs, vec!["release".to_string()]);

        let (before, after) = (&g.text[..g.job.start], &g.text[g.job.end..]);
        prop_assert!(
            text.starts_with(before),
            "bytes before the job changed:\n{}\n=== became\n{}", g.text, text
        );
        prop_assert!(
            text.ends_with(after),
            "bytes after the job changed:\n{}\n=== became\n{}", g.text, text
        );
        prop_assert!(text.len() > before.len() + after.len());

        let doc: Value = yaml_serde::from_str(&text).unwrap();
        if let Some(other) = g.other {
            prop_assert_eq!(&doc["jobs"][other], &parsed["jobs"][other]);
        }
        prop_assert_eq!(&doc["on"], &parsed["on"]);

        // One artifact per image, each downloaded by the scan and the push job.
        let images = 1 + usize::from(shape.second_build);
        for job in ["release-scan", "release"] {
            let downloads = doc["jobs"][job]["steps"]
                .as_sequence()
                .unwrap()
                .iter()
                .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/download-artifact")))
                .count();
            prop_assert_eq!(downloads, images, "{} downloads:\n{}", job, text);
        }

        let again = outcome(&migrator, path, &text);
        prop_assert_eq!(again, Outcome::Unchanged, "not a fixed point:\n{}", text);
    }
}
