#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! Hostile inputs through the real command line.
//!
//! scangate edits files that decide what ships and runs unattended in CI, so
//! whatever a workflow file holds, `scangate migrate` (dry run and `--write`)
//! must:
//!
//! * end with exit code 0, 2 or 3 — never a panic, a signal or a hang;
//! * say why on stderr in one line when it ends with 2 or 3;
//! * finish within [`LIMIT`];
//! * leave the file byte for byte as it was unless it wrote a verified
//!   migration, and then keep the file's BOM, line endings and final newline.
//!
//! Small inputs live in `tests/data/hostile/` (every file there is also run by
//! [`every_file_in_the_hostile_folder_survives`], including the inputs the
//! fuzzers found); big ones are generated here at run time.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use tempfile::TempDir;

/// How long one run of scangate may take on any input: a hang guard, not a
/// benchmark (loose enough for a loaded two-core CI machine).
const LIMIT: Duration = Duration::from_secs(60);

/// A small, realistic build-and-push workflow: the shape scangate migrates.
const BUILD_PUSH: &str = "\
name: Release
on:
  push:
    branches: [main]
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v4
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          context: .
          push: true
          tags: ghcr.io/o/r:latest
";

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// A throwaway repository holding one workflow file.
struct Repo {
    dir: TempDir,
    file: PathBuf,
}

impl Repo {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let wf = dir.path().join(".github/workflows");
        fs::create_dir_all(&wf).unwrap();
        let file = wf.join(name);
        fs::write(&file, bytes).unwrap();
        Repo { dir, file }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    /// `None` when killed (by the timeout, or by a signal).
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `scangate migrate --color never ARGS` in `cwd`, killed after [`LIMIT`].
fn scangate(cwd: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let out = Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .arg("migrate")
        .args(["--color", "never"])
        .args(args)
        .timeout(LIMIT)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}

/// What holds for every run on every input: finished in time, no panic,
/// exit 0/2/3, and for 2 or 3 a self-contained message on stderr.
fn check_run(what: &str, run: &Run) -> i32 {
    let Some(code) = run.code else {
        panic!(
            "{what}: killed after {:?} (limit {LIMIT:?}: a hang or a crash by signal)\nstderr:\n{}",
            run.took,
            tail(&run.stderr)
        );
    };
    assert!(
        run.took <= LIMIT,
        "{what}: took {:?}, over the {LIMIT:?} limit",
        run.took
    );
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "{what}: scangate panicked (exit {code}):\n{}",
        tail(&run.stderr)
    );
    assert!(
        !run.stderr.contains("internal error"),
        "{what}: scangate reported an internal error (its own bug, exit {code}):\n{}",
        tail(&run.stderr)
    );
    assert!(
        [0, 2, 3].contains(&code),
        "{what}: exit code {code}, expected 0, 2 or 3\nstderr:\n{}",
        tail(&run.stderr)
    );
    if code != 0 {
        check_message(what, code, &run.stderr);
    }
    code
}

/// Exit 2: each problem is one `error: …` line. Exit 3: each refusal is one
/// `FILE:LINE:COL: needs manual migration …` line, optionally followed by an
/// indented `help:` line.
fn check_message(what: &str, code: i32, stderr: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        !lines.is_empty(),
        "{what}: exit {code} with nothing on stderr"
    );
    for line in &lines {
        assert!(
            line.len() < 2000,
            "{what}: a {}-byte stderr line is no clear message",
            line.len()
        );
    }
    match code {
        2 => assert!(
            lines.iter().any(|l| l.starts_with("error: ")),
            "{what}: exit 2 without an `error: ` line:\n{stderr}"
        ),
        3 => assert!(
            lines.iter().any(|l| l.contains(": needs manual migration")),
            "{what}: exit 3 without a `needs manual migration` line:\n{stderr}"
        ),
        _ => {}
    }
}

/// The last few lines of a long stderr, enough to read a panic.
fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let from = lines.len().saturating_sub(40);
    lines[from..]
        .iter()
        .map(|l| if l.len() > 300 { &l[..300] } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The full contract for one workflow file: a dry run (never writes), then
/// `--write` (writes only a verified migration, keeping the file's
/// conventions). Returns the exit code of the `--write` run and the bytes
/// the file holds afterwards.
fn survives(what: &str, name: &str, bytes: &[u8]) -> (i32, Vec<u8>) {
    let repo = Repo::new(name, bytes);
    let rel = format!(".github/workflows/{name}");

    let dry = scangate(repo.root(), &[&rel]);
    let dry_code = check_run(&format!("{what} (dry run)"), &dry);
    assert_eq!(
        fs::read(&repo.file).unwrap(),
        bytes,
        "{what}: a dry run modified the file"
    );

    let write = scangate(repo.root(), &["--write", &rel]);
    let code = check_run(&format!("{what} (--write)"), &write);
    assert_eq!(
        code, dry_code,
        "{what}: --write ended with {code}, the dry run with {dry_code}\n--write stderr:\n{}",
        write.stderr
    );
    let after = fs::read(&repo.file).unwrap();
    if code != 0 {
        assert_eq!(
            after, bytes,
            "{what}: exit {code} but the file was modified"
        );
    } else if after != bytes {
        check_conventions(what, bytes, &after);
        let again = scangate(repo.root(), &["--check", &rel]);
        assert_eq!(
            again.code,
            Some(0),
            "{what}: migrating the written file again would change it\n{}{}",
            again.stdout,
            again.stderr
        );
    }
    (code, after)
}

/// A written file keeps its BOM, its CRLF line endings and its (missing)
/// final newline, and still parses.
fn check_conventions(what: &str, before: &[u8], after: &[u8]) {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    assert_eq!(
        after.starts_with(BOM),
        before.starts_with(BOM),
        "{what}: BOM not kept"
    );
    assert_eq!(
        after.ends_with(b"\n"),
        before.ends_with(b"\n"),
        "{what}: final newline (or its absence) not kept"
    );
    let crlf = before.windows(2).any(|w| w == b"\r\n");
    if crlf {
        let bare = after
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' && (i == 0 || after[i - 1] != b'\r'))
            .count();
        assert_eq!(bare, 0, "{what}: {bare} line(s) lost their CRLF");
    }
    let body = after.strip_prefix(BOM).unwrap_or(after);
    let text = std::str::from_utf8(body).unwrap();
    if let Err(e) = yaml_serde::from_str::<yaml_serde::Value>(text) {
        panic!("{what}: the written file does not parse: {e}");
    }
}

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hostile")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A deterministic xorshift generator: the same "random" input every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

/// Whether this process can write a file whose permissions forbid it (root,
/// or CAP_DAC_OVERRIDE): then chmod cannot make anything read-only.
fn permissions_are_ignored(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    fs::write(&probe, "x").unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o444)).unwrap();
    let ignored = fs::OpenOptions::new().append(true).open(&probe).is_ok();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o644)).unwrap();
    fs::remove_file(&probe).unwrap();
    ignored
}

// ---------------------------------------------------------------------------
// The baseline: the realistic workflow migrates, in every convention.
// ---------------------------------------------------------------------------

#[test]
fn a_realistic_build_and_push_workflow_migrates() {
    let (code, after) = survives("build-push", "release.yml", BUILD_PUSH.as_bytes());
    assert_eq!(code, 0);
    assert_ne!(after, BUILD_PUSH.as_bytes(), "--write did not migrate it");
}

#[test]
fn crlf_line_endings_are_kept_on_every_line() {
    let bytes = BUILD_PUSH.replace('\n', "\r\n");
    let (code, after) = survives("CRLF", "release.yml", bytes.as_bytes());
    assert_eq!(code, 0);
    assert_ne!(after, bytes.as_bytes(), "--write did not migrate it");
    // check_conventions proved every `\n` follows a `\r`; the new lines too.
    assert!(after.len() > bytes.len());
}

#[test]
fn a_bom_is_kept() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(BUILD_PUSH.as_bytes());
    let (code, after) = survives("BOM", "release.yml", &bytes);
    assert_eq!(code, 0);
    assert!(after.starts_with(b"\xEF\xBB\xBFname: Release\n"));
    assert_ne!(after, bytes, "--write did not migrate it");
}

#[test]
fn a_missing_final_newline_stays_missing() {
    let bytes = BUILD_PUSH.trim_end_matches('\n');
    let (code, after) = survives("no final newline", "release.yml", bytes.as_bytes());
    assert_eq!(code, 0);
    assert_ne!(after, bytes.as_bytes(), "--write did not migrate it");
    assert_ne!(after.last(), Some(&b'\n'));
}

#[test]
fn crlf_bom_and_no_final_newline_together() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(BUILD_PUSH.trim_end().replace('\n', "\r\n").as_bytes());
    let (code, after) = survives("CRLF+BOM+no final newline", "release.yml", &bytes);
    assert_eq!(code, 0);
    assert_ne!(after, bytes, "--write did not migrate it");
}

#[test]
fn mixed_line_endings_are_refused_untouched() {
    let (code, _) = survives("mixed", "release.yml", &data("mixed-line-endings.yml"));
    assert_eq!(code, 3);
}

// ---------------------------------------------------------------------------
// Parser bombs and nesting
// ---------------------------------------------------------------------------

#[test]
fn an_alias_bomb_is_an_error() {
    // "Billion laughs": nine levels of nine aliases, 9^9 leaves if expanded.
    let (code, _) = survives("alias bomb", "release.yml", &data("alias-bomb.yml"));
    assert_eq!(code, 2);
}

#[test]
fn an_alias_bomb_as_the_jobs_value_is_an_error() {
    let mut text = String::from("on: push\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        let items = [prev.as_str(); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    text.push_str("jobs: *a11\n");
    let (code, _) = survives("alias bomb (jobs)", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
}

#[test]
fn flow_nesting_20000_deep_is_an_error() {
    let n = 20_000;
    let text = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    let (code, _) = survives("20,000-deep flow sequences", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
    let text = format!("on: push\njobs: {}x{}\n", "{a: ".repeat(n), "}".repeat(n));
    let (code, _) = survives("20,000-deep flow mappings", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
}

#[test]
fn unclosed_flow_nesting_is_an_error() {
    let text = format!("on: push\njobs: {}\n", "[".repeat(20_000));
    let (code, _) = survives("20,000 unclosed `[`", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
}

/// Beyond the brief's 20,000: the nesting a file under the 4 MiB size limit
/// can hold. Parsing cost must not grow with the square of the depth.
#[test]
fn flow_nesting_200000_deep_within_the_size_limit_is_an_error() {
    let n = 200_000;
    let text = format!("on: push\njobs: {}{}\n", "[".repeat(n), "]".repeat(n));
    assert!(text.len() < 4 * 1024 * 1024);
    let (code, _) = survives(
        "200,000-deep flow sequences",
        "release.yml",
        text.as_bytes(),
    );
    assert_eq!(code, 2);
}

#[test]
fn block_nesting_3000_deep_is_an_error() {
    // Compact block sequences: `- - - … x`, one level per dash.
    let text = format!(
        "on: push\njobs:\n  a:\n    steps:\n      {}x\n",
        "- ".repeat(3000)
    );
    let (code, _) = survives("3,000-deep block sequences", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
    // Block mappings, one space of indentation per level: 3,000 levels need
    // 4.5 MB, over the size limit; 2,000 levels (2 MB) reach the parser.
    for depth in [3000, 2000] {
        let mut text = String::from("on: push\njobs:\n");
        for i in 0..depth {
            text.push_str(&" ".repeat(i + 1));
            text.push_str("k:\n");
        }
        let what = format!("{depth}-deep block mappings ({} bytes)", text.len());
        let (code, _) = survives(&what, "release.yml", text.as_bytes());
        assert_eq!(code, 2, "{what}");
    }
}

#[test]
fn nesting_just_under_the_parser_limit_inside_a_pushing_job() {
    // 100 levels inside the build step's `with:` (the parser stops at 128):
    // the whole pipeline runs on it, and may migrate or refuse.
    let mut deep = String::new();
    for i in 0..100 {
        deep.push_str(&" ".repeat(10 + 2 * i));
        deep.push_str("k:\n");
    }
    deep.push_str(&" ".repeat(210));
    deep.push_str("v\n");
    let text = BUILD_PUSH.replace(
        "          push: true\n",
        &format!("          push: true\n          deep:\n{deep}"),
    );
    survives(
        "100-deep mapping in `with:`",
        "release.yml",
        text.as_bytes(),
    );
}

// ---------------------------------------------------------------------------
// Size
// ---------------------------------------------------------------------------

/// `n` jobs; every `push_every`-th one builds and pushes.
fn many_jobs(n: usize, push_every: usize) -> String {
    let mut text = String::from("name: big\non: push\njobs:\n");
    for i in 0..n {
        if push_every > 0 && i % push_every == 0 {
            text.push_str(&format!(
                "  job{i}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: ghcr.io/o/r{i}:latest\n"
            ));
        } else {
            text.push_str(&format!(
                "  job{i}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - name: Step {i}\n        run: echo {i}\n"
            ));
        }
    }
    text
}

#[test]
fn a_30_mb_workflow_is_refused_quickly() {
    let mut text = many_jobs(300_000, 1000);
    assert!(text.len() > 30_000_000, "{}", text.len());
    text.truncate(text[..30_000_000].rfind('\n').unwrap() + 1);
    let (code, _) = survives("30 MB workflow", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
}

#[test]
fn a_workflow_just_under_the_size_limit() {
    let mut n = 30_000;
    let text = loop {
        let text = many_jobs(n, 0);
        if text.len() < 4 * 1024 * 1024 {
            break text;
        }
        n -= 1000;
    };
    let start = Instant::now();
    let (code, _) = survives("~4 MB workflow", "release.yml", text.as_bytes());
    eprintln!(
        "note: {n} jobs, {} bytes: dry run and --write in {:?}",
        text.len(),
        start.elapsed()
    );
    assert_eq!(code, 0);
}

/// Many jobs that each build and push: every one is rewritten in turn.
#[test]
fn a_workflow_with_many_pushing_jobs() {
    let text = many_jobs(200, 1);
    survives("200 pushing jobs", "release.yml", text.as_bytes());
}

/// Hundreds of build-and-push steps in one job: refused (each image would
/// be an artifact of its own), without reading each build.
#[test]
fn a_job_with_hundreds_of_build_steps() {
    let mut text = String::from("on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n");
    for i in 0..300 {
        text.push_str(&format!(
            "      - id: b{i}\n        uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: ghcr.io/o/r{i}:latest\n"
        ));
    }
    let (code, _) = survives("300 build steps", "release.yml", text.as_bytes());
    assert_eq!(code, 3);
}

#[test]
fn two_pushing_jobs() {
    let text = many_jobs(2, 1);
    let (code, _) = survives("two pushing jobs", "release.yml", text.as_bytes());
    assert_eq!(code, 0);
}

/// `needs:` chains are walked for every job to see whether a gate stands
/// before its push; that walk must not be quadratic (or worse) in the jobs.
#[test]
fn a_long_needs_chain() {
    let mut text = String::from("on: push\njobs:\n");
    for i in 0..4000 {
        let needs = if i > 0 {
            format!("    needs: job{}\n", i - 1)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "  job{i}:\n{needs}    runs-on: x\n    steps:\n      - run: echo {i}\n"
        ));
    }
    text.push_str("  release:\n    needs: job3999\n    runs-on: x\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: ghcr.io/o/r:latest\n");
    survives("4,000-job needs chain", "release.yml", text.as_bytes());
}

#[test]
fn a_workflows_folder_with_10000_files() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    for i in 0..10_000 {
        fs::write(
            wf.join(format!("w{i:05}.yml")),
            format!("on: push\njobs: {{a{i}: {{runs-on: x, steps: [{{run: echo {i}}}]}}}}\n"),
        )
        .unwrap();
    }
    let dry = scangate(dir.path(), &["."]);
    eprintln!("note: 10,000 workflow files, dry run: {:?}", dry.took);
    assert_eq!(
        check_run("10,000 files (dry run)", &dry),
        0,
        "{}",
        dry.stderr
    );
    let write = scangate(dir.path(), &["--write", "."]);
    eprintln!("note: 10,000 workflow files, --write: {:?}", write.took);
    assert_eq!(
        check_run("10,000 files (--write)", &write),
        0,
        "{}",
        write.stderr
    );
    let json = scangate(dir.path(), &["--format", "json", "."]);
    eprintln!(
        "note: 10,000 workflow files, --format json: {:?}",
        json.took
    );
    assert_eq!(check_run("10,000 files (json)", &json), 0);
    assert_eq!(json.stdout.matches("\"path\"").count(), 10_000);
}

// ---------------------------------------------------------------------------
// Not text, not YAML, not a workflow
// ---------------------------------------------------------------------------

#[test]
fn random_bytes_are_an_error() {
    let mut rng = XorShift(0x5CA7_6A7E);
    for size in [1, 16, 512, 4096, 65_536] {
        let bytes: Vec<u8> = (0..size).map(|_| (rng.next() >> 24) as u8).collect();
        let what = format!("{size} random bytes");
        let (code, _) = survives(&what, "release.yml", &bytes);
        // One random byte may be valid ASCII; longer ones never are UTF-8.
        if size > 16 {
            assert_eq!(code, 2, "{what}");
        }
    }
}

#[test]
fn random_yaml_token_soup() {
    const TOKENS: &[&str] = &[
        "\n",
        "\n",
        "\n",
        "  ",
        "  ",
        "    ",
        "- ",
        "-",
        ": ",
        ":",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&a ",
        "*a",
        "&b ",
        "*b",
        "!!str ",
        "!x ",
        "? ",
        "# c",
        "'",
        "\"",
        "|",
        ">-",
        "\t",
        "\r\n",
        "---\n",
        "...\n",
        "%YAML 1.2\n",
        "jobs",
        "steps",
        "on",
        "push",
        "true",
        "runs-on",
        "uses",
        "with",
        "tags",
        "needs",
        "if",
        "x",
        "\u{e9}",
        "\u{feff}",
        "docker/build-push-action@v6",
        "ghcr.io/o/r:latest",
        "run: docker push x",
        "jobs:\n  a:\n    steps:\n      - ",
        "uses: docker/build-push-action@v6\n        with:\n          push: true\n",
    ];
    let mut rng = XorShift(0xB0B5_1EDD);
    for round in 0..40 {
        let mut text = String::from(if round % 2 == 0 { BUILD_PUSH } else { "" });
        for _ in 0..rng.below(200) {
            let at = rng.below(text.len() + 1);
            if text.is_char_boundary(at) {
                text.insert_str(at, TOKENS[rng.below(TOKENS.len())]);
            }
        }
        survives(
            &format!("token soup #{round}"),
            "release.yml",
            text.as_bytes(),
        );
    }
}

#[test]
fn latin1_is_an_error() {
    let (code, _) = survives("Latin-1", "release.yml", &data("latin1.yml"));
    assert_eq!(code, 2);
}

#[test]
fn nul_bytes_are_an_error() {
    let (code, _) = survives("NUL byte", "release.yml", &data("nul-byte.yml"));
    assert_eq!(code, 2);
    let (code, _) = survives("only NULs", "release.yml", &[0; 64]);
    assert_eq!(code, 2);
}

#[test]
fn an_empty_file_is_left_alone() {
    let (code, after) = survives("empty", "release.yml", b"");
    assert_eq!(code, 0);
    assert!(after.is_empty());
}

#[test]
fn a_file_of_comments_is_left_alone() {
    let bytes = data("comments-only.yml");
    let (code, after) = survives("comments only", "release.yml", &bytes);
    assert_eq!(code, 0);
    assert_eq!(after, bytes);
}

#[test]
fn tab_indentation_is_an_error() {
    let (code, _) = survives("tab indentation", "release.yml", &data("tab-indented.yml"));
    assert_eq!(code, 2);
}

#[test]
fn duplicate_keys_are_an_error() {
    // GitHub rejects a workflow with a duplicate key; so does scangate.
    let (code, _) = survives(
        "duplicate job key",
        "release.yml",
        &data("duplicate-keys.yml"),
    );
    assert_eq!(code, 2);
    let text = format!("{BUILD_PUSH}  release:\n    runs-on: x\n    steps:\n      - run: echo\n");
    let (code, _) = survives("duplicate job", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
    let text = BUILD_PUSH.replace(
        "          push: true\n",
        "          push: true\n          push: false\n",
    );
    let (code, _) = survives("duplicate `push`", "release.yml", text.as_bytes());
    assert_eq!(code, 2);
}

#[test]
fn jobs_as_a_list_is_left_alone() {
    let bytes = data("jobs-as-list.yml");
    let (code, after) = survives("jobs as a list", "release.yml", &bytes);
    assert_eq!(after, bytes);
    assert!([0, 2].contains(&code));
}

#[test]
fn steps_as_a_string() {
    let text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps: \"docker push x\"\n";
    survives("steps as a string", "release.yml", text.as_bytes());
    // Next to a job that pushes: that job is still migrated (or refused).
    survives(
        "steps as a string + a pushing job",
        "release.yml",
        &data("steps-as-string.yml"),
    );
}

#[test]
fn odd_shapes_around_a_push() {
    let cases: &[(&str, String)] = &[
        ("jobs: null", "on: push\njobs:\n".into()),
        ("job: null", "on: push\njobs:\n  a:\n".into()),
        ("steps: null", "on: push\njobs:\n  a:\n    steps:\n".into()),
        ("step: scalar", "on: push\njobs:\n  a:\n    steps:\n      - docker push x\n".into()),
        ("with: list", BUILD_PUSH.replace("          context: .\n          push: true\n          tags: ghcr.io/o/r:latest\n", "          - push: true\n")),
        ("with: string", BUILD_PUSH.replace("        with:\n          context: .\n          push: true\n          tags: ghcr.io/o/r:latest\n", "        with: push\n")),
        ("push: list", BUILD_PUSH.replace("push: true", "push: [true]")),
        ("tags: mapping", BUILD_PUSH.replace("tags: ghcr.io/o/r:latest", "tags: {a: b}")),
        ("uses: number", BUILD_PUSH.replace("uses: docker/build-push-action@v6", "uses: 6")),
        ("numeric job id", BUILD_PUSH.replace("  release:\n", "  123:\n")),
        ("quoted job id", BUILD_PUSH.replace("  release:\n", "  \"release\":\n")),
        ("non-ASCII job id", BUILD_PUSH.replace("  release:\n", "  r\u{e9}l\u{e9}ase:\n")),
        ("emoji everywhere", BUILD_PUSH.replace("Build and push", "Build \u{1F680} and push \u{1F4E6}")),
        ("multi-document", format!("{BUILD_PUSH}---\n{BUILD_PUSH}")),
        ("document end marker", format!("{BUILD_PUSH}...\n")),
        ("tagged job", BUILD_PUSH.replace("  release:\n", "  release: !!map\n")),
        ("anchored job", BUILD_PUSH.replace("  release:\n", "  release: &r\n")),
        ("merge key", BUILD_PUSH.replace("    runs-on: ubuntu-latest\n", "    <<: {runs-on: ubuntu-latest}\n")),
        ("complex key", BUILD_PUSH.replace("  release:\n", "  ? release\n  :\n")),
    ];
    for (what, text) in cases {
        survives(what, "release.yml", text.as_bytes());
    }
}

#[test]
fn a_one_megabyte_line() {
    let tag = format!("ghcr.io/o/r:{}", "x".repeat(1_000_000));
    let text = BUILD_PUSH.replace("ghcr.io/o/r:latest", &tag);
    survives("1 MB line", "release.yml", text.as_bytes());
}

/// 20,000 steps (380 KB); 100,000 took 2.5 s and 340 MB in a release build.
#[test]
fn twenty_thousand_steps_in_the_pushing_job() {
    let steps = "      - run: echo\n".repeat(20_000);
    let text = BUILD_PUSH.replace("      - uses: actions/checkout@v4\n", &steps);
    survives("20,000 steps", "release.yml", text.as_bytes());
}

#[test]
fn a_thousand_jobs_need_the_pushing_job() {
    let mut text = BUILD_PUSH.to_owned();
    for i in 0..1000 {
        text.push_str(&format!(
            "  after{i}:\n    needs: release\n    runs-on: x\n    steps:\n      - run: echo\n"
        ));
    }
    survives(
        "1,000 jobs need the pushing job",
        "release.yml",
        text.as_bytes(),
    );
}

// ---------------------------------------------------------------------------
// The file system
// ---------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_symbolic_link_to_a_file_outside_the_repository_is_never_written_through() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("release.yml");
    fs::write(&target, BUILD_PUSH).unwrap();
    let repo = Repo::new("placeholder.yml", b"on: push\njobs: {}\n");
    let link = repo.file.with_file_name("release.yml");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    for arg in [".github/workflows/release.yml", "."] {
        let run = scangate(repo.root(), &["--write", arg]);
        let code = check_run(&format!("symlink --write {arg}"), &run);
        assert_eq!(code, 2, "--write {arg} through a link: {}", run.stderr);
        assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            BUILD_PUSH,
            "the link's target was written"
        );
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link was replaced"
        );
    }
    // A dry run only reads: it may show the diff.
    let run = scangate(repo.root(), &[".github/workflows/release.yml"]);
    check_run("symlink dry run", &run);
    assert_eq!(fs::read_to_string(&target).unwrap(), BUILD_PUSH);
}

#[cfg(unix)]
#[test]
fn a_dangling_symbolic_link_is_an_error() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("missing.yml");
    let repo = Repo::new("placeholder.yml", b"on: push\njobs: {}\n");
    let link = repo.file.with_file_name("release.yml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // Named on the command line: it cannot be read.
    for args in [
        &[".github/workflows/release.yml"][..],
        &["--write", ".github/workflows/release.yml"][..],
    ] {
        let run = scangate(repo.root(), args);
        assert_eq!(
            check_run("dangling link by name", &run),
            2,
            "{}",
            run.stderr
        );
    }
    // Found in the folder: skipped or an error, never followed by a write.
    for args in [&["."][..], &["--write", "."][..]] {
        let run = scangate(repo.root(), args);
        let code = check_run("dangling link in the folder", &run);
        assert!([0, 2].contains(&code), "{code}: {}", run.stderr);
    }
    assert!(
        !target.exists(),
        "--write created the dangling link's target"
    );
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_file_with_write() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new("release.yml", BUILD_PUSH.as_bytes());
    fs::set_permissions(&repo.file, fs::Permissions::from_mode(0o444)).unwrap();
    let run = scangate(repo.root(), &["--write", "."]);
    let code = check_run("read-only file", &run);
    let after = fs::read(&repo.file).unwrap();
    if permissions_are_ignored(repo.root()) {
        eprintln!(
            "note: running with permission checks bypassed (root): a read-only file does not stop writes; checked only that the run ends cleanly (exit {code})"
        );
        if code != 0 {
            assert_eq!(after, BUILD_PUSH.as_bytes());
        }
    } else {
        assert_eq!(code, 2, "a read-only file was written: {}", run.stderr);
        assert_eq!(after, BUILD_PUSH.as_bytes());
    }
}

#[cfg(unix)]
#[test]
fn a_read_only_folder_with_write() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new("release.yml", BUILD_PUSH.as_bytes());
    let folder = repo.file.parent().unwrap().to_path_buf();
    let ignored = permissions_are_ignored(repo.root());
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o555)).unwrap();
    let run = scangate(repo.root(), &["--write", "."]);
    let leftovers = fs::read_dir(&folder).unwrap().count();
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();
    let code = check_run("read-only folder", &run);
    let after = fs::read(&repo.file).unwrap();
    assert_eq!(leftovers, 1, "a temporary file was left in the folder");
    if ignored {
        eprintln!(
            "note: running with permission checks bypassed (root): a read-only folder does not stop writes; checked only that the run ends cleanly (exit {code})"
        );
        if code != 0 {
            assert_eq!(after, BUILD_PUSH.as_bytes());
        }
    } else {
        assert_eq!(
            code, 2,
            "a file in a read-only folder was written: {}",
            run.stderr
        );
        assert_eq!(after, BUILD_PUSH.as_bytes());
    }
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new("release.yml", BUILD_PUSH.as_bytes());
    fs::set_permissions(&repo.file, fs::Permissions::from_mode(0o000)).unwrap();
    let run = scangate(repo.root(), &["--write", "."]);
    let code = check_run("unreadable file", &run);
    fs::set_permissions(&repo.file, fs::Permissions::from_mode(0o644)).unwrap();
    if permissions_are_ignored(repo.root()) {
        eprintln!("note: running as root: an unreadable file is readable (exit {code})");
    } else {
        assert_eq!(code, 2, "{}", run.stderr);
        assert_eq!(fs::read(&repo.file).unwrap(), BUILD_PUSH.as_bytes());
    }
}

#[test]
fn a_workflow_that_is_a_folder_or_a_fifo_is_skipped_or_an_error() {
    let repo = Repo::new("placeholder.yml", b"on: push\njobs: {}\n");
    fs::create_dir(repo.file.with_file_name("folder.yml")).unwrap();
    let run = scangate(repo.root(), &["--write", "."]);
    check_run("a folder named *.yml", &run);
    #[cfg(unix)]
    {
        let fifo = repo.file.with_file_name("fifo.yml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Nothing ever writes to the FIFO: reading it would block forever.
            let run = scangate(repo.root(), &["--write", "."]);
            check_run("a FIFO named *.yml", &run);
            let run = scangate(repo.root(), &[".github/workflows/fifo.yml"]);
            check_run("a FIFO named *.yml, by name", &run);
        } else {
            eprintln!("note: mkfifo unavailable; FIFO case skipped");
        }
    }
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = scangate(dir.path(), &["--write", "no/such/file.yml"]);
    assert_eq!(check_run("missing path", &run), 2);
    let run = scangate(dir.path(), &["."]);
    assert_eq!(check_run("no .github/workflows", &run), 2);
}

// ---------------------------------------------------------------------------
// Every stored hostile input, including the fuzzers' findings
// ---------------------------------------------------------------------------

/// Every file under `tests/data/hostile/` (hand-written inputs and, in
/// `fuzz/`, the minimized inputs the fuzz targets crashed on) goes through
/// the CLI without a panic, a hang or a damaged file.
#[test]
fn every_file_in_the_hostile_folder_survives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile");
    let mut files = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 10,
        "{} files in {}",
        files.len(),
        root.display()
    );
    // Run them all, then report every failure at once.
    let mut failures = Vec::new();
    let total = files.len();
    for path in files {
        let bytes = fs::read(&path).unwrap();
        let what = path.strip_prefix(&root).unwrap().display().to_string();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            survives(&what, "release.yml", &bytes);
        }));
        if let Err(panic) = run {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(message);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} stored hostile inputs failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
