//! Where a job and its steps are in a workflow's text, cross-checked against
//! the parsed workflow so that every slice scangate copies or replaces is
//! known to mean exactly the node it is taken for.

use std::ops::Range;

use saphyr_parser::{Event, Parser};
use yaml_serde::{Mapping, Value};

use crate::locate::{self, Collection, Entry, Lines};

/// Why a job's text cannot be edited safely; becomes a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocatable {
    /// 0-based line.
    pub line: usize,
    pub reason: String,
}

impl Unlocatable {
    fn new(line: usize, reason: impl Into<String>) -> Self {
        Unlocatable {
            line,
            reason: reason.into(),
        }
    }
}

/// A job's lines, keys and steps.
#[derive(Debug, Clone)]
pub struct JobLayout {
    /// The job's entry under `jobs:`.
    pub entry: Entry,
    /// The job's own keys (`runs-on`, `steps`, …).
    pub keys: Vec<Entry>,
    /// The items of `steps:`.
    pub steps: Vec<Entry>,
    /// Other jobs in the file are separated by blank lines (or there are none).
    pub jobs_blank_separated: bool,
}

/// The entries under `jobs:`, located once for all the jobs of a file.
#[derive(Debug, Clone)]
pub struct JobsText {
    jobs: Entry,
    all: Vec<Entry>,
}

fn shape(s: locate::Shape) -> Unlocatable {
    Unlocatable::new(s.line(), "the workflow is not in plain block style here")
}

impl JobsText {
    pub fn locate(lines: &Lines<'_>) -> Result<Self, Unlocatable> {
        let top_range = top_level_range(lines);
        let top =
            locate::entries(lines, top_range.clone(), Collection::Mapping, None).map_err(shape)?;
        let jobs = locate::find(&top, "jobs")
            .ok_or_else(|| Unlocatable::new(top_range.start, "no `jobs:` key found"))?
            .clone();
        require_block(lines, &jobs, "`jobs:`")?;
        let all =
            locate::entries(lines, jobs.children(), Collection::Mapping, None).map_err(shape)?;
        Ok(JobsText { jobs, all })
    }

    /// Job `id`'s keys and steps.
    pub fn job(&self, lines: &Lines<'_>, id: &str) -> Result<JobLayout, Unlocatable> {
        let entry = locate::find(&self.all, id)
            .ok_or_else(|| {
                Unlocatable::new(self.jobs.head, format!("job `{id}` not found in the text"))
            })?
            .clone();
        require_block(lines, &entry, "the job")?;
        let keys =
            locate::entries(lines, entry.children(), Collection::Mapping, None).map_err(shape)?;
        let steps_key = locate::find(&keys, "steps")
            .ok_or_else(|| Unlocatable::new(entry.head, "the job has no `steps:`"))?;
        require_block(lines, steps_key, "`steps:`")?;
        let steps = locate::entries(lines, steps_key.children(), Collection::Sequence, None)
            .map_err(shape)?;
        let jobs_blank_separated = self.all.len() < 2
            || self
                .all
                .iter()
                .skip(1)
                .any(|j| (j.lines.start..j.head).any(|i| lines.line(i).trim().is_empty()));
        Ok(JobLayout {
            entry,
            keys,
            steps,
            jobs_blank_separated,
        })
    }
}

impl JobLayout {
    /// Finds job `id` in the text. Call [`JobLayout::cross_check`] before
    /// trusting the slices. (For several jobs of one file, locate the jobs
    /// once with [`JobsText::locate`].)
    pub fn find(lines: &Lines<'_>, id: &str) -> Result<Self, Unlocatable> {
        JobsText::locate(lines)?.job(lines, id)
    }

    /// The job key with name `key`.
    pub fn key(&self, key: &str) -> Option<&Entry> {
        locate::find(&self.keys, key)
    }

    /// Each key and each step, parsed on its own, must equal what the whole
    /// file's parse says it is.
    ///
    /// Only the steps for which `used(index)` holds are parsed one by one:
    /// those whose text scangate edits, moves or copies. The steps that stay
    /// where they are are proven equal after the rewrite by verification,
    /// which keeps this linear in what changes (a job of 100,000 steps would
    /// otherwise cost 100,000 parses).
    pub fn cross_check(
        &self,
        lines: &Lines<'_>,
        job: &Mapping,
        used: &dyn Fn(usize) -> bool,
    ) -> Result<(), Unlocatable> {
        let mismatch = |line: usize| {
            Unlocatable::new(line, "the job's text could not be matched to its meaning")
        };
        if self.keys.len() != job.len() {
            return Err(mismatch(self.entry.head));
        }
        // `steps` is checked step by step below.
        for key in self
            .keys
            .iter()
            .filter(|k| k.key.as_deref() != Some("steps"))
        {
            let text = locate::dedent(lines, key.body(), key.indent);
            let parsed: Mapping = yaml_serde::from_str(&text).map_err(|_| mismatch(key.head))?;
            let name = key.key.as_deref().unwrap_or_default();
            if parsed.get(name) != job.get(name) {
                return Err(mismatch(key.head));
            }
        }
        let steps = job
            .get("steps")
            .and_then(Value::as_sequence)
            .ok_or_else(|| mismatch(self.entry.head))?;
        if steps.len() != self.steps.len() {
            return Err(mismatch(self.entry.head));
        }
        for (item, step) in self
            .steps
            .iter()
            .zip(steps)
            .enumerate()
            .filter(|(i, _)| used(*i))
            .map(|(_, p)| p)
        {
            let text = locate::dedent(lines, item.body(), item.indent);
            let parsed: Vec<Value> =
                yaml_serde::from_str(&text).map_err(|_| mismatch(item.head))?;
            if parsed.len() != 1 || &parsed[0] != step {
                return Err(mismatch(item.head));
            }
        }
        Ok(())
    }

    /// The mapping entries of step `index` (its `name`, `uses`, `with`, …).
    pub fn step_keys(&self, lines: &Lines<'_>, index: usize) -> Result<Vec<Entry>, Unlocatable> {
        let item = &self.steps[index];
        // `-` alone on its line: the step's mapping starts on the next line.
        let dash_only = lines.line(item.head)[item.indent..]
            .trim_start_matches('-')
            .trim()
            .split('#')
            .next()
            .is_some_and(str::is_empty);
        let (range, first) = if dash_only {
            (item.head + 1..item.lines.end, None)
        } else {
            (item.body(), item.content_column)
        };
        locate::entries(lines, range, Collection::Mapping, first)
            .map_err(|s| Unlocatable::new(s.line(), "the step is not in plain block style"))
    }
}

/// The lines of the top-level mapping: after a leading `---`, before a `...`.
fn top_level_range(lines: &Lines<'_>) -> Range<usize> {
    let marker = |i: usize, m: &str| lines.line(i).trim_end() == m;
    let first = (0..lines.len()).find(|&i| lines.content_indent(i).is_some());
    let start = match first {
        Some(i) if marker(i, "---") => i + 1,
        _ => 0,
    };
    let end = (start..lines.len())
        .find(|&i| marker(i, "..."))
        .unwrap_or(lines.len());
    start..end
}

/// The value of `entry` must be a block node on the following lines; an
/// anchor, alias, tag or flow collection on the key line is refused.
fn require_block(lines: &Lines<'_>, entry: &Entry, what: &str) -> Result<(), Unlocatable> {
    let inline = locate::inline_value(lines, entry);
    if inline.is_empty() || inline.starts_with('#') {
        return Ok(());
    }
    // An alias shares another node (set 19 001: `steps: *build-steps`, the
    // steps of another job); an edit here would change both.
    let reason = match inline.starts_with('*') || inline.starts_with('&') {
        true => format!(
            "{what} is a YAML anchor or alias (`{inline}`), shared with another part of the file; scangate edits a job's own lines"
        ),
        false => format!("{what} is written inline (`{inline}`), not as an indented block"),
    };
    Err(Unlocatable::new(entry.head, reason))
}

/// 0-based lines that hold an anchor (`&a`) or an alias (`*a`). Edits that
/// move or drop such a line could leave an alias without its anchor.
pub fn anchor_lines(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let anchored = match event {
            Event::Alias(_) => true,
            Event::Scalar(_, _, id, _)
            | Event::SequenceStart(id, _)
            | Event::MappingStart(id, _) => id > 0,
            _ => false,
        };
        if anchored {
            out.push(span.start.line().saturating_sub(1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WF: &str = "---\non: push\njobs:\n  a:\n    runs-on: x\n    steps:\n    - run: echo 1\n    # two\n    - name: two\n      run: |\n        echo 2\n  b: &b\n    runs-on: x\n";

    fn job<'a>(doc: &'a Value, id: &str) -> &'a Mapping {
        doc.get("jobs")
            .unwrap()
            .get(id)
            .unwrap()
            .as_mapping()
            .unwrap()
    }

    #[test]
    fn finds_a_job_with_indentless_steps() {
        let doc: Value = yaml_serde::from_str(WF).unwrap();
        let lines = Lines::new(WF);
        let l = JobLayout::find(&lines, "a").unwrap();
        l.cross_check(&lines, job(&doc, "a"), &|_| true).unwrap();
        assert_eq!(l.steps.len(), 2);
        assert_eq!(l.steps[1].lines, 7..11);
        assert_eq!(l.entry.lines, 3..11);
    }

    #[test]
    fn refuses_an_anchored_job_and_reports_anchor_lines() {
        let doc: Value = yaml_serde::from_str(WF).unwrap();
        let lines = Lines::new(WF);
        let _ = job(&doc, "b");
        let err = JobLayout::find(&lines, "b").unwrap_err();
        assert!(
            err.reason.contains("a YAML anchor or alias (`&b`)"),
            "{err:?}"
        );
        assert_eq!(anchor_lines(WF), vec![11]);
    }
}
