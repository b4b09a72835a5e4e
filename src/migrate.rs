//! One workflow through the whole pipeline, in memory:
//! read → locate → detect → plan → render → splice → verify.
//! No files are touched here; the caller decides what to show or write.

use std::sync::Arc;

use yaml_serde::Value;

use crate::detect::{self, Cure, Site, Unsupported};
use crate::error::{Error, Location, Refusal};
use crate::gate::Threshold;
use crate::layout::{self, JobLayout, Unlocatable};
use crate::locate::Lines;
use crate::pins::Pins;
use crate::plan::{self, Plan};
use crate::policy::Policy;
use crate::render::jobs::{self, JobInput, RenderError, Rewrite};
use crate::render::{Overrides, Renderer};
use crate::shape::Shapes;
use crate::source::{LineEndings, Source};
use crate::style::Style;
use crate::{splice, verify};

/// What migration concluded for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing pushes an ungated image: the file stays byte-identical.
    Unchanged,
    /// Not a workflow (no `jobs:` mapping): skipped, with why.
    NotAWorkflow(String),
    /// Rewritten and verified; `text` is in the pipeline's `\n` form.
    Migrated {
        text: String,
        jobs: Vec<MigratedJob>,
    },
    /// At least one push cannot be migrated; nothing is written for the file.
    Refused(Vec<Refusal>),
}

/// A summary of one job's split, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigratedJob {
    pub job: String,
    /// `jobs` (build → scan → push jobs) or `steps` (one job).
    pub layout: &'static str,
    pub build_job: String,
    pub scan_job: String,
    pub tags: String,
    pub platforms: Vec<String>,
    pub push_if: Option<String>,
    pub moved_steps: usize,
    /// Trivy steps that ran after the push and now run after it in the push job.
    pub late_scans: usize,
    /// Why the job was put in one job although `jobs` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// What would let the job split, with the fallback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_fix: Option<String>,
    /// What the original already got wrong, kept as it was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Refusal>,
    /// The expressions of the rewritten scripts that moved to their step's
    /// `env:`, as `(written, variable)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved_expressions: Vec<(String, String)>,
}

impl MigratedJob {
    /// The jobs in order, for people: `` `a-build` → `a-scan` → `a` ``,
    /// or `` `a` (build → scan → push) `` in the one-job layout.
    pub fn chain(&self) -> String {
        if self.layout == "steps" {
            format!("`{}` (build → scan → push)", self.job)
        } else {
            format!(
                "`{}` → `{}` → `{}` → `{}`",
                self.job, self.build_job, self.scan_job, self.job
            )
        }
    }

    /// The summary of `plan`, a rewrite of a job of `text`.
    fn from_plan(plan: &Plan, text: &str) -> Self {
        let job = plan.site.job().to_owned();
        // One job: nothing is added, nothing moves.
        let single = plan.single_job.is_some();
        let (build_job, scan_job) = if single {
            (job.clone(), job.clone())
        } else {
            (plan.build_job.clone(), plan.scan_job.clone())
        };
        MigratedJob {
            layout: if single { "steps" } else { "jobs" },
            build_job,
            scan_job,
            tags: plan.site.destinations(),
            platforms: plan.site.platforms(),
            push_if: plan.site.push_if().map(str::to_owned),
            moved_steps: if single { 0 } else { plan.post_steps.len() },
            late_scans: plan.late_scans,
            fallback: plan.fallback.as_ref().map(|u| u.reason.clone()),
            fallback_fix: plan.fallback.as_ref().map(|u| u.hint.clone()),
            warnings: plan.warnings.iter().map(|w| refusal(text, w)).collect(),
            moved_expressions: plan
                .moved
                .values()
                .flat_map(|m| m.replace.iter().cloned())
                .collect(),
            job,
        }
    }
}

/// Settings that shape every migration. Cheap to clone: the parsed
/// templates are shared.
#[derive(Clone)]
pub struct Migrator {
    renderer: Arc<Renderer>,
    policy: Policy,
    threshold: Threshold,
    pins: Pins,
    shapes: Shapes,
}

impl Migrator {
    /// A migrator with the built-in templates.
    pub fn new(pins: Pins, policy: Policy) -> Result<Self, Error> {
        Migrator::with_templates(pins, policy, Overrides::default())
    }

    /// A migrator whose templates `overrides` replaces, by name.
    pub fn with_templates(pins: Pins, policy: Policy, overrides: Overrides) -> Result<Self, Error> {
        Migrator::with_shapes(pins, policy, overrides, Shapes::default())
    }

    /// A migrator that knows the push shapes `shapes` (the built-in ones
    /// are [`Shapes::default`]), with their templates.
    pub fn with_shapes(
        pins: Pins,
        policy: Policy,
        overrides: Overrides,
        shapes: Shapes,
    ) -> Result<Self, Error> {
        let mut renderer = Renderer::new(&pins, overrides)?;
        for (name, text) in shapes.templates() {
            renderer.add_template(name, text)?;
        }
        Ok(Migrator {
            renderer: Arc::new(renderer),
            threshold: policy.threshold(),
            policy,
            pins,
            shapes,
        })
    }

    /// The policy the generated gates enforce (what a PR body describes).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// This migrator for a repository whose own runners answer to `labels`
    /// (its actionlint config's): the new jobs may repeat them.
    pub fn with_runner_labels(&self, labels: Vec<String>) -> Migrator {
        let mut migrator = self.clone();
        migrator.policy.layout.runner_labels = labels;
        migrator
    }

    /// [`Migrator::migrate`], and for a file it leaves or migrates, the jobs
    /// that log in to a registry and then run what scangate cannot read
    /// ([`detect::unseen_pushes`]), as warnings; the file is parsed once.
    pub fn migrate_with_unseen(&self, source: &Source) -> Result<(Outcome, Vec<Refusal>), Error> {
        let doc = parse(source, &source.text)?;
        let outcome = self.migrate_doc(source, &doc)?;
        let unseen = match outcome {
            Outcome::Unchanged | Outcome::Migrated { .. } => {
                unseen_pushes(source, &doc, &self.shapes)
            }
            Outcome::NotAWorkflow(_) | Outcome::Refused(_) => Vec::new(),
        };
        Ok((outcome, unseen))
    }

    /// Migrates `source`. Errors are for input that is not YAML and for
    /// scangate's own failures (template or verification).
    pub fn migrate(&self, source: &Source) -> Result<Outcome, Error> {
        self.migrate_doc(source, &parse(source, &source.text)?)
    }

    fn migrate_doc(&self, source: &Source, doc: &Value) -> Result<Outcome, Error> {
        if !doc.get("jobs").is_some_and(Value::is_mapping) {
            return Ok(Outcome::NotAWorkflow(
                "no `jobs:` mapping; not a GitHub Actions workflow".into(),
            ));
        }
        let verdicts = detect::ungated_jobs(doc, &self.threshold, &self.shapes);
        if verdicts.is_empty() {
            return Ok(Outcome::Unchanged);
        }
        if source.line_endings == LineEndings::Mixed {
            let job = verdicts.iter().flatten().next().map_or("", |s| s.job());
            return Ok(Outcome::Refused(vec![Refusal::new(
                Location { line: 1, column: 1 },
                job,
                "the file mixes CRLF and LF line endings; new lines could not match them",
                "normalise the line endings (e.g. `dos2unix`) and run again",
            )]));
        }
        // Every job scangate understands is rewritten against the original
        // text (refusals then point at the file as it is), and all rewrites
        // are spliced at once: linear in the file, however many jobs push.
        let mut refusals = Vec::new();
        let mut rewrites = Vec::new();
        let mut plans = Vec::new();
        let lines = Lines::new(&source.text);
        let file = FileText {
            text: &source.text,
            lines: &lines,
            anchors: layout::anchor_lines(&source.text),
            jobs: layout::JobsText::locate(&lines),
        };
        for site in verdicts.iter().flatten() {
            match self.rewrite_job(source, &file, doc, site)? {
                Ok((rewrite, plan)) => {
                    rewrites.push(rewrite);
                    plans.push(plan);
                }
                Err(r) => refusals.push(r),
            }
        }
        if !refusals.is_empty() {
            return Ok(Outcome::Refused(refusals));
        }
        let spliced = splice::splice(&lines, &source.text, &rewrites);
        let new_doc = verify::rewrite(
            &source.text,
            doc,
            &spliced,
            &plans,
            &self.threshold,
            &self.shapes,
        )
        .map_err(|what| Error::Verification {
            path: source.path.clone(),
            what,
        })?;
        // What is left cannot be migrated (a push scangate does not rewrite,
        // not gated by the jobs it rewrote): refuse, placed in the original.
        let remaining = detect::ungated_jobs(&new_doc, &self.threshold, &self.shapes);
        let left: Vec<Refusal> = remaining
            .iter()
            .filter_map(|v| v.as_ref().err())
            .map(|u| refusal(&source.text, u))
            .collect();
        if !left.is_empty() {
            return Ok(Outcome::Refused(left));
        }
        verify::idempotent(&remaining).map_err(|what| Error::Verification {
            path: source.path.clone(),
            what,
        })?;
        Ok(Outcome::Migrated {
            text: spliced.text,
            jobs: plans
                .iter()
                .map(|p| MigratedJob::from_plan(p, &source.text))
                .collect(),
        })
    }

    /// The plan for `site` in the configured layout; a job the three-job
    /// layout cannot split but one job can is planned in one job, with the
    /// reason kept, unless the configuration forbids it.
    fn plan(&self, doc: &Value, site: &Site) -> Result<Plan, Unsupported> {
        let refused = match plan::plan(doc, site, &self.pins, &self.policy) {
            Err(u) if u.cure == Some(Cure::OneJob) && self.policy.layout.fallback_to_one_job => u,
            other => return other,
        };
        let mut one_job = self.policy.clone();
        one_job.layout.single_job = true;
        let mut plan = plan::plan(doc, site, &self.pins, &one_job)?;
        plan.fallback = Some(refused);
        Ok(plan)
    }

    /// Plans, locates and renders the rewrite of one job of `text`.
    fn rewrite_job(
        &self,
        source: &Source,
        file: &FileText<'_>,
        doc: &Value,
        site: &Site,
    ) -> Result<Result<(Rewrite, Plan), Refusal>, Error> {
        let FileText {
            text,
            lines,
            anchors,
            jobs: located,
        } = file;
        let plan = match self.plan(doc, site) {
            Ok(plan) => plan,
            Err(u) => return Ok(Err(refusal(text, &u))),
        };
        let empty = yaml_serde::Mapping::new();
        let jobs = crate::gate::jobs(doc);
        let job = jobs
            .iter()
            .find(|(id, _)| id == site.job())
            .map_or(&empty, |(_, m)| *m);
        let layout = match located
            .clone()
            .and_then(|j| j.job(lines, site.job()))
            .and_then(|l| no_anchors(anchors, l))
            .and_then(|l| {
                let used = |i: usize| {
                    i >= plan.pre_steps.end || plan.copied_steps.iter().any(|c| c.index == i)
                };
                l.cross_check(lines, job, &used).map(|()| l)
            }) {
            Ok(layout) => layout,
            Err(u) => return Ok(Err(text_refusal(lines, site.job(), &u))),
        };
        let style = Style::measure(lines, &layout);
        let input = JobInput {
            lines,
            layout: &layout,
            plan: &plan,
            style: &style,
            policy: &self.policy,
            workflow: &workflow_stem(source),
        };
        match jobs::rewrite(&self.renderer, &input) {
            Ok(rewrite) => Ok(Ok((rewrite, plan))),
            Err(RenderError::Text(u)) => Ok(Err(text_refusal(lines, site.job(), &u))),
            Err(RenderError::Internal(e)) => Err(e),
        }
    }
}

/// The original text with what every job's rewrite reads of it, computed once.
struct FileText<'a> {
    text: &'a str,
    lines: &'a Lines<'a>,
    /// 0-based lines holding an anchor or alias.
    anchors: Vec<usize>,
    /// The jobs' entries, or why they cannot be located.
    jobs: Result<layout::JobsText, Unlocatable>,
}

/// Flow collections (`[`, `{`) nested deeper than this are refused before
/// parsing: the parser would reject them anyway (its recursion limit is
/// 128), but only after scanning them, which takes seconds for a hostile
/// file of hundreds of thousands of brackets.
pub const MAX_FLOW_DEPTH: usize = 256;

/// Where flow nesting first goes deeper than `limit`, skipping quoted
/// scalars and comments (a quote never spans a line in the cheap scan).
fn flow_too_deep(text: &str, limit: usize) -> Option<Location> {
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for (col, c) in line.chars().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') if prev.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > limit {
                        return Some(Location {
                            line: n + 1,
                            column: col + 1,
                        });
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }
    None
}

/// The self-hosted runner labels an actionlint config (`source`) declares,
/// or where it is not YAML.
pub fn runner_labels(source: &Source) -> Result<Vec<String>, Error> {
    let config = parse(source, &source.text).map_err(|e| match e {
        Error::Yaml { path, at, message } => Error::Yaml {
            path,
            at,
            message: format!(
                "{message}; scangate reads the self-hosted runner labels this actionlint config declares: fix it (actionlint rejects it too), then run scangate again"
            ),
        },
        other => other,
    })?;
    Ok(crate::runner::declared_labels(&config))
}

/// Parses `text` (of `source`) or says where it is not YAML.
pub fn parse(source: &Source, text: &str) -> Result<Value, Error> {
    if let Some(at) = flow_too_deep(text, MAX_FLOW_DEPTH) {
        return Err(Error::Yaml {
            path: source.path.clone(),
            at,
            message: format!("flow collections nested deeper than {MAX_FLOW_DEPTH} levels"),
        });
    }
    yaml_serde::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map_or(Location { line: 1, column: 1 }, |l| Location {
                line: l.line(),
                column: l.column(),
            });
        let message = e.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        let at = duplicate_key_line(text, &message, at).unwrap_or(at);
        let message = match yaml_hint(&message) {
            Some(hint) => format!("{message}; {hint}"),
            None => message,
        };
        Error::Yaml {
            path: source.path.clone(),
            at,
            message,
        }
    })
}

/// What to do about a parser message whose cause is not obvious from it.
fn yaml_hint(message: &str) -> Option<&'static str> {
    if message.contains("mapping values are not allowed") {
        return Some(
            "a `: ` inside an unquoted value starts a mapping (GitHub rejects the file too): quote the value, or write it as a block scalar (`run: |`)",
        );
    }
    // set 18 038: `on:` written twice.
    message.contains("duplicate entry").then_some(
        "GitHub rejects a workflow with a key written twice in one mapping: merge the two into one, then run scangate again",
    )
}

/// The parser places a duplicate key at the start of its mapping; the
/// second occurrence of the key is what the user has to fix.
fn duplicate_key_line(text: &str, message: &str, at: Location) -> Option<Location> {
    let key = message
        .split("duplicate entry with key \"")
        .nth(1)?
        .split('"')
        .next()?;
    let lines = Lines::new(text);
    let mut first_indent = None;
    for i in at.line.saturating_sub(1)..lines.len() {
        let Some(col) = lines.content_indent(i) else {
            continue;
        };
        if first_indent.is_some_and(|c| col < c) {
            return None;
        }
        if crate::locate::key_of(&lines.line(i)[col..]).as_deref() != Some(key) {
            continue;
        }
        match first_indent {
            None => first_indent = Some(col),
            Some(c) if c == col => {
                return Some(Location {
                    line: i + 1,
                    column: col + 1,
                });
            }
            Some(_) => {}
        }
    }
    None
}

fn workflow_stem(source: &Source) -> String {
    source
        .path
        .file_stem()
        .map_or_else(|| "workflow".into(), |s| s.to_string_lossy().into_owned())
}

/// A job whose lines hold an anchor or alias is refused: moving or copying
/// its text could separate an alias from its anchor.
fn no_anchors(anchors: &[usize], layout: JobLayout) -> Result<JobLayout, Unlocatable> {
    let range = layout.entry.lines.clone();
    match anchors.iter().copied().find(|l| range.contains(l)) {
        Some(line) => Err(Unlocatable {
            line,
            reason: "the job defines or uses a YAML anchor (`&name` / `*name`)".into(),
        }),
        None => Ok(layout),
    }
}

fn text_refusal(lines: &Lines<'_>, job: &str, u: &Unlocatable) -> Refusal {
    let column = lines
        .content_indent(u.line.min(lines.len().saturating_sub(1)))
        .unwrap_or(0)
        + 1;
    Refusal::new(
        Location {
            line: u.line + 1,
            column,
        },
        job,
        u.reason.clone(),
        "rewrite this part of the job in plain block style (lines of its own: no flow collection, anchor or alias), or gate the job by hand",
    )
}

/// Places a detection refusal at its step (or job) in the text.
/// [`detect::unseen_pushes`] of `doc` (parsed from `source`), each at the
/// line and column of its step: what `migrate` warns of and `check` notes.
pub fn unseen_pushes(source: &Source, doc: &Value, shapes: &Shapes) -> Vec<Refusal> {
    detect::unseen_pushes(doc, shapes)
        .iter()
        .map(|u| refusal(&source.text, u))
        .collect()
}

fn refusal(text: &str, u: &Unsupported) -> Refusal {
    let lines = Lines::new(text);
    let at = JobLayout::find(&lines, &u.job)
        .ok()
        .map(|l| match u.step.and_then(|s| l.steps.get(s)) {
            Some(step) => (step.head, step.indent),
            None => (l.entry.head, l.entry.indent),
        })
        .or_else(|| job_line(&lines, &u.job));
    let (line, col) = at.unwrap_or((0, 0));
    Refusal::new(
        Location {
            line: line + 1,
            column: col + 1,
        },
        &u.job,
        u.reason.clone(),
        u.hint.clone(),
    )
}

/// The first line that looks like the key of job `id`, for placing refusals
/// when the job's full layout cannot be read.
fn job_line(lines: &Lines<'_>, id: &str) -> Option<(usize, usize)> {
    (0..lines.len()).find_map(|i| {
        let line = lines.line(i);
        let col = lines.content_indent(i)?;
        let key = crate::locate::key_of(&line[col..])?;
        (key == id && col > 0).then_some((i, col))
    })
}
