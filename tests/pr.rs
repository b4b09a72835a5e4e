#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate pr` against a stateful fake GitHub (`fake_github`, wiremock on
//! 127.0.0.1): the requests it makes are recorded and asserted on — one
//! pull request per repository however often it runs, no write to a branch
//! with someone else's commit, no POST repeated blindly — and the token
//! appears in no output.

mod fake_github;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use fake_github::{Fake, Fault, TOKEN};
use scangate::check::remote::{Client, Retry, Token};
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::pr::decision::Action;
use scangate::pr::{self, Options, PrError, PrTarget, Run, Silent, Status, output};
use scangate::{Migrator, Outcome, Source};
use serde_json::{Value, json};

const REPO: &str = "acme/model-service";
const BRANCH: &str = "scangate/trivy-gate";

fn fixture(service: &str, file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(service)
            .join(".github/workflows")
            .join(file),
    )
    .unwrap()
}

/// `text` migrated as the workflow `name` (the file stem names the SARIF
/// categories).
fn migrated(name: &str, text: &str) -> String {
    let source = Source::from_bytes(Path::new(&wf(name)), text.as_bytes()).unwrap();
    match migrator().migrate(&source).unwrap() {
        Outcome::Migrated { text, .. } => String::from_utf8(source.restore(&text)).unwrap(),
        other => panic!("{other:?}"),
    }
}

fn migrator() -> Migrator {
    Migrator::new(Pins::embedded(), Policy::default()).unwrap()
}

fn wf(name: &str) -> String {
    format!(".github/workflows/{name}")
}

/// `service`'s two workflows and a README, as `(path, content)`.
fn service(name: &str) -> Vec<(String, String)> {
    vec![
        (wf("release.yml"), fixture(name, "release.yml")),
        (wf("prerelease.yml"), fixture(name, "prerelease.yml")),
        ("README.md".into(), format!("# {name}\n")),
    ]
}

fn add(fake: &Fake, repo: &str, files: &[(String, String)]) {
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    fake.add_repo(repo, &files);
}

fn retry() -> Retry {
    Retry {
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_secs(5),
        unspecified_wait: Duration::from_millis(10),
        timeout: Duration::from_secs(2),
        write_pause: Duration::ZERO,
    }
}

fn apply() -> Options {
    Options {
        apply: true,
        ..Options::default()
    }
}

async fn run_with(
    fake: &Fake,
    retry: Retry,
    targets: &[PrTarget],
    options: &Options,
) -> Result<Run, PrError> {
    let client = Client::new(&fake.uri, Token::new(TOKEN), retry).unwrap();
    pr::run(&client, &migrator(), targets, options, &Silent).await
}

fn targets(repos: &[&str]) -> Vec<PrTarget> {
    repos
        .iter()
        .map(|r| PrTarget {
            labels: vec!["security".into()],
            reviewers: vec!["alice".into()],
            ..PrTarget::new(r.parse().unwrap())
        })
        .collect()
}

async fn run(fake: &Fake, options: &Options) -> Run {
    let run = run_with(fake, retry(), &targets(&[REPO]), options)
        .await
        .unwrap();
    assert_no_token(&run);
    run
}

/// Every rendering of the run, as a user or a program would see it.
fn rendered(run: &Run) -> String {
    format!(
        "{}{}{}{}{:?}",
        serde_json::to_string(&output::json(run)).unwrap(),
        output::diffs(run),
        output::table(run),
        output::problems(run),
        run.notes
    )
}

fn assert_no_token(run: &Run) {
    assert!(!rendered(run).contains(TOKEN), "the token leaked");
}

fn pulls(fake: &Fake, repo: &str) -> Vec<fake_github::PullObj> {
    fake.world().repos[repo].pulls.clone()
}

fn branch_head(fake: &Fake, repo: &str) -> Option<String> {
    fake.world().repos[repo].refs.get(BRANCH).cloned()
}

fn main_head(fake: &Fake, repo: &str) -> String {
    fake.world().repos[repo].refs["main"].clone()
}

fn writes(fake: &Fake) -> Vec<(String, String)> {
    fake.world()
        .writes()
        .iter()
        .map(|s| (s.method.clone(), s.path.clone()))
        .collect()
}

fn clear_log(fake: &Fake) {
    fake.world().seen.clear();
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_one_commit_branch_and_pull_request() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let run = run(&fake, &apply()).await;
    let r = &run.records[0];
    assert_eq!((r.action, r.status), (Action::Created, Status::Ok), "{r:?}");
    assert_eq!(r.images_gated, 2);
    let base = format!("/repos/{REPO}");
    assert_eq!(
        writes(&fake),
        [
            ("POST", "/git/trees"),
            ("POST", "/git/commits"),
            ("POST", "/git/refs"),
            ("POST", "/pulls"),
            ("POST", "/issues/1/labels"),
            ("POST", "/pulls/1/requested_reviewers"),
        ]
        .map(|(m, p)| (m.to_owned(), format!("{base}{p}")))
    );
    // One commit on main's head holding exactly the migrated workflows.
    let w = fake.world();
    let repo = &w.repos[REPO];
    let head = &repo.refs[BRANCH];
    let commit = &repo.commits[head];
    assert_eq!(commit.parents, [repo.refs["main"].clone()]);
    assert!(scangate::pr::body::is_ours(&commit.message));
    let tree = repo.tree_of(head);
    for file in ["release.yml", "prerelease.yml"] {
        assert!(
            tree[&wf(file)] == migrated(file, &fixture("model-service", file)),
            "{file} is not the migrated workflow"
        );
    }
    assert_eq!(tree["README.md"], "# model-service\n");
    let pull = &repo.pulls[0];
    assert_eq!((pull.head.as_str(), pull.base.as_str()), (BRANCH, "main"));
    assert!(pull.body.starts_with(scangate::pr::body::MARKER));
    assert!(pull.body.contains("CRITICAL,HIGH"));
    assert_eq!(
        (pull.labels.clone(), pull.reviewers.clone()),
        (vec!["security".to_owned()], vec!["alice".to_owned()])
    );
    assert!(!pull.draft);
    // The open-PR lookup names the owner, or GitHub would list every PR.
    let lookup = w
        .seen
        .iter()
        .find(|s| s.path.ends_with("/pulls") && s.method == "GET")
        .unwrap();
    assert_eq!(lookup.query["head"], format!("acme:{BRANCH}"));
    drop(w);
    assert_eq!(
        r.pull_request.as_ref().map(|p| p.number),
        Some(1),
        "{}",
        output::table(&run)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reads_and_reports_what_apply_would_do() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let run = run(&fake, &Options::default()).await;
    assert!(writes(&fake).is_empty());
    let r = &run.records[0];
    assert_eq!((r.action, r.applied), (Action::Created, false));
    assert!(output::table(&run).contains("would create"));
    assert!(
        output::diffs(&run).contains(&format!("# {REPO}\n--- a/.github/workflows/prerelease.yml"))
    );
    // A dry run needs no token scope check.
    assert_eq!(fake.world().count("GET", "/rate_limit"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_changes_nothing() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    run(&fake, &apply()).await;
    // main moves on without touching the workflows: no reason to move ours.
    fake.world()
        .commit(REPO, "main", &[("README.md", "# moved\n")], "Docs");
    clear_log(&fake);
    let again = run(&fake, &apply()).await;
    assert_eq!(again.records[0].action, Action::Unchanged);
    assert_eq!(again.records[0].pull_request.as_ref().unwrap().number, 1);
    assert!(writes(&fake).is_empty(), "{:?}", writes(&fake));
    assert_eq!(pulls(&fake, REPO).len(), 1);
    assert_eq!(again.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn our_branch_is_moved_onto_the_new_default_head() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    run(&fake, &apply()).await;
    let first = branch_head(&fake, REPO).unwrap();
    // main moves on: a teammate edits a workflow and the README.
    let edited = fixture("model-service", "release.yml")
        .replace("Build and release image", "Build and release the image");
    fake.world().commit(
        REPO,
        "main",
        &[(&wf("release.yml"), &edited), ("README.md", "# changed\n")],
        "Rename the job",
    );
    clear_log(&fake);
    let run = run(&fake, &apply()).await;
    assert_eq!(
        run.records[0].action,
        Action::Updated,
        "{:?}",
        run.records[0]
    );
    let patch = fake
        .world()
        .seen
        .iter()
        .find(|s| s.method == "PATCH" && s.path.ends_with(&format!("/git/refs/heads/{BRANCH}")))
        .cloned()
        .unwrap();
    assert_eq!(patch.body["force"], json!(true));
    let head = branch_head(&fake, REPO).unwrap();
    assert_ne!(head, first);
    let w = fake.world();
    let repo = &w.repos[REPO];
    assert_eq!(repo.commits[&head].parents, [repo.refs["main"].clone()]);
    assert!(repo.tree_of(&head)[&wf("release.yml")] == migrated("release.yml", &edited));
    assert_eq!(repo.tree_of(&head)["README.md"], "# changed\n");
    assert_eq!(repo.pulls.len(), 1);
    assert!(
        !w.seen
            .iter()
            .any(|s| s.method == "POST" && s.path.ends_with("/pulls"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_branch_with_someone_elses_commit_is_never_touched() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    run(&fake, &apply()).await;
    let theirs = fake
        .world()
        .commit(REPO, BRANCH, &[("NOTES.md", "mine\n")], "Add my notes");
    fake.world()
        .commit(REPO, "main", &[("README.md", "# moved\n")], "Move main");
    fake.world().repos.get_mut(REPO).unwrap().pulls[0].body = "edited by hand".into();
    for close_stale in [false, true] {
        clear_log(&fake);
        let run = run(
            &fake,
            &Options {
                close_stale,
                ..apply()
            },
        )
        .await;
        let r = &run.records[0];
        assert_eq!((r.action, r.status), (Action::Skipped, Status::Blocked));
        assert!(r.reason.as_ref().unwrap().contains(&theirs[..12]), "{r:?}");
        // The table says why, beside the old pull request: which commit, whose.
        let row = output::table(&run);
        let row = row.lines().nth(1).unwrap();
        assert!(
            row.contains("#1 ") && row.contains(&format!("{} by Jane Doe", &theirs[..12])),
            "{row}"
        );
        assert!(writes(&fake).is_empty(), "{:?}", writes(&fake));
        assert_eq!(branch_head(&fake, REPO).unwrap(), theirs);
        assert_eq!(run.exit_code(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_branch_of_that_name_without_our_commits_is_not_moved() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let old = main_head(&fake, REPO);
    fake.world()
        .repos
        .get_mut(REPO)
        .unwrap()
        .refs
        .insert(BRANCH.into(), old.clone());
    fake.world()
        .commit(REPO, "main", &[("README.md", "# later\n")], "Later");
    let run = run(&fake, &apply()).await;
    assert_eq!(
        run.records[0].status,
        Status::Blocked,
        "{:?}",
        run.records[0]
    );
    let reason = run.records[0].reason.as_deref().unwrap();
    assert!(
        reason.contains(&format!("{} by Jane Doe", &old[..12])),
        "{reason}"
    );
    assert!(writes(&fake).is_empty());
    assert_eq!(branch_head(&fake, REPO).unwrap(), old);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_branch_is_never_the_target() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let t = vec![PrTarget {
        branch: Some("main".into()),
        ..PrTarget::new(REPO.parse().unwrap())
    }];
    let run = run_with(&fake, retry(), &t, &apply()).await.unwrap();
    assert_eq!(run.records[0].action, Action::Failed);
    assert!(
        run.records[0]
            .error
            .as_ref()
            .unwrap()
            .contains("is the default branch")
    );
    assert!(writes(&fake).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_pull_request_gets_the_current_body_not_a_twin() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    run(&fake, &apply()).await;
    fake.world().repos.get_mut(REPO).unwrap().pulls[0].body = "old text".into();
    clear_log(&fake);
    let run = run(&fake, &apply()).await;
    assert_eq!(run.records[0].action, Action::Updated);
    assert_eq!(
        writes(&fake),
        [("PATCH".to_owned(), format!("/repos/{REPO}/pulls/1"))]
    );
    let pulls = pulls(&fake, REPO);
    assert_eq!(pulls.len(), 1);
    assert!(pulls[0].body.starts_with(scangate::pr::body::MARKER));
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_to_change_skips_and_close_stale_closes_our_pull_request() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    run(&fake, &apply()).await;
    // The migration lands on main by another way (a squash merge of a copy).
    let files: Vec<(String, String)> = ["release.yml", "prerelease.yml"]
        .iter()
        .map(|f| (wf(f), migrated(f, &fixture("model-service", f))))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    fake.world().commit(REPO, "main", &refs, "Squashed");
    clear_log(&fake);
    let skipped = run(&fake, &apply()).await;
    let r = &skipped.records[0];
    assert_eq!(r.action, Action::Skipped);
    assert!(
        r.reason.as_ref().unwrap().contains("--close-stale"),
        "{r:?}"
    );
    assert!(writes(&fake).is_empty());
    let closed = run(
        &fake,
        &Options {
            close_stale: true,
            ..apply()
        },
    )
    .await;
    assert_eq!(closed.records[0].action, Action::Closed);
    assert_eq!(
        writes(&fake),
        [("PATCH".to_owned(), format!("/repos/{REPO}/pulls/1"))]
    );
    assert_eq!(pulls(&fake, REPO)[0].state, "closed");
    // The branch stays: deleting it is the reviewer's call.
    assert!(branch_head(&fake, REPO).is_some());
    assert_eq!(closed.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_where_that_is_safe_and_reconciled_where_not() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    fake.fault(Fault::status("GET", &format!("/repos/{REPO}"), 500));
    fake.fault(Fault::status("GET", &format!("/repos/{REPO}"), 502));
    fake.fault(Fault::status("POST", "/git/trees", 502));
    // The ref is created but the answer is a 502: scangate must find it.
    fake.fault(Fault {
        apply: true,
        ..Fault::status("POST", "/git/refs", 502)
    });
    // The pull request is not created and the answer is a 500.
    fake.fault(Fault::status("POST", "/pulls", 500));
    let run = run(&fake, &apply()).await;
    assert_eq!(
        run.records[0].action,
        Action::Created,
        "{:?}",
        run.records[0]
    );
    let w = fake.world();
    assert_eq!(w.count("GET", &format!("/repos/{REPO}")), 3);
    assert_eq!(w.count("POST", "/git/trees"), 2);
    assert_eq!(
        w.count("POST", "/git/refs"),
        1,
        "a create is never repeated blindly"
    );
    assert_eq!(
        w.count("POST", "/pulls"),
        2,
        "the PR was looked for, then asked for again"
    );
    assert_eq!(w.repos[REPO].pulls.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_that_fail_are_reread_then_tried_again_until_the_bound() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    // Two 502s on each create, nothing made: below `retry()`'s 3 attempts.
    fake.fault(Fault {
        times: 2,
        ..Fault::status("POST", "/git/refs", 502)
    });
    fake.fault(Fault {
        times: 2,
        ..Fault::status("POST", "/pulls", 502)
    });
    let run = run(&fake, &apply()).await;
    let r = &run.records[0];
    assert_eq!(
        (r.action, r.error.as_deref()),
        (Action::Created, None),
        "{r:?}"
    );
    assert_eq!(run.exit_code(), 0);
    let w = fake.world();
    assert_eq!(w.count("POST", "/git/refs"), 3);
    assert_eq!(w.count("POST", "/pulls"), 3);
    assert_eq!(w.repos[REPO].pulls.len(), 1);
    // Each try after a failure follows a read that found nothing.
    let creates: Vec<usize> = w
        .seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.method == "POST" && s.path.ends_with("/pulls"))
        .map(|(i, _)| i)
        .collect();
    for pair in creates.windows(2) {
        assert!(
            w.seen[pair[0]..pair[1]]
                .iter()
                .any(|s| s.method == "GET" && s.path.ends_with("/pulls")),
            "a create was repeated without looking first"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_does_not_make_a_second_pull_request() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    // GitHub makes the PR but the answer comes after scangate gave up.
    fake.fault(Fault {
        apply: true,
        delay: Duration::from_millis(1500),
        ..Fault::status("POST", "/pulls", 201)
    });
    // A slow read is retried.
    fake.fault(Fault {
        apply: true,
        delay: Duration::from_millis(1500),
        ..Fault::status("GET", "/git/commits/".to_owned().as_str(), 200)
    });
    let quick = Retry {
        timeout: Duration::from_millis(500),
        ..retry()
    };
    let run = run_with(&fake, quick, &targets(&[REPO]), &apply())
        .await
        .unwrap();
    assert_no_token(&run);
    assert_eq!(
        run.records[0].action,
        Action::Created,
        "{:?}",
        run.records[0]
    );
    assert_eq!(run.records[0].pull_request.as_ref().unwrap().number, 1);
    assert_eq!(fake.world().count("POST", "/pulls"), 1);
    assert_eq!(pulls(&fake, REPO).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_is_finished_by_the_next() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    // As many 503s as `retry()` has attempts: the run gives up.
    fake.fault(Fault {
        times: 3,
        ..Fault::status("POST", "/pulls", 503)
    });
    let first = run(&fake, &apply()).await;
    assert_eq!(first.records[0].action, Action::Failed);
    assert!(
        first.records[0]
            .error
            .as_ref()
            .unwrap()
            .contains("run again")
    );
    assert_eq!(first.exit_code(), 1);
    let head = branch_head(&fake, REPO).unwrap();
    clear_log(&fake);
    let second = run(&fake, &apply()).await;
    assert_eq!(second.records[0].action, Action::Created);
    // The branch already held the migration: no new commit.
    assert_eq!(branch_head(&fake, REPO).unwrap(), head);
    assert_eq!(fake.world().count("POST", "/git/commits"), 0);
    assert_eq!(pulls(&fake, REPO).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secondary_rate_limit_is_waited_out() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    fake.fault(Fault {
        headers: vec![("retry-after", "1".to_owned())],
        body: json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}),
        ..Fault::status("POST", "/pulls", 403)
    });
    let started = std::time::Instant::now();
    let run = run(&fake, &apply()).await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(run.records[0].action, Action::Created);
    let w = fake.world();
    let posts: Vec<_> = w
        .seen
        .iter()
        .filter(|s| s.method == "POST" && s.path.ends_with("/pulls"))
        .collect();
    assert_eq!(posts.len(), 2);
    assert!(posts[1].at - posts[0].at >= Duration::from_secs(1));
    assert_eq!(w.repos[REPO].pulls.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_spaced() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let paced = Retry {
        write_pause: Duration::from_millis(150),
        ..retry()
    };
    run_with(&fake, paced, &targets(&[REPO]), &apply())
        .await
        .unwrap();
    let w = fake.world();
    let times: Vec<_> = w.writes().iter().map(|s| s.at).collect();
    assert_eq!(times.len(), 6);
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(140),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_stop_before_any_write() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    fake.world().token = "ghp_someoneelse".into();
    let err = run_with(&fake, retry(), &targets(&[REPO]), &apply())
        .await
        .unwrap_err();
    assert!(matches!(err, PrError::Token(_)), "{err}");
    assert!(
        err.to_string().contains("401") && !err.to_string().contains(TOKEN),
        "{err}"
    );
    assert!(writes(&fake).is_empty());
    // A dry run reports the failure per repository.
    let dry = run_with(&fake, retry(), &targets(&[REPO]), &Options::default())
        .await
        .unwrap();
    assert_no_token(&dry);
    assert_eq!(dry.records[0].action, Action::Failed);
    assert!(dry.records[0].error.as_ref().unwrap().contains("401"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_repository_fails_alone() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let run = run_with(&fake, retry(), &targets(&["acme/gone", REPO]), &apply())
        .await
        .unwrap();
    assert_no_token(&run);
    assert_eq!(run.records[0].action, Action::Failed);
    assert!(
        run.records[0]
            .error
            .as_ref()
            .unwrap()
            .contains("acme/gone not found")
    );
    assert_eq!(run.records[1].action, Action::Created);
    assert_eq!(run.exit_code(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_without_the_workflow_scope_writes_nothing() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    fake.world().scopes = Some("repo, read:org".into());
    let err = run_with(&fake, retry(), &targets(&[REPO]), &apply())
        .await
        .unwrap_err();
    assert!(matches!(err, PrError::MissingWorkflowScope(_)));
    assert!(
        err.to_string()
            .contains("gh auth refresh --scopes workflow"),
        "{err}"
    );
    assert!(writes(&fake).is_empty());
    // A fine-grained token lists no scopes: scangate goes on and says so.
    fake.world().scopes = None;
    let run = run_with(&fake, retry(), &targets(&[REPO]), &apply())
        .await
        .unwrap();
    assert_eq!(run.records[0].action, Action::Created);
    assert!(run.notes[0].contains("Workflows: write"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_github_refuses_for_workflows_fails_with_the_fix() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    fake.world().scopes = None;
    fake.fault(Fault {
        body: json!({"message": "refusing to allow a Personal Access Token to create or update workflow `.github/workflows/release.yml` without `workflows` permission", "documentation_url": "https://docs.github.com/rest/git/refs#create-a-reference", "status": "422"}),
        ..Fault::status("POST", "/git/refs", 422)
    });
    let run = run(&fake, &apply()).await;
    let r = &run.records[0];
    assert_eq!(r.action, Action::Failed);
    assert!(
        r.error.as_ref().unwrap().contains("Workflows: write"),
        "{r:?}"
    );
    let w = fake.world();
    assert_eq!(w.count("POST", "/git/refs"), 1);
    assert_eq!(w.count("POST", "/pulls"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_echoing_the_token_cannot_put_it_in_the_output() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let echo = json!({"message": "Validation Failed", "errors": [{"message": format!("bad head for Bearer {TOKEN}")}]});
    fake.fault(Fault {
        body: echo.clone(),
        ..Fault::status("POST", "/pulls", 422)
    });
    let first = run(&fake, &apply()).await;
    let r = &first.records[0];
    assert_eq!(r.action, Action::Failed);
    assert!(
        r.error
            .as_ref()
            .unwrap()
            .contains("bad head for Bearer ***"),
        "{r:?}"
    );
    fake.fault(Fault {
        body: echo,
        times: 3,
        ..Fault::status("POST", "/pulls", 502)
    });
    let second = run(&fake, &apply()).await;
    assert!(
        second.records[0]
            .error
            .as_ref()
            .unwrap()
            .contains("Bearer ***")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workflows_needing_a_person_are_named_in_the_pull_request() {
    let (_server, fake) = Fake::start().await;
    // `crane` pushes are not split: a refusal, left for a person.
    let crane = "name: crane\non: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: crane push image.tar ghcr.io/acme/x:1\n";
    let mut files = service("model-service");
    files.push((wf("crane.yml"), crane.to_owned()));
    add(&fake, REPO, &files);
    let run = run(&fake, &apply()).await;
    let r = &run.records[0];
    assert_eq!(
        (r.action, r.status, r.refusals),
        (Action::Created, Status::Refused, 1),
        "{r:?}"
    );
    assert_eq!(run.exit_code(), 3);
    let body = &pulls(&fake, REPO)[0].body;
    assert!(
        body.contains("`.github/workflows/crane.yml` line"),
        "{body}"
    );
    let head = branch_head(&fake, REPO).unwrap();
    assert_eq!(
        fake.world().repos[REPO].tree_of(&head)[&wf("crane.yml")],
        crane
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_reviewer_is_a_warning() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let t = vec![PrTarget {
        reviewers: vec!["nobody".into()],
        ..PrTarget::new(REPO.parse().unwrap())
    }];
    let run = run_with(
        &fake,
        retry(),
        &t,
        &Options {
            draft: true,
            ..apply()
        },
    )
    .await
    .unwrap();
    let r = &run.records[0];
    assert_eq!((r.action, r.status), (Action::Created, Status::Ok));
    assert!(r.warnings[0].contains("not a collaborator"), "{r:?}");
    assert!(pulls(&fake, REPO)[0].draft);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_named_workflows_and_many_repositories() {
    let (_server, fake) = Fake::start().await;
    let names = [
        "acme/model-service",
        "acme/app-frontend",
        "acme/app-service",
    ];
    for n in names {
        add(&fake, n, &service(n.split_once('/').unwrap().1));
    }
    let mut t = targets(&names);
    for target in &mut t {
        target.workflows = Some(vec!["release.yml".into()]);
    }
    let run = run_with(
        &fake,
        retry(),
        &t,
        &Options {
            concurrency: 2,
            ..apply()
        },
    )
    .await
    .unwrap();
    for (r, n) in run.records.iter().zip(names) {
        assert_eq!(
            (r.repo.as_str(), r.action, r.files.len()),
            (n, Action::Created, 1)
        );
        let head = branch_head(&fake, n).unwrap();
        let main = main_head(&fake, n);
        let w = fake.world();
        let repo = &w.repos[n];
        assert_eq!(
            repo.tree_of(&head)[&wf("prerelease.yml")],
            repo.tree_of(&main)[&wf("prerelease.yml")]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_are_bounded_by_the_concurrency() {
    let (_server, fake) = Fake::start().await;
    let names = ["acme/a", "acme/b", "acme/c", "acme/d"];
    for n in names {
        add(&fake, n, &service("app-service"));
        fake.world()
            .slow
            .push((format!("/repos/{n}"), Duration::from_millis(300)));
    }
    // When each repository's first request arrived, relative to the first.
    let arrivals = |fake: &Fake| -> Vec<Duration> {
        let w = fake.world();
        let first = |n: &str| {
            w.seen
                .iter()
                .find(|s| s.path == format!("/repos/{n}"))
                .unwrap()
                .at
        };
        let t0 = first(names[0]);
        names.iter().map(|n| first(n) - t0).collect()
    };
    for (concurrency, late) in [(2, 2), (4, 0)] {
        clear_log(&fake);
        let options = Options {
            concurrency,
            ..Options::default()
        };
        let run = run_with(&fake, retry(), &targets(&names), &options)
            .await
            .unwrap();
        assert!(run.records.iter().all(|r| r.action == Action::Created));
        let waited = arrivals(&fake)
            .iter()
            .filter(|d| **d >= Duration::from_millis(290))
            .count();
        assert_eq!(
            waited,
            late,
            "concurrency {concurrency}: {:?}",
            arrivals(&fake)
        );
    }
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

async fn cli(fake: &Fake, args: &[&str]) -> Output {
    let mut argv: Vec<String> = vec!["pr".into(), "--api-url".into(), fake.uri.clone()];
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("scangate")
            .unwrap()
            .args(&argv)
            .env("GH_TOKEN", TOKEN)
            .env_remove("GITHUB_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_cli_no_token(o: &Output) {
    assert!(!show(o).contains(TOKEN), "the token leaked:\n{}", show(o));
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_dry_run_prints_diffs_and_a_table() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let o = cli(&fake, &["--repo", REPO]).await;
    assert_cli_no_token(&o);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("+++ b/.github/workflows/release.yml"),
        "{}",
        show(&o)
    );
    assert!(
        out.contains("repository") && out.contains("would create"),
        "{}",
        show(&o)
    );
    assert!(writes(&fake).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_apply_json_has_one_record_per_repository() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    let o = cli(
        &fake,
        &[
            "--repo",
            REPO,
            "--repo",
            "acme/gone",
            "--apply",
            "--format",
            "json",
            "--label",
            "security",
            "--draft",
        ],
    )
    .await;
    assert_cli_no_token(&o);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "scangate/v1");
    let recs = v["repositories"].as_array().unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["action"], "created");
    assert_eq!(recs[0]["status"], "ok");
    assert_eq!(recs[0]["pull_request"]["number"], 1);
    assert_eq!(
        recs[0]["pull_request"]["url"],
        format!("https://github.com/{REPO}/pull/1")
    );
    assert_eq!(recs[1]["action"], "failed");
    assert!(recs[1]["error"].as_str().unwrap().contains("not found"));
    let p = &pulls(&fake, REPO)[0];
    assert!(p.draft && p.labels == ["security"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_global_errors_exit_2_without_the_token() {
    let (_server, fake) = Fake::start().await;
    add(&fake, REPO, &service("model-service"));
    fake.world().token = "ghp_someoneelse".into();
    let o = cli(&fake, &["--repo", REPO, "--apply"]).await;
    assert_cli_no_token(&o);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("invalid or expired"),
        "{}",
        show(&o)
    );
    let o = cli(&fake, &["--repo", REPO, "--branch", "bad..name"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // No token anywhere (an empty PATH hides any `gh` login on this machine).
    clear_log(&fake);
    let uri = fake.uri.clone();
    let o = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("scangate")
            .unwrap()
            .args(["pr", "--api-url", &uri, "--repo", REPO, "--apply"])
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN")
            .env("PATH", "")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--apply needs a GitHub token"),
        "{}",
        show(&o)
    );
    assert!(fake.world().seen.is_empty());
}

/// A job on a self-hosted runner label: the repository's actionlint config
/// declares it, so the job splits as in a checkout (`migrate` reads the
/// same file); another repository, without that config, keeps such a job
/// in one job.
#[tokio::test(flavor = "multi_thread")]
async fn the_runner_labels_each_repository_declares_are_its_own() {
    let (_server, fake) = Fake::start().await;
    let release = "name: release\non:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: arc-runner-set\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:1\n";
    let declared = vec![
        (wf("release.yml"), release.to_owned()),
        (
            ".github/actionlint.yaml".to_owned(),
            "self-hosted-runner:\n  labels:\n    - arc-runner-set\n".to_owned(),
        ),
    ];
    add(&fake, REPO, &declared);
    add(
        &fake,
        "acme/other",
        &[(wf("release.yml"), release.to_owned())],
    );
    let run = run_with(&fake, retry(), &targets(&[REPO, "acme/other"]), &apply())
        .await
        .unwrap();
    assert_no_token(&run);
    let committed = |repo: &str| {
        let head = branch_head(&fake, repo).unwrap();
        fake.world().repos[repo].tree_of(&head)[&wf("release.yml")].clone()
    };
    let split = committed(REPO);
    assert!(split.contains("  build-scan:\n"), "{split}");
    assert_eq!(
        split.matches("runs-on: arc-runner-set").count(),
        3,
        "{split}"
    );
    let one = committed("acme/other");
    assert!(!one.contains("build-scan:"), "{one}");
    assert_eq!(one.matches("runs-on: arc-runner-set").count(), 1, "{one}");
}
