//! The *detect* stage: which jobs push an image that no gate protects, and
//! whether scangate understands each of them well enough to rewrite it.
//!
//! Detection reads the parsed workflow only; it knows nothing about text or
//! indentation. Every push shape has its own file; a shape it does not fully
//! understand is an [`Unsupported`], never a guess.

pub mod build_push_action;
pub mod buildx_script;
pub mod run_script;

use std::collections::BTreeMap;

use yaml_serde::Value;

use crate::gate::{self, PushKind};

pub use build_push_action::{BuildPush, Builds};
pub use buildx_script::BuildxPush;
pub use run_script::ScriptPush;

/// A job scangate understands completely and will rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// `docker/build-push-action` steps that push: one image each.
    Action(Builds),
    /// `docker push` commands in `run:` scripts.
    Script(ScriptPush),
    /// `docker buildx build … --push` in a `run:` script.
    Buildx(BuildxPush),
}

impl Site {
    pub fn job(&self) -> &str {
        match self {
            Site::Action(a) => &a.first().job,
            Site::Script(s) => &s.job,
            Site::Buildx(b) => &b.job,
        }
    }

    /// The first step that builds or pushes: everything before it stays
    /// in the build job untouched.
    pub fn first_step(&self) -> usize {
        match self {
            Site::Action(a) => a.first().step,
            Site::Script(s) => s.steps.first().copied().unwrap_or_default(),
            Site::Buildx(b) => b.step,
        }
    }

    /// The last step that pushes: everything after it moves to the push job.
    pub fn last_step(&self) -> usize {
        match self {
            Site::Action(a) => a.last().step,
            Site::Script(s) => s.steps.last().copied().unwrap_or_default(),
            Site::Buildx(b) => b.step,
        }
    }

    /// Target platforms of multi-platform builds, each once; empty for
    /// builds of the runner's own platform.
    pub fn platforms(&self) -> Vec<String> {
        let mut out: Vec<String> = match self {
            Site::Action(a) => a.iter().flat_map(|b| b.platforms.clone()).collect(),
            Site::Buildx(b) => b.platforms.clone(),
            Site::Script(_) => Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(p.clone()));
        out
    }

    /// The job runs a matrix: each leg is built, scanned and pushed alone.
    pub fn matrix(&self) -> bool {
        match self {
            Site::Action(a) => a.first().matrix,
            Site::Script(s) => s.matrix,
            Site::Buildx(b) => b.matrix,
        }
    }

    /// The push condition, from `push: ${{ … }}`.
    pub fn push_if(&self) -> Option<&str> {
        match self {
            // Every build step has the same one (detection checks it).
            Site::Action(a) => a.first().push_if.as_deref(),
            Site::Script(_) | Site::Buildx(_) => None,
        }
    }

    /// Where the images go, as written (tags or push commands).
    pub fn destinations(&self) -> String {
        match self {
            Site::Action(a) => a
                .iter()
                .map(|b| b.tags.trim_end())
                .collect::<Vec<_>>()
                .join("\n"),
            Site::Script(s) => s.commands.join("\n"),
            Site::Buildx(b) => b.command.clone(),
        }
    }
}

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

/// One verdict per job that pushes an image no gate protects, in file order.
/// Jobs whose pushes are all gated (or that push nothing) do not appear.
pub fn ungated_jobs(doc: &Value, threshold: &gate::Threshold) -> Vec<Verdict> {
    let mut by_job: BTreeMap<usize, (String, Vec<gate::Push>)> = BTreeMap::new();
    let order: Vec<String> = gate::jobs(doc).into_iter().map(|(id, _)| id).collect();
    for push in gate::pushes(doc, threshold)
        .into_iter()
        .filter(|p| !p.gated)
    {
        let pos = order
            .iter()
            .position(|j| *j == push.job)
            .unwrap_or(usize::MAX);
        by_job
            .entry(pos)
            .or_insert_with(|| (push.job.clone(), Vec::new()))
            .1
            .push(push);
    }
    by_job
        .into_values()
        .map(|(job, pushes)| verdict(doc, &job, &pushes))
        .collect()
}

fn verdict(doc: &Value, job_id: &str, pushes: &[gate::Push]) -> Verdict {
    let jobs = gate::jobs(doc);
    let Some((_, job)) = jobs.iter().find(|(id, _)| id == job_id) else {
        return Err(Unsupported::new(job_id, None, "job not found", ""));
    };
    if !is_job_id(job_id) {
        return Err(Unsupported::new(
            job_id,
            None,
            format!(
                "`{job_id}` is not a valid job id (letters, digits, `_` and `-`, not starting with a digit or `-`)"
            ),
            "rename the job; GitHub rejects this id",
        ));
    }
    if let Some(step) = job
        .get("steps")
        .and_then(yaml_serde::Value::as_sequence)
        .and_then(|steps| steps.iter().position(|s| !s.is_mapping()))
    {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            "this step is empty or not a mapping; GitHub rejects such a workflow",
            "remove the empty `-` item or complete the step, then run scangate again",
        ));
    }
    if let Some((step, _)) = gate::steps(job).into_iter().find(|(_, s)| {
        ["with", "env"]
            .iter()
            .any(|k| s.get(*k).is_some_and(|v| !v.is_mapping()))
    }) {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            "this step's `with:` or `env:` is not a mapping; GitHub rejects such a workflow",
            "write the inputs as `key: value` lines, then run scangate again",
        ));
    }
    if let Some(step) = duplicate_step_id(job) {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            "this step's `id:` is already used by an earlier step of the job; GitHub rejects such a workflow",
            "give every step a unique id, then run scangate again",
        ));
    }
    if pushes.iter().all(|p| matches!(p.kind, PushKind::Script(_))) {
        let buildx = pushes
            .iter()
            .any(|p| matches!(&p.kind, PushKind::Script(cmd) if cmd.starts_with("buildx")));
        return if buildx {
            buildx_script::read(job_id, job, pushes)
        } else {
            run_script::read(job_id, job, pushes)
        };
    }
    if let Some(other) = pushes.iter().find(|p| {
        !matches!(
            p.kind,
            PushKind::BuildPushAction | PushKind::BuildPushOutputs
        )
    }) {
        return Err(unsupported_kind(job_id, other, pushes));
    }
    // Checked before reading each build: reading is linear in the job.
    if let Some(extra) = pushes.get(build_push_action::MAX_IMAGES) {
        return Err(Unsupported::new(
            job_id,
            Some(extra.step),
            format!(
                "this job builds and pushes {} images; scangate splits at most {} per job (each is an artifact of its own)",
                pushes.len(),
                build_push_action::MAX_IMAGES
            ),
            "split the job into several jobs",
        ));
    }
    let builds = pushes
        .iter()
        .map(|p| build_push_action::read(job_id, job, p.step))
        .collect::<Result<Vec<_>, _>>()?;
    Builds::new(job_id, job, builds).map(Site::Action)
}

/// GitHub's rule for job ids; the new jobs' ids are built from it, so an id
/// outside it could not be written back safely either.
fn is_job_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The index of the first step whose `id` (case-insensitive, as GitHub
/// compares them) an earlier step already has.
fn duplicate_step_id(job: &yaml_serde::Mapping) -> Option<usize> {
    let mut seen = std::collections::HashSet::new();
    gate::steps(job).into_iter().find_map(|(i, s)| {
        let id = s.get("id").and_then(gate::scalar)?.to_ascii_lowercase();
        (!seen.insert(id)).then_some(i)
    })
}

/// Why `push`, one of the job's `pushes`, cannot be migrated: the job mixes
/// kinds of push, or `push` is of a kind scangate does not split.
fn unsupported_kind(job: &str, push: &gate::Push, pushes: &[gate::Push]) -> Unsupported {
    let action_step = pushes
        .iter()
        .find(|p| {
            matches!(
                p.kind,
                PushKind::BuildPushAction | PushKind::BuildPushOutputs
            )
        })
        .map_or(0, |p| p.step + 1);
    let (reason, hint) = match &push.kind {
        PushKind::Script(cmd) => (
            format!(
                "this job pushes both with docker/build-push-action (step {action_step}) and from a `run:` script (`{cmd}`); scangate splits a job whose pushes are all of one kind"
            ),
            "move the script's push to a job of its own (scangate migrates each), or push with docker/build-push-action",
        ),
        PushKind::BakeAction => (
            "docker/bake-action pushes every target of a bake file in one step; scangate cannot export and scan the targets one by one".to_owned(),
            "build each target with docker/build-push-action (scangate then gates each image), or gate the job by hand",
        ),
        PushKind::BuildPushOutputs => (
            "docker/build-push-action pushes through `outputs:` (push-by-digest or type=registry)"
                .to_owned(),
            "use `push: true` with `tags:`, or gate the job by hand",
        ),
        PushKind::PublishAction(a) => (
            format!("`{a}` builds and pushes in one step and cannot be split"),
            "replace it with docker/login-action + docker/build-push-action",
        ),
        PushKind::BuildPushAction => (String::new(), ""),
    };
    Unsupported::new(job, Some(push.step), reason, hint)
}
