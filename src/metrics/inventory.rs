//! What the workflows of a repository's default branch push, read with the
//! `check` engine: which images, from which job, and whether a Trivy gate
//! stands before each push ([`crate::gate::pushes`]). From it come the gate
//! coverage, the list of workflows whose runs are releases, and which image
//! each file of a reports artifact belongs to.
//!
//! An image is found where its name is written ([`crate::admission::images`]):
//! in a migrated workflow that is the build job's record step, one job
//! before the push. So a site is judged by the pushes of its own job and of
//! the job it was split from (`J-build` → `J`), the job that also names the
//! reports artifact (`scangate-J-reports`).

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::Value;

use crate::admission::images::{self, Repository};
use crate::error::Error;
use crate::gate;
use crate::policy::Policy;
use crate::source::Source;

/// The id of scangate's record step for the image with key `key`
/// (`templates/build-record.yml`); without a key for a job's only image.
const RECORD_STEP: &str = "scangate-record";

/// The workflows of one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub workflows: Vec<WorkflowImages>,
}

/// What one workflow pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowImages {
    /// `.github/workflows/NAME.yml`, as the runs API names it.
    pub path: String,
    pub sites: Vec<Site>,
}

/// One image pushed by one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The image name without tag (or, when the name is only known at run
    /// time, the reference as written).
    pub image: String,
    /// The original job: the push job's id, which names the reports artifact.
    pub job: String,
    /// The image's key among its job's images (empty for the only one): the
    /// reports of a job with several images are named `KEY-PLATFORM.json`.
    pub key: String,
    /// A Trivy gate must pass before every push of it.
    pub gated: bool,
    /// The prefix of its reports artifact's name (a matrix leg adds `-N`).
    pub artifact: String,
}

/// Gate coverage over the distinct image names of a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    pub images_total: usize,
    pub images_gated: usize,
    /// Images pushed somewhere without a gate, by name.
    pub ungated: Vec<String>,
}

impl Inventory {
    /// Adds the workflow `source` at `path` of repository `repo`, judged by
    /// `policy` (its severities say what a gate is; its reports and layout
    /// settings name the artifacts and jobs).
    pub fn add(
        &mut self,
        repo: &str,
        path: &str,
        source: &Source,
        policy: &Policy,
    ) -> Result<(), Error> {
        let doc = crate::migrate::parse(source, &source.text)?;
        let pushes = gate::pushes(&doc, &policy.threshold(), crate::shape::Shapes::builtin());
        let jobs = gate::jobs(&doc);
        let found = images::pushed(
            &doc,
            &Repository {
                full_name: repo.to_owned(),
            },
        );
        let mut sites = Vec::new();
        for f in found {
            let job = jobs
                .iter()
                .find_map(|(id, _)| {
                    (f.job.strip_suffix(policy.layout.build_suffix.as_str()) == Some(id))
                        .then(|| id.clone())
                })
                .unwrap_or_else(|| f.job.clone());
            let mine: Vec<&gate::Push> = pushes
                .iter()
                .filter(|p| p.job == f.job || p.job == job)
                .collect();
            if mine.is_empty() {
                // Built and named, but pushed nowhere (a pull-request build).
                continue;
            }
            let key = jobs
                .iter()
                .find(|(id, _)| *id == f.job)
                .and_then(|(_, j)| step_id(j, f.step))
                .map(|id| record_key(&id))
                .unwrap_or_default();
            sites.push(Site {
                image: f.image.unwrap_or(f.reference),
                artifact: policy.reports.artifact_of(&job),
                job,
                key,
                gated: mine.iter().all(|p| p.gated),
            });
        }
        self.workflows.push(WorkflowImages {
            path: path.to_owned(),
            sites,
        });
        Ok(())
    }

    /// The workflows that hold a scangate gate: their runs are releases.
    pub fn gated_workflows(&self) -> impl Iterator<Item = &WorkflowImages> {
        self.workflows
            .iter()
            .filter(|w| w.sites.iter().any(|s| s.gated))
    }

    /// The gated images of workflow `path` (what its pushed runs pushed).
    pub fn images_of(&self, path: &str) -> BTreeSet<&str> {
        self.workflows
            .iter()
            .filter(|w| w.path == path)
            .flat_map(|w| &w.sites)
            .filter(|s| s.gated)
            .map(|s| s.image.as_str())
            .collect()
    }

    /// Gate coverage: an image is gated when every push of it is.
    pub fn coverage(&self) -> Coverage {
        let mut gated: BTreeMap<&str, bool> = BTreeMap::new();
        for s in self.workflows.iter().flat_map(|w| &w.sites) {
            *gated.entry(&s.image).or_insert(true) &= s.gated;
        }
        Coverage {
            images_total: gated.len(),
            images_gated: gated.values().filter(|g| **g).count(),
            ungated: gated
                .iter()
                .filter(|(_, g)| !**g)
                .map(|(i, _)| (*i).to_owned())
                .collect(),
        }
    }

    /// Which images the report file `stem` (its name without `.json`) of
    /// the reports artifact `artifact` of a run of `workflow` scanned, and
    /// the platform (empty for a single-platform image). Empty when the
    /// artifact is not a scangate reports artifact of that workflow.
    pub fn attribute(&self, workflow: &str, artifact: &str, stem: &str) -> (Vec<String>, String) {
        let job = self.job_sites(workflow, artifact);
        let keyed = job.iter().find_map(|s| {
            let rest = stem.strip_prefix(s.key.as_str())?.strip_prefix('-')?;
            (!s.key.is_empty()).then_some((s.key.as_str(), rest))
        });
        let (key, platform) = keyed.unwrap_or(("", stem));
        let images: BTreeSet<String> = job
            .iter()
            .filter(|s| s.key == key)
            .map(|s| s.image.clone())
            .collect();
        let platform = if platform == "image" { "" } else { platform };
        (images.into_iter().collect(), platform.to_owned())
    }

    /// Which images the SARIF category `category` of a run of `workflow`
    /// names, and the platform: the scan job uploads each target as
    /// `PREFIX/STEM/JOB/SLUG` (a call of a reusable workflow adds `-CALL`,
    /// a matrix leg `-N`), `STEM` the workflow
    /// file's name without extension (`src/render/jobs.rs`). `None` for a
    /// category that is not an image of this workflow's gated jobs (the
    /// Dockerfile's, another workflow's, another tool's).
    pub fn attribute_category(
        &self,
        workflow: &str,
        prefix: &str,
        category: &str,
    ) -> Option<(Vec<String>, String)> {
        let stem = std::path::Path::new(workflow).file_stem()?.to_str()?;
        let (job, slug) = category
            .strip_prefix(prefix)?
            .strip_prefix('/')?
            .strip_prefix(stem)?
            .strip_prefix('/')?
            .split_once('/')?;
        let slug = without_call(without_leg(slug));
        if slug == "dockerfile" {
            return None;
        }
        let site = self
            .workflows
            .iter()
            .filter(|w| w.path == workflow)
            .flat_map(|w| &w.sites)
            .find(|s| s.gated && s.job == job)?;
        let (images, platform) = self.attribute(workflow, &site.artifact, slug);
        (!images.is_empty()).then_some((images, platform))
    }

    /// Whether `artifact` is a reports artifact of a gated job of `workflow`.
    pub fn is_reports_artifact(&self, workflow: &str, artifact: &str) -> bool {
        !self.job_sites(workflow, artifact).is_empty()
    }

    /// The gated sites of the job whose reports artifact `artifact` is.
    fn job_sites(&self, workflow: &str, artifact: &str) -> Vec<&Site> {
        let sites: Vec<&Site> = self
            .workflows
            .iter()
            .filter(|w| w.path == workflow)
            .flat_map(|w| &w.sites)
            .filter(|s| s.gated && is_leg_of(artifact, &s.artifact))
            .collect();
        // The longest prefix is the job: `scangate-release-arm-reports`
        // must not be read as a leg of `scangate-release-reports`.
        let longest = sites.iter().map(|s| s.artifact.len()).max().unwrap_or(0);
        sites
            .into_iter()
            .filter(|s| s.artifact.len() == longest)
            .collect()
    }
}

/// Whether `artifact` is `prefix`, or `prefix` for one call of a reusable
/// workflow (`-` and the 16 hex digits that name the call) and one matrix
/// leg (`-N`), either or both.
fn is_leg_of(artifact: &str, prefix: &str) -> bool {
    artifact
        .strip_prefix(prefix)
        .is_some_and(|rest| without_call(without_leg_number(rest)).is_empty())
}

/// `text` without a trailing `-N`.
fn without_leg_number(text: &str) -> &str {
    match text.rsplit_once('-') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => text,
    }
}

/// `text` without the `-` and 16 hex digits that name a call of a reusable
/// workflow (`src/plan.rs`, `Names`), if it ends with them.
fn without_call(text: &str) -> &str {
    text.len()
        .checked_sub(17)
        .and_then(|at| text.split_at_checked(at))
        .filter(|(_, tail)| {
            tail.strip_prefix('-')
                .is_some_and(|h| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        })
        .map_or(text, |(head, _)| head)
}

/// `slug` without a matrix leg's `-N`. A slug is `image` or a platform
/// (`linux-amd64`, after a `KEY-`), so a number after the last dash is a
/// leg — except `linux-386`'s, the one architecture named by a number.
fn without_leg(slug: &str) -> &str {
    let head = without_leg_number(slug);
    let leg = head.len() < slug.len()
        && !slug.ends_with("-386")
        && (head == "image" || head.ends_with("-image") || head.contains('-'));
    if leg { head } else { slug }
}

/// The `id:` of step `index` of `job`.
fn step_id(job: &yaml_serde::Mapping, index: usize) -> Option<String> {
    job.get("steps")?
        .as_sequence()?
        .get(index)?
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The image key a record step's id carries (`scangate-record-KEY`).
fn record_key(id: &str) -> String {
    id.strip_prefix(RECORD_STEP)
        .and_then(|k| k.strip_prefix('-'))
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_read_without_its_leg_and_call() {
        let call = "0123456789abcdef";
        for (slug, bare) in [
            ("image".to_owned(), "image"),
            ("image-2".to_owned(), "image"),
            ("linux-386".to_owned(), "linux-386"),
            ("linux-386-1".to_owned(), "linux-386"),
            (format!("linux-arm64-{call}"), "linux-arm64"),
            (format!("image-{call}-3"), "image"),
            (format!("api-image-{call}"), "api-image"),
        ] {
            assert_eq!(without_call(without_leg(&slug)), bare, "{slug}");
        }
    }

    #[test]
    fn a_reports_artifact_is_read_per_leg_and_per_call() {
        let prefix = "scangate-release-reports";
        let call = "0123456789abcdef";
        for name in [
            prefix.to_owned(),
            format!("{prefix}-3"),
            format!("{prefix}-{call}"),
            format!("{prefix}-{call}-12"),
        ] {
            assert!(is_leg_of(&name, prefix), "{name}");
        }
        for name in [
            format!("{prefix}-"),
            format!("{prefix}-arm"),
            format!("{prefix}-{call}-"),
            format!("{prefix}-{call}x"),
            format!("{prefix}-0123456789ABCDEF"),
            "scangate-release".to_owned(),
        ] {
            assert!(!is_leg_of(&name, prefix), "{name}");
        }
    }
}
