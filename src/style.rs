//! The file's own indentation habits, measured on the job being rewritten so
//! that new text looks as if the same person had written it.

use crate::layout::JobLayout;
use crate::locate::{self, Collection, Lines};

/// Indentation measured in one job; all widths are in spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Style {
    /// Column of the job's key under `jobs:`.
    pub job_column: usize,
    /// From a job key to its keys (`build:` → `runs-on:`).
    pub map_indent: usize,
    /// From `steps:` to the dash of its items (0 for indentless sequences).
    pub seq_indent: usize,
    /// From a dash to the item's first key (`- name` → 2, `-   name` → 4).
    pub item_offset: usize,
    /// Mapping indentation inside steps (`with:` → its inputs).
    pub step_map_indent: usize,
    /// Steps are separated by blank lines.
    pub blank_between_steps: bool,
    /// Jobs are separated by blank lines.
    pub blank_between_jobs: bool,
}

impl Style {
    /// Measures `job` and its neighbours.
    pub fn measure(lines: &Lines<'_>, job: &JobLayout) -> Self {
        let job_column = job.entry.indent;
        let key_column = job.keys.first().map_or(job_column + 2, |k| k.indent);
        let steps_column = job.key("steps").map_or(key_column, |k| k.indent);
        let dash = job.steps.first().map_or(steps_column + 2, |s| s.indent);
        let content = job
            .steps
            .first()
            .and_then(|s| s.content_column)
            .unwrap_or(dash + 2);
        let blank_between_steps = job
            .steps
            .iter()
            .skip(1)
            .any(|s| (s.lines.start..s.head).any(|i| lines.line(i).trim().is_empty()));
        Style {
            job_column,
            map_indent: key_column.saturating_sub(job_column).max(1),
            seq_indent: dash.saturating_sub(steps_column),
            item_offset: content.saturating_sub(dash).max(2),
            step_map_indent: nested_step_indent(lines, job)
                .unwrap_or(key_column.saturating_sub(job_column))
                .max(1),
            blank_between_steps,
            blank_between_jobs: job.jobs_blank_separated,
        }
    }
}

/// The indentation of the first nested mapping found inside a step.
fn nested_step_indent(lines: &Lines<'_>, job: &JobLayout) -> Option<usize> {
    job.steps.iter().enumerate().find_map(|(i, _)| {
        let keys = job.step_keys(lines, i).ok()?;
        keys.iter().find_map(|k| {
            let children = k.children();
            if children.is_empty() || !locate::inline_value(lines, k).is_empty() {
                return None;
            }
            let inner = locate::entries(lines, children, Collection::Mapping, None).ok()?;
            inner.first()?.indent.checked_sub(k.indent)
        })
    })
}
