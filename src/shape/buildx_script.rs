//! `docker buildx build … --push` in a `run:` script. The build job keeps
//! the command, renamed to a stand-in (`scangate-buildx build … --scan-export`)
//! that builds the same but exports an OCI archive instead of pushing and
//! records the tags after the shell has expanded them; from there on the gate
//! is the same as for docker/build-push-action.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::{Check, Found, Piece, Rewrite, Shape, Site, Unsupported, Verdict, check_job, var};
use crate::gate::{self, Push};

static BUILDX_BUILD: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests below.
    Regex::new(r"\bbuildx\s+build\b").expect("static regex")
});
static DOCKER_BUILDX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bdocker\s+buildx\s+build\b").expect("static regex"));
/// `--push` as a whole argument.
static PUSH_FLAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|\s)--push(\s|$)").expect("static regex"));
static PLATFORM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"--platform[ =]"?([^\s"\\]+)"?"#).expect("static regex"));
/// Flags that decide the output themselves; the export could not be added.
static CONFLICTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|\s)(--load|--output|-o|--provenance|--attest|--sbom|--metadata-file)([\s=]|$)")
        .expect("static regex")
});

/// A job whose script pushes with `docker buildx build --push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildxPush {
    pub job: String,
    pub step: usize,
    /// The `--platform` list; empty for the builder's default platform.
    pub platforms: Vec<String>,
    /// The command as written (continuations joined), for summaries.
    pub command: String,
    /// The job runs a matrix: each leg is built, scanned and pushed alone.
    pub matrix: bool,
}

/// The buildx command lines of `script`: the first non-comment line that
/// runs `buildx build` and the lines it continues onto with `\`.
fn command_lines(script: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = script.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| !l.trim_start().starts_with('#') && BUILDX_BUILD.is_match(l))?;
    let mut end = start;
    while end + 1 < lines.len() && lines[end].trim_end().ends_with('\\') {
        end += 1;
    }
    Some((start, end + 1))
}

/// The stand-in command that replaces `docker buildx build`.
pub const STAND_IN: &str = "scangate-buildx build";
/// The argument that replaces `--push`.
pub const EXPORT_FLAG: &str = "--scan-export";

/// `script` with its buildx command calling the stand-in, and `--push`
/// replaced by the export flag. Works the same on the script and on the
/// YAML lines that hold it.
pub fn export_instead_of_push(script: &str) -> String {
    let Some((start, end)) = command_lines(script) else {
        return script.to_owned();
    };
    script
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            if (start..end).contains(&i) {
                let line = DOCKER_BUILDX.replace(line, STAND_IN);
                PUSH_FLAG
                    .replace_all(&line, format!("${{1}}{EXPORT_FLAG}${{2}}"))
                    .into_owned()
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// `buildx build … --push` (or `buildx bake … --push`) in a script.
static BUILDX_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bbuildx\s+(?:build|bake)\b[^\n]*--push\b").expect("static regex")
});

/// The shape: `docker buildx build … --push` in a `run:` script.
pub struct BuildxScript;

impl Shape for BuildxScript {
    fn id(&self) -> &'static str {
        "buildx-script"
    }

    fn label(&self) -> &'static str {
        "a `run:` script"
    }

    fn push(&self, _step: &Mapping, script: Option<&str>) -> Option<Found> {
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

impl Rewrite for BuildxPush {
    fn job(&self) -> &str {
        &self.job
    }

    fn first_step(&self) -> usize {
        self.step
    }

    fn last_step(&self) -> usize {
        self.step
    }

    fn matrix(&self) -> bool {
        self.matrix
    }

    fn destinations(&self) -> String {
        self.command.clone()
    }

    fn platforms(&self) -> Vec<String> {
        self.platforms.clone()
    }

    /// A builder (set up by scangate when the job has none), the stand-in
    /// on the PATH, the command calling it, and the record step.
    fn pieces(&self, index: usize, builder: bool) -> Option<Vec<Piece>> {
        if index != self.step {
            return None;
        }
        let mut out = Vec::new();
        if builder {
            out.push(Piece::Template {
                name: "setup-buildx.yml",
                vars: Vec::new(),
                carried: false,
            });
            out.push(Piece::Blank);
        }
        out.extend([
            Piece::Template {
                name: "buildx-prepare.yml",
                vars: Vec::new(),
                carried: false,
            },
            Piece::Blank,
            Piece::Run(export_instead_of_push),
            Piece::Blank,
            Piece::Template {
                name: "build-record.yml",
                vars: vec![("recorded", var(&true)), ("push_if", var(&()))],
                carried: true,
            },
        ]);
        Some(out)
    }

    fn check(&self) -> Check {
        Check::Runs {
            steps: vec![self.step],
            edit: export_instead_of_push,
        }
    }
}

fn read(job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
    let refuse = |step: usize, reason: String, hint: &str| {
        Unsupported::new(job_id, Some(step), reason, hint)
    };
    let matrix = job.get("strategy").and_then(|s| s.get("matrix")).is_some();
    check_job(job).map_err(|(r, h)| Unsupported::new(job_id, None, r, h))?;
    let [push] = pushes else {
        return Err(refuse(
            pushes[1].step,
            "this job pushes more than once, and one of the pushes is `docker buildx build --push`; scangate rewrites a buildx push only when it is the job's only push"
                .into(),
            "split it into one job per push (scangate migrates each)",
        ));
    };
    let steps = gate::steps(job);
    let Some((_, step)) = steps.iter().find(|(n, _)| *n == push.step) else {
        return Err(refuse(push.step, "step not found".into(), ""));
    };
    let run = step.get("run").and_then(Value::as_str).unwrap_or_default();
    let Some((start, end)) = command_lines(run) else {
        return Err(refuse(
            push.step,
            "the buildx command could not be found in the script".into(),
            "",
        ));
    };
    let lines: Vec<&str> = run.split_inclusive('\n').collect();
    let command = lines[start..end]
        .iter()
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .collect::<Vec<_>>()
        .join(" ");
    if !PUSH_FLAG.is_match(&command) || !DOCKER_BUILDX.is_match(&command) {
        return Err(refuse(
            push.step,
            "the command is not written as `docker buildx build … --push`".into(),
            "write the push as `docker buildx build … --push`",
        ));
    }
    if let Some(m) = CONFLICTS.captures(&command) {
        return Err(refuse(
            push.step,
            format!(
                "the buildx command also sets `{}`, which the export would conflict with",
                &m[2]
            ),
            "remove it, or gate the job by hand",
        ));
    }
    if step.get("if").is_some() {
        return Err(refuse(
            push.step,
            "the pushing step has its own `if:`".into(),
            "move the condition to the job",
        ));
    }
    if lines[end..]
        .iter()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        return Err(refuse(
            push.step,
            "commands follow the buildx push in the same step; they would now run before the scan"
                .into(),
            "move them to a step of their own after the push",
        ));
    }
    let platforms = match PLATFORM.captures(&command) {
        // A matrix leg builds what its variable says; the scan checks at
        // run time that the leg's image has one platform.
        Some(c) if c[1].contains('$') && matrix => Vec::new(),
        Some(c) if c[1].contains('$') => {
            return Err(refuse(
                push.step,
                "`--platform` is a variable; every platform must be known to scan each one".into(),
                "list the platforms literally",
            ));
        }
        Some(c) => c[1]
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        None => Vec::new(),
    };
    if let Some(p) = platforms.iter().find(|p| !p.starts_with("linux/")) {
        return Err(refuse(
            push.step,
            format!("platform `{p}` is not a Linux platform"),
            "scangate scans Linux images only",
        ));
    }
    Ok(Site::new(BuildxPush {
        job: job_id.to_owned(),
        step: push.step,
        platforms,
        command,
        matrix,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
