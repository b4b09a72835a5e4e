//! `migration-pending`: `scangate migrate` would still change the file.
//! Checking the invariants alone would let a workflow pass that the tool
//! itself would rewrite; running the migration in memory makes `check` and
//! `migrate --check` agree by construction.

use super::{Context, Meta, Rule};
use crate::check::finding::Finding;
use crate::migrate::Outcome;

pub(super) struct MigrationPending;

static META: Meta = Meta {
    id: "migration-pending",
    invariant: 0,
    description: "`scangate migrate` leaves the workflow unchanged.",
    help: "Run `scangate migrate --write` on the workflow, review the diff, and commit it.",
};

impl Rule for MigrationPending {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// `migrate` changes a file only when a push is ungated, so the (costly)
    /// migration runs only then.
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) -> Result<(), crate::Error> {
        if cx.wf.pushes.iter().all(|p| p.gated) {
            return Ok(());
        }
        let Outcome::Migrated { jobs, .. } = (cx.migrate)()? else {
            return Ok(());
        };
        let path = cx.wf.source.path.display();
        for job in jobs {
            out.push(self.finding(
                cx.wf.job_at(&job.job),
                &job.job,
                format!(
                    "`scangate migrate` would still change this workflow: it would split job `{}` into `{}` → `{}` → `{}`",
                    job.job, job.build_job, job.scan_job, job.job
                ),
                format!("run `scangate migrate --write {path}`, review the diff and commit it"),
            ));
        }
        Ok(())
    }
}
