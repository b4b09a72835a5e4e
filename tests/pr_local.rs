#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate migrate --write --commit` in a local repository made in a
//! temporary folder: one commit on a new branch, checked out, with exactly
//! the migrated workflows; refusals (dirty files, detached HEAD, an existing
//! branch) leave the checkout as it was.

use std::path::Path;
use std::process::Output;

use git2::{Repository, Signature, StatusOptions};
use tempfile::TempDir;

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

/// A repository on branch `main` with model-service's workflows and a README
/// in one commit.
fn checkout() -> (TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    let mut config = repo.config().unwrap();
    config.set_str("user.name", "Dev").unwrap();
    config.set_str("user.email", "dev@example.com").unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    for f in ["release.yml", "prerelease.yml"] {
        std::fs::write(wf.join(f), fixture("model-service", f)).unwrap();
    }
    std::fs::write(dir.path().join("README.md"), "# svc\n").unwrap();
    commit_all(&repo, "Initial commit");
    (dir, repo)
}

fn commit_all(repo: &Repository, message: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Dev", "dev@example.com").unwrap();
    let parents: Vec<git2::Commit<'_>> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .unwrap()
}

fn scangate(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
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

fn head_name(repo: &Repository) -> String {
    repo.head().unwrap().name().unwrap().to_owned()
}

/// Paths git reports as changed (untracked included), sorted.
fn dirty(repo: &Repository) -> Vec<String> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true);
    let mut out: Vec<String> = repo
        .statuses(Some(&mut opts))
        .unwrap()
        .iter()
        .map(|s| s.path().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn blob(repo: &Repository, commit: &git2::Commit<'_>, path: &str) -> String {
    let entry = commit.tree().unwrap().get_path(Path::new(path)).unwrap();
    let blob = repo.find_blob(entry.id()).unwrap();
    String::from_utf8(blob.content().to_vec()).unwrap()
}

#[test]
fn commits_the_migration_on_a_new_branch() {
    let (dir, repo) = checkout();
    let main = repo.head().unwrap().peel_to_commit().unwrap().id();
    let o = scangate(dir.path(), &["migrate", "--write", "--commit"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("on the new branch `scangate/trivy-gate`"),
        "{}",
        show(&o)
    );
    assert_eq!(head_name(&repo), "refs/heads/scangate/trivy-gate");
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), [main]);
    assert!(scangate::pr::body::is_ours(commit.message().unwrap()));
    for f in ["release.yml", "prerelease.yml"] {
        let path = format!(".github/workflows/{f}");
        let on_disk = std::fs::read_to_string(dir.path().join(&path)).unwrap();
        assert_ne!(on_disk, fixture("model-service", f));
        assert!(on_disk.contains("release-scan") || on_disk.contains("-scan:"));
        assert!(blob(&repo, &commit, &path) == on_disk, "{path} differs");
    }
    assert_eq!(blob(&repo, &commit, "README.md"), "# svc\n");
    // Work tree, index and the new HEAD agree; main is where it was.
    assert!(dirty(&repo).is_empty(), "{:?}", dirty(&repo));
    let main_now = repo.find_branch("main", git2::BranchType::Local).unwrap();
    assert_eq!(main_now.get().target().unwrap(), main);
    // Migrating again finds nothing to do.
    let again = scangate(dir.path(), &["migrate", "--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
}

#[test]
fn other_work_in_progress_is_left_alone() {
    let (dir, repo) = checkout();
    std::fs::write(dir.path().join("README.md"), "# svc, edited\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "draft\n").unwrap();
    std::fs::write(dir.path().join("staged.txt"), "staged\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("staged.txt")).unwrap();
    index.write().unwrap();
    let o = scangate(
        dir.path(),
        &["migrate", "--write", "--commit", "--branch", "ci/trivy"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(head_name(&repo), "refs/heads/ci/trivy");
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(blob(&repo, &commit, "README.md"), "# svc\n");
    assert!(
        commit
            .tree()
            .unwrap()
            .get_path(Path::new("staged.txt"))
            .is_err()
    );
    assert_eq!(dirty(&repo), ["README.md", "notes.txt", "staged.txt"]);
    let status = repo.status_file(Path::new("staged.txt")).unwrap();
    assert!(status.contains(git2::Status::INDEX_NEW));
}

#[test]
fn refusals_leave_the_checkout_as_it_was() {
    type Spoil = fn(&Path, &Repository);
    let cases: [(&str, Spoil, &str); 5] = [
        (
            "unstaged change",
            |d, _| {
                let p = d.join(".github/workflows/release.yml");
                let text = std::fs::read_to_string(&p).unwrap() + "# local edit\n";
                std::fs::write(p, text).unwrap();
            },
            ".github/workflows/release.yml: has changes that are not committed",
        ),
        (
            "staged change",
            |d, r| {
                let p = d.join(".github/workflows/prerelease.yml");
                let text = std::fs::read_to_string(&p).unwrap() + "# staged edit\n";
                std::fs::write(p, text).unwrap();
                let mut index = r.index().unwrap();
                index
                    .add_path(Path::new(".github/workflows/prerelease.yml"))
                    .unwrap();
                index.write().unwrap();
            },
            ".github/workflows/prerelease.yml: has staged changes",
        ),
        (
            "untracked workflow",
            |d, _| {
                std::fs::write(
                    d.join(".github/workflows/new.yml"),
                    fixture("app-service", "release.yml"),
                )
                .unwrap();
            },
            ".github/workflows/new.yml: not tracked by git",
        ),
        (
            "detached HEAD",
            |_, r| {
                let id = r.head().unwrap().target().unwrap();
                r.set_head_detached(id).unwrap();
            },
            "HEAD is detached",
        ),
        (
            "existing branch",
            |_, r| {
                let c = r.head().unwrap().peel_to_commit().unwrap();
                r.branch("scangate/trivy-gate", &c, false).unwrap();
            },
            "branch `scangate/trivy-gate` exists already",
        ),
    ];
    for (name, spoil, message) in cases {
        let (dir, repo) = checkout();
        spoil(dir.path(), &repo);
        let before_dirty = dirty(&repo);
        let before_head = repo.head().unwrap().target().unwrap();
        let snapshot: Vec<String> = ["release.yml", "prerelease.yml"]
            .iter()
            .map(|f| std::fs::read_to_string(dir.path().join(".github/workflows").join(f)).unwrap())
            .collect();
        let o = scangate(dir.path(), &["migrate", "--write", "--commit"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", show(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(message),
            "{name}: {}",
            show(&o)
        );
        assert_eq!(dirty(&repo), before_dirty, "{name}");
        assert_eq!(
            repo.head().unwrap().target().unwrap(),
            before_head,
            "{name}"
        );
        for (f, text) in ["release.yml", "prerelease.yml"].iter().zip(&snapshot) {
            let now =
                std::fs::read_to_string(dir.path().join(".github/workflows").join(f)).unwrap();
            assert!(now == *text, "{name}: {f} was written");
        }
    }
}

#[test]
fn nothing_to_migrate_makes_no_branch() {
    let (dir, repo) = checkout();
    let first = scangate(dir.path(), &["migrate", "--write", "--commit"]);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let o = scangate(
        dir.path(),
        &["migrate", "--write", "--commit", "--branch", "again"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to commit"));
    assert!(repo.find_branch("again", git2::BranchType::Local).is_err());
}

#[test]
fn commit_needs_write_and_a_repository() {
    let (dir, _repo) = checkout();
    let o = scangate(dir.path(), &["migrate", "--commit"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let plain = tempfile::tempdir().unwrap();
    let wf = plain.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("release.yml"),
        fixture("app-service", "release.yml"),
    )
    .unwrap();
    let o = scangate(plain.path(), &["migrate", "--write", "--commit"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not in a git repository"),
        "{}",
        show(&o)
    );
    assert_eq!(
        std::fs::read_to_string(wf.join("release.yml")).unwrap(),
        fixture("app-service", "release.yml")
    );
}
