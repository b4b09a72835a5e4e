//! `docker buildx build … --push` in a `run:` script. The build job keeps
//! the command, renamed to a stand-in (`scangate-buildx build … --scan-export`)
//! that builds the same but exports an OCI archive instead of pushing and
//! records the tags after the shell has expanded them; from there on the gate
//! is the same as for docker/build-push-action.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::build_push_action::{later_steps_differ, names, read_values, step_condition};
use super::exporter::{self, Field};
use super::{
    Check, Found, ImageSpec, Piece, Platforms, Rewrite, Shape, Site, Unsupported, Verdict,
    check_job,
};
use crate::gate::{self, Push};

static BUILDX_BUILD: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests below.
    Regex::new(r"\bbuildx\s+build\b").expect("static regex")
});
/// A build command: `buildx build`, or `docker build` (see [`pushing_build_lines`]).
static BUILD_COMMAND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:buildx|docker)\s+build\b").expect("static regex"));
/// `docker buildx build`, or `docker build`, which is buildx's since
/// Docker 23 (the hosted runners' `--push` works with it; set 15 003).
static DOCKER_BUILDX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bdocker\s+(?:buildx\s+)?build\b").expect("static regex"));
/// `--push` as a whole argument, or as a quoted word (an expression's
/// `'--push'`, which a `--push` beside it makes redundant; set 27 011).
static PUSH_FLAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(^|[\s'"])--push([\s'"]|$)"#).expect("static regex"));
static PLATFORM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"--platform[ =]"?([^\s"\\]+)"?"#).expect("static regex"));
/// An `--output`/`-o` argument and its value, quotes aside: the pushing
/// one (`type=image,push=true`, `type=registry`) is the same push as
/// `--push`, and is rewritten the same way.
static OUTPUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(^|\s)(?:--output|-o)(?:=|\s+)(?:"([^"\s]*)"|'([^'\s]*)'|([^\s"']+))(\s|$)"#)
        .expect("static regex")
});
/// Flags that decide the output themselves; the export could not be added.
static CONFLICTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|\s)(--load|--output|-o|--metadata-file)([\s=]|$)").expect("static regex")
});
/// Attestations the command asks for (set 18 003: `--provenance=mode=max
/// --sbom=true`): kept, as they would have been pushed; the export is then
/// an index with attestation manifests beside the images.
static ATTESTATIONS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|\s)--(?:provenance|sbom|attest)([\s=]|$)").expect("static regex")
});

/// One step whose script pushes with `docker buildx build --push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildxPush {
    pub job: String,
    pub step: usize,
    /// The step's `id:`, which names its image among several.
    pub step_id: Option<String>,
    /// The `--platform` list.
    pub platforms: Platforms,
    /// The command as written (continuations joined), for summaries.
    pub command: String,
    /// The job runs a matrix: each leg is built, scanned and pushed alone.
    pub matrix: bool,
    /// The step's own `if:` (of the job's only push, outside a matrix): the
    /// record step follows it and says whether the image was built.
    pub step_if: Option<String>,
    /// A later step runs under another condition than `step_if`.
    pub later_steps_differ: bool,
}

/// The buildx pushes of one job, one step each, in order; never empty.
/// Each is one image with its own archive, artifact, scan and push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildxPushes(Vec<BuildxPush>);

impl BuildxPushes {
    fn first(&self) -> &BuildxPush {
        // #[allow]: never empty: `read` builds it from at least one push.
        &self.0[0]
    }

    fn last(&self) -> &BuildxPush {
        &self.0[self.0.len() - 1]
    }
}

/// The stand-in command that replaces `docker buildx build`.
pub const STAND_IN: &str = "scangate-buildx build";
/// The argument that replaces `--push`.
pub const EXPORT_FLAG: &str = "--scan-export";
/// The argument beside it that hands the stand-in the attributes of a
/// pushing `--output` that the export takes too.
pub const CARRY_FLAG: &str = "--scan-export-attributes";

/// `script` with its buildx command calling the stand-in, and `--push`
/// replaced by the export flag. Works the same on the script and on the
/// YAML lines that hold it.
pub fn export_instead_of_push(script: &str) -> String {
    let Some((start, end)) = pushing_build_lines(script) else {
        return script.to_owned();
    };
    script
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            if (start..end).contains(&i) {
                let line = push_as_flag(line);
                let mut line = DOCKER_BUILDX.replace(&line, STAND_IN).into_owned();
                // A match takes the space after it, which the next
                // `--push` of `--push --push` begins with: again until none.
                while PUSH_FLAG.is_match(&line) {
                    line = PUSH_FLAG
                        .replace_all(&line, format!("${{1}}{EXPORT_FLAG}${{2}}"))
                        .into_owned();
                }
                line
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The lines of the script's pushing build: its first build command (its
/// lines joined) that pushes, as a range of line indexes. A script that
/// builds to test first (`--load`, `docker run`) and then pushes is pushing
/// with its second build. When none is seen pushing (the flag hidden in a
/// variable), the first `buildx build`; never a `docker build` that only
/// builds.
fn pushing_build_lines(script: &str) -> Option<(usize, usize)> {
    super::command_lines_where(script, &BUILD_COMMAND, |c| BUILDX_PUSH.is_match(c)).or_else(|| {
        super::command_lines_where(script, &BUILD_COMMAND, |c| BUILDX_BUILD.is_match(c))
    })
}

/// How an `--output` value treats the image, read as buildx reads it
/// (CSV `key=value` fields; `type=registry` is `type=image,push=true`).
#[derive(Debug, PartialEq, Eq)]
enum Output {
    /// It pushes, and sets nothing else: the same as `--push`.
    Push,
    /// It pushes, with attributes that change the bytes (`compression=zstd`,
    /// `rewrite-timestamp=true`: [`exporter::Role::Bytes`]), as CSV fields:
    /// the export for the scan takes them too, as build-push-action's does.
    PushCarrying(String),
    /// It pushes, and also sets this attribute, which the export could not
    /// take (`name=`, `push-by-digest=`, one scangate does not know).
    PushAnd(String),
    /// It does not push.
    Other,
}

fn output(value: &str) -> Output {
    let Ok(attributes) = exporter::attributes(value) else {
        return Output::Other;
    };
    let has = |key: &str, wanted: &str| attributes.iter().any(|(k, v)| k == key && v == wanted);
    let pushes = has("type", "registry") || (has("type", "image") && has("push", "true"));
    if !pushes {
        return Output::Other;
    }
    let extra: Vec<&(String, String)> = attributes
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "type" | "push"))
        .collect();
    if let Some((k, v)) = extra
        .iter()
        .find(|(k, _)| exporter::role(k) != exporter::Role::Bytes)
    {
        return Output::PushAnd(format!("{k}={v}"));
    }
    if extra.is_empty() {
        return Output::Push;
    }
    Output::PushCarrying(
        extra
            .iter()
            .map(|(k, v)| Field(k, v).to_string())
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// What the `--output` argument matched by `OUTPUT` does, quotes aside.
fn output_of(c: &regex::Captures) -> Output {
    let value = c.get(2).or(c.get(3)).or(c.get(4));
    output(value.map_or("", |m| m.as_str()))
}

/// `line` with each `--output` that only pushes written as `--push`, so
/// that one rewrite (and one reading of what is pushed) serves both
/// spellings.
pub fn push_as_flag(line: &str) -> String {
    OUTPUT
        .replace_all(line, |c: &regex::Captures| match output_of(c) {
            Output::Push => format!("{}--push{}", &c[1], &c[5]),
            Output::PushCarrying(fields) => {
                format!("{}--push {CARRY_FLAG}={fields}{}", &c[1], &c[5])
            }
            Output::PushAnd(_) | Output::Other => c[0].to_owned(),
        })
        .into_owned()
}

/// `buildx build … --push` (or `buildx bake … --push`) in a script, or
/// the same push spelt as an exporter (`--output type=image,push=true`,
/// `-o type=registry`), which scangate sees but does not rewrite; and
/// `docker build … --push`, which is buildx's since Docker 23 (set 15 003).
static BUILDX_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:buildx\s+(?:build|bake)|docker\s+build)\b[^\n]*",
        r#"(?:--push\b|(?:--output|-o)[=\s]\s*["']?(?:[^\s"']*\bpush=true|type=registry))"#,
    ))
    .expect("static regex")
});

/// The shape: `docker buildx build … --push` in a `run:` script.
pub struct BuildxScript;

impl Shape for BuildxScript {
    fn id(&self) -> &'static str {
        BUILDX_SHAPE
    }

    fn label(&self) -> &'static str {
        "a `run:` script"
    }

    fn push(&self, _job: &Mapping, _step: &Mapping, script: Option<&str>) -> Option<Found> {
        BUILDX_PUSH.find(script?).map(|m| Found {
            at: m.start(),
            what: m.as_str().to_owned(),
        })
    }

    fn in_script(&self) -> bool {
        true
    }

    /// Every push of the job is a script's, and one of them is buildx: a
    /// buildx push must then be the only one, which `read` says precisely.
    fn claims(&self, pushes: &[Push]) -> bool {
        pushes.iter().all(|p| p.kind.in_script) && pushes.iter().any(|p| p.kind.shape == self.id())
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        read(job_id, job, pushes)
    }
}

impl Rewrite for BuildxPushes {
    fn job(&self) -> &str {
        &self.first().job
    }

    fn first_step(&self) -> usize {
        self.first().step
    }

    fn last_step(&self) -> usize {
        self.last().step
    }

    fn matrix(&self) -> bool {
        self.first().matrix
    }

    /// The job's only push has its own `if:` (`read` allows no other): the
    /// record step says whether it ran.
    fn may_skip_push(&self) -> bool {
        self.first().step_if.is_some()
    }

    /// Steps after a push with its own `if:` that run under other
    /// conditions run when nothing is built; a push job skipped with the
    /// build could not run them, one job can.
    fn refuse_jobs(&self) -> Option<Unsupported> {
        let first = self.first();
        (first.step_if.is_some() && first.later_steps_differ)
            .then(|| super::skipped_push_followed(&first.job, first.step, "the pushing step"))
    }

    fn destinations(&self) -> String {
        self.0
            .iter()
            .map(|b| b.command.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn platforms(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|b| b.platforms.as_listed().to_vec())
            .collect()
    }

    fn images(&self) -> Vec<ImageSpec> {
        self.0
            .iter()
            .map(|b| ImageSpec {
                step: Some(b.step),
                step_id: b.step_id.clone(),
                step_removed: false,
                by_digest: false,
                guarded: false,
                platforms: b.platforms.clone(),
            })
            .collect()
    }

    /// A builder (set up by scangate when the job has none) before the
    /// first push; before each push the stand-in, set to export that
    /// image, the command calling it, and its record step after it.
    fn pieces(&self, index: usize, builder: bool) -> Option<Vec<Piece>> {
        let push = self.0.iter().find(|b| b.step == index)?;
        let mut out = Vec::new();
        if builder && index == self.first().step {
            out.push(Piece::Template {
                name: "setup-buildx.yml",
                vars: Vec::new(),
                carried: false,
            });
            out.push(Piece::Blank);
        }
        out.extend(super::recorded_by_stand_in(
            "buildx-prepare.yml",
            export_instead_of_push,
            index == self.last().step,
            push.step_if.as_deref(),
        ));
        Some(out)
    }

    fn check(&self) -> Check {
        Check::Runs {
            steps: self.0.iter().map(|b| b.step).collect(),
            edit: export_instead_of_push,
            each: true,
            record_steps: 0,
        }
    }
}

fn read(job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
    let refuse =
        |step: usize, reason: &str, hint: &str| Unsupported::new(job_id, Some(step), reason, hint);
    let matrix = super::has_matrix(job);
    check_job(job).map_err(|(r, h)| Unsupported::new(job_id, None, r, h))?;
    if let Some(other) = pushes.iter().find(|p| p.kind.shape != BUILDX_SHAPE) {
        return Err(refuse(
            other.step,
            "this job pushes with `docker buildx build --push` and also with another command; scangate rewrites buildx pushes only when they are all of the job's pushes",
            "split it into one job per kind of push (scangate migrates each)",
        ));
    }
    if matrix && let Some(second) = pushes.get(1) {
        return Err(refuse(
            second.step,
            "this matrix job pushes more than once with `docker buildx build --push`; scangate gates one buildx push per matrix leg",
            "split it into one job per push (scangate migrates each)",
        ));
    }
    let each = pushes
        .iter()
        .map(|push| read_one(job_id, job, push, matrix, pushes.len() == 1))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((step, repository)) = reads_an_earlier_image(job, &each) {
        return Err(refuse(
            step,
            &format!(
                "this step names `{repository}`, which an earlier step of the job pushes; after the split that image is pushed only after the scan, so this step would get the registry's previous version"
            ),
            "build the base image in a job of its own that this job `needs:` (scangate gates each), or gate the job by hand",
        ));
    }
    Ok(Site::new(BuildxPushes(each)))
}

/// The shape's id, which detection writes on the pushes it finds.
const BUILDX_SHAPE: &str = "buildx-script";

/// A step after a buildx push (up to the last push) whose values name the
/// repository an earlier push tags literally, and that repository: the same
/// reading of a step as for docker/build-push-action.
fn reads_an_earlier_image(job: &Mapping, pushes: &[BuildxPush]) -> Option<(usize, String)> {
    let (first, last) = (pushes.first()?.step, pushes.last()?.step);
    let read: Vec<(usize, Vec<String>)> = gate::steps(job)
        .into_iter()
        .filter(|(i, _)| *i > first && *i <= last)
        .map(|(i, step)| (i, read_values(step, false)))
        .collect();
    pushes.iter().find_map(|earlier| {
        let repositories = tag_repositories(&earlier.command);
        read.iter()
            .filter(|(i, _)| *i > earlier.step)
            .find_map(|(i, values)| {
                repositories
                    .iter()
                    .find(|r| values.iter().any(|v| names(v, r)))
                    .map(|r| (*i, r.clone()))
            })
    })
}

/// The repositories of the `-t`/`--tag` values of `command` whose name is
/// written literally (`ghcr.io/acme/api:${TAG}` → `ghcr.io/acme/api`).
fn tag_repositories(command: &str) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let mut values = Vec::new();
    for (n, word) in words.iter().enumerate() {
        let value = match *word {
            "-t" | "--tag" => words.get(n + 1).copied(),
            w => w
                .strip_prefix("--tag=")
                .or_else(|| w.strip_prefix("-t="))
                .or_else(|| w.strip_prefix("-t").filter(|v| !v.is_empty())),
        };
        values.extend(value);
    }
    values
        .iter()
        .filter_map(|v| {
            let v = v.trim_matches(['"', '\'']);
            let literal = &v[..v.find('$').unwrap_or(v.len())];
            let name_end = literal.rfind('/').map_or(0, |slash| slash + 1);
            let repository = match literal[name_end..].find(':') {
                Some(colon) => &literal[..name_end + colon],
                None if literal.len() == v.len() => literal,
                None => return None,
            };
            repository.contains('/').then(|| repository.to_owned())
        })
        .collect()
}

/// The flags of `docker buildx build` that take no value.
const SWITCHES: &[&str] = &[
    "--push",
    "--load",
    "--pull",
    "--no-cache",
    "-q",
    "--quiet",
    "--check",
];

/// Whether a word of `command` is an expansion standing for arguments of
/// its own (`$ARGS`, `"${args[@]}"`, `${{ … }}`) rather than a flag's
/// value: a `--platform` may hide there, so the platforms are read from
/// the exported image.
fn hides_arguments(command: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    words.iter().enumerate().any(|(n, word)| {
        let expansion = word.trim_start_matches(['"', '\'']).starts_with('$');
        let value_of_flag = n > 0 && {
            let before = words[n - 1];
            before.starts_with('-') && !before.contains('=') && !SWITCHES.contains(&before)
        };
        expansion && !value_of_flag
    })
}

/// One buildx push, checked: a command scangate can re-point at its
/// stand-in, with nothing after it in the step and a known platform list.
fn read_one(
    job_id: &str,
    job: &Mapping,
    push: &Push,
    matrix: bool,
    alone: bool,
) -> Result<BuildxPush, Unsupported> {
    let refuse = |step: usize, reason: String, hint: &str| {
        Unsupported::new(job_id, Some(step), reason, hint)
    };
    let steps = gate::steps(job);
    let Some((_, step)) = steps.iter().find(|(n, _)| *n == push.step) else {
        return Err(refuse(push.step, "step not found".into(), ""));
    };
    let run = step.get("run").and_then(Value::as_str).unwrap_or_default();
    let Some((start, end)) = pushing_build_lines(run) else {
        return Err(refuse(
            push.step,
            "the buildx command could not be found in the script".into(),
            "",
        ));
    };
    let command = super::joined_lines(run, start, end);
    let lines: Vec<&str> = run.split_inclusive('\n').collect();
    if let Some(extra) = OUTPUT
        .captures_iter(&command)
        .find_map(|c| match output_of(&c) {
            Output::PushAnd(extra) => Some(extra),
            Output::Push | Output::PushCarrying(_) | Output::Other => None,
        })
    {
        return Err(refuse(
            push.step,
            format!(
                "the pushing `--output` also sets `{extra}`, which the export for the scan would drop"
            ),
            "push with `--push` (or `--output type=image,push=true` alone), or gate the job by hand",
        ));
    }
    let flagged = push_as_flag(&command);
    if PUSH_FLAG.is_match(&flagged) && !PUSH_FLAG.is_match(&super::mask_quoted(&flagged)) {
        return Err(refuse(
            push.step,
            "the command's `--push` is inside quotes or an expression, so whether it pushes is decided as the step runs".into(),
            "write `--push` as a word of its own (a condition goes in the step's `if:`), or gate the job by hand",
        ));
    }
    if !PUSH_FLAG.is_match(&flagged) || !DOCKER_BUILDX.is_match(&flagged) {
        return Err(refuse(
            push.step,
            "the command is not written as `docker buildx build … --push`".into(),
            "write the push as `docker buildx build … --push`, or gate the job by hand",
        ));
    }
    // The rewrite keeps the lines, so the command is where it was.
    let rewritten = push_as_flag(&super::joined_lines(
        &export_instead_of_push(run),
        start,
        end,
    ));
    if BUILDX_PUSH.is_match(&rewritten) {
        return Err(refuse(
            push.step,
            "the rewrite cannot replace every push of the command (a pushing `--output` split over two lines, or `--push=…`)"
                .into(),
            "write `--push` as a word of its own, and `--output` with its value on one line",
        ));
    }
    if let Some(m) = CONFLICTS.captures(&flagged) {
        return Err(refuse(
            push.step,
            format!(
                "the buildx command also sets `{}`, which the export would conflict with",
                &m[2]
            ),
            "remove it, or gate the job by hand",
        ));
    }
    let step_if = gate::condition(step).and_then(step_condition);
    if gate::condition(step).is_some() && (step_if.is_none() || matrix || !alone) {
        let why = if matrix {
            "in a matrix job; the legs' outputs could not say which of them built"
        } else if alone {
            "that mixes text and expressions"
        } else {
            "among several buildx pushes of the job"
        };
        return Err(refuse(
            push.step,
            format!("the pushing step has its own `if:` {why}"),
            "move the condition to the job's `if:`, or gate the job by hand",
        ));
    }
    let later_steps_differ = later_steps_differ(&steps, push.step, &step_if, &None);
    // Only output may follow (set 39 b14: `echo "Pushed $IMAGE." | tee -a
    // "$GITHUB_STEP_SUMMARY"`), as after a `docker push`.
    if let Some(cmd) = super::run_script::first_run_after(&lines[..end], &lines[end..]) {
        return Err(refuse(
            push.step,
            format!(
                "`{}` runs after the buildx push in the same step; it would now run before the scan",
                cmd.trim()
            ),
            "move those commands to a step of their own after the push",
        ));
    }
    let platforms = match PLATFORM.captures(&command) {
        // The scan reads them from the exported image.
        Some(c) if c[1].contains('$') => Platforms::AtRunTime,
        Some(c) => Platforms::from_list(&c[1]),
        None if hides_arguments(&flagged) => Platforms::AtRunTime,
        None => Platforms::Runner,
    };
    if let Some(p) = platforms
        .as_listed()
        .iter()
        .find(|p| !p.starts_with("linux/"))
    {
        return Err(refuse(
            push.step,
            format!("platform `{p}` is not a Linux platform"),
            "scangate scans Linux images only",
        ));
    }
    // With attestation manifests beside the images, the scan reads the
    // platforms from the exported index.
    let platforms = if ATTESTATIONS.is_match(&flagged) {
        Platforms::AtRunTime
    } else {
        platforms
    };
    Ok(BuildxPush {
        job: job_id.to_owned(),
        step: push.step,
        step_id: step.get("id").and_then(gate::scalar),
        platforms,
        command,
        matrix,
        step_if,
        later_steps_differ,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_repositories_are_the_literal_names() {
        assert_eq!(
            tag_repositories(
                "docker buildx build -t ghcr.io/acme/api:${TAG} --tag=\"ghcr.io/acme/w\" -t $IMG:1 -tghcr.io/x/y:z --push ."
            ),
            ["ghcr.io/acme/api", "ghcr.io/acme/w", "ghcr.io/x/y"]
        );
        // A name that is partly a variable is no literal repository.
        assert!(
            tag_repositories("docker buildx build -t ghcr.io/acme/${NAME} --push .").is_empty()
        );
    }

    use super::super::tests::first_verdict as verdict;

    #[test]
    fn only_output_may_follow_the_push_in_its_step() {
        let job = |after: &str| {
            verdict(&super::super::tests::script_job(
                "p",
                "    steps:\n",
                &format!("docker buildx build -t r/a:1 --push .\n{after}"),
            ))
        };
        // set 39 b14
        assert!(job("echo \"Pushed r/a:1.\" | tee -a \"$GITHUB_STEP_SUMMARY\"\n").is_ok());
        let r = job("docker buildx imagetools inspect r/a:1\n").unwrap_err();
        assert!(
            r.reason
                .contains("`docker buildx imagetools inspect r/a:1` runs after the buildx push"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn docker_build_with_push_is_buildx_and_exports_for_the_scan() {
        // set 15 003: Docker 23+ builds with buildx, so `--push` pushes.
        let run = "make build && docker build --platform=linux/amd64 --push --tag r/a:1 .\n";
        let job = format!("jobs:\n  p:\n    steps:\n      - run: {run}");
        assert!(verdict(&job).is_ok());
        assert_eq!(
            export_instead_of_push(run),
            "make build && scangate-buildx build --platform=linux/amd64 --scan-export --tag r/a:1 .\n"
        );
        // Without `--push` it is a build, left as it is.
        assert!(!BUILDX_PUSH.is_match("docker build --tag r/a:1 ."));
        let two = "docker build -t a .\ndocker build -t b --push .\n";
        assert_eq!(
            export_instead_of_push(two),
            "docker build -t a .\nscangate-buildx build -t b --scan-export .\n"
        );
    }

    #[test]
    fn several_buildx_pushes_are_images_of_one_job_unless_one_reads_another() {
        let two = "jobs:\n  p:\n    steps:\n      - run: docker buildx build -t ghcr.io/acme/base:1 --push base\n      - id: app\n        run: docker buildx build -t ghcr.io/acme/app:1 --push app\n";
        let site = verdict(two).unwrap();
        let images = site.images();
        assert_eq!(images.len(), 2);
        assert_eq!(images[1].step_id.as_deref(), Some("app"));
        let reads = two.replace(
            "--push app",
            "--build-context base=docker-image://ghcr.io/acme/base:1 --push app",
        );
        let r = verdict(&reads).unwrap_err();
        assert!(r.reason.contains("`ghcr.io/acme/base`"), "{}", r.reason);
        assert_eq!(r.step, Some(1));
        let mixed = two.replace(
            "docker buildx build -t ghcr.io/acme/app:1 --push app",
            "docker push ghcr.io/acme/app:1",
        );
        assert!(
            verdict(&mixed)
                .unwrap_err()
                .reason
                .contains("also with another command")
        );
    }

    #[test]
    fn a_push_with_its_own_if_is_recorded_when_it_runs() {
        let job = |matrix: &str, later: &str| {
            format!(
                "jobs:\n  p:\n{matrix}    steps:\n      - if: github.event_name != 'pull_request'\n        run: docker buildx build -t ghcr.io/acme/api:1 --push .\n{later}"
            )
        };
        let site = verdict(&job("", "")).unwrap();
        assert!(site.may_skip_push());
        assert_eq!(site.refuse_jobs(), None);
        // A later step under another condition runs when nothing is pushed.
        let summary = "      - if: always()\n        run: echo done\n";
        let cured = verdict(&job("", summary)).unwrap().refuse_jobs().unwrap();
        assert_eq!(
            (cured.step, cured.cure),
            (Some(0), Some(super::super::Cure::OneJob))
        );
        let same = "      - if: github.event_name != 'pull_request'\n        run: echo done\n";
        assert_eq!(verdict(&job("", same)).unwrap().refuse_jobs(), None);
        // A matrix leg's outputs cannot say which legs built.
        let matrix = "    strategy:\n      matrix:\n        c: [a, b]\n";
        let r = verdict(&job(matrix, "")).unwrap_err();
        assert!(r.reason.contains("in a matrix job"), "{}", r.reason);
        let two = job(
            "",
            "      - run: docker buildx build -t ghcr.io/acme/w:1 --push w\n",
        );
        let r = verdict(&two).unwrap_err();
        assert!(r.reason.contains("among several"), "{}", r.reason);
        assert!(verdict(&job("", "").replace("if: github", "if: x${{ github")).is_err());
    }

    #[test]
    fn an_output_that_only_pushes_is_the_push_flag() {
        assert_eq!(output("type=registry"), Output::Push);
        assert_eq!(output("push=true,type=image"), Output::Push);
        assert_eq!(output("type=image,push=false"), Output::Other);
        assert_eq!(output("type=oci,dest=x.tar"), Output::Other);
        assert_eq!(
            output("type=image,name=ghcr.io/acme/x,push=true"),
            Output::PushAnd("name=ghcr.io/acme/x".into())
        );
        assert_eq!(
            output("type=registry,compression=zstd,unknown-attribute=1"),
            Output::PushAnd("unknown-attribute=1".into())
        );
        // Attributes that change the bytes go to the export too (set 39 b14).
        assert_eq!(
            output("type=registry,compression=zstd,force-compression=true,oci-mediatypes=true"),
            Output::PushCarrying(
                "compression=zstd,force-compression=true,oci-mediatypes=true".into()
            )
        );
        assert_eq!(
            export_instead_of_push(
                "docker buildx build -o \"type=registry,rewrite-timestamp=true\" -t x .\n"
            ),
            "scangate-buildx build --scan-export --scan-export-attributes=rewrite-timestamp=true -t x .\n"
        );
        assert_eq!(
            export_instead_of_push(
                "docker buildx build --output \"type=image,push=true\" -t x .\n"
            ),
            "scangate-buildx build --scan-export -t x .\n"
        );
        assert_eq!(
            export_instead_of_push("docker buildx build -t x -o type=registry ."),
            "scangate-buildx build -t x --scan-export ."
        );
        // A build that does not push keeps its exporter.
        let local = "docker buildx build --output=type=image,push=false -t x .";
        assert_eq!(push_as_flag(local), local);
    }

    #[test]
    fn arguments_in_an_expansion_may_hold_platforms() {
        assert!(hides_arguments("docker buildx build $ARGS --push ."));
        assert!(hides_arguments(
            "docker buildx build \"${args[@]}\" --push ."
        ));
        assert!(hides_arguments(
            "docker buildx build --push ${{ steps.p.outputs.args }}"
        ));
        // A flag's value is no argument of its own.
        assert!(!hides_arguments(
            "docker buildx build -t \"$IMAGE:$TAG\" --build-arg V=$V --file ${{ env.F }} --push ."
        ));
        assert!(hides_arguments("docker buildx build --push $CONTEXT"));
    }

    #[test]
    fn attestations_asked_for_are_kept_and_the_platforms_read_from_the_export() {
        let job = |flags: &str| {
            format!(
                "jobs:\n  p:\n    steps:\n      - run: docker buildx build --platform linux/amd64 {flags} --push -t r/a:1 .\n"
            )
        };
        for flags in ["--provenance=mode=max --sbom=true", "--attest type=sbom"] {
            let site = verdict(&job(flags)).unwrap();
            assert_eq!(site.images()[0].platforms, Platforms::AtRunTime, "{flags}");
        }
        let plain = verdict(&job("")).unwrap();
        assert_eq!(
            plain.images()[0].platforms,
            Platforms::from_list("linux/amd64")
        );
        let r = verdict(&job("--metadata-file m.json")).unwrap_err();
        assert!(r.reason.contains("`--metadata-file`"), "{}", r.reason);
    }

    /// A push an expression adds beside `--push` is the same push (set 27
    /// 011, an internal error before: the rewrite left `'--push'`); a push
    /// only an expression adds is decided as the step runs.
    #[test]
    fn a_push_inside_an_expression_is_rewritten_beside_a_push_and_refused_alone() {
        let job = |flags: &str| {
            format!(
                "jobs:\n  p:\n    steps:\n      - run: docker buildx build -t r/a:1 {flags} .\n"
            )
        };
        let twice = "--push --pull ${{ github.event_name == 'push' && '--push' || '' }}";
        assert!(verdict(&job(twice)).is_ok());
        assert_eq!(
            export_instead_of_push(&format!("docker buildx build {twice} .")),
            "scangate-buildx build --scan-export --pull ${{ github.event_name == 'push' && '--scan-export' || '' }} ."
        );
        assert_eq!(
            export_instead_of_push("docker buildx build --push --push ."),
            "scangate-buildx build --scan-export --scan-export ."
        );
        for alone in ["${{ inputs.push && '--push' || '' }}", "\"--push\""] {
            let r = verdict(&job(alone)).unwrap_err();
            assert!(
                r.reason.contains("inside quotes or an expression"),
                "{}",
                r.reason
            );
        }
        let r = verdict(&job("--push=true")).unwrap_err();
        assert!(r.reason.contains("not written as"), "{}", r.reason);
    }

    #[test]
    fn an_output_push_is_migrated_and_other_outputs_say_why_not() {
        let job = |command: &str| {
            format!(
                "jobs:\n  p:\n    steps:\n      - run: docker buildx build -t ghcr.io/acme/api:1 {command} .\n"
            )
        };
        let site = verdict(&job("--output type=image,push=true")).unwrap();
        assert_eq!(site.images()[0].platforms, Platforms::Runner);
        let hidden = verdict(&job("-o type=registry $EXTRA")).unwrap();
        assert_eq!(hidden.images()[0].platforms, Platforms::AtRunTime);
        let named = verdict(&job("--output type=image,name=ghcr.io/acme/b,push=true")).unwrap_err();
        assert!(
            named.reason.contains("`name=ghcr.io/acme/b`"),
            "{}",
            named.reason
        );
        let split = "jobs:\n  p:\n    steps:\n      - run: |\n          docker buildx build -t ghcr.io/acme/api:1 --output \\\n            type=registry .\n";
        let r = verdict(split).unwrap_err();
        assert!(r.reason.contains("split over two lines"), "{}", r.reason);
    }

    #[test]
    fn replaces_push_only_in_the_buildx_command() {
        let script = "echo --push\ndocker buildx build \\\n  --tag x \\\n  --push \\\n  .\necho done --push\n";
        let out = export_instead_of_push(script);
        assert_eq!(
            out,
            "echo --push\nscangate-buildx build \\\n  --tag x \\\n  --scan-export \\\n  .\necho done --push\n"
        );
        assert_eq!(
            export_instead_of_push("docker buildx build --push -t x ."),
            "scangate-buildx build --scan-export -t x ."
        );
    }

    #[test]
    fn a_build_to_test_before_the_pushing_build_stays_as_it_is() {
        // Build, test the loaded image, then push (set 14 014's pattern).
        let run = "docker buildx build --load -t x .\ndocker run --rm x --version\ndocker buildx build \\\n  --push -t x .\n";
        let job = super::super::tests::script_job("p", "    steps:\n", run);
        assert!(verdict(&job).is_ok(), "{:?}", verdict(&job).err());
        assert_eq!(
            export_instead_of_push(run),
            "docker buildx build --load -t x .\ndocker run --rm x --version\nscangate-buildx build \\\n  --scan-export -t x .\n"
        );
        // A push hidden in a variable: the first buildx build is the push.
        assert_eq!(
            export_instead_of_push("docker buildx build $FLAGS -t x .\n"),
            "scangate-buildx build $FLAGS -t x .\n"
        );
    }
}
