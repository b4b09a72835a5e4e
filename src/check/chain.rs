//! Gate chains: for each image push, the jobs it waits for, which of them
//! scan with Trivy and which build the image; and, for a Trivy step that
//! does not gate, which of its settings keeps it from gating.
//!
//! Whether a push *is* gated is never decided here: that is
//! [`crate::gate::pushes`] and [`crate::gate::is_gate`], the one definition
//! that `migrate` uses too. This module only explains a "no" — and it
//! explains it by asking the same question again about a repaired copy of the
//! step ("would it gate with `exit-code: 1`?"), so an explanation can never
//! name a setting that `gate` does not care about.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::workflow::Workflow;
use crate::gate::{self, Push};
use crate::policy::Policy;
use crate::shape::{imagetools_create, manifest_push};

/// A `--exit-code` flag with any value.
static EXIT_FLAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--exit-code\b").expect("static regex"));
/// A non-zero `--exit-code`, as [`gate::is_gate`] recognises it.
static EXIT_NONZERO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--exit-code[ =]+[1-9]").expect("static regex"));
/// `--exit-code 0`, to repair and to point at.
pub(crate) static EXIT_ZERO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--exit-code([ =]+)0\b").expect("static regex"));
/// `--severity X`, to repair and to point at.
pub(crate) static SEVERITY_FLAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--severity([ =]+)([A-Za-z,]+)").expect("static regex"));

/// What one push waits for.
#[derive(Debug, Clone)]
pub struct Chain<'w> {
    pub push: &'w Push,
    /// Jobs the push job needs (directly or transitively) that run Trivy:
    /// the scan the push was meant to wait for, gating or not.
    pub scan_jobs: Vec<String>,
    /// Jobs the push job needs (directly or transitively) that gate.
    pub gate_jobs: Vec<String>,
    /// Trivy steps of the push job itself that come before the push (the
    /// one-job layout: build, scan, push).
    pub scan_steps: Vec<usize>,
}

impl Chain<'_> {
    /// Whether anything scans before this push at all.
    pub fn has_scan(&self) -> bool {
        !self.scan_jobs.is_empty() || !self.scan_steps.is_empty()
    }

    /// Where the scan this push waits for runs: each scan job (all its
    /// steps), and the push job itself up to the push (`Some(index)`).
    pub fn scan_sites(&self) -> Vec<(&str, Option<usize>)> {
        let mut sites: Vec<(&str, Option<usize>)> =
            self.scan_jobs.iter().map(|j| (j.as_str(), None)).collect();
        if !self.scan_steps.is_empty() {
            sites.push((self.push.job.as_str(), Some(self.push.step)));
        }
        sites
    }

    /// The Trivy steps of the scan sites that mean to gate but do not
    /// because of the `defect` asked about, as `(job, index, step)`.
    pub fn gates_with<'a>(
        &'a self,
        wf: &Workflow<'a>,
        policy: &Policy,
        defect: fn(&GateDefects) -> bool,
    ) -> Vec<(&'a str, usize, &'a Mapping)> {
        self.scan_sites()
            .into_iter()
            .flat_map(|(job, before)| {
                defective_gates(wf, job, before, policy)
                    .into_iter()
                    .filter(|(_, d)| defect(d))
                    .filter_map(move |(i, _)| wf.step(job, i).map(|s| (job, i, s)))
            })
            .collect()
    }

    /// Whether the push is gated by a Trivy step of its own job (one-job
    /// layout) rather than only by a job it needs.
    pub fn gated_in_job(&self, wf: &Workflow<'_>) -> bool {
        self.scan_steps.iter().any(|&i| {
            wf.step(&self.push.job, i)
                .is_some_and(|s| gate::is_gate(s, &wf.threshold))
        })
    }
}

/// One chain per push of the workflow, in the order of [`Workflow::pushes`].
pub fn chains<'w>(wf: &'w Workflow<'_>) -> Vec<Chain<'w>> {
    wf.pushes
        .iter()
        .map(|push| {
            let scan_jobs = wf.scans_above(&push.job);
            let gate_jobs = wf.gates_above(&push.job);
            let scan_steps = wf
                .job(&push.job)
                .map(|j| {
                    gate::steps(j)
                        .into_iter()
                        .filter(|(i, s)| *i < push.step && gate::runs_trivy(s))
                        .map(|(i, _)| i)
                        .collect()
                })
                .unwrap_or_default();
            Chain {
                push,
                scan_jobs,
                gate_jobs,
                scan_steps,
            }
        })
        .collect()
}

/// Whether `step` makes the image a chain hands over: builds it, or, in a
/// migrated promotion or manifest push, copies the image for the scan.
fn makes_image(step: &Mapping) -> bool {
    gate::builds(step)
        || step
            .get("run")
            .and_then(Value::as_str)
            .map(gate::shell_body)
            .is_some_and(|run| {
                imagetools_create::copies_for_the_scan(&run)
                    || manifest_push::copies_for_the_scan(&run)
            })
}

/// The index of the last step of `job` that builds an image.
pub fn last_build_step(job: &Mapping) -> Option<usize> {
    last_build_before(job, usize::MAX)
}

/// The index of the last step of `job` before step `end` that makes an
/// image ([`makes_image`]): in one job, the build of the pushed image, not a
/// later build of the user's (a smoke-test image after the push, say).
pub fn last_build_before(job: &Mapping, end: usize) -> Option<usize> {
    gate::steps(job)
        .into_iter()
        .filter(|(i, s)| *i < end && makes_image(s))
        .map(|(i, _)| i)
        .next_back()
}

/// Why a Trivy step that was meant to gate does not: each field is one
/// setting that, repaired alone or with the others, makes [`gate::is_gate`]
/// say yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateDefects {
    /// `exit-code: 0` / `--exit-code 0`.
    pub exit_code_zero: bool,
    /// `continue-on-error: true` on the step.
    pub continue_on_error: bool,
    /// An explicit severity list that leaves out a policy severity.
    pub severity_below_policy: bool,
}

/// For a Trivy step that sets an exit code (a step meant to gate) and does
/// not gate, the settings that keep it from gating. `None` when the step
/// gates, is not meant to (no exit code at all: a report step), or would not
/// gate even repaired (then nothing here can say why).
pub fn gate_defects(step: &Mapping, policy: &Policy) -> Option<GateDefects> {
    let threshold = policy.threshold();
    if !gate::runs_trivy(step) || gate::is_gate(step, &threshold) {
        return None;
    }
    let (defects, repaired) = match gate::action_name(step) {
        Some(_) => {
            let with = step.get("with").and_then(Value::as_mapping)?;
            let code = with.get("exit-code").and_then(gate::scalar)?;
            let code = code.trim().trim_matches(['\'', '"']);
            let severity_low = with
                .get("severity")
                .and_then(gate::scalar)
                .is_some_and(|s| !threshold.covered_by(&s));
            let mut with = with.clone();
            with.insert("exit-code".into(), Value::String("1".into()));
            if severity_low {
                with.insert("severity".into(), Value::String(policy.severity.clone()));
            }
            let mut fixed = step.clone();
            fixed.insert("with".into(), Value::Mapping(with));
            let d = GateDefects {
                exit_code_zero: matches!(code, "0" | ""),
                continue_on_error: gate::continues_on_error(step),
                severity_below_policy: severity_low,
            };
            (d, fixed)
        }
        None => {
            let run = step.get("run").and_then(Value::as_str)?;
            let body = gate::shell_body(run);
            if !EXIT_FLAG.is_match(&body) {
                return None;
            }
            let severity_low = SEVERITY_FLAG
                .captures_iter(&body)
                .any(|c| !threshold.covered_by(&c[2]));
            let mut fixed_run = EXIT_ZERO.replace_all(run, "--exit-code${1}1").into_owned();
            if severity_low {
                let replacement = format!("--severity${{1}}{}", policy.severity);
                fixed_run = SEVERITY_FLAG
                    .replace_all(&fixed_run, replacement.as_str())
                    .into_owned();
            }
            let mut fixed = step.clone();
            fixed.insert("run".into(), Value::String(fixed_run));
            let d = GateDefects {
                exit_code_zero: !EXIT_NONZERO.is_match(&body),
                continue_on_error: gate::continues_on_error(step),
                severity_below_policy: severity_low,
            };
            (d, fixed)
        }
    };
    let mut repaired = repaired;
    repaired.remove("continue-on-error");
    let any = defects.exit_code_zero || defects.continue_on_error || defects.severity_below_policy;
    (any && gate::is_gate(&repaired, &threshold)).then_some(defects)
}

/// Trivy steps of job `id` meant to gate that do not, with their defects;
/// `before` limits them to steps before that index.
pub fn defective_gates(
    wf: &Workflow<'_>,
    id: &str,
    before: Option<usize>,
    policy: &Policy,
) -> Vec<(usize, GateDefects)> {
    let Some(job) = wf.job(id) else {
        return Vec::new();
    };
    gate::steps(job)
        .into_iter()
        .filter(|(i, _)| before.is_none_or(|b| *i < b))
        .filter_map(|(i, s)| gate_defects(s, policy).map(|d| (i, d)))
        .collect()
}

/// Whether job `id` has a Trivy step (before `before`) that gates, or tries
/// to (sets an exit code at all).
pub fn has_gate_attempt(wf: &Workflow<'_>, id: &str, before: Option<usize>) -> bool {
    let Some(job) = wf.job(id) else {
        return false;
    };
    gate::steps(job)
        .into_iter()
        .filter(|(i, _)| before.is_none_or(|b| *i < b))
        .any(|(_, s)| {
            gate::runs_trivy(s)
                && match gate::action_name(s) {
                    Some(_) => gate::input(s, "exit-code").is_some(),
                    None => s
                        .get("run")
                        .and_then(Value::as_str)
                        .is_some_and(|r| EXIT_FLAG.is_match(&gate::shell_body(r))),
                }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(y: &str) -> Mapping {
        yaml_serde::from_str(y).unwrap()
    }

    #[test]
    fn defects_are_the_settings_that_repaired_make_a_gate() {
        let p = Policy::default();
        let d = gate_defects(
            &step("run: trivy image --exit-code 0 --severity CRITICAL,HIGH x"),
            &p,
        );
        assert_eq!(
            d,
            Some(GateDefects {
                exit_code_zero: true,
                continue_on_error: false,
                severity_below_policy: false
            })
        );
        let d = gate_defects(
            &step("run: trivy image --exit-code=1 --severity CRITICAL x"),
            &p,
        )
        .unwrap();
        assert!(d.severity_below_policy && !d.exit_code_zero);
        let d = gate_defects(
            &step("uses: aquasecurity/trivy-action@x\ncontinue-on-error: true\nwith: {exit-code: '1'}"),
            &p,
        )
        .unwrap();
        assert!(d.continue_on_error && !d.exit_code_zero);
        // A report step (no exit code) is not meant to gate.
        assert_eq!(
            gate_defects(&step("run: trivy image --format json x"), &p),
            None
        );
        // A gate has no defects.
        assert_eq!(
            gate_defects(
                &step("run: trivy image --exit-code 1 --severity HIGH,CRITICAL x"),
                &p
            ),
            None
        );
    }
}
