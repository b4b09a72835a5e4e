//! The *detect* stage: which jobs push an image that no gate protects, and
//! whether scangate understands each of them well enough to rewrite it.
//!
//! Detection reads the parsed workflow only; it knows nothing about text or
//! indentation. Every push shape has its own file; a shape it does not fully
//! understand is an [`Unsupported`], never a guess.

pub mod build_push_action;

use std::collections::BTreeMap;

use yaml_serde::Value;

use crate::gate::{self, PushKind};

pub use build_push_action::BuildPush;

/// A job with an ungated push that scangate will not rewrite, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub job: String,
    /// The step the reason is about, if it is about one.
    pub step: Option<usize>,
    pub reason: String,
    pub hint: String,
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
        }
    }
}

/// What detection concludes about one job with an ungated push.
pub type Verdict = Result<BuildPush, Unsupported>;

/// One verdict per job that pushes an image no gate protects, in file order.
/// Jobs whose pushes are all gated (or that push nothing) do not appear.
pub fn ungated_jobs(doc: &Value) -> Vec<Verdict> {
    let mut by_job: BTreeMap<usize, (String, Vec<gate::Push>)> = BTreeMap::new();
    let order: Vec<String> = gate::jobs(doc).into_iter().map(|(id, _)| id).collect();
    for push in gate::pushes(doc).into_iter().filter(|p| !p.gated) {
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
    if let Some(other) = pushes.iter().find(|p| p.kind != PushKind::BuildPushAction) {
        return Err(unsupported_kind(job_id, other));
    }
    if let [_, second, ..] = pushes {
        return Err(Unsupported::new(
            job_id,
            Some(second.step),
            "this job builds and pushes more than one image",
            "split it into one job per image; each is then migrated on its own",
        ));
    }
    let jobs = gate::jobs(doc);
    let Some((_, job)) = jobs.iter().find(|(id, _)| id == job_id) else {
        return Err(Unsupported::new(job_id, None, "job not found", ""));
    };
    build_push_action::read(job_id, job, pushes[0].step)
}

fn unsupported_kind(job: &str, push: &gate::Push) -> Unsupported {
    let (reason, hint) = match &push.kind {
        PushKind::Script(cmd) => (
            format!(
                "the image is pushed from a `run:` script (`{cmd}`), which scangate does not rewrite yet"
            ),
            "push with docker/build-push-action, or add a Trivy gate before this step by hand",
        ),
        PushKind::BakeAction => (
            "docker/bake-action pushes; bake files are not rewritten".to_owned(),
            "build each target with docker/build-push-action, or gate the job by hand",
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
