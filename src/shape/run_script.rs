//! `docker push` (or `podman push` / `buildah push`) in `run:` scripts: the
//! shape of teams that build with `docker build` and push by hand. The
//! build job keeps the scripts; each push command is replaced by one that
//! records the (shell-expanded) reference, and the push job pushes exactly
//! what was recorded.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::{
    Check, Format, Found, ImageSpec, Piece, Platforms, Rewrite, Shape, Site, Tool, Unsupported,
    Verdict, check_job,
};
use crate::expressions::EXPRESSION;
use crate::gate::{self, Push};

/// A `docker push` (or `docker image push`), `podman push` or `buildah
/// push` command, as scangate rewrites it.
pub static DOCKER_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: a constant pattern, exercised by the tests below.
    Regex::new(r"\b(docker|podman|buildah)\s+(?:image\s+)?push\b").expect("static regex")
});
/// `podman push` / `buildah push` options that change nothing the push job
/// would have to repeat; any other (credentials, signing, formats) would be
/// lost in the push job's own push.
const PODMAN_PUSH_OPTIONS: &[&str] = &["-q", "--quiet", "--tls-verify", "--tls-verify=true"];
/// What may follow the last push in its script without running before the
/// scan in a way that matters: output, comments, closing keywords and
/// commands that only read the runner's state.
static HARMLESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\s*(?:$|#|echo\b|printf\b|fi\b|done\b|esac\b|\}",
        // what only reads the runner's state (set 14 008: `df -hT`; set 43
        // a22: `docker image list`)
        r"|(?:df|du|ls|pwd|date|true)(?:\s|$)",
        r"|(?:docker|podman)\s+(?:images|ps|history|image\s+(?:ls|list|history))(?:\s|$))",
    ))
    .expect("static regex")
});
/// An inspection of a local image or container (set 43 a01: `docker image
/// inspect "$IMAGE" --format '{{.Size}}'`): the build job still holds the
/// image, so it reads what it read after the push, except the digests the
/// push gave it (`RepoDigests`), which a recorded push does not.
static LOCAL_INSPECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:docker|podman)\s+(?:image\s+)?inspect(?:\s|$)").expect("static regex")
});

/// Whether `line` may follow the last push without mattering before the
/// scan ([`HARMLESS`], or a [`LOCAL_INSPECT`] that reads no pushed digest).
pub(super) fn harmless(line: &str) -> bool {
    HARMLESS.is_match(line) || (LOCAL_INSPECT.is_match(line) && !line.contains("RepoDigests"))
}

/// Removals of images that may follow the last push: the record keeps the
/// pushed image (a name of its own and a stopped container) until it is
/// saved, so an `rmi` only untags it and a `prune` leaves it (set 13 012:
/// `docker image prune -a` after the push). Not what removes containers
/// (`system prune`, `container prune`, `rm`): they would take the keeper.
static CLEANUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:docker|podman|buildah)\s+(?:rmi|image\s+(?:rm|prune))(?:\s|$)")
        .expect("static regex")
});

/// The command that replaces `docker push` in the build job.
pub const RECORD_COMMAND: &str = "scangate-record-push";

/// The tool of a push command (docker, or podman and buildah, which share
/// containers storage).
fn tool_of(command: &str) -> Tool {
    if command.starts_with("docker") {
        Tool::Docker
    } else {
        Tool::Podman
    }
}

/// Other commands that put an image into a registry. Scripts that use them
/// are refused: scangate rewrites only the pushes above.
static OTHER_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // The tools' images run by `docker run` too (`quay.io/skopeo/stable:v1
        // copy …`, `gcr.io/go-containerregistry/crane:debug copy …`).
        r"(?m)\bcrane(?:[/:@][\w.:-]*)?\s+(?:push|copy|cp|append|mutate)\b",
        // a copy *to* a registry: its last argument
        // (`nix run nixpkgs#skopeo -- copy …` too)
        r#"|\bskopeo(?:[/:@][\w.:/-]*)?\s+(?:--\s+)?copy\b[^\n;&|]*\s["']?docker://[^\s;&|]*[ \t]*(?:$|[;&|])"#,
        r"|\boras\s+push\b",
    ))
    .expect("static regex")
});

/// The shape: `docker push`, `podman push`, `buildah push` in `run:` scripts.
pub struct RunScript;

impl Shape for RunScript {
    fn id(&self) -> &'static str {
        "run-script"
    }

    fn label(&self) -> &'static str {
        "a `run:` script"
    }

    fn push(&self, _job: &Mapping, _step: &Mapping, script: Option<&str>) -> Option<Found> {
        let script = script?;
        [DOCKER_PUSH.find(script), OTHER_PUSH.find(script)]
            .into_iter()
            .flatten()
            .min_by_key(|m| m.start())
            .map(|m| Found {
                at: m.start(),
                what: m.as_str().to_owned(),
            })
    }

    fn in_script(&self) -> bool {
        true
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        read(job_id, job, pushes)
    }
}

/// A job whose `run:` scripts push with `docker push`, `podman push` or
/// `buildah push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptPush {
    /// The tool every push of the job uses.
    pub tool: Tool,
    pub job: String,
    /// The steps whose scripts push, in order.
    pub steps: Vec<usize>,
    /// The push command lines, trimmed, for summaries.
    pub commands: Vec<String>,
    /// The job runs a matrix: each leg is built, scanned and pushed alone.
    pub matrix: bool,
    /// The literal names of the images, when the scripts push several
    /// (empty for one): one image each, in this order.
    pub names: Vec<String>,
    /// A pushing step with its own `if:`, when steps follow the last push.
    pub guarded_before_steps: Option<usize>,
    /// In a matrix job, a push that a leg may skip (an `if:`, or a shell
    /// condition around it).
    pub skipped_in_matrix: Option<usize>,
}

/// The pieces of a step that records its push instead of pushing
/// (`record`): the stand-in goes on the PATH before the `first`, and the
/// image is saved after the `last`.
pub fn recording(first: bool, record: Piece, last: bool, names: &[String]) -> Vec<Piece> {
    let mut out = Vec::new();
    if first {
        out.push(Piece::Template {
            name: "script-prepare.yml",
            vars: Vec::new(),
            carried: false,
        });
        out.push(Piece::Blank);
    }
    out.push(record);
    if last {
        out.push(Piece::Blank);
        out.push(Piece::Template {
            name: "script-save.yml",
            vars: vec![("names", super::var(&names))],
            carried: true,
        });
    }
    out
}

/// The script with every `docker push` replaced by the recording command,
/// on lines that are not comments; what the build job runs instead.
pub fn record_instead_of_push(script: &str) -> String {
    super::rename_command(script, &DOCKER_PUSH, RECORD_COMMAND)
}

impl Rewrite for ScriptPush {
    fn job(&self) -> &str {
        &self.job
    }

    fn first_step(&self) -> usize {
        self.steps.first().copied().unwrap_or_default()
    }

    fn last_step(&self) -> usize {
        self.steps.last().copied().unwrap_or_default()
    }

    fn matrix(&self) -> bool {
        self.matrix
    }

    fn destinations(&self) -> String {
        self.commands.join("\n")
    }

    /// A script may skip its push (a shell condition): the build job
    /// records whether it pushed.
    fn may_skip_push(&self) -> bool {
        true
    }

    fn format(&self) -> Format {
        Format::DockerArchive(self.tool)
    }

    fn refuse_jobs(&self) -> Option<Unsupported> {
        if let Some(step) = self.skipped_in_matrix {
            return Some(
                Unsupported::new(
                    &self.job,
                    Some(step),
                    "in a matrix job, this push may be skipped (an `if:`, or a shell `if`/`case`/`&&`/`||` around it); split, the scan and push jobs could not tell which legs pushed (a matrix job's outputs come from one leg)",
                    "make every leg push (move the condition to the job's `if:`), or gate the job by hand",
                )
                .cured_by_one_job(),
            );
        }
        self.guarded_before_steps
            .map(|step| super::guarded_push(&self.job, step))
    }

    /// One image per literal name when the scripts push several.
    fn images(&self) -> Vec<ImageSpec> {
        let one = ImageSpec {
            platforms: Platforms::listed(self.platforms()),
            ..ImageSpec::default()
        };
        vec![one; self.names.len().max(1)]
    }

    /// The stand-in goes on the PATH before the first pushing step; each
    /// pushing script records instead of pushing; after the last, the image
    /// is saved.
    fn pieces(&self, index: usize, _builder: bool) -> Option<Vec<Piece>> {
        if !self.steps.contains(&index) {
            return None;
        }
        Some(recording(
            self.steps.first() == Some(&index),
            Piece::Run(record_instead_of_push),
            self.steps.last() == Some(&index),
            &self.names,
        ))
    }

    fn check(&self) -> Check {
        Check::Runs {
            steps: self.steps.clone(),
            edit: record_instead_of_push,
            each: false,
            record_steps: 0,
        }
    }
}

fn read(job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
    let refuse = |step: Option<usize>, reason: String, hint: &str| {
        Unsupported::new(job_id, step, reason, hint)
    };
    check_job(job).map_err(|(r, h)| refuse(None, r.to_owned(), h))?;
    let matrix = super::has_matrix(job);
    for push in pushes {
        let cmd = &push.kind.what;
        if !DOCKER_PUSH.is_match(cmd) {
            let cmd = gate::one_line(cmd);
            // From a registry to a registry: a promotion, which scangate
            // gates when `imagetools create` does it.
            let hint = if cmd.matches("docker://").count() > 1 {
                "promote with `docker buildx imagetools create --tag NEW SOURCE` in a job of its own (scangate scans SOURCE before the copy), or gate the job by hand"
            } else {
                "push with one of those or with docker/build-push-action, or gate the job by hand"
            };
            return Err(refuse(
                Some(push.step),
                format!(
                    "the image is pushed with `{cmd}`; scangate rewrites only `docker push`, `podman push`, `buildah push` and `docker buildx build --push`"
                ),
                hint,
            ));
        }
    }
    let all = gate::steps(job);
    let mut steps: Vec<usize> = pushes.iter().map(|p| p.step).collect();
    steps.dedup();
    let mut commands = Vec::new();
    let mut guarded = None;
    for &i in &steps {
        let Some((_, step)) = all.iter().find(|(n, _)| *n == i) else {
            continue;
        };
        if gate::condition(step).is_some() {
            guarded = guarded.or(Some(i));
        }
        let run = step.get("run").and_then(Value::as_str).unwrap_or_default();
        let found = check_script(run).map_err(|(r, hint)| refuse(Some(i), r, hint))?;
        for line in &found {
            podman_args(line).map_err(|r| {
                refuse(
                    Some(i),
                    r,
                    "push to a registry without such options (log in with a step of its own instead of `--creds`/`--authfile`), or gate the job by hand",
                )
            })?;
        }
        commands.extend(found);
    }
    let tools: Vec<Tool> = commands
        .iter()
        .flat_map(|c| DOCKER_PUSH.captures_iter(c).map(|m| tool_of(&m[1])))
        .collect();
    let tool = tools.first().copied().unwrap_or(Tool::Docker);
    if tools.iter().any(|t| *t != tool) {
        return Err(refuse(
            steps.first().copied(),
            "this job pushes both with docker and with podman/buildah; their images live in different stores".into(),
            "push every image of the job with the same tool, or split the job",
        ));
    }
    let names = pushed_names(&commands);
    if names.literal.len() > 1 && (names.dynamic || matrix) {
        let listed: Vec<String> = names.literal.iter().map(|n| format!("`{n}`")).collect();
        let why = if matrix {
            "in a matrix job"
        } else {
            "and some push names its image with a shell variable"
        };
        return Err(refuse(
            steps.first().copied(),
            format!(
                "the scripts of this job push different images ({}) {why}: scangate tells a script job's images apart by their literal names",
                listed.join(", ")
            ),
            "push each image from a job of its own (or build them with docker/build-push-action steps, which scangate splits per image)",
        ));
    }
    let last = steps.last().copied().unwrap_or_default();
    if let Some((_, step)) = all.iter().find(|(n, _)| *n == last) {
        let run = step.get("run").and_then(Value::as_str).unwrap_or_default();
        trailing_commands(run).map_err(|r| {
            refuse(
                Some(last),
                r,
                "move those commands to a step of their own after the push",
            )
        })?;
    }
    // In a matrix the build job's outputs come from one leg, so only one
    // job, where each leg reads its own record step, can tell whether a leg
    // pushed.
    let skipped_in_matrix = steps
        .iter()
        .find(|&&i| {
            all.iter().find(|(n, _)| *n == i).is_some_and(|(_, s)| {
                gate::condition(s).is_some()
                    || s.get("run")
                        .and_then(Value::as_str)
                        .is_some_and(guarded_push)
            })
        })
        .copied()
        .filter(|_| matrix);
    let has_post = all.iter().any(|(n, _)| *n > last);
    let guarded_before_steps = guarded.filter(|_| has_post);
    Ok(Site::new(ScriptPush {
        tool,
        job: job_id.to_owned(),
        steps,
        commands,
        matrix,
        names: if names.literal.len() > 1 {
            names.literal
        } else {
            Vec::new()
        },
        guarded_before_steps,
        skipped_in_matrix,
    }))
}

/// `sudo` (with its options) right before a command.
static SUDO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bsudo(?:\s+-\S+)*\s+$").expect("static regex"));

const SUDO_HINT: &str = "push without `sudo` (the runner user may use the Docker daemon; rootless podman and buildah keep images in the user's own storage), or gate the job by hand";

fn sudo_reason(tool: &str) -> String {
    let storage = if tool == "docker" {
        ""
    } else {
        ", and the image lives in root's containers storage, which the steps that save and push it (run as the runner user) cannot read"
    };
    format!(
        "`sudo {tool} push`: the push runs as root, where the recording command scangate puts on the runner user's PATH is not found{storage}"
    )
}

/// The push command lines of `run` as the shell reads them (a push whose
/// arguments go on over `\`-continued lines is one line); refuses pushes
/// that run as root or inside a command substitution (the reason and the
/// hint).
fn check_script(run: &str) -> Result<Vec<String>, (String, &'static str)> {
    const ONE_LINE: &str = "put the push on a line of its own, at the end of the step";
    let mut out = Vec::new();
    let body = gate::shell_body(run);
    for line in body.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let pushes: Vec<_> = DOCKER_PUSH
            .captures_iter(line)
            .filter_map(|c| c.get(1))
            .collect();
        if pushes.is_empty() {
            continue;
        }
        // What comes before each push in its own command (a substitution in
        // an earlier command's argument is closed and does not matter).
        let masked = super::mask_quoted(line);
        for tool in pushes {
            let cut = masked[..tool.start()]
                .rfind(['&', '|', ';'])
                .map_or(0, |at| at + 1);
            let (before, tool) = (&line[cut..tool.start()], tool.as_str());
            if SUDO.is_match(before) {
                return Err((sudo_reason(tool), SUDO_HINT));
            }
            // Its arguments may be substituted (the recording command gets
            // them expanded); the push itself must not run in a substitution.
            if before.contains("$(") || before.contains('`') {
                return Err((
                    format!("a `{tool} push` command runs inside a command substitution"),
                    ONE_LINE,
                ));
            }
        }
        out.push(line.trim().to_owned());
    }
    Ok(out)
}

/// Whether a `docker push` of `run` runs only under a shell condition
/// ([`under_condition`]).
fn guarded_push(run: &str) -> bool {
    under_condition(run, &DOCKER_PUSH)
}

/// Whether a `command` of `run` runs only under a shell condition: inside
/// an `if` or `case` block, or after `&&` / `||` on its line. (Loops are
/// fine: they run their commands whatever happens.)
pub(super) fn under_condition(run: &str, command: &Regex) -> bool {
    let mut depth = 0usize;
    for line in gate::shell_body(run).lines() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(m) = command.find(line) {
            let before = &line[..m.start()];
            if depth > 0 || before.contains("&&") || before.contains("||") {
                return true;
            }
        }
        for w in words {
            match w {
                "if" | "case" => depth += 1,
                "fi" | "esac" => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    false
}

/// Transports of `podman push` destinations that are not a registry.
const NON_REGISTRY: &[&str] = &[
    "oci",
    "oci-archive",
    "docker-archive",
    "dir",
    "containers-storage",
    "docker-daemon",
];

/// The image names (the last part of the repository path, without tag)
/// the push commands of `lines` name, in the order they first appear.
/// The same name on two registries is one image; two names are (nearly
/// always) two images.
#[derive(Debug, Default, PartialEq, Eq)]
struct Names {
    literal: Vec<String>,
    /// Some name is built from shell variables: only the run can tell it.
    dynamic: bool,
}

fn pushed_names(lines: &[String]) -> Names {
    let mut names = Names::default();
    for line in lines {
        for cap in DOCKER_PUSH.captures_iter(line) {
            let Some(all) = cap.get(0) else { continue };
            // An expression is one word, known only when the job runs.
            let rest = EXPRESSION.replace_all(&line[all.end()..], "$$EXPR");
            let args = rest.split([';', '&', '|', '>']).next().unwrap_or_default();
            // The last positional argument: the destination of
            // `podman push SRC DEST`, the image of `docker push IMAGE`.
            let Some(reference) = args.split_whitespace().rfind(|a| !a.starts_with('-')) else {
                continue;
            };
            let reference = reference.trim_matches(['"', '\'']);
            let reference = reference.strip_prefix("docker://").unwrap_or(reference);
            let path = reference.split('@').next().unwrap_or_default();
            let last = path.rsplit('/').next().unwrap_or_default();
            let name = last.split(':').next().unwrap_or_default();
            // Anything but a plain name (`$VAR`, `$(…)`, quotes) is made by
            // the shell; plain names are what the save steps match on.
            let plain = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if name.is_empty() || !plain {
                names.dynamic = true;
            } else if !names.literal.iter().any(|n| n == name) {
                names.literal.push(name.to_owned());
            }
        }
    }
    names
}

/// Refuses a `podman push` / `buildah push` with options the push job's own
/// push would not repeat (credentials, signatures, formats), or to a
/// destination that is not a registry.
fn podman_args(line: &str) -> Result<(), String> {
    for cap in DOCKER_PUSH.captures_iter(line) {
        let (Some(all), Some(tool)) = (cap.get(0), cap.get(1)) else {
            continue;
        };
        if tool.as_str() == "docker" {
            continue;
        }
        let args = line[all.end()..]
            .split([';', '&', '|'])
            .next()
            .unwrap_or_default();
        for arg in args.split_whitespace() {
            let bare = arg.trim_matches(['"', '\'']);
            if arg.starts_with('-') && !PODMAN_PUSH_OPTIONS.contains(&arg) {
                return Err(format!(
                    "`{} push` is given `{arg}`, which the push job's own push would not repeat",
                    tool.as_str()
                ));
            }
            if let Some((transport, _)) = bare.split_once(':')
                && NON_REGISTRY.contains(&transport)
            {
                return Err(format!(
                    "`{} push` writes to `{transport}:`, not to a registry",
                    tool.as_str()
                ));
            }
        }
    }
    Ok(())
}

/// Commands after the last push of the last pushing step would now run
/// before the scan; only harmless ones (output, closing keywords) may.
fn trailing_commands(run: &str) -> Result<(), String> {
    let body = gate::shell_body(run);
    let lines: Vec<&str> = body.lines().collect();
    let Some(last) = lines
        .iter()
        .rposition(|l| !l.trim_start().starts_with('#') && DOCKER_PUSH.is_match(l))
    else {
        return Ok(());
    };
    // The commands after the line's last push, split where the shell
    // splits them (not inside quotes or substitutions).
    let line = lines[last];
    let masked = super::mask_quoted(line);
    let end = DOCKER_PUSH.find_iter(line).last().map_or(0, |m| m.end());
    let cuts: Vec<usize> = masked[end..]
        .match_indices(['&', ';', '|'])
        .map(|(at, _)| end + at)
        .collect();
    let after_push_is_fine = |c: &str| harmless(c) || CLEANUP.is_match(c);
    let tail_after_push = cuts.iter().enumerate().any(|(n, &at)| {
        let to = cuts.get(n + 1).copied().unwrap_or(line.len());
        !after_push_is_fine(&line[at + 1..to])
    });
    if tail_after_push {
        return Err("the push is followed by another command on the same line".into());
    }
    let after: Vec<&str> = lines[last + 1..]
        .iter()
        .copied()
        .filter(|l| !CLEANUP.is_match(l))
        .collect();
    match first_run_after(&lines[..=last], &after) {
        Some(cmd) => Err(format!(
            "`{}` runs after the push in the same step; it would now run before the scan",
            cmd.trim()
        )),
        None => Ok(()),
    }
}

/// The first line of `after` (the lines after a command) that runs after
/// that command and matters, if any. The `else`/`elif` branches of an `if`
/// that holds the command (opened in `upto`, the lines up to it) run
/// instead of it, never after it, and are skipped up to that `if`'s `fi`.
/// Here-documents are input, not commands (set 15 028: `done <<'TAGS'`
/// feeds the pushing loop its tags).
pub(super) fn first_run_after<'a>(upto: &[&str], after: &[&'a str]) -> Option<&'a str> {
    let code = |line: &str| !line.trim_start().starts_with('#');
    let open = upto.iter().filter(|l| code(l)).fold(0usize, |open, line| {
        (open + IF_OPENS.find_iter(line).count()).saturating_sub(FI_CLOSES.find_iter(line).count())
    });
    // `depth`: `if`s opened after the command and not yet closed.
    let (mut depth, mut alternative) = (0usize, false);
    for line in without_here_documents(upto.last().copied(), after)
        .into_iter()
        .filter(|l| code(l))
    {
        let first = line.split_whitespace().next().unwrap_or_default();
        let first = first.trim_end_matches(';');
        let opens = IF_OPENS.find_iter(line).count();
        let closes = FI_CLOSES.find_iter(line).count();
        if depth == 0 && open > 0 && matches!(first, "else" | "elif") {
            alternative = true;
            continue;
        }
        if depth == 0 && closes > opens {
            // The `fi` of an `if` around the command: its branches end here.
            alternative = false;
        }
        depth = (depth + opens).saturating_sub(closes);
        if !alternative && !harmless(line) {
            return Some(line);
        }
    }
    None
}

/// `lines` without the bodies of the here-documents they (or the line
/// before them, `before`) open, and without their delimiters.
fn without_here_documents<'a>(before: Option<&str>, lines: &[&'a str]) -> Vec<&'a str> {
    // Found where the shell reads (not inside quotes); the word as written
    // (masking keeps every byte where it is).
    let opened = |line: &str| -> Vec<String> {
        HERE_DOC
            .captures_iter(&super::mask_quoted(line))
            .filter_map(|c| c.get(1))
            .map(|m| line[m.range()].trim_matches(['\'', '"']).to_owned())
            .collect()
    };
    let mut pending: Vec<String> = before.map(opened).unwrap_or_default();
    let mut kept = Vec::new();
    for line in lines {
        if let Some(word) = pending.first() {
            if line.trim() == word {
                pending.remove(0);
            }
            continue;
        }
        pending = opened(line);
        kept.push(*line);
    }
    kept
}

/// A here-document's redirection and its delimiter word (`<<EOF`,
/// `<<-'EOF'`, `<< "EOF"`); not a here-string (`<<<`).
static HERE_DOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[^<])<<-?[ \t]*('[^']*'|"[^"]*"|\w+)"#).expect("static regex")
});

/// An `if` that opens a compound command, and its closing `fi`, as words.
static IF_OPENS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[;&|(]|\s)if\s").expect("static regex"));
static FI_CLOSES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[;&|]|\s)fi(?:$|[;&|)\s])").expect("static regex"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn here_documents_after_the_push_are_its_input_not_commands() {
        // set 15 028: the tags come in a here-document after the loop.
        let run = "while IFS= read -r tag; do\n  [ -n \"$tag\" ] && docker push \"$tag\"\ndone <<'TAGS'\n${{ steps.meta.outputs.tags }}\nTAGS\n";
        assert_eq!(trailing_commands(run), Ok(()));
        let run = "docker push a <<-EOF\n\tnot a command\n\tEOF\necho done\n";
        assert_eq!(trailing_commands(run), Ok(()));
        // After the delimiter, commands count again; `<<<` is no here-document.
        let run =
            "for t in a b; do docker push \"$t\"; done <<\"EOF\"\nx\nEOF\ncurl -X POST hook\n";
        assert!(trailing_commands(run).unwrap_err().contains("curl"));
        let run = "docker push a\ngrep -q x <<< \"$out\"\nEOF_LIKE\n";
        assert!(trailing_commands(run).unwrap_err().contains("grep"));
        // A `<<` inside quotes opens nothing.
        let run = "docker push a\necho \"<<EOF\"\nrelease\n";
        assert!(trailing_commands(run).unwrap_err().contains("release"));
    }

    #[test]
    fn a_skopeo_copy_pushes_when_it_copies_to_a_registry() {
        for push in [
            "skopeo copy oci:layout docker://ghcr.io/acme/app:1",
            "skopeo copy --all \"oci:$dir\" \"docker://$ref\" && echo ok",
            "nix run nixpkgs#skopeo -- copy \"$src\" \"docker://$image:$tag\"",
            // set 32 005: skopeo's image (continued lines are joined first)
            "docker run --rm quay.io/skopeo/stable:latest copy --all   docker://${src}   docker://${DST}/app:${tag}\ndone",
            "docker run --rm gcr.io/go-containerregistry/crane:debug copy a b",
        ] {
            assert!(OTHER_PUSH.is_match(push), "{push}");
        }
        for pull in [
            "skopeo copy docker://ghcr.io/acme/app:1 oci-archive:app.tar",
            "skopeo copy --all \"docker://${src}\" \"oci:$dir/copy\"",
            "skopeo inspect docker://ghcr.io/acme/app:1",
            "docker run --rm quay.io/skopeo/stable:latest copy --all   docker://${src}   oci:/out",
            "docker pull quay.io/skopeo/stable:latest\necho copy docker://x",
            "buildah manifest add \"$list\" \"docker://$image:amd64\"",
        ] {
            assert!(!OTHER_PUSH.is_match(pull), "{pull}");
        }
    }

    #[test]
    fn an_else_branch_of_the_if_around_the_push_runs_instead_of_it() {
        let script = |lines: &[&str]| lines.join("\n");
        // set 12 013: the else branch fails the step when there is nothing to push.
        let alternative = script(&[
            "if [ -d \"$folder\" ]; then",
            "  docker build -t \"$image\" \"$folder\"",
            "  docker push \"$image\"",
            "else",
            "  echo \"no folder $folder\"",
            "  exit 1",
            "fi",
        ]);
        assert_eq!(trailing_commands(&alternative), Ok(()));
        let nested = script(&[
            "if a; then",
            "  if b; then docker push x",
            "  elif c; then exit 2",
            "  else",
            "    if d; then rm -rf out; fi",
            "    exit 3",
            "  fi",
            "else exit 4",
            "fi",
        ]);
        assert_eq!(trailing_commands(&nested), Ok(()));
        // After the `fi` the script runs on, after the push.
        let after_fi = format!("{alternative}\ngit tag v1");
        assert!(
            trailing_commands(&after_fi)
                .unwrap_err()
                .contains("`git tag v1`")
        );
        // An `if` opened after the push runs after it, with its branches.
        let later_if = script(&["docker push x", "if [ -n \"$y\" ]; then", "  echo y", "fi"]);
        assert!(
            trailing_commands(&later_if)
                .unwrap_err()
                .contains("`if [ -n")
        );
        // An `else` without an `if` around the push is not an alternative
        // (set 12 005: an `if` split over three steps).
        let stray = script(&["docker push x", "else", "  echo skip", "fi", "deploy"]);
        assert!(trailing_commands(&stray).unwrap_err().contains("`else`"));
    }

    #[test]
    fn pushed_names_are_the_literal_image_names() {
        let lines = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let names = |l: &[&str]| pushed_names(&lines(l)).literal;
        assert_eq!(
            names(&[
                "docker push ghcr.io/acme/app:1",
                "docker push docker.io/acme/app:latest"
            ]),
            ["app"]
        );
        assert_eq!(
            names(&[
                "docker push ghcr.io/acme/api:1 && echo ok",
                "podman push --tls-verify=true local:1 \"docker://ghcr.io/acme/worker:${TAG}\""
            ]),
            ["api", "worker"]
        );
        let variables = pushed_names(&lines(&[
            "docker push \"$IMAGE:$TAG\"",
            "docker push ${REPO}/x-${n}:1",
        ]));
        assert!(variables.literal.is_empty() && variables.dynamic);
        // In the order of the pushes, not sorted: the images keep that order.
        assert_eq!(
            names(&["docker push acme/worker", "docker push acme/api:1"]),
            ["worker", "api"]
        );
    }

    #[test]
    fn replaces_pushes_but_not_comments() {
        let s = "docker build -t x .\n# docker push x\ndocker push --all-tags x\ndocker image push y && echo ok\n";
        assert_eq!(
            record_instead_of_push(s),
            "docker build -t x .\n# docker push x\nscangate-record-push --all-tags x\nscangate-record-push y && echo ok\n"
        );
    }

    fn verdict(script: &str) -> Verdict {
        let y = format!(
            "jobs:\n  p:\n    steps:\n      - run: podman login -u u -p p ghcr.io\n      - run: |\n{}",
            script
                .lines()
                .map(|l| format!("          {l}\n"))
                .collect::<String>()
        );
        super::super::tests::first_verdict(&y)
    }

    /// A copy from a registry to a registry is a promotion: the hint is
    /// the promotion scangate gates. A copy of a local layout is a push.
    #[test]
    fn a_registry_to_registry_copy_is_told_to_promote() {
        let r = verdict(
            "docker run --rm quay.io/skopeo/stable:v1 copy --all \\\n  docker://a/b:1 \\\n  docker://c/d:1",
        )
        .unwrap_err();
        assert!(
            r.reason
                .contains("`skopeo/stable:v1 copy --all docker://a/b:1 docker://c/d:1`"),
            "{}",
            r.reason
        );
        assert!(r.hint.contains("imagetools create"), "{}", r.hint);
        let r = verdict("skopeo copy oci:out docker://c/d:1").unwrap_err();
        assert!(r.hint.contains("docker/build-push-action"), "{}", r.hint);
    }

    #[test]
    fn podman_and_buildah_pushes_are_one_tool() {
        let site =
            verdict("buildah bud -t x .\nbuildah push x docker://r/x:1\npodman push x r/x:2")
                .unwrap();
        assert_eq!(site.format(), Format::DockerArchive(Tool::Podman));
        assert_eq!(site.destinations().lines().count(), 2);
    }

    #[test]
    fn a_push_line_may_end_in_an_operator_and_a_continuation() {
        let site = verdict(
            "docker push \"r/x:$(echo $SHA | head -c7)\" && \\\ndocker push \"r/x:latest\"",
        )
        .unwrap();
        // One command line as the shell reads it, with both pushes.
        assert_eq!(site.destinations().matches("docker push").count(), 2);
        // Its arguments on the next lines (set 14 002): one push.
        let site = verdict("docker push \\\n  \"r/x:1\"\ndocker push \\\n  r/x:2").unwrap();
        assert_eq!(site.destinations().lines().count(), 2);
        let r = verdict("docker push \\\n  r/x:1 \\\n  && git tag v1").unwrap_err();
        assert!(
            r.reason.contains("followed by another command"),
            "{}",
            r.reason
        );
        let r = verdict("echo \"$(docker push r/x:1)\"").unwrap_err();
        assert!(r.reason.contains("command substitution"), "{}", r.reason);
    }

    #[test]
    fn pushes_as_root_are_refused() {
        let r = verdict("sudo -E docker push r/x:1").unwrap_err();
        assert!(r.reason.contains("`sudo docker push`"), "{}", r.reason);
        assert!(!r.reason.contains("containers storage"), "{}", r.reason);
        let r = verdict("sudo buildah push x docker://r/x:1").unwrap_err();
        assert!(
            r.reason.contains("root's containers storage"),
            "{}",
            r.reason
        );
        assert!(r.hint.contains("without `sudo`"), "{}", r.hint);
    }

    #[test]
    fn podman_pushes_that_the_push_job_could_not_repeat_are_refused() {
        let r = verdict("podman push --creds \"$U:$P\" x r/x:1").unwrap_err();
        assert!(r.reason.contains("`--creds`"), "{}", r.reason);
        let r = verdict("podman push x oci-archive:/tmp/x.tar").unwrap_err();
        assert!(r.reason.contains("`oci-archive:`"), "{}", r.reason);
        let r = verdict("podman push x r/x:1\ndocker push r/y:1").unwrap_err();
        assert!(r.reason.contains("docker and with podman"), "{}", r.reason);
    }

    #[test]
    fn pushes_under_a_shell_condition_are_guarded() {
        assert!(guarded_push(
            "if [ \"$E\" = push ]; then\n  docker push x\nfi\n"
        ));
        assert!(guarded_push("test -n \"$T\" && docker push x\n"));
        assert!(guarded_push("case $R in\n  main) docker push x ;;\nesac\n"));
        assert!(!guarded_push(
            "if [ -f x ]; then echo y; fi\nfor t in a b; do\n  docker push \"x:$t\"\ndone\n"
        ));
    }

    #[test]
    fn commands_after_the_push_are_refused_unless_harmless() {
        assert!(trailing_commands("docker push x\necho done\nfi\n").is_ok());
        // What only reads the runner's state (set 14 008).
        assert!(trailing_commands("docker push x\ndf -hT\ndocker images\n").is_ok());
        // A read of the local image (set 43 a01, a22), not of the digests
        // the push gave it, which a recorded push does not.
        assert!(
            trailing_commands(
                "docker push x\ndocker image inspect x --format '{{.Size}}'\ndocker image list\n"
            )
            .is_ok()
        );
        assert!(
            trailing_commands(
                "docker push x\ndocker inspect --format='{{index .RepoDigests 0}}' x\n"
            )
            .is_err()
        );
        // Removals of images: the record keeps the pushed one.
        assert!(trailing_commands("docker push x\ndocker image prune -a\n").is_ok());
        assert!(trailing_commands("docker push x && docker rmi x\n").is_ok());
        assert!(trailing_commands("podman push x\npodman image rm x\n").is_ok());
        // Not what removes containers, the keeper among them.
        assert!(trailing_commands("docker push x\ndocker system prune -af\n").is_err());
        assert!(trailing_commands("docker push x\ndocker container prune -f\n").is_err());
        assert!(trailing_commands("docker push x\nls-remote\n").is_err());
        assert!(
            trailing_commands("docker push x\ngit push --tags\n")
                .unwrap_err()
                .contains("git push")
        );
        assert!(trailing_commands("docker push x && git tag v1\n").is_err());
        assert_eq!(
            check_script("docker push \\\n  x\n").unwrap(),
            ["docker push    x"]
        );
    }
}
