//! The *detect* stage: which jobs push an image that no gate protects, and
//! whether scangate understands each of them well enough to rewrite it.
//!
//! Detection reads the parsed workflow only; it knows nothing about text or
//! indentation. The checks every job passes are here; each push shape
//! (`crate::shape`) reads the jobs whose pushes are its own, and a job it
//! does not fully understand is an [`Unsupported`], never a guess.

use std::collections::BTreeMap;

use yaml_serde::Value;

use crate::gate;
pub use crate::shape::{Cure, Shapes, Site, Unsupported, Verdict};

/// One verdict per job that pushes an image no gate protects, in file order.
/// Jobs whose pushes are all gated (or that push nothing) do not appear.
pub fn ungated_jobs(doc: &Value, threshold: &gate::Threshold, shapes: &Shapes) -> Vec<Verdict> {
    let mut by_job: BTreeMap<usize, (String, Vec<gate::Push>)> = BTreeMap::new();
    let order: Vec<String> = gate::jobs(doc).into_iter().map(|(id, _)| id).collect();
    for push in gate::pushes(doc, threshold, shapes)
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
        .map(|(job, pushes)| verdict(doc, &job, &pushes, shapes))
        .collect()
}

fn verdict(doc: &Value, job_id: &str, pushes: &[gate::Push], shapes: &Shapes) -> Verdict {
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
    shapes.read(job_id, job, pushes)
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
