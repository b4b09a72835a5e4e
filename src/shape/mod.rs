//! Push shapes: every way of pushing an image that scangate knows, one file
//! each, behind one trait, listed in one registry ([`Shapes`]).
//!
//! Modelled on zizmor's `audit/`: a [`Shape`] declares its identity and
//! recognises its pushing steps; it reads a job whose pushes are all its own
//! into a [`Rewrite`] (or refuses it, with the reason and the step); the
//! [`Rewrite`] then answers, from general to specific, what `plan`, `render`
//! and `verify` ask: which steps, which images, in which [`Format`] the image
//! travels, how each of its steps is rewritten ([`Piece`]s), and what
//! verification checks of that rewrite ([`Check`]). Nothing outside this
//! folder names a particular shape; a caller may register more
//! ([`Shapes::with`]), bringing their own templates.
//!
//! This module sits above `gate` (it recognises pushes for it through
//! [`gate::Recognise`]) and below `detect`, `plan`, `render` and `verify`:
//! what a shape answers is data, never a call into a later stage.

pub mod bake_action;
pub mod build_plugin;
pub mod build_push_action;
pub mod buildx_script;
pub mod cloud_build;
pub mod command_action;
pub mod compose_push;
pub mod devcontainer_ci;
pub mod dotnet_container;
pub mod exporter;
pub mod goreleaser;
pub mod heroku_push;
pub mod imagetools_create;
pub mod jib;
pub mod kaniko;
pub mod ko;
pub mod manifest_push;
pub mod pack;
pub mod publish_action;
pub mod push_to_registry;
pub mod run_script;
pub mod sam_deploy;
pub mod tarball;

use std::sync::{Arc, LazyLock};

use regex::Regex;
use yaml_serde::{Mapping, Value};

use crate::gate::{self, Push, PushKind};

/// A job with an ungated push that scangate will not rewrite, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub job: String,
    /// The step the reason is about, if it is about one.
    pub step: Option<usize>,
    pub reason: String,
    pub hint: String,
    /// What the one-job layout would avoid, when the refusal is about
    /// splitting the job at all: copies of steps into a push job, say.
    pub cure: Option<Cure>,
}

/// A refusal that another layout of the same job does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cure {
    /// Build, scan and push in the original job (`[layout] mode = "steps"`):
    /// nothing is copied, and whatever the job set up stays in force.
    OneJob,
}

impl Unsupported {
    pub fn new(
        job: &str,
        step: Option<usize>,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Unsupported {
            job: job.to_owned(),
            step,
            reason: reason.into(),
            hint: hint.into(),
            cure: None,
        }
    }

    /// The same refusal, which the one-job layout would avoid.
    pub fn cured_by_one_job(self) -> Self {
        Unsupported {
            cure: Some(Cure::OneJob),
            ..self
        }
    }
}

/// What detection concludes about one job with an ungated push.
pub type Verdict = Result<Site, Unsupported>;

/// Where a shape found a push in a step: `at`, the byte offset in the
/// step's script (0 for an action), decides between shapes when several
/// match one script: the first command wins, as the shell runs it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub at: usize,
    /// The command or action as written, for messages.
    pub what: String,
}

/// A way of pushing an image: one file under `src/shape/`, one line in
/// [`Shapes::builtin`].
pub trait Shape: Send + Sync {
    /// The identifier, unique among the shapes (`build-push-action`).
    fn id(&self) -> &'static str;

    /// How messages name it (`docker/build-push-action`).
    fn label(&self) -> &'static str {
        self.id()
    }

    /// Templates the shape's [`Piece::Template`]s use beyond the built-in
    /// ones, as `(name, text)`.
    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The push of `step` (a step of `job`), if it pushes this shape's way.
    /// `script` is the step's `run:` as the shell reads it (comments
    /// dropped, continuations joined), `None` for a `uses:` step. Most
    /// shapes read the step alone; one whose push depends on the steps
    /// around it (a registry login) reads the job.
    fn push(&self, job: &Mapping, step: &Mapping, script: Option<&str>) -> Option<Found>;

    /// The push is a command of a `run:` script (not an action).
    fn in_script(&self) -> bool {
        false
    }

    /// It splits a job with several pushes of its own (one image each).
    fn several_per_job(&self) -> bool {
        false
    }

    /// Whether it reads a job whose ungated pushes are `pushes`: by default
    /// when all of them are its own.
    fn claims(&self, pushes: &[Push]) -> bool {
        pushes.iter().all(|p| p.kind.shape == self.id())
    }

    /// Reads job `job_id` (whose ungated pushes are `pushes`) into the
    /// rewrite scangate will make, or refuses it.
    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict;

    /// Refuses `push`, one of this shape's, in a job that also pushes
    /// another way (`other`: the first push of a shape that splits several,
    /// else the first of another shape).
    fn mixed(
        &self,
        job_id: &str,
        _job: &Mapping,
        push: &Push,
        other: Option<&Push>,
    ) -> Unsupported {
        let with = |p: &Push| {
            if p.kind.label.contains(&p.kind.what) {
                p.kind.label.to_owned()
            } else {
                format!("{} (`{}`)", p.kind.label, p.kind.what)
            }
        };
        let others = other.map_or_else(
            || "another kind of push".to_owned(),
            |o| format!("{}, step {}", with(o), o.step + 1),
        );
        Unsupported::new(
            job_id,
            Some(push.step),
            format!(
                "this job pushes both with {} and with {others}; scangate splits a job whose pushes are all of one kind",
                with(push)
            ),
            "move one of the pushes to a job of its own (scangate migrates each), or gate the job by hand",
        )
    }
}

/// In which format the image travels from the build job to the scan and
/// push jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An OCI layout (BuildKit's OCI exporter): needs a BuildKit builder;
    /// the push job copies it with skopeo, keeping the manifest digest.
    OciLayout,
    /// A docker archive saved by `tool`, which loads and pushes it again in
    /// the push job (the config digest proves it is the scanned image).
    DockerArchive(Tool),
    /// An OCI layout copied from a registry by skopeo (a promotion): it
    /// travels and is pushed as an [`Format::OciLayout`] is, with no builder.
    OciCopy,
}

/// Where a script's images live, and so which tool records, saves, loads
/// and pushes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    /// The Docker daemon.
    Docker,
    /// Containers storage, which podman and buildah share.
    Podman,
}

impl Format {
    /// The tool that loads and pushes the image (docker for an OCI layout,
    /// which skopeo pushes).
    pub fn tool(self) -> Tool {
        match self {
            Format::DockerArchive(tool) => tool,
            Format::OciLayout | Format::OciCopy => Tool::Docker,
        }
    }

    pub fn is_archive(self) -> bool {
        matches!(self, Format::DockerArchive(_))
    }
}

/// The platforms a build produces, as far as the workflow says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Platforms {
    /// None given: the runner's own.
    #[default]
    Runner,
    /// Listed literally, in order (never empty).
    Listed(Vec<String>),
    /// An expression (`${{ … }}`, `$VAR`): known only when the job runs.
    /// The scan reads them from the exported image and scans each.
    AtRunTime,
}

/// The items of a list input as the actions toolkit splits them
/// (`getInputList`: on commas and newlines, trimmed, empty ones dropped):
/// platforms, tags.
pub(super) fn input_list(list: &str) -> impl Iterator<Item = &str> {
    list.split([',', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

impl Platforms {
    /// From a list as written: `Runner` when it names none.
    pub fn listed(platforms: Vec<String>) -> Self {
        if platforms.is_empty() {
            Platforms::Runner
        } else {
            Platforms::Listed(platforms)
        }
    }

    /// From a list as written (`linux/amd64, linux/arm64`, one per line).
    pub fn from_list(list: &str) -> Self {
        Platforms::listed(input_list(list).map(str::to_owned).collect())
    }

    /// The platforms listed literally; none for the others.
    pub fn as_listed(&self) -> &[String] {
        match self {
            Platforms::Listed(p) => p,
            Platforms::Runner | Platforms::AtRunTime => &[],
        }
    }
}

/// An image a rewrite exports, before `plan` names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageSpec {
    /// The step that builds it, when one step does (its place in the build job).
    pub step: Option<usize>,
    /// That step's `id:`: the push step takes it over.
    pub step_id: Option<String>,
    /// The step with `step_id` is gone in either layout (not kept for its
    /// build): the push step takes its id in one job too.
    pub step_removed: bool,
    /// Pushed untagged, by digest.
    pub by_digest: bool,
    /// Its build step has its own `if:` while other images of the job build
    /// without it: this image alone may not be built, and then is neither
    /// scanned nor pushed (its record step says whether it was).
    pub guarded: bool,
    /// Its target platforms.
    pub platforms: Platforms,
}

/// One part of the text that replaces a step the rewrite edits, in order;
/// the step's own leading comments always come first.
#[derive(Debug, Clone)]
pub enum Piece {
    /// New steps from a template, at the steps' column. `vars` are the
    /// shape's own values; `render` adds the common ones (`job`, `image`,
    /// `artifact`, `tool`, `builder`, `matrix`, `upload`, `blank_steps`,
    /// `names` and `only_image` (empty and false unless `vars` say),
    /// and `carried_env`/`carried_outputs`, empty unless `carried`).
    Template {
        name: &'static str,
        vars: Vec<(&'static str, minijinja::Value)>,
        carried: bool,
    },
    /// A blank line when the file separates steps with one.
    Blank,
    /// The step itself with each line of its `run:` passed through the
    /// function (the same function verification applies to the script).
    Run(fn(&str) -> String),
    /// The step itself with its inputs edited.
    Inputs(InputsEdit),
}

/// How [`Piece::Inputs`] edits a step: the first of its `with:` inputs
/// `replace` found is replaced by the `template` (rendered with `archive`,
/// `builder` and `vars`), the other inputs of `drop` are removed, and the
/// variables of `env` are added to the step's `env:` (made when it has none).
#[derive(Debug, Clone)]
pub struct InputsEdit {
    pub replace: Vec<&'static str>,
    pub drop: &'static [&'static str],
    pub template: &'static str,
    pub vars: Vec<(&'static str, minijinja::Value)>,
    pub env: &'static [(&'static str, &'static str)],
}

/// What verification proves of the build job's steps from the first
/// rewritten step to the last.
#[derive(Debug, Clone)]
pub enum Check {
    /// Each of `steps` exports (its `with:` changed only in `push`,
    /// `provenance`, `outputs` and the builder, its `env:` only by
    /// `BUILDX_NO_DEFAULT_ATTESTATIONS`), followed by a record step
    /// (and an upload in the three-job layout); other steps are unchanged.
    Exports(Vec<usize>),
    /// The steps are the original ones after the inserted ones (one, and the
    /// builder when one is set up), with `edit` applied to the `run:` of
    /// `steps`. With `each`, every one of `steps` has its own inserted step
    /// before it and its record step (and upload) after it, and
    /// `record_steps` more steps between it and its record step (those
    /// that load what the step wrote).
    Runs {
        steps: Vec<usize>,
        edit: fn(&str) -> String,
        each: bool,
        record_steps: usize,
    },
    /// As `Runs`, but each of the steps is replaced by a `run:` step that
    /// records its push instead (an action the build job cannot keep).
    Replaced(Vec<usize>),
}

/// A job a shape read and will rewrite: everything shape-specific that the
/// later stages ask, from general to specific.
pub trait Rewrite: std::fmt::Debug + Send + Sync {
    /// The job's id.
    fn job(&self) -> &str;

    /// The first step that builds or pushes: everything before it stays in
    /// the build job untouched.
    fn first_step(&self) -> usize;

    /// The last step that pushes: everything after it moves to the push job.
    fn last_step(&self) -> usize;

    /// The job runs a matrix: each leg is built, scanned and pushed alone.
    fn matrix(&self) -> bool;

    /// Where the images go, as written (tags or push commands).
    fn destinations(&self) -> String;

    /// Target platforms listed literally; empty for the runner's own and
    /// for platforms known only at run time.
    fn platforms(&self) -> Vec<String> {
        Vec::new()
    }

    /// The push condition, from `push: ${{ … }}`.
    fn push_if(&self) -> Option<&str> {
        None
    }

    /// The images, in build order (one unless the shape splits several).
    fn images(&self) -> Vec<ImageSpec> {
        vec![ImageSpec {
            platforms: Platforms::listed(self.platforms()),
            ..ImageSpec::default()
        }]
    }

    /// Whether step `index` is a build step whose outputs the push steps
    /// replace (it stays out of the build job's own step list).
    fn replaces_outputs_of(&self, _index: usize) -> bool {
        false
    }

    /// The `id`s of those steps: later steps may read only the outputs
    /// the push step sets ([`Rewrite::push_outputs`]).
    fn replaced_ids(&self) -> Vec<String> {
        Vec::new()
    }

    /// The outputs the push step sets, as the replaced step did.
    fn push_outputs(&self) -> &'static [&'static str] {
        &["digest"]
    }

    /// A build exports a cache to a registry: the build job keeps
    /// `packages: write`.
    fn caches_to_registry(&self) -> bool {
        false
    }

    /// Why the job cannot be migrated with signing on, if it cannot.
    fn refuse_signing(&self) -> Option<Unsupported> {
        None
    }

    /// The push may not happen at all (a script's push under a condition):
    /// the build job records whether it did, and scan and push wait for it.
    fn may_skip_push(&self) -> bool {
        false
    }

    /// In a matrix, the build step's own `if:`, which the scan and push jobs
    /// evaluate again: the legs' outputs cannot say which of them built. It
    /// reads only what every job of the leg sees alike (the shape checks).
    fn matrix_build_if(&self) -> Option<&str> {
        None
    }

    /// Why the job cannot be split into three jobs, when one job can still
    /// migrate it (the refusal carries [`Cure::OneJob`]).
    fn refuse_jobs(&self) -> Option<Unsupported> {
        None
    }

    /// How the image travels to the scan and push jobs.
    fn format(&self) -> Format {
        Format::OciLayout
    }

    /// The folder scanned for Dockerfile misconfigurations.
    fn dockerfile_dir(&self) -> String {
        ".".into()
    }

    /// How step `index` is rewritten, if it is; `builder` says whether a
    /// BuildKit builder is set up for the job.
    fn pieces(&self, index: usize, builder: bool) -> Option<Vec<Piece>>;

    /// What verification checks of the rewritten steps.
    fn check(&self) -> Check;
}

/// A job that a shape read and will rewrite (see [`Rewrite`]).
#[derive(Debug, Clone)]
pub struct Site(Arc<dyn Rewrite>);

impl Site {
    pub fn new(rewrite: impl Rewrite + 'static) -> Self {
        Site(Arc::new(rewrite))
    }

    /// Target platforms of multi-platform builds, each once; empty for
    /// builds of the runner's own platform.
    pub fn platforms(&self) -> Vec<String> {
        let mut out = self.0.platforms();
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(p.clone()));
        out
    }
}

impl std::ops::Deref for Site {
    type Target = dyn Rewrite;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

/// Two sites are equal when they read the same (their debug forms agree).
impl PartialEq for Site {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || format!("{:?}", self.0) == format!("{:?}", other.0)
    }
}

impl Eq for Site {}

/// The lines of `script` that hold its first command matching `command`
/// (outside comments) that, its lines joined, is also `accepted` (`docker
/// build` only when it pushes), and the lines that command continues onto
/// with `\`, as a range of line indexes.
fn command_lines_where(
    script: &str,
    command: &Regex,
    accepted: impl Fn(&str) -> bool,
) -> Option<(usize, usize)> {
    command_lines_from(script, command, 0, accepted)
}

/// [`command_lines_where`], from line `from` on.
fn command_lines_from(
    script: &str,
    command: &Regex,
    mut from: usize,
    accepted: impl Fn(&str) -> bool,
) -> Option<(usize, usize)> {
    let lines: Vec<&str> = script.split_inclusive('\n').collect();
    loop {
        let start = from
            + lines[from..]
                .iter()
                .position(|l| !l.trim_start().starts_with('#') && command.is_match(l))?;
        let mut end = start;
        while end + 1 < lines.len() && lines[end].trim_end().ends_with('\\') {
            end += 1;
        }
        if accepted(&joined_lines(script, start, end + 1)) {
            return Some((start, end + 1));
        }
        from = end + 1;
    }
}

/// The first command of `script` matching `command`, its lines joined, and
/// the index of the line after it.
fn joined_command(script: &str, command: &Regex) -> Option<(String, usize)> {
    let (start, end) = command_lines_where(script, command, |_| true)?;
    Some((joined_lines(script, start, end), end))
}

/// Every command of `script` matching `command`, its lines joined, with
/// its range of line indexes.
fn joined_commands(script: &str, command: &Regex) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some((start, end)) = command_lines_from(script, command, from, |_| true) {
        found.push((joined_lines(script, start, end), start, end));
        from = end;
    }
    found
}

/// Lines `start..end` of `script`, continuations joined.
fn joined_lines(script: &str, start: usize, end: usize) -> String {
    script
        .split_inclusive('\n')
        .skip(start)
        .take(end - start)
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The lines of `script` as the shell reads them: a line that ends in `\`
/// together with the lines it goes on onto, comments alone.
fn continued_lines(script: &str) -> impl Iterator<Item = &str> {
    let mut rest = script;
    std::iter::from_fn(move || {
        let mut end = 0;
        for line in rest.split_inclusive('\n') {
            end += line.len();
            let continued = line.trim_end().ends_with('\\');
            if !continued || line.trim_start().starts_with('#') {
                break;
            }
        }
        let (chunk, after) = rest.split_at(end);
        rest = after;
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// `script` with every `command` renamed `with`, on lines that are not
/// comments: how a script shape points a push at its stand-in. Works the
/// same on the script and on the YAML lines that hold it.
fn rename_command(script: &str, command: &Regex, with: &str) -> String {
    script
        .split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with('#') {
                line.to_owned()
            } else {
                command.replace_all(line, with).into_owned()
            }
        })
        .collect()
}

/// The pieces of a script step pointed at a stand-in that records what the
/// step would have pushed: `prepare` puts the stand-in on the PATH, the
/// step runs `edit`ed, and the record step (tags already recorded by the
/// stand-in) follows; with `carried`, it also carries the values later
/// steps read. A step with its own `if:` (`build_if`) is recorded only when
/// it ran, and the record says so.
fn recorded_by_stand_in(
    prepare: &'static str,
    edit: fn(&str) -> String,
    carried: bool,
    build_if: Option<&str>,
) -> [Piece; 5] {
    [
        Piece::Template {
            name: prepare,
            vars: Vec::new(),
            carried: false,
        },
        Piece::Blank,
        Piece::Run(edit),
        Piece::Blank,
        Piece::Template {
            name: "build-record.yml",
            vars: vec![
                ("recorded", var(&true)),
                ("push_if", var(&())),
                ("push_output", var(&false)),
                ("build_if", var(&build_if)),
            ],
            carried,
        },
    ]
}

/// The words of a command line as the shell splits them: whitespace inside
/// quotes or inside an expression (`"${{ github.sha }},latest"`, which
/// GitHub pastes before the shell reads it) does not split.
pub fn shell_words(command: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let (mut start, mut quote, mut expression) = (None, None::<char>, false);
    let mut chars = command.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        match (quote, expression, c) {
            (_, false, '$') if command[at..].starts_with("${{") => expression = true,
            (_, true, '}') if next == Some('}') => {
                expression = false;
                chars.next();
            }
            (_, true, _) => {}
            (Some(q), _, c) if c == q => quote = None,
            (Some(_), _, _) => {}
            (None, _, '"' | '\'') => quote = Some(c),
            (None, _, c) if c.is_whitespace() => {
                if let Some(from) = start.take() {
                    words.push(&command[from..at]);
                }
                continue;
            }
            _ => {}
        }
        start.get_or_insert(at);
    }
    words.extend(start.map(|from| &command[from..]));
    words
}

/// `text` with what is inside quotes, command substitutions (`$(…)`,
/// backticks) and expressions blanked out, byte for byte: an operator found
/// in the result (`|`, `;`, `>`) is one the shell runs on the line, not a
/// character of an argument (`--tags "a,$(echo x | cut -c2-)"`).
pub fn mask_quoted(text: &str) -> String {
    let blank = |out: &mut String, c: char| out.extend(std::iter::repeat_n(' ', c.len_utf8()));
    let mut out = String::with_capacity(text.len());
    let (mut quote, mut depth) = (None::<char>, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => blank(&mut out, c),
            (None, '"' | '\'' | '`') if depth == 0 => {
                quote = Some(c);
                out.push(c);
            }
            (None, '$') if matches!(chars.peek(), Some('(' | '{')) => {
                out.push(c);
                if let Some(open) = chars.next() {
                    blank(&mut out, open);
                }
                depth += 1;
            }
            (None, c) if depth > 0 => {
                match c {
                    '(' | '{' => depth += 1,
                    ')' | '}' => depth -= 1,
                    _ => {}
                }
                blank(&mut out, c);
            }
            (None, c) => out.push(c),
        }
    }
    out
}

/// The registry: the shapes scangate knows, in the order they are asked.
#[derive(Clone)]
pub struct Shapes(Vec<Arc<dyn Shape>>);

static BUILTIN: LazyLock<Shapes> = LazyLock::new(|| {
    Shapes(vec![
        Arc::new(build_push_action::BuildPushAction),
        Arc::new(bake_action::BakeAction),
        Arc::new(publish_action::PublishAction),
        Arc::new(command_action::CommandAction),
        Arc::new(buildx_script::BuildxScript),
        Arc::new(imagetools_create::ImagetoolsCreate),
        Arc::new(manifest_push::ManifestPush),
        Arc::new(run_script::RunScript),
        Arc::new(push_to_registry::PushToRegistry),
        Arc::new(push_to_registry::Fork),
        Arc::new(dotnet_container::DotnetContainer),
        Arc::new(jib::Jib),
        Arc::new(build_plugin::BuildPlugin),
        Arc::new(ko::Ko),
        Arc::new(pack::Pack),
        Arc::new(kaniko::Kaniko),
        Arc::new(compose_push::ComposePush),
        Arc::new(cloud_build::CloudBuild),
        Arc::new(sam_deploy::SamDeploy),
        Arc::new(heroku_push::HerokuPush),
        Arc::new(devcontainer_ci::DevcontainerCi),
        Arc::new(goreleaser::Goreleaser),
    ])
});

impl Default for Shapes {
    fn default() -> Self {
        Shapes::builtin().clone()
    }
}

impl Shapes {
    /// The shapes built into scangate.
    pub fn builtin() -> &'static Shapes {
        &BUILTIN
    }

    /// These shapes and `shape`, asked last.
    #[must_use]
    pub fn with(mut self, shape: impl Shape + 'static) -> Self {
        self.0.push(Arc::new(shape));
        self
    }

    /// Every template the shapes bring.
    pub fn templates(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.0.iter().flat_map(|s| s.templates().iter().copied())
    }

    fn of(&self, push: &Push) -> Option<&dyn Shape> {
        self.0
            .iter()
            .find(|s| s.id() == push.kind.shape)
            .map(AsRef::as_ref)
    }

    /// Reads job `job_id`, whose ungated pushes are `pushes`: the first
    /// shape that claims them all reads it; pushes of several shapes are
    /// refused by the first push's shape that cannot share the job.
    pub fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        if let Some(shape) = self.0.iter().find(|s| s.claims(pushes)) {
            return shape.read(job_id, job, pushes);
        }
        let several = |p: &&Push| self.of(p).is_some_and(|s| s.several_per_job());
        match pushes
            .iter()
            .find(|p| !several(p))
            .and_then(|p| Some((p, self.of(p)?)))
        {
            Some((push, shape)) => {
                let other = pushes
                    .iter()
                    .find(several)
                    .or_else(|| pushes.iter().find(|p| p.kind.shape != push.kind.shape));
                Err(shape.mixed(job_id, job, push, other))
            }
            None => Err(Unsupported::new(
                job_id,
                pushes.first().map(|p| p.step),
                "no shape reads this job's pushes",
                "gate the job by hand",
            )),
        }
    }
}

impl gate::Recognise for Shapes {
    fn push_kind(&self, job: &Mapping, step: &Mapping) -> Option<PushKind> {
        let script = if step.get("uses").is_some() {
            None
        } else {
            Some(gate::shell_body(step.get("run")?.as_str()?))
        };
        self.0
            .iter()
            .filter_map(|s| Some((s.push(job, step, script.as_deref())?, s)))
            .min_by_key(|(found, _)| found.at)
            .map(|(found, s)| PushKind {
                shape: s.id(),
                label: s.label(),
                in_script: s.in_script(),
                what: found.what,
            })
    }
}

/// The `read` of a shape that only refuses: its first push, refused as
/// [`Shape::mixed`] says.
pub fn refuse_first<S: Shape + ?Sized>(
    shape: &S,
    job_id: &str,
    job: &Mapping,
    pushes: &[Push],
) -> Verdict {
    let first = pushes.iter().find(|p| p.kind.shape == shape.id());
    Err(first.map_or_else(
        || Unsupported::new(job_id, None, "no push of this shape found", ""),
        |p| shape.mixed(job_id, job, p, None),
    ))
}

/// Job-level settings that the three-job split cannot keep correct. A
/// matrix is kept: the strategy is copied to the scan and push jobs, and
/// every leg gets its own artifact, scan and push. So is `continue-on-error`,
/// on the build and push jobs but never on the scan job: a job that
/// continues on error looks successful to the jobs that need it, so a scan
/// job with it would let every push through. Settings may read `needs`:
/// the push job needs what the original job needed, and so does the scan
/// job when its `runs-on:` reads them.
pub fn check_job(job: &Mapping) -> Result<(), (&'static str, &'static str)> {
    let matrix = has_matrix(job);
    if job.get("container").is_some() {
        return Err((
            "the job runs in a `container:`; the scan and push jobs could not reproduce it",
            "build on the runner itself, or gate the job by hand",
        ));
    }
    if runs_on_windows_or_macos(job) {
        return Err((
            "the job runs on Windows or macOS; scangate's gate steps need a Linux runner (bash, skopeo, jq, Trivy on Linux)",
            "build and push on a Linux runner (`ubuntu-latest`), or gate the job by hand",
        ));
    }
    for key in [
        "runs-on",
        "continue-on-error",
        "env",
        "environment",
        "timeout-minutes",
        "defaults",
        "concurrency",
    ] {
        if job
            .get(key)
            .and_then(|v| yaml_serde::to_string(v).ok())
            .is_some_and(|t| !matrix && t.contains("matrix."))
        {
            return Err((
                "a job-level setting reads `matrix`, which the new jobs would not have",
                "gate the job by hand",
            ));
        }
    }
    Ok(())
}

/// A pushing step with its own `if:` that other steps follow (a script's
/// push, push-to-registry): refused split, where those steps could not run
/// when the push is skipped; cured by one job, where they keep their own
/// conditions.
pub fn guarded_push(job: &str, step: usize) -> Unsupported {
    Unsupported::new(
        job,
        Some(step),
        "a pushing step has its own `if:` and steps follow it; split, they could not keep running when it is skipped",
        "move the condition to the job, or gate the job by hand",
    )
    .cured_by_one_job()
}

/// The job's only push, in `what` (a step) with its own `if:`, followed by
/// steps under other conditions: they run when the push is skipped, which
/// a push job skipped with it could not; one job can.
pub fn skipped_push_followed(job: &str, step: usize, what: &str) -> Unsupported {
    Unsupported::new(
        job,
        Some(step),
        format!(
            "{what} has its own `if:`, and later steps run under other conditions; they run when the push is skipped, and a push job skipped with it could not"
        ),
        "move the condition to the job's `if:`, or split the job",
    )
    .cured_by_one_job()
}

/// A `runs-on:` label (or one of a list) of a Windows or macOS runner,
/// GitHub-hosted (`windows-2022`, `macos-14`) or self-hosted (`Windows`).
fn runs_on_windows_or_macos(job: &Mapping) -> bool {
    let labels: Vec<String> = match job.get("runs-on") {
        Some(Value::Sequence(list)) => list.iter().filter_map(gate::scalar).collect(),
        Some(v) => gate::scalar(v).into_iter().collect(),
        None => Vec::new(),
    };
    labels.iter().any(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.starts_with("windows") || l.starts_with("macos")
    })
}

/// `false` as GitHub reads it (a boolean or the string).
pub fn is_false(v: &Value) -> bool {
    matches!(
        gate::scalar(v).as_deref().map(str::trim),
        Some("false" | "False" | "FALSE")
    )
}

/// The job runs a matrix.
pub fn has_matrix(job: &Mapping) -> bool {
    job.get("strategy").and_then(|s| s.get("matrix")).is_some()
}

/// A template variable from anything serialisable.
pub fn var<T: serde::Serialize>(value: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// A push that scangate detects but does not rewrite: `check` reports it
/// as an ungated push, and `migrate` refuses the job with this reason and
/// hint instead of calling the file unchanged. A shape file that only
/// refuses declares one of these and implements [`Shape`] through
/// [`refused_shape!`](crate::refused_shape).
pub struct Refused {
    pub id: &'static str,
    /// How messages name it (`pack build --publish`).
    pub label: &'static str,
    pub finder: Finder,
    /// The reason, given the push as written.
    pub reason: fn(&str) -> String,
    pub hint: &'static str,
}

/// How a [`Refused`] shape finds its push.
pub enum Finder {
    /// A command of a `run:` script: `pattern` finds where it starts, and
    /// `pushes` says whether the command (from its start to the end of its
    /// line, or to the next `;`, `&` or `|`) pushes to a registry.
    Command {
        pattern: &'static LazyLock<regex::Regex>,
        pushes: fn(&str) -> bool,
    },
    /// An action: given its lower-cased name and the step, the push as
    /// messages name it, if the step pushes.
    Action(fn(&str, &Mapping) -> Option<String>),
    /// A step that pushes only beside others of its job (a tool that
    /// pushes what its own config says once the job logged in): given the
    /// job and the step, the push as messages name it.
    InJob(fn(&Mapping, &Mapping) -> Option<String>),
}

impl Refused {
    /// The push of `step`, a step of `job` (`script`: its shell text,
    /// `None` for an action).
    pub fn find(&self, job: &Mapping, step: &Mapping, script: Option<&str>) -> Option<Found> {
        match (&self.finder, script) {
            (Finder::Command { pattern, pushes }, Some(script)) => {
                find_command(pattern, *pushes, script)
            }
            (Finder::Action(pushes), None) => {
                let what = pushes(&gate::action_name(step)?, step)?;
                Some(Found { at: 0, what })
            }
            (Finder::InJob(pushes), _) => pushes(job, step).map(|what| Found { at: 0, what }),
            _ => None,
        }
    }

    /// The refusal of `push`.
    pub fn refuse(&self, job_id: &str, push: &Push) -> Unsupported {
        Unsupported::new(
            job_id,
            Some(push.step),
            (self.reason)(&push.kind.what),
            self.hint,
        )
    }
}

/// The first command of `script` that `pattern` finds the start of and
/// that `pushes` (the command to the end of its line, which a `\` at its
/// end continues, or to the next `;`, `&` or `|`).
pub fn find_command(pattern: &Regex, pushes: fn(&str) -> bool, script: &str) -> Option<Found> {
    pattern.find_iter(script).find_map(|m| {
        let command = tarball::command_at(script, m.start());
        pushes(command).then(|| Found {
            at: m.start(),
            what: command
                .split_whitespace()
                .filter(|w| *w != "\\")
                .collect::<Vec<_>>()
                .join(" "),
        })
    })
}

/// Implements `Debug`, `PartialEq` and `Eq` for a descriptor that only
/// ever lives in a `static` (it holds functions): its `name` says which.
macro_rules! named_static {
    ($type:ty) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name)
            }
        }

        impl PartialEq for $type {
            fn eq(&self, other: &Self) -> bool {
                self.name == other.name
            }
        }

        impl Eq for $type {}
    };
}
pub(crate) use named_static;

/// Implements [`Shape`] for a unit struct through its [`Refused`].
#[macro_export]
macro_rules! refused_shape {
    ($shape:ident, $refused:expr) => {
        impl $crate::shape::Shape for $shape {
            fn id(&self) -> &'static str {
                $refused.id
            }

            fn label(&self) -> &'static str {
                $refused.label
            }

            fn push(
                &self,
                job: &yaml_serde::Mapping,
                step: &yaml_serde::Mapping,
                script: Option<&str>,
            ) -> Option<$crate::shape::Found> {
                $refused.find(job, step, script)
            }

            fn in_script(&self) -> bool {
                matches!($refused.finder, $crate::shape::Finder::Command { .. })
            }

            fn read(
                &self,
                job_id: &str,
                job: &yaml_serde::Mapping,
                pushes: &[$crate::gate::Push],
            ) -> $crate::shape::Verdict {
                $crate::shape::refuse_first(self, job_id, job, pushes)
            }

            fn mixed(
                &self,
                job_id: &str,
                _job: &yaml_serde::Mapping,
                push: &$crate::gate::Push,
                _other: Option<&$crate::gate::Push>,
            ) -> $crate::shape::Unsupported {
                $refused.refuse(job_id, push)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn masked_text_keeps_only_the_operators_the_shell_runs() {
        let line = r#"ko build --tags "latest,$(echo ${{ github.ref }} | cut -c11-)" . | tee out"#;
        let masked = super::mask_quoted(line);
        assert_eq!(masked.len(), line.len());
        assert_eq!(masked.matches('|').count(), 1);
        assert!(masked.ends_with(". | tee out"), "{masked}");
        assert_eq!(
            super::mask_quoted("a $(b; c) 'd;e' f; g"),
            "a $       '   ' f; g"
        );
    }

    #[test]
    fn shell_words_keep_quotes_and_expressions_whole() {
        assert_eq!(
            super::shell_words(
                r#"ko build --tags "${{ github.sha }},latest" ${{ inputs.path }}  ./cmd/a 'b c'"#
            ),
            [
                "ko",
                "build",
                "--tags",
                r#""${{ github.sha }},latest""#,
                "${{ inputs.path }}",
                "./cmd/a",
                "'b c'"
            ]
        );
    }

    use super::*;

    /// The verdict on the first job of `yaml` with an ungated push, as
    /// detection reaches it with the built-in shapes: for the shapes' tests.
    #[allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
    pub(super) fn first_verdict(yaml: &str) -> Verdict {
        let doc: Value = yaml_serde::from_str(yaml).unwrap();
        crate::detect::ungated_jobs(&doc, &gate::Threshold::default(), Shapes::builtin()).remove(0)
    }

    /// A job `id` with `head` (its keys and first steps, as YAML lines)
    /// whose last step runs `script`: for the script shapes' tests.
    pub(super) fn script_job(id: &str, head: &str, script: &str) -> String {
        let run: String = script.lines().map(|l| format!("          {l}\n")).collect();
        format!("jobs:\n  {id}:\n{head}      - run: |\n{run}")
    }

    /// The refusal of [`script_job`]'s job.
    pub(super) fn refused_script(id: &str, head: &str, script: &str) -> Unsupported {
        match first_verdict(&script_job(id, head, script)) {
            Err(u) => u,
            Ok(site) => panic!("{script}: migrated as {site:?}"),
        }
    }

    #[test]
    fn a_job_that_pushes_two_ways_names_both() {
        let job = "jobs:\n  b:\n    steps:\n      - uses: redhat-actions/buildah-build@v2\n        with:\n          image: app\n      - uses: redhat-actions/push-to-registry@v2\n        with:\n          image: app\n          registry: quay.io/acme\n      - run: skopeo copy docker://quay.io/acme/app:1 docker://quay.io/acme/app:2\n";
        let refused = first_verdict(job).unwrap_err();
        assert_eq!(refused.step, Some(1), "{}", refused.reason);
        assert!(
            refused.reason.contains(
                "with redhat-actions/push-to-registry and with a `run:` script (`skopeo copy"
            ) && refused.reason.contains("step 3"),
            "{}",
            refused.reason
        );
    }
}
