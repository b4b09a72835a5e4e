//! `ko build` / `ko publish` in a `run:` script: builds a Go image and
//! pushes it to `KO_DOCKER_REPO` in one command. The build job keeps the
//! command, renamed to a stand-in (`scangate-ko build …`, the rest of the
//! line as written) that runs the same ko command with `--push=false
//! --tarball`, loads the tarball into the Docker daemon and records every
//! tag of it as `scangate-record-push` records a `docker push`; from there
//! the image is saved, scanned and pushed as a script's is.
//!
//! `ko resolve|apply|create|run` build, push and write or deploy YAML that
//! names the pushed digests in one command: they are refused. A ko command
//! that keeps the image local (`--push=false`, `--local`/`-L`, `ko.local`)
//! pushes nothing.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::run_script::under_condition;
use super::tarball::{Builder, BuilderStep, WithoutLogin, command_at};
use super::{Found, Shape, Verdict};
use crate::gate::{self, Push};

/// A ko command that may push, with its subcommand.
static KO: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests below.
    Regex::new(r"\bko\s+(build|publish|resolve|apply|create|run)\b").expect("static regex")
});
/// What the rewrite renames: `ko build` / `ko publish`, the subcommand kept.
static KO_BUILD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bko(\s+(?:build|publish)\b)").expect("static regex"));
static LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"--push[= ]false\b|--local\b|(?:^|\s)-L(?:\s|$)|\bko\.local\b")
        .expect("static regex")
});
/// A command that starts with `sudo` or `env`, and so runs the command it is
/// given (ko): sudo resets the PATH, and both hide the command's name.
static WRAPPED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(sudo|env)\s").expect("static regex"));
/// A redirection of the command's standard output (not of its errors alone).
static STDOUT_REDIRECT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^2&>])>|&>").expect("static regex"));

/// The stand-in that the build job runs instead of `ko`.
pub const STAND_IN: &str = "scangate-ko";

/// ko's flags that take no value; any other flag written without `=` takes
/// the next word.
const SWITCHES: &[&str] = &[
    "--bare",
    "-B",
    "--base-import-paths",
    "-P",
    "--preserve-import-paths",
    "-L",
    "--local",
    "--push",
    "--insecure-registry",
    "--disable-optimizations",
    "--debug",
    "-v",
    "--verbose",
];

const GATE_BY_HAND: &str = "or gate the job by hand";

/// The ko commands of `script`, but not the stand-in's (`scangate-ko build`
/// is a migrated step, which pushes nothing).
fn ko_commands(script: &str) -> impl Iterator<Item = regex::Captures<'_>> {
    KO.captures_iter(script).filter(move |c| {
        c.get(0)
            .is_some_and(|m| !script[..m.start()].ends_with("scangate-"))
    })
}

/// `script` with `ko build` / `ko publish` renamed to the stand-in and
/// followed by `--push=false`, on lines that are not comments; everything
/// else stays as written. What the build job runs instead, and what
/// verification expects of the step. The flag, which the stand-in passes on
/// to ko with its own `--tarball`, says on the line itself what every reader
/// of the workflow (a person, a scanner, `scangate check`) must know: this
/// step pushes nothing.
pub fn build_for_the_scan(script: &str) -> String {
    super::rename_command(script, &KO_BUILD, &format!("{STAND_IN}$1 --push=false"))
}

/// The images the `ko build` / `ko publish` commands of `script` push (and,
/// migrated, their stand-ins record), where ko's naming makes them known
/// without the Go module: `$KO_DOCKER_REPO` itself with `--bare`,
/// `$KO_DOCKER_REPO/BASE` with `-B` and a literal import path. Other names
/// (`-P`, the default `BASE-MD5`) need the module's path: not listed.
pub fn pushed_images(script: &str) -> Vec<String> {
    let body = gate::shell_body(script);
    let masked = super::mask_quoted(&body);
    KO_BUILD
        .find_iter(&masked)
        .filter_map(|m| {
            let migrated = masked[..m.start()].ends_with("scangate-");
            let command = &body[m.start()..m.start() + command_at(&masked, m.start()).len()];
            (migrated || !LOCAL.is_match(command)).then(|| named(command))
        })
        .flatten()
        .collect()
}

/// The names one ko command gives its images, as [`pushed_images`] says.
fn named(command: &str) -> Vec<String> {
    let words: Vec<&str> = super::shell_words(command).into_iter().skip(2).collect();
    let (mut bare, mut base, mut preserve, mut paths) = (false, false, false, Vec::new());
    let mut n = 0;
    while n < words.len() {
        let word = words[n].trim_matches(['"', '\'']);
        n += 1;
        if !word.starts_with('-') {
            paths.push(word);
            continue;
        }
        let flag = word.split_once('=').map_or(word, |(f, _)| f);
        match flag {
            "--bare" => bare = true,
            "-B" | "--base-import-paths" => base = true,
            "-P" | "--preserve-import-paths" => preserve = true,
            _ if !word.contains('=') && !SWITCHES.contains(&flag) => n += 1,
            _ => {}
        }
    }
    let paths = if paths.is_empty() { vec!["."] } else { paths };
    paths
        .into_iter()
        .filter_map(|path| match (preserve, base, bare) {
            (true, _, _) => None,
            (false, true, _) => {
                let name = path.trim_end_matches('/').rsplit('/').next()?;
                (!name.is_empty() && !name.starts_with(['.', '$']))
                    .then(|| format!("$KO_DOCKER_REPO/{}", name.to_lowercase()))
            }
            (false, false, true) => Some("$KO_DOCKER_REPO".to_owned()),
            _ => None,
        })
        .collect()
}

/// The shape: `ko build` / `ko publish` in `run:` scripts.
pub struct Ko;

impl Shape for Ko {
    fn id(&self) -> &'static str {
        KO_SHAPE
    }

    fn label(&self) -> &'static str {
        "ko build"
    }

    fn push(&self, job: &Mapping, step: &Mapping, script: Option<&str>) -> Option<Found> {
        let script = script?;
        if [step, job].iter().any(|m| local_repository(m)) {
            return None;
        }
        ko_commands(script).find_map(|c| {
            let at = c.get(0)?.start();
            let command = command_at(script, at);
            // `KO_DOCKER_REPO=ko.local ko build` keeps it local too.
            let line_start = script[..at].rfind('\n').map_or(0, |n| n + 1);
            let local = LOCAL.is_match(&script[line_start..at + command.len()]);
            (!local).then(|| Found {
                at,
                what: gate::one_line(command),
            })
        })
    }

    fn in_script(&self) -> bool {
        true
    }

    fn several_per_job(&self) -> bool {
        true
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        super::tarball::read(&BUILDER, job_id, job, pushes)
    }
}

/// Whether the `env:` of a step or job sets `KO_DOCKER_REPO` to the local
/// daemon (`ko.local`): then ko pushes nothing.
fn local_repository(m: &Mapping) -> bool {
    m.get("env")
        .and_then(|e| e.get("KO_DOCKER_REPO"))
        .and_then(gate::scalar)
        .is_some_and(|r| r == "ko.local" || r.starts_with("ko.local/"))
}

/// The shape's id, which detection writes on the pushes it finds.
const KO_SHAPE: &str = "ko";

/// ko, to the common rewrite of builders that push by themselves.
static BUILDER: Builder = Builder {
    name: "ko",
    prepare: "ko-prepare.yml",
    record: None,
    edit: build_for_the_scan,
    read_one,
    without_login: WithoutLogin {
        reason: "no step before ko logs in to the registry (ko logs in by itself, with `ko login` or ko-build/setup-ko's login when `KO_DOCKER_REPO` is unset); split, the push job would have no credentials",
        hint: "log in with docker/login-action (or `docker login`) before ko, which the push job repeats, or gate the job by hand",
        one_job: true,
    },
    // ko builds an image index for several platforms (or platforms known
    // only at run time, `all` among them), which no tarball holds (ko:
    // "there's no way to write an index to a tarball").
    index: Some("ko-index-prepare.yml"),
};

/// One ko step, checked: a single `ko build` / `ko publish` of one import
/// path and one platform, run from the PATH, whose output nothing reads and
/// that nothing follows. Returns the command; else the reason and the hint.
fn read_one(step: &Mapping) -> Result<BuilderStep, (String, String)> {
    let refuse = |reason: String, hint: &str| Err((reason, hint.to_owned()));
    let run = step.get("run").and_then(Value::as_str).unwrap_or_default();
    let body = gate::shell_body(run);
    let commands: Vec<regex::Captures<'_>> = ko_commands(&body).collect();
    let (Some(first), None) = (commands.first(), commands.get(1)) else {
        return refuse(
            "this step runs several ko commands; scangate gates one ko build per step".into(),
            &format!("run each ko build in a step of its own, {GATE_BY_HAND}"),
        );
    };
    let (Some(m), Some(sub)) = (first.get(0), first.get(1)) else {
        return refuse("the ko command could not be read".into(), GATE_BY_HAND);
    };
    // Operators inside quotes or substitutions belong to an argument.
    let masked = super::mask_quoted(&body);
    let command = &body[m.start()..m.start() + command_at(&masked, m.start()).len()];
    let what = gate::one_line(command);
    if sub.as_str() != "build" && sub.as_str() != "publish" {
        return refuse(
            format!(
                "`{what}`: `ko {}` builds, pushes and writes or deploys YAML naming the pushed digests in one command; scangate rewrites `ko build` and `ko publish` only",
                sub.as_str()
            ),
            &format!(
                "build with `ko build` in a step of its own (scangate gates it) and resolve the YAML after the push job, {GATE_BY_HAND}"
            ),
        );
    }
    if build_for_the_scan(run) == run {
        return refuse(
            format!(
                "`{what}`: `ko` and its subcommand are on different lines, so the rewrite cannot rename the command"
            ),
            &format!("write `ko {}` on one line, {GATE_BY_HAND}", sub.as_str()),
        );
    }
    let line_start = body[..m.start()].rfind('\n').map_or(0, |n| n + 1);
    let before = &body[line_start..m.start()];
    if before.ends_with('/') {
        return refuse(
            format!(
                "`{what}`: ko is run by its path; scangate's stand-in replaces the `ko` on the PATH"
            ),
            &format!(
                "run `ko` from the PATH (ko-build/setup-ko installs it there), {GATE_BY_HAND}"
            ),
        );
    }
    // The command ko is the argument of: the text after the last operator.
    let wrapper = before.rsplit([';', '&', '|', '(']).next().unwrap_or(before);
    if let Some(c) = WRAPPED.captures(wrapper) {
        return refuse(
            format!(
                "`{what}` runs through `{}`, which would not find scangate's stand-in for `ko` on the PATH",
                &c[1]
            ),
            &format!("run `ko` itself, setting variables with the step's `env:`, {GATE_BY_HAND}"),
        );
    }
    const DIGEST_HINT: &str = "after the migration the push job pushes the scanned image; read the pushed digest from its outputs (`needs.<job>.outputs.digest`) instead of ko's output, or gate the job by hand";
    let line_end = body[m.end()..]
        .find('\n')
        .map_or(body.len(), |n| m.end() + n);
    let after = &masked[m.end()..line_end];
    let piped = after.split("||").any(|part| part.contains('|'));
    if before.contains("$(") || before.contains('`') || piped || STDOUT_REDIRECT.is_match(after) {
        return refuse(
            format!(
                "`{what}`: ko's output (the pushed image's digest) is captured; after the rewrite the image is pushed later by the push job, with another digest, so whatever reads ko's output would get the wrong one"
            ),
            DIGEST_HINT,
        );
    }
    if let Some(next) = super::tarball::command_after(&body, &masked, m.end()) {
        return refuse(
            format!(
                "`{}` follows `{what}` in the same step; it would now run before the scan",
                next.trim()
            ),
            "move the commands after ko to a step of their own after it",
        );
    }
    if under_condition(run, &KO) {
        return refuse(
            format!("`{what}` runs only under a shell condition"),
            &format!("move the condition to the step's or the job's `if:`, {GATE_BY_HAND}"),
        );
    }
    let builds_index =
        check_arguments(command).map_err(|(reason, hint)| (format!("`{what}`: {reason}"), hint))?;
    Ok(BuilderStep {
        command: what,
        builds_index,
    })
}

/// Refuses arguments the rewrite cannot keep: outputs of ko's own
/// (`--tarball`, `--oci-layout-path`, `--image-refs`) and several import
/// paths (one image per step). Says whether the command builds several
/// platforms or platforms known only at run time (an index).
fn check_arguments(command: &str) -> Result<bool, (String, String)> {
    // Redirections (of errors: `read_one` refuses the others) are no arguments.
    let command = match command.find(['<', '>']) {
        Some(at) => command[..at].trim_end_matches(|c: char| c.is_ascii_digit()),
        None => command,
    };
    let words: Vec<&str> = super::shell_words(command).into_iter().skip(2).collect();
    let mut paths = Vec::new();
    let mut platforms = Vec::new();
    let mut n = 0;
    while n < words.len() {
        let word = words[n];
        n += 1;
        let bare = word.trim_matches(['"', '\'']);
        // A word known only at run time (`${{ steps.v.outputs.tags }}`,
        // `$TAGS`) may hold flags as well as paths: the stand-in fails the
        // step when the tarball holds several images.
        if bare.starts_with('$') {
            continue;
        }
        if !bare.starts_with('-') {
            paths.push(bare);
            continue;
        }
        let (flag, value) = match bare.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None if SWITCHES.contains(&bare) => (bare, None),
            None => {
                n += 1;
                (bare, words.get(n - 1).map(|v| v.trim_matches(['"', '\''])))
            }
        };
        match flag {
            "--tarball" | "--oci-layout-path" => {
                return Err((
                    format!(
                        "the step already writes the image with `{flag}`; the rewrite writes its own tarball"
                    ),
                    format!(
                        "drop `{flag}` (scangate saves the image for the scan), {GATE_BY_HAND}"
                    ),
                ));
            }
            "--image-refs" => {
                return Err((
                    "`--image-refs` writes the pushed references with their digests; after the rewrite the push job pushes later, with another digest".into(),
                    format!("drop it and read the pushed digest from the push job's outputs, {GATE_BY_HAND}"),
                ));
            }
            "--platform" => platforms.extend(value),
            _ => {}
        }
    }
    if paths.len() > 1 || paths.iter().any(|p| p.contains("...")) {
        return Err((
            "it builds several import paths; scangate gates one image per ko step".into(),
            format!("build each import path in a step of its own, {GATE_BY_HAND}"),
        ));
    }
    Ok(platforms.len() > 1
        || platforms
            .iter()
            .any(|p| p.contains(',') || *p == "all" || p.contains('$')))
}

#[cfg(test)]
mod tests {
    use super::super::{Format, Platforms, Tool, Unsupported};
    use super::*;

    use super::super::tests::first_verdict as verdict;

    const HEAD: &str = "    env:\n      KO_DOCKER_REPO: ghcr.io/acme\n    steps:\n      - uses: docker/login-action@v4\n";

    fn job(script: &str) -> String {
        super::super::tests::script_job("ko", HEAD, script)
    }

    fn refused(script: &str) -> Unsupported {
        super::super::tests::refused_script("ko", HEAD, script)
    }

    #[test]
    fn only_the_command_is_renamed() {
        assert_eq!(
            build_for_the_scan("ko build ./cmd/app --bare --tags v1,latest\n"),
            "scangate-ko build --push=false ./cmd/app --bare --tags v1,latest\n"
        );
        assert_eq!(
            build_for_the_scan("# ko build x\necho ko  publish -B .\n"),
            "# ko build x\necho scangate-ko  publish --push=false -B .\n"
        );
        // The stand-in is no push of its own.
        let migrated = "scangate-ko build --bare ./cmd/app";
        assert!(
            Ko.push(&Mapping::new(), &Mapping::new(), Some(migrated))
                .is_none()
        );
        assert!(
            Ko.push(&Mapping::new(), &Mapping::new(), Some("ko build --bare ."))
                .is_some()
        );
    }

    #[test]
    fn a_ko_build_is_one_image_of_its_step() {
        let site = verdict(&job(
            "ko build --bare --tags \"${GITHUB_REF_NAME},latest\" ./cmd/app",
        ))
        .unwrap();
        assert_eq!(site.format(), Format::DockerArchive(Tool::Docker));
        assert_eq!(site.images().len(), 1);
        assert_eq!(site.images()[0].step, Some(1));
        let publish = verdict(&job("ko publish -B --platform=linux/arm64 .\necho done")).unwrap();
        assert_eq!(publish.first_step(), 1);
        let two = format!(
            "{}      - id: worker\n        run: ko build -P ./cmd/worker\n",
            job("ko build --bare ./cmd/app")
        );
        let site = verdict(&two).unwrap();
        let images = site.images();
        assert_eq!(images.len(), 2);
        assert_eq!(images[1].step_id.as_deref(), Some("worker"));
    }

    #[test]
    fn what_the_rewrite_cannot_keep_is_refused_with_its_cause() {
        for (script, cause) in [
            (
                "ko resolve -f config/ > release.yaml",
                "`ko resolve` builds, pushes",
            ),
            ("ko apply -f config/", "`ko apply`"),
            ("ko build ./cmd/app ./cmd/worker", "several import paths"),
            ("ko build ./cmd/...", "several import paths"),
            ("ko build . && ko build ./cmd/w", "several ko commands"),
            ("ko build .\ngit tag v1", "`git tag v1` follows"),
            ("ko build . && git push --tags", "`git push --tags` follows"),
            ("ko build --tarball=x.tar .", "`--tarball`"),
            ("ko build --oci-layout-path out .", "`--oci-layout-path`"),
            ("ko build --image-refs refs.txt .", "`--image-refs`"),
            ("./bin/ko build .", "by its path"),
            ("ko \\\n  build --bare .", "on different lines"),
            ("sudo -E ko build .", "through `sudo`"),
            ("cd /src; sudo -E ko build .", "through `sudo`"),
            ("env GOFLAGS=-mod=mod ko build .", "through `env`"),
            ("IMAGE=$(ko build --bare .)", "output"),
            (
                "echo \"image=`ko build .`\" >> \"$GITHUB_OUTPUT\"",
                "output",
            ),
            ("ko build . | tee image.txt", "output"),
            ("ko build . > image.txt", "output"),
            ("ko build . >> \"$GITHUB_OUTPUT\"", "output"),
            (
                "if [ -n \"$T\" ]; then\n  ko build .\nfi",
                "under a shell condition",
            ),
        ] {
            let r = refused(script);
            assert!(r.reason.contains(cause), "{script}: {}", r.reason);
            assert_eq!(r.step, Some(1), "{script}");
            assert!(!r.hint.is_empty(), "{script}");
        }
        // A step's own `if:`: the job's only ko push, outside a matrix.
        let guarded = |head: &str, steps: &str| {
            format!(
                "jobs:\n  r:\n{head}    steps:\n      - uses: docker/login-action@v4\n      - if: github.event_name == 'push'\n        run: ko build .\n{steps}"
            )
        };
        let site = verdict(&guarded("", "")).unwrap();
        assert!(site.may_skip_push());
        let later = "      - if: always()\n        run: echo done\n";
        let cured = verdict(&guarded("", later)).unwrap().refuse_jobs().unwrap();
        assert!(
            cured.reason.contains("other conditions"),
            "{}",
            cured.reason
        );
        let matrix = "    strategy:\n      matrix:\n        a: [1, 2]\n";
        let r = verdict(&guarded(matrix, "")).unwrap_err();
        assert!(r.reason.contains("in a matrix job"), "{}", r.reason);
        // One of two alternatives (set 12 003): each image is scanned and
        // pushed when it was built.
        let other = "      - if: github.event_name != 'push'\n        run: ko build ./cmd/w\n";
        let two = verdict(&guarded("", other)).unwrap();
        assert!(!two.may_skip_push());
        assert_eq!(
            two.images().iter().map(|i| i.guarded).collect::<Vec<_>>(),
            [true, true]
        );
        assert_eq!(two.refuse_jobs(), None);
        let followed = verdict(&guarded("", &format!("{other}      - run: echo done\n"))).unwrap();
        let cured = followed.refuse_jobs().unwrap();
        assert!(cured.reason.contains("every ko step"), "{}", cured.reason);
        // A command substitution in an argument is no capture of ko's output.
        let tags = "ko build -B --tags \"latest,$(echo \"$GITHUB_REF\" | cut -c11-)\" .";
        assert!(verdict(&job(tags)).is_ok());
        assert!(!verdict(&job("ko build .")).unwrap().may_skip_push());
        // Errors alone may go elsewhere; output and closing words may follow.
        assert!(verdict(&job("ko build . 2>ko.log\necho built")).is_ok());
        assert!(verdict(&job("cd env; ko build .")).is_ok());
        // Flags known only at run time (set 13 027): the stand-in checks
        // that the tarball holds one image.
        assert!(verdict(&job("ko build --bare ${{ steps.v.outputs.tags }} .")).is_ok());
        assert!(verdict(&job("ko build --bare $TAGS .")).is_ok());
        // An expression's spaces split no arguments: one import path.
        assert!(
            verdict(&job(
                "ko build --tags \"${{ github.sha }},latest\" ./cmd/app"
            ))
            .is_ok()
        );
        let r = refused("IMAGE=$(ko build --bare .)");
        assert!(r.hint.contains("push job"), "{}", r.hint);
    }

    #[test]
    fn several_platforms_travel_as_the_index_ko_writes() {
        for several in [
            "ko build --bare --platform=linux/amd64,linux/arm64 .",
            "ko build --platform linux/amd64 --platform linux/arm64 .",
            "ko build --platform all .",
            "ko build --platform \"$PLATFORMS\" .",
        ] {
            let site = verdict(&job(several)).unwrap();
            assert_eq!(site.format(), Format::OciCopy, "{several}");
            assert_eq!(site.images()[0].platforms, Platforms::AtRunTime);
        }
        // One step of several platforms: every ko step of the job writes a layout.
        let two = format!(
            "{}      - id: worker\n        run: ko build -B ./cmd/worker\n",
            job("ko build --bare --platform=linux/amd64,linux/arm64 ./cmd/app")
        );
        let site = verdict(&two).unwrap();
        assert_eq!(site.format(), Format::OciCopy);
        assert_eq!(site.images().len(), 2);
        let one = verdict(&job("ko build --platform=linux/arm64 .")).unwrap();
        assert_eq!(one.format(), Format::DockerArchive(Tool::Docker));
        assert_eq!(one.images()[0].platforms, Platforms::Runner);
    }

    #[test]
    fn a_matrix_leg_gates_one_ko_push() {
        let one = job("ko build --bare .").replace(
            "    steps:",
            "    strategy:\n      matrix:\n        go: ['1.24']\n    steps:",
        );
        assert!(verdict(&one).unwrap().matrix());
        let two = format!("{one}      - run: ko build -B ./cmd/worker\n");
        let r = verdict(&two).unwrap_err();
        assert!(
            r.reason.contains("one ko push per matrix leg"),
            "{}",
            r.reason
        );
        assert_eq!(r.step, Some(2));
    }

    #[test]
    fn a_login_of_kos_own_keeps_the_job_in_one() {
        assert!(
            verdict(&job("ko build --bare ."))
                .unwrap()
                .refuse_jobs()
                .is_none()
        );
        let own = job("ko build --bare .").replace(
            "      - uses: docker/login-action@v4\n",
            "      - uses: ko-build/setup-ko@v0.9\n",
        );
        let r = verdict(&own).unwrap().refuse_jobs().unwrap();
        assert!(r.reason.contains("no credentials"), "{}", r.reason);
        assert_eq!(
            (r.step, r.cure),
            (Some(1), Some(super::super::Cure::OneJob))
        );
    }

    #[test]
    fn a_local_build_is_no_push() {
        for local in [
            "ko build --push=false .",
            "ko build --local .",
            "ko build -L .",
            "KO_DOCKER_REPO=ko.local ko build .",
        ] {
            assert!(
                Ko.push(&Mapping::new(), &Mapping::new(), Some(local))
                    .is_none(),
                "{local}"
            );
        }
        let env: Mapping = yaml_serde::from_str("env:\n  KO_DOCKER_REPO: ko.local\n").unwrap();
        let pushes =
            |job: &Mapping, step: &Mapping| Ko.push(job, step, Some("ko build .")).is_some();
        assert!(!pushes(&env, &Mapping::new()) && !pushes(&Mapping::new(), &env));
        assert!(pushes(&Mapping::new(), &Mapping::new()));
    }
}
