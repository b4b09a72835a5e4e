//! The drift rules, one file each, registered in [`ALL`].
//!
//! A rule sees a [`Context`] (the parsed workflow, its gate chains, the
//! policy) and adds [`Finding`]s; it never prints. Rules come in two kinds,
//! often both in one rule:
//!
//! * [`Rule::explain`] is asked about each push that [`crate::gate`] says is
//!   *not* gated, and says why, if the reason is its business (an
//!   `exit-code: 0`, an `if: always()`, ...). A push no rule can explain
//!   still gets a finding from [`ungated_push`]: the verdict comes from
//!   `gate`, the rules only name the cause, so a cause the rules do not know
//!   can never hide an ungated push.
//! * [`Rule::check`] looks at the whole workflow for violations that leave
//!   pushes gated but break another invariant (a rebuild after the scan,
//!   unpublished reports, unpinned actions, pending migration).
//!
//! Adding a rule is adding a file here and one line in [`ALL`].

mod gate_continue_on_error;
mod gate_exit_code;
mod gate_missing;
mod gate_severity;
mod migration_pending;
mod push_condition;
mod push_rebuilds;
mod reports_published;
mod signed_before_gate;
mod ungated_push;
mod unpinned_action;
mod unsigned_push;

pub use unpinned_action::is_pinned;

use yaml_serde::{Mapping, Value};

use super::Options;
use super::chain::Chain;
use super::finding::Finding;
use super::workflow::Workflow;
use crate::error::{Error, Location};
use crate::migrate::Outcome;
use crate::pins::Pins;
use crate::policy::Policy;

/// Every rule, in the order their findings are explained and listed.
pub static ALL: &[&dyn Rule] = &[
    &ungated_push::UngatedPush,
    &push_condition::PushConditionBypass,
    &gate_missing::GateMissing,
    &gate_exit_code::GateExitCode,
    &gate_continue_on_error::GateContinueOnError,
    &gate_severity::GateSeverity,
    &reports_published::ReportsNotPublished,
    &push_rebuilds::PushRebuilds,
    &unpinned_action::UnpinnedAction,
    &signed_before_gate::SignedBeforeGate,
    &unsigned_push::UnsignedPush,
    &migration_pending::MigrationPending,
];

/// What a rule is, for people and for SARIF.
#[derive(Debug)]
pub struct Meta {
    /// Stable id: `gate-exit-code`. Never reused for another meaning.
    pub id: &'static str,
    /// The DESIGN.md gate invariant it checks (1–5), or 0 for "migrate would
    /// change the file".
    pub invariant: u8,
    /// One sentence: what the rule proves.
    pub description: &'static str,
    /// How to fix a finding of this rule, in general.
    pub help: &'static str,
}

/// What a rule sees of one workflow.
pub struct Context<'a> {
    pub wf: &'a Workflow<'a>,
    pub chains: &'a [Chain<'a>],
    pub policy: &'a Policy,
    pub pins: &'a Pins,
    pub options: &'a Options,
    /// What `migrate` makes of this file; computed on first call only, since
    /// it needs the template renderer.
    pub migrate: &'a dyn Fn() -> Result<Outcome, Error>,
}

/// One drift rule.
pub trait Rule: Sync {
    fn meta(&self) -> &'static Meta;

    fn id(&self) -> &'static str {
        self.meta().id
    }

    fn description(&self) -> &'static str {
        self.meta().description
    }

    fn help(&self) -> &'static str {
        self.meta().help
    }

    /// Findings saying why `chain.push` (an ungated push) is ungated, if the
    /// cause is this rule's.
    fn explain(&self, _cx: &Context<'_>, _chain: &Chain<'_>, _out: &mut Vec<Finding>) {}

    /// Findings about the workflow as a whole. Only `migration-pending` can
    /// fail (it runs the migration).
    fn check(&self, _cx: &Context<'_>, _out: &mut Vec<Finding>) -> Result<(), Error> {
        Ok(())
    }

    /// A finding of this rule.
    fn finding(&self, at: Location, job: &str, message: String, help: String) -> Finding {
        Finding {
            rule: self.id(),
            at,
            job: (!job.is_empty()).then(|| job.to_owned()),
            message,
            help,
        }
    }
}

/// The rule with `id`.
pub fn by_id(id: &str) -> Option<&'static dyn Rule> {
    ALL.iter().copied().find(|r| r.id() == id)
}

/// Runs every rule on one workflow: explanations for each ungated push
/// (falling back to `ungated-push`), then the whole-workflow checks. The
/// findings come back sorted by position, without duplicates (several pushes
/// can share one broken scan job).
pub fn run(cx: &Context<'_>) -> Result<Vec<Finding>, Error> {
    let mut out = Vec::new();
    for chain in cx.chains.iter().filter(|c| !c.push.gated) {
        let before = out.len();
        for rule in ALL {
            rule.explain(cx, chain, &mut out);
        }
        if out.len() == before {
            ungated_push::unexplained(cx, chain, &mut out);
        }
    }
    for rule in ALL {
        rule.check(cx, &mut out)?;
    }
    let order = |f: &Finding| {
        ALL.iter()
            .position(|r| r.id() == f.rule)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|f| (f.at, order(f)));
    out.dedup_by(|a, b| a.rule == b.rule && a.at == b.at);
    Ok(out)
}

/// How a step is named in messages: "step 3 (`Build and push`)".
pub(crate) fn step_label(step: &Mapping, index: usize) -> String {
    let text = |k: &str| step.get(k).and_then(Value::as_str).map(str::trim);
    let what = text("name")
        .or_else(|| text("uses"))
        .or_else(|| text("run").and_then(|r| r.lines().next()))
        .unwrap_or("");
    let what: String = what.chars().take(60).collect();
    if what.is_empty() {
        format!("step {}", index + 1)
    } else {
        format!("step {} (`{what}`)", index + 1)
    }
}

/// The label of step `index` of job `id`.
pub(crate) fn step_of(wf: &Workflow<'_>, id: &str, index: usize) -> String {
    wf.step(id, index)
        .map_or_else(|| format!("step {}", index + 1), |s| step_label(s, index))
}

/// `a`, `a` and `b`, `a`, `b` and `c`, each in backticks.
pub(crate) fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case_and_documented() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id()).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
            let rule = by_id(id).unwrap();
            assert!(rule.description().ends_with('.'), "{id}");
            assert!(!rule.help().is_empty(), "{id}");
            assert!(rule.meta().invariant <= 5, "{id}");
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
    }
}
