//! One parsed workflow as the rules see it: the semantic reading (jobs,
//! steps, the pushes of [`crate::gate`]) and, computed only when a rule has
//! something to report, where things are in the text.
//!
//! The text positions come from [`crate::layout::JobLayout`], the same
//! locator `migrate` uses. `check` does not need the strict cross-check that
//! an edit needs: a position is advice, so when the text cannot be matched
//! to the parse (flow style, anchors) the position falls back to the nearest
//! thing that can be placed — the step, then the job, then line 1.

use std::cell::OnceCell;
use std::collections::HashMap;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use crate::error::Location;
use crate::gate::{self, Push, Threshold};
use crate::layout::JobLayout;
use crate::locate::{self, Collection, Entry, Lines};
use crate::source::Source;

/// A workflow file, parsed once, with lazily computed text positions.
pub struct Workflow<'a> {
    pub source: &'a Source,
    pub doc: &'a Value,
    /// `(id, job)` in file order.
    pub jobs: Vec<(String, &'a Mapping)>,
    /// Every image push, with [`crate::gate`]'s verdict on whether it is gated.
    pub pushes: Vec<Push>,
    /// What a Trivy run must fail on to be a gate (the policy's severities).
    pub threshold: Threshold,
    lines: Lines<'a>,
    layouts: Vec<OnceCell<Option<JobLayout>>>,
    index: HashMap<String, usize>,
    graph: OnceCell<Graph>,
}

/// The `needs:` graph by job index, with what each job is and what it
/// waits for. Built once, on first use (a workflow without pushes never
/// builds it), in time linear in jobs and edges plus the sizes of the sets:
/// a 3,000-job chain must not cost seconds.
struct Graph {
    needs: Vec<Vec<usize>>,
    trivy: Vec<bool>,
    gate: Vec<bool>,
    /// Per job: the jobs it needs transitively that run Trivy (sorted).
    scans_above: Vec<Vec<usize>>,
    /// Per job: the gate jobs it needs transitively (sorted).
    gates_above: Vec<Vec<usize>>,
}

impl Graph {
    fn new(
        jobs: &[(String, &Mapping)],
        index: &HashMap<String, usize>,
        threshold: &Threshold,
    ) -> Graph {
        let needs: Vec<Vec<usize>> = jobs
            .iter()
            .map(|(_, j)| {
                let mut n: Vec<usize> = gate::needs(j)
                    .iter()
                    .filter_map(|d| index.get(d).copied())
                    .collect();
                n.sort_unstable();
                n.dedup();
                n
            })
            .collect();
        let trivy: Vec<bool> = jobs
            .iter()
            .map(|(_, j)| gate::steps(j).iter().any(|(_, s)| gate::runs_trivy(s)))
            .collect();
        let gate: Vec<bool> = jobs
            .iter()
            .zip(&trivy)
            .map(|((_, j), &t)| {
                t && !gate::continues_on_error(j)
                    && gate::steps(j)
                        .iter()
                        .any(|(_, s)| gate::is_gate(s, threshold))
            })
            .collect();
        let order = post_order(&needs);
        let mut scans_above = vec![Vec::new(); jobs.len()];
        let mut gates_above = vec![Vec::new(); jobs.len()];
        for &j in &order {
            let (mut scans, mut gates) = (Vec::new(), Vec::new());
            for &d in &needs[j] {
                scans.extend_from_slice(&scans_above[d]);
                gates.extend_from_slice(&gates_above[d]);
                if trivy[d] {
                    scans.push(d);
                }
                if gate[d] {
                    gates.push(d);
                }
            }
            for set in [&mut scans, &mut gates] {
                set.sort_unstable();
                set.dedup();
                set.retain(|&x| x != j);
            }
            scans_above[j] = scans;
            gates_above[j] = gates;
        }
        Graph {
            needs,
            trivy,
            gate,
            scans_above,
            gates_above,
        }
    }
}

/// Jobs in an order where every job comes after the jobs it needs; an edge
/// that closes a cycle (GitHub rejects those) is ignored. Iterative, so a
/// deep chain cannot overflow the stack.
fn post_order(needs: &[Vec<usize>]) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; needs.len()];
    let mut order = Vec::with_capacity(needs.len());
    for root in 0..needs.len() {
        if mark[root] != Mark::New {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some((node, next)) = stack.pop() {
            if let Some(&dep) = needs[node].get(next) {
                stack.push((node, next + 1));
                if mark[dep] == Mark::New {
                    mark[dep] = Mark::Open;
                    stack.push((dep, 0));
                }
            } else {
                mark[node] = Mark::Done;
                order.push(node);
            }
        }
    }
    order
}

impl<'a> Workflow<'a> {
    pub fn new(source: &'a Source, doc: &'a Value, threshold: Threshold) -> Self {
        let jobs = gate::jobs(doc);
        let pushes = if jobs.is_empty() {
            Vec::new()
        } else {
            gate::pushes(doc, &threshold, crate::shape::Shapes::builtin())
        };
        let layouts = jobs.iter().map(|_| OnceCell::new()).collect();
        let mut index = HashMap::new();
        for (i, (id, _)) in jobs.iter().enumerate() {
            index.entry(id.clone()).or_insert(i);
        }
        Workflow {
            source,
            doc,
            jobs,
            pushes,
            threshold,
            lines: Lines::new(&source.text),
            layouts,
            index,
            graph: OnceCell::new(),
        }
    }

    /// The job with id `id`.
    pub fn job(&self, id: &str) -> Option<&'a Mapping> {
        self.index.get(id).map(|&i| self.jobs[i].1)
    }

    /// Step `index` of job `id` (as numbered in the `steps:` sequence).
    pub fn step(&self, id: &str, index: usize) -> Option<&'a Mapping> {
        self.job(id)?
            .get("steps")?
            .as_sequence()?
            .get(index)?
            .as_mapping()
    }

    fn graph(&self) -> &Graph {
        self.graph
            .get_or_init(|| Graph::new(&self.jobs, &self.index, &self.threshold))
    }

    /// Every job `id` needs, directly or through other jobs, nearest first.
    /// Ids that name no job are left out (see [`Workflow::missing_needs`]).
    pub fn needs_closure(&self, id: &str) -> Vec<String> {
        let Some(&start) = self.index.get(id) else {
            return Vec::new();
        };
        let g = self.graph();
        let mut seen = vec![false; self.jobs.len()];
        seen[start] = true;
        let mut out = Vec::new();
        let mut todo = std::collections::VecDeque::from([start]);
        while let Some(cur) = todo.pop_front() {
            for &dep in &g.needs[cur] {
                if !seen[dep] {
                    seen[dep] = true;
                    out.push(self.jobs[dep].0.clone());
                    todo.push_back(dep);
                }
            }
        }
        out
    }

    /// The ids job `id` (or a job it needs) names in `needs:` that are not
    /// jobs of this workflow.
    pub fn missing_needs(&self, id: &str) -> Vec<String> {
        let mut ids = vec![id.to_owned()];
        ids.extend(self.needs_closure(id));
        let mut out: Vec<String> = ids
            .iter()
            .filter_map(|j| self.job(j))
            .flat_map(gate::needs)
            .filter(|n| !self.index.contains_key(n))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The jobs `id` needs (transitively) that run Trivy, in file order.
    pub fn scans_above(&self, id: &str) -> Vec<String> {
        self.names(self.index.get(id).map(|&i| &self.graph().scans_above[i]))
    }

    /// The gate jobs `id` needs (transitively), in file order.
    pub fn gates_above(&self, id: &str) -> Vec<String> {
        self.names(self.index.get(id).map(|&i| &self.graph().gates_above[i]))
    }

    fn names(&self, indices: Option<&Vec<usize>>) -> Vec<String> {
        indices
            .map(|v| v.iter().map(|&i| self.jobs[i].0.clone()).collect())
            .unwrap_or_default()
    }

    /// Jobs that run Trivy in at least one step.
    pub fn runs_trivy(&self, id: &str) -> bool {
        self.index.get(id).is_some_and(|&i| self.graph().trivy[i])
    }

    /// A gate job in [`crate::gate`]'s sense: not `continue-on-error`, and a
    /// step that [`gate::is_gate`].
    pub fn is_gate_job(&self, id: &str) -> bool {
        self.index.get(id).is_some_and(|&i| self.graph().gate[i])
    }

    // -- Positions ----------------------------------------------------------

    fn layout(&self, id: &str) -> Option<&JobLayout> {
        let i = *self.index.get(id)?;
        self.layouts[i]
            .get_or_init(|| {
                let layout = JobLayout::find(&self.lines, id).ok()?;
                // Step indices must mean the same steps as in the parse.
                let parsed = self.jobs[i]
                    .1
                    .get("steps")
                    .and_then(Value::as_sequence)
                    .map_or(0, Vec::len);
                (layout.steps.len() == parsed).then_some(layout)
            })
            .as_ref()
    }

    fn at(&self, line: usize, column: usize) -> Location {
        Location {
            line: line + 1,
            column: column + 1,
        }
    }

    /// The job's key line (`  release:`).
    pub fn job_at(&self, id: &str) -> Location {
        if let Some(l) = self.layout(id) {
            return self.at(l.entry.head, l.entry.indent);
        }
        self.job_line(id)
            .map_or(Location { line: 1, column: 1 }, |(l, c)| self.at(l, c))
    }

    /// The line of the job's `key:` (`if:`, `needs:`, ...), else the job's.
    pub fn job_key_at(&self, id: &str, key: &str) -> Location {
        match self.layout(id).and_then(|l| l.key(key)) {
            Some(e) => self.at(e.head, e.indent),
            None => self.job_at(id),
        }
    }

    /// The dash line of step `index`, else the job's line.
    pub fn step_at(&self, id: &str, index: usize) -> Location {
        match self.layout(id).and_then(|l| l.steps.get(index)) {
            Some(e) => self.at(e.head, e.indent),
            None => self.job_at(id),
        }
    }

    fn step_keys(&self, id: &str, index: usize) -> Option<Vec<Entry>> {
        self.layout(id)?.step_keys(&self.lines, index).ok()
    }

    /// The line of the step's `key:`, else the step's dash line.
    pub fn step_key_at(&self, id: &str, index: usize, key: &str) -> Location {
        self.step_keys(id, index)
            .and_then(|keys| locate::find(&keys, key).cloned())
            .map_or_else(|| self.step_at(id, index), |e| self.at(e.head, e.indent))
    }

    /// The line of `with.<input>`, else the `with:` line, else the step's.
    pub fn step_input_at(&self, id: &str, index: usize, input: &str) -> Location {
        let Some(with) = self
            .step_keys(id, index)
            .and_then(|keys| locate::find(&keys, "with").cloned())
        else {
            return self.step_at(id, index);
        };
        locate::entries(&self.lines, with.children(), Collection::Mapping, None)
            .ok()
            .and_then(|inputs| locate::find(&inputs, input).cloned())
            .map_or_else(
                || self.at(with.head, with.indent),
                |e| self.at(e.head, e.indent),
            )
    }

    /// Where `pattern` first matches inside the step's `key:` (a `run:`
    /// script, usually), else the key's line.
    pub fn step_text_at(&self, id: &str, index: usize, key: &str, pattern: &Regex) -> Location {
        let entry = self
            .step_keys(id, index)
            .and_then(|keys| locate::find(&keys, key).cloned());
        let Some(entry) = entry else {
            return self.step_at(id, index);
        };
        for i in entry.body() {
            let line = self.lines.line(i);
            if let Some(m) = pattern.find(line) {
                return Location {
                    line: i + 1,
                    column: line[..m.start()].chars().count() + 1,
                };
            }
        }
        self.at(entry.head, entry.indent)
    }

    /// The first line that looks like the key of job `id` under `jobs:`, for
    /// jobs whose layout cannot be read (no `steps:`, flow style).
    fn job_line(&self, id: &str) -> Option<(usize, usize)> {
        let jobs_line = (0..self.lines.len()).find(|&i| {
            self.lines.content_indent(i) == Some(0)
                && locate::key_of(self.lines.line(i)).as_deref() == Some("jobs")
        })?;
        (jobs_line + 1..self.lines.len()).find_map(|i| {
            let col = self.lines.content_indent(i)?;
            let key = locate::key_of(&self.lines.line(i)[col..])?;
            (key == id && col > 0).then_some((i, col))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn wf_text(y: &str) -> (Source, Value) {
        let source = Source::from_bytes(Path::new("w.yml"), y.as_bytes()).unwrap();
        let doc = yaml_serde::from_str(&source.text).unwrap();
        (source, doc)
    }

    #[test]
    fn scans_and_gates_above_a_job_follow_needs_transitively() {
        let (s, d) = wf_text(
            "jobs:\n  scan:\n    steps:\n      - run: trivy image --exit-code 1 x\n  mid:\n    needs: scan\n    steps:\n      - run: echo\n  push:\n    needs: [mid, nope]\n    steps:\n      - run: docker push x\n",
        );
        let wf = Workflow::new(&s, &d, Threshold::default());
        assert_eq!(wf.scans_above("push"), ["scan"]);
        assert_eq!(wf.gates_above("push"), ["scan"]);
        assert_eq!(wf.needs_closure("push"), ["mid", "scan"]);
        assert_eq!(wf.missing_needs("push"), ["nope"]);
        assert_eq!(wf.job_at("push"), Location { line: 9, column: 3 });
        assert_eq!(
            wf.step_key_at("push", 0, "run"),
            Location {
                line: 12,
                column: 9
            }
        );
    }

    #[test]
    fn a_needs_cycle_ends() {
        let (s, d) = wf_text(
            "jobs:\n  a:\n    needs: b\n    steps:\n      - run: trivy image --exit-code 1 x\n  b:\n    needs: a\n    steps:\n      - run: docker push x\n",
        );
        let wf = Workflow::new(&s, &d, Threshold::default());
        assert_eq!(wf.scans_above("b"), ["a"]);
        assert_eq!(wf.needs_closure("a"), ["b"]);
    }
}
