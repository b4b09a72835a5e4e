//! `docker/build-push-action` with `push: true` (or `push: ${{ expr }}`):
//! the shape scangate splits into build → scan → push.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::exporter::{self, Field};
use super::run_script::harmless;
use super::{
    Check, Found, ImageSpec, InputsEdit, Piece, Platforms, Rewrite, Shape, Site, Unsupported,
    Verdict, check_job, is_false, var,
};
use crate::expressions::EXPRESSION;
use crate::gate::{self, Push, input, scalar};

static WHOLE_EXPRESSION: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: a constant pattern, exercised by the tests below.
    Regex::new(r"^\s*\$\{\{(.*)\}\}\s*$").expect("static regex")
});

/// A build-and-push step that scangate understands completely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPush {
    pub job: String,
    /// Index of the step in the job's `steps`.
    pub step: usize,
    /// The step's `id:`, which later steps and job outputs may read.
    pub step_id: Option<String>,
    /// The `tags` input as GitHub reads it (may contain expressions).
    pub tags: String,
    /// Target platforms.
    pub platforms: Platforms,
    /// The inside of `push: ${{ … }}`, when pushing is conditional.
    pub push_if: Option<String>,
    /// The build context when it is a literal local path.
    pub context: Option<String>,
    /// The Dockerfile when it is a literal path.
    pub dockerfile: Option<String>,
    /// `cache-to` exports to a registry: the build job keeps write access.
    pub cache_to_registry: bool,
    /// `outputs: type=image,name=NAME,push-by-digest=true,push=true`: the
    /// image goes to NAME untagged, by digest, for a later job to tag.
    pub by_digest: Option<ByDigest>,
    /// `outputs: type=image,…,push=true` without `push-by-digest`: the image
    /// goes to the `tags:`, as with `push: true`, built with the exporter's
    /// attributes that change the bytes (`compression=zstd`,
    /// `oci-mediatypes=false`), which the export for the scan sets too.
    pub tags_carried: Option<Vec<(String, String)>>,
    /// The job runs a matrix: each leg builds, is scanned and pushed alone.
    pub matrix: bool,
    /// The action's version has no `provenance:` input (v2; v3 before
    /// 3.3.0): buildx's default attestation, which would make the export an
    /// index with an attestation manifest, is turned off through the step's
    /// env instead (`BUILDX_NO_DEFAULT_ATTESTATIONS`, read by buildx itself).
    pub attestations_by_env: bool,
    /// The step's own `if:`, bare: when it is false nothing is built, so
    /// the record and upload steps skip too and scan and push do not run.
    pub step_if: Option<String>,
    /// Some later step runs under another condition than the step's own
    /// `if:`: when the build is skipped it still runs, which a push job
    /// (skipped with the build) could not do; one job can.
    pub later_steps_differ: bool,
    /// Steps follow it in the job.
    pub followed: bool,
    /// A later step that reads the build's local cache (`cache-to:
    /// type=local,dest=DIR`, the directory moved into place afterwards as
    /// Docker's cache example does), and that directory: on a push job's
    /// runner it does not exist.
    pub reads_local_cache: Option<(usize, String)>,
    /// The step asks for attestations (`provenance:`, `sbom:`, `attests:`):
    /// the export keeps them, as an index of the platforms' images and their
    /// attestation manifests, and the push copies that index whole. The
    /// scan reads the platforms from it (attestation manifests aside).
    pub keep_attestations: bool,
}

impl BuildPush {
    /// The exporter attributes the export for the scan carries over, as
    /// CSV fields to follow its own (each after a comma).
    fn carried(&self) -> String {
        self.carried_attributes()
            .map(|(k, v)| format!(",{}", Field(k, v)))
            .collect()
    }

    /// The exporter attributes the export carries over, as `key, value`.
    fn carried_attributes(&self) -> impl Iterator<Item = &(String, String)> {
        self.by_digest
            .iter()
            .flat_map(|b| &b.carried)
            .chain(self.tags_carried.iter().flatten())
    }

    /// The first carried attribute that annotates the image index
    /// (`annotation-index.…`, `annotation-index-descriptor.…`) of a build
    /// that may be of one platform: BuildKit rejects it on a single-platform
    /// export (exporter/containerimage: "index annotations not supported for
    /// single platform export"), which the export for the scan is without
    /// the attestations that made the original's an index.
    fn index_annotation_on_one_platform(&self) -> Option<&str> {
        let several = matches!(&self.platforms, Platforms::Listed(list) if list.len() > 1);
        if several || self.keep_attestations {
            return None;
        }
        self.carried_attributes()
            .map(|(k, _)| k.as_str())
            .find(|k| {
                k.starts_with("annotation-index.") || k.starts_with("annotation-index-descriptor.")
            })
    }
}

/// The step env that turns off buildx's default attestations (buildx reads
/// it itself, so it works with any version of the action).
const NO_DEFAULT_ATTESTATIONS: &[(&str, &str)] = &[("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")];

/// Inputs that change what the step produces in ways the export cannot keep.
/// Each with why, and what to do instead.
const CONFLICTING_INPUTS: &[(&str, &str, &str)] = &[
    (
        "outputs",
        "the step already sets `outputs:`",
        "remove it, or gate this job by hand",
    ),
    (
        "repository",
        "the step uses docker/build-push-action v1 inputs",
        "upgrade to docker/build-push-action v6 or later",
    ),
];

fn read(job_id: &str, job: &Mapping, step_index: usize) -> Result<BuildPush, Unsupported> {
    let refuse = |step: Option<usize>, reason: &str, hint: &str| {
        Unsupported::new(job_id, step, reason, hint)
    };
    let matrix = super::has_matrix(job);
    check_job(job).map_err(|(r, h)| refuse(None, r, h))?;
    let steps = gate::steps(job);
    let Some((_, step)) = steps.iter().find(|(i, _)| *i == step_index) else {
        return Err(refuse(Some(step_index), "step not found", ""));
    };
    let here = Some(step_index);
    let step_if = match gate::condition(step) {
        None => None,
        Some(cond) => Some(step_condition(cond).ok_or_else(|| {
            refuse(
                here,
                "the build-and-push step's `if:` is not one expression",
                "write the condition as one expression (`if: ${{ … }}` or a bare one)",
            )
        })?),
    };

    let major = major_version(step);
    if let Some(major) = major
        && major < 2
    {
        return Err(refuse(
            here,
            &format!(
                "docker/build-push-action v{major} predates buildx: its inputs mean other things"
            ),
            "upgrade to docker/build-push-action v6 or later",
        ));
    }
    let Some(Value::Mapping(with)) = step.get("with") else {
        return Err(refuse(here, "the step's `with:` is not a mapping", ""));
    };
    // An input is a string (set 25 006: `tags:` written as a YAML list,
    // which GitHub rejects before the job runs, and read as no tags).
    if let Some(key) = with
        .iter()
        .find(|(_, v)| v.is_sequence() || v.is_mapping())
        .and_then(|(k, _)| k.as_str())
    {
        return Err(refuse(
            here,
            &format!(
                "`{key}:` is a YAML list or mapping; an action's inputs are strings, and GitHub rejects the workflow"
            ),
            &format!("write `{key}: |` and its values one per line below it"),
        ));
    }
    let pushed = exporter_push(step).map_err(|why| refuse(here, &why, "push with `push: true` and `tags:`, or by digest with `outputs: type=image,name=NAME,push-by-digest=true,push=true`"))?;
    let (by_digest, tags_carried) = match pushed {
        Some(OutputsPush::ByDigest(b)) => (Some(b), None),
        Some(OutputsPush::Tags(carried)) => (None, Some(carried)),
        None => (None, None),
    };
    for (key, why, hint) in CONFLICTING_INPUTS {
        if *key == "outputs" && (by_digest.is_some() || tags_carried.is_some()) {
            continue;
        }
        if sets(step, key) {
            return Err(refuse(here, why, hint));
        }
    }
    let push_if = match push_input(step) {
        Some(p) if p.contains("${{") => Some(whole_expression(&p).ok_or_else(|| {
            refuse(
                here,
                "`push:` mixes an expression with other text",
                "write it as a single `${{ … }}` expression",
            )
        })?),
        _ => None,
    };
    let tags = match &by_digest {
        Some(b) => Some(b.name.clone()),
        None => input(step, "tags").filter(|t| !t.trim().is_empty()),
    };
    let Some(tags) = tags else {
        return Err(refuse(
            here,
            "the step pushes without `tags:`",
            "name the image with `tags:` so the push job knows where to push",
        ));
    };
    let platforms = match input(step, "platforms") {
        // The scan reads them from the exported image.
        Some(p) if p.contains("${{") => Platforms::AtRunTime,
        Some(p) => Platforms::from_list(&p),
        None => Platforms::Runner,
    };
    for p in platforms.as_listed() {
        if p.starts_with('#') {
            // In a block scalar a `#` line is text: the action passes it on.
            return Err(refuse(
                here,
                &format!(
                    "platform `{p}`: a `#` line inside `platforms: |` is part of the value, not a YAML comment; build-push-action passes it to buildx, which rejects it"
                ),
                "remove the line (or indent it less than the list, which makes it a comment)",
            ));
        }
        if !p.starts_with("linux/") || p.split('/').count() > 3 {
            return Err(refuse(
                here,
                &format!("platform `{p}` is not a linux/ARCH[/VARIANT] platform"),
                "scangate scans Linux images only",
            ));
        }
    }
    let keep_attestations = ["provenance", "sbom", "attests"]
        .iter()
        .any(|key| sets(step, key));
    // With attestation manifests beside the images, the scan reads the
    // platforms from the exported index.
    let platforms = if keep_attestations {
        Platforms::AtRunTime
    } else {
        platforms
    };
    let literal = |key: &str| input(step, key).filter(|v| !v.contains("${{") && !v.contains("://"));
    let later_steps_differ = later_steps_differ(&steps, step_index, &step_if, &push_if);
    let followed = steps.iter().any(|(i, _)| *i > step_index);
    let reads_local_cache = local_cache_dest(step).and_then(|dest| {
        let reader = steps
            .iter()
            .filter(|(i, _)| *i > step_index)
            .find(|(_, s)| {
                s.get("run")
                    .and_then(Value::as_str)
                    .is_some_and(|r| r.contains(&dest))
            })?;
        Some((reader.0, dest))
    });
    let build = BuildPush {
        job: job_id.to_owned(),
        step: step_index,
        step_id: step.get("id").and_then(scalar),
        tags,
        platforms,
        push_if,
        context: literal("context"),
        dockerfile: literal("file"),
        cache_to_registry: input(step, "cache-to")
            .is_some_and(|c| c.replace(' ', "").contains("type=registry")),
        by_digest,
        tags_carried,
        matrix,
        attestations_by_env: major.is_some_and(|m| m <= 3),
        later_steps_differ,
        followed,
        reads_local_cache,
        step_if,
        keep_attestations,
    };
    if let Some(key) = build.index_annotation_on_one_platform() {
        return Err(refuse(
            here,
            &format!(
                "`outputs:` sets `{key}`, an annotation of the image index, on a build that may be of one platform: the original pushes an index only with its default provenance beside the image, and the export for the scan holds one platform's manifest without it, for which BuildKit rejects index annotations"
            ),
            "annotate the manifest instead (`annotation-manifest.…` or `annotation.…`), or list two or more `platforms:`",
        ));
    }
    Ok(build)
}

/// Whether the step gives input `key` a value other than `false`.
fn sets(step: &Mapping, key: &str) -> bool {
    step.get("with")
        .and_then(|w| w.get(key))
        .is_some_and(|v| !is_false(v))
}

/// The directory of `cache-to: type=local,dest=DIR`, if the step has one.
fn local_cache_dest(step: &Mapping) -> Option<String> {
    input(step, "cache-to")?.lines().find_map(|spec| {
        let attributes = key_values(spec);
        let get = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        (get("type") == Some("local"))
            .then(|| get("dest"))
            .flatten()
            .filter(|dest| !dest.is_empty())
            .map(str::to_owned)
    })
}

/// Whether a step after the build runs under another condition than the
/// push: with the build's own `if:`, any other condition (none included:
/// such a step runs when the build is skipped); with `push: ${{ … }}`, an
/// `if:` of its own that is not the push's (a step for the runs that do
/// not push). In a push job skipped with the push, such steps never run.
pub(super) fn later_steps_differ(
    steps: &[(usize, &Mapping)],
    step: usize,
    step_if: &Option<String>,
    push_if: &Option<String>,
) -> bool {
    let later = || {
        steps
            .iter()
            .filter(move |(i, _)| *i > step)
            .map(|(_, s)| gate::condition(s).and_then(step_condition))
    };
    match (step_if, push_if) {
        (Some(_), _) => later().any(|c| c != *step_if),
        (None, Some(_)) => later().any(|c| c.is_some() && c != *push_if),
        (None, None) => false,
    }
}

/// A step's `if:` as a bare expression: `${{ … }}` unwrapped, a bare one
/// as it is; `None` for anything else (a mix of text and expressions).
pub(super) fn step_condition(cond: &Value) -> Option<String> {
    let text = match cond {
        Value::Bool(b) => return Some(b.to_string()),
        other => scalar(other)?,
    };
    let text = text.trim();
    if text.contains("${{") {
        return whole_expression(text);
    }
    (!text.is_empty()).then(|| text.to_owned())
}

/// What `cond` reads that another job of the same leg would not see alike:
/// a context other than `github`, `inputs`, `vars` and `needs`, or a status
/// function (at job level it judges the needed jobs, not earlier steps).
/// `None` when every job evaluates it as the build step did.
fn leg_values(cond: &str) -> Option<String> {
    gate::reads(cond)
        .into_iter()
        .find(|read| !matches!(read.as_str(), "github" | "inputs" | "vars" | "needs"))
}

/// The pushing build steps of one job, in order; never empty. Each is one
/// image with its own artifact, scan targets and push; they share the job's
/// push condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builds(Vec<BuildPush>);

/// Inputs of a later build that cannot make it read an earlier image:
/// where the image goes, and caches (a stale cache only costs time).
const NOT_READING: &[&str] = &[
    "tags",
    "labels",
    "annotations",
    "cache-from",
    "cache-to",
    "push",
    "outputs",
    "platforms",
];

/// More images than this in one job are refused: each is an artifact, a
/// download in the scan and the push job, and a push step of its own.
const MAX_IMAGES: usize = 32;

/// `steps.ID.outputs` and, when written with a dot, the output's name.
static STEP_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bsteps\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\b(?:\.([A-Za-z_][A-Za-z0-9_-]*))?")
        .expect("static regex")
});

/// A step's output that a value reads: `(id, Some(output))`, or
/// `(id, None)` when the value reads the outputs otherwise (all of them,
/// or by an index).
type OutputRef<'a> = (&'a str, Option<&'a str>);

/// The step outputs `value` reads.
fn output_refs(value: &str) -> impl Iterator<Item = OutputRef<'_>> {
    STEP_REF.captures_iter(value).filter_map(|c| {
        let id = c.get(1)?.as_str();
        Some((id, c.get(2).map(|m| m.as_str())))
    })
}

impl Builds {
    /// The builds of job `job_id`, or why they cannot be split apart: one
    /// push job has one condition, and a build that reads an image an
    /// earlier step pushes would, after the split, read the registry's
    /// previous version (that image is pushed only after the scan).
    fn new(job_id: &str, job: &Mapping, builds: Vec<BuildPush>) -> Result<Self, Unsupported> {
        let Some(first) = builds.first() else {
            return Err(Unsupported::new(job_id, None, "no build step", ""));
        };
        if let Some(other) = builds.iter().find(|b| b.push_if != first.push_if) {
            return Err(Unsupported::new(
                job_id,
                Some(other.step),
                format!(
                    "this build step pushes under another condition than step {} (`push:` differs); the push job has one condition",
                    first.step + 1
                ),
                "give every build step of the job the same `push:`, or split the job",
            ));
        }
        if builds.len() > 1
            && gate::continues_on_error(job)
            && let Some(guarded) = builds.iter().find(|b| b.step_if.is_some())
        {
            return Err(Unsupported::new(
                job_id,
                Some(guarded.step),
                "the job continues on error, and this build of several has its own `if:`; the scan could not tell a skipped build from a failed one",
                "move the condition to the job's `if:` or to `push: ${{ … }}`, or split the job",
            ));
        }
        // Every step from the second build on stays in the build job, before
        // any image is pushed: none may read an image an earlier build pushes.
        let steps = gate::steps(job);
        let traces: Vec<Traces> = builds.iter().map(|b| Traces::of(b, &steps)).collect();
        let last = builds.last().map_or(0, |b| b.step);
        // (docker/metadata-action only computes names: a variant of the
        // same repository, `app:1` and `app:1-slim`, reads nothing.)
        let names_only =
            |s: &Mapping| gate::action_name(s).is_some_and(|a| a == "docker/metadata-action");
        for (i, step) in steps
            .iter()
            .filter(|(i, s)| *i > first.step && *i <= last && !names_only(s) && !only_prints(s))
        {
            let read = read_values(step, builds.iter().any(|b| b.step == *i));
            let referenced: HashSet<OutputRef<'_>> =
                read.iter().flat_map(|v| output_refs(v)).collect();
            for earlier in traces.iter().filter(|t| t.step < *i) {
                if let Some(what) = earlier.read_by(&read, &referenced) {
                    return Err(Unsupported::new(
                        job_id,
                        Some(*i),
                        format!(
                            "this step reads {what}, the image step {} pushes; after the split that image is pushed only after the scan, so this step would get the registry's previous version",
                            earlier.step + 1
                        ),
                        "build the base image in a job of its own that this job `needs:` (scangate gates each), or gate the job by hand",
                    ));
                }
            }
        }
        Ok(Builds(builds))
    }

    pub fn first(&self) -> &BuildPush {
        // #[allow]: never empty, checked in `new`, the only constructor.
        &self.0[0]
    }

    pub fn last(&self) -> &BuildPush {
        &self.0[self.0.len() - 1]
    }

    pub fn iter(&self) -> std::slice::Iter<'_, BuildPush> {
        self.0.iter()
    }

    /// Several builds, some with an `if:` of their own: each such image is
    /// scanned and pushed only when its build ran.
    fn guarded_among_several(&self) -> bool {
        self.0.len() > 1 && self.iter().any(|b| b.step_if.is_some())
    }

    /// The build of step `index`, if it is one of them.
    pub fn at(&self, index: usize) -> Option<&BuildPush> {
        self.0.iter().find(|b| b.step == index)
    }

    /// With builds of their own `if:` among several, what three jobs could
    /// not do: tell which legs of a matrix built which image, or run the
    /// steps after the builds when every build was skipped (the push job is
    /// skipped with the scan, which has nothing to scan then).
    fn refuse_guarded_jobs(&self) -> Option<Unsupported> {
        let (first, last) = (self.first(), self.last());
        let guarded = self.iter().find(|b| b.step_if.is_some())?;
        let reason = if first.matrix {
            "in a matrix job, this build of several has its own `if:`; a matrix job's outputs cannot say which legs built which image"
        } else if self.iter().all(|b| b.step_if.is_some()) && last.followed {
            "every build of the job has its own `if:`, and steps follow the last; they run when no build does, and a push job skipped with the builds could not"
        } else {
            return None;
        };
        Some(
            Unsupported::new(
                &first.job,
                Some(guarded.step),
                reason,
                "move the conditions to the job's `if:`, or split the job",
            )
            .cured_by_one_job(),
        )
    }
}

/// The shape: `docker/build-push-action` steps that push, one image each.
pub struct BuildPushAction;

impl Shape for BuildPushAction {
    fn id(&self) -> &'static str {
        "build-push-action"
    }

    fn label(&self) -> &'static str {
        "docker/build-push-action"
    }

    fn push(&self, _job: &Mapping, step: &Mapping, script: Option<&str>) -> Option<Found> {
        if script.is_some() || gate::action_name(step)? != "docker/build-push-action" {
            return None;
        }
        let outputs = input(step, "outputs").unwrap_or_default().replace(' ', "");
        // v1 (its `repository:` input) logs in, builds and pushes unless
        // `push: false`.
        let v1_pushes = input(step, "repository").is_some()
            && !step
                .get("with")
                .and_then(|w| w.get("push"))
                .is_some_and(is_false);
        let pushes = outputs.contains("push=true")
            || outputs.contains("type=registry")
            || outputs_push(step).is_some()
            || gate::truthy(input(step, "push"))
            || v1_pushes;
        pushes.then(|| Found {
            at: 0,
            what: self.label().to_owned(),
        })
    }

    fn several_per_job(&self) -> bool {
        true
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        // Checked before reading each build: reading is linear in the job.
        if let Some(extra) = pushes.get(MAX_IMAGES) {
            return Err(Unsupported::new(
                job_id,
                Some(extra.step),
                format!(
                    "this job builds and pushes {} images; scangate splits at most {} per job (each is an artifact of its own)",
                    pushes.len(),
                    MAX_IMAGES
                ),
                "split the job into several jobs",
            ));
        }
        let builds = pushes
            .iter()
            .map(|p| read(job_id, job, p.step))
            .collect::<Result<Vec<_>, _>>()?;
        Builds::new(job_id, job, builds).map(Site::new)
    }
}

impl Rewrite for Builds {
    fn job(&self) -> &str {
        &self.first().job
    }

    fn first_step(&self) -> usize {
        self.first().step
    }

    fn last_step(&self) -> usize {
        self.last().step
    }

    fn matrix(&self) -> bool {
        self.first().matrix
    }

    fn destinations(&self) -> String {
        self.iter()
            .map(|b| b.tags.trim_end())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn platforms(&self) -> Vec<String> {
        self.iter()
            .flat_map(|b| b.platforms.as_listed().to_vec())
            .collect()
    }

    fn push_if(&self) -> Option<&str> {
        // Every build step has the same one (`Builds::new` checks it).
        self.first().push_if.as_deref()
    }

    /// A build step with its own `if:` (the job's only build, `Builds::new`
    /// checks it) may not run: the record step says whether it did.
    fn may_skip_push(&self) -> bool {
        self.0.len() == 1 && self.first().step_if.is_some()
    }

    fn matrix_build_if(&self) -> Option<&str> {
        let first = self.first();
        first
            .step_if
            .as_deref()
            .filter(|cond| self.0.len() == 1 && first.matrix && leg_values(cond).is_none())
    }

    /// What a push job could not do and one job can: follow a matrix leg's
    /// own build `if:` (the legs' outputs cannot say which built), run later
    /// steps under other conditions than the build or push (they run when
    /// nothing is pushed), or read the build's local cache directory.
    fn refuse_jobs(&self) -> Option<Unsupported> {
        let first = self.first();
        let one_job = |step: usize, reason: String, hint: &str| {
            Some(Unsupported::new(&first.job, Some(step), reason, hint).cured_by_one_job())
        };
        if self.guarded_among_several() {
            if let Some(refusal) = self.refuse_guarded_jobs() {
                return Some(refusal);
            }
        } else if let Some(what) = first
            .step_if
            .as_deref()
            .filter(|_| first.matrix)
            .and_then(leg_values)
        {
            return one_job(
                first.step,
                format!(
                    "in a matrix job, the build-and-push step's `if:` reads `{what}`, a value of the leg itself; a matrix job's outputs cannot say which legs built, and the scan and push jobs cannot evaluate it again"
                ),
                "make the condition read only `github`, `inputs`, `vars` or `needs` (the scan and push jobs then evaluate it again), or move it to the job's `if:` or to `push: ${{ … }}`",
            );
        }
        // A job's `if:` reads only `github`, `inputs`, `vars` and `needs`
        // (set 26 013: `push: ${{ env.PUSH == 'true' }}`, a job `env:`).
        if let Some(what) = first.push_if.as_deref().and_then(leg_values) {
            return one_job(
                first.step,
                format!(
                    "`push:` reads `{what}`, which a job's `if:` cannot read; a push job could not evaluate the condition"
                ),
                "make `push:` read only `github`, `inputs`, `vars` or `needs` (the push job's `if:` then repeats it), or split the job",
            );
        }
        // With builds of their own `if:` among several, the first's later
        // steps include the other builds; `push:` alone still counts.
        if first.later_steps_differ && !(self.guarded_among_several() && first.step_if.is_some()) {
            let reason = if first.step_if.is_some() {
                "the build-and-push step has its own `if:`, and later steps run under other conditions; they run when the build is skipped, and a push job skipped with it could not"
            } else {
                "`push:` is conditional, and a later step has an `if:` of its own; it runs when nothing is pushed, and a push job skipped with the push could not"
            };
            return one_job(
                first.step,
                reason.into(),
                "move the condition to the job's `if:`, or split the job",
            );
        }
        let (step, dest) = self.iter().find_map(|b| b.reads_local_cache.as_ref())?;
        one_job(
            *step,
            format!(
                "this step reads `{dest}`, the build's local cache (`cache-to: type=local`); it exists only on the build's runner, not on a push job's"
            ),
            "keep the cache with `cache-to: type=gha` (nothing to move afterwards), or split the job",
        )
    }

    fn images(&self) -> Vec<ImageSpec> {
        self.iter()
            .map(|b| ImageSpec {
                step: Some(b.step),
                step_id: b.step_id.clone(),
                step_removed: false,
                by_digest: b.by_digest.is_some(),
                guarded: self.0.len() > 1 && b.step_if.is_some(),
                platforms: b.platforms.clone(),
            })
            .collect()
    }

    fn replaces_outputs_of(&self, index: usize) -> bool {
        self.at(index).is_some()
    }

    fn replaced_ids(&self) -> Vec<String> {
        self.iter().filter_map(|b| b.step_id.clone()).collect()
    }

    fn caches_to_registry(&self) -> bool {
        self.iter().any(|b| b.cache_to_registry)
    }

    /// Signed legs pushed by digest would not make a signed image: the index
    /// another job creates from them is what tags (and the cluster) resolve.
    fn refuse_signing(&self) -> Option<Unsupported> {
        let b = self.iter().find(|b| b.by_digest.is_some())?;
        Some(Unsupported::new(
            &b.job,
            Some(b.step),
            "with signing on, this build pushes by digest: the index a later job creates from the digests (`imagetools create`) is what tags resolve to, and scangate does not sign it",
            "sign the index in that job after `imagetools create` (`cosign sign --yes IMAGE@DIGEST`), then migrate without --sign / [signing]",
        ))
    }

    /// The Dockerfiles' common folder: the one folder, or the repository's
    /// root when they differ (Trivy then finds every Dockerfile under it).
    fn dockerfile_dir(&self) -> String {
        let mut dirs = self.iter().map(dockerfile_dir);
        let first = dirs.next().unwrap_or_else(|| ".".into());
        if dirs.all(|d| d == first) {
            first
        } else {
            ".".into()
        }
    }

    /// The build step exports instead of pushing (after the builder scangate
    /// sets up, before the first build), and a record step follows it.
    fn pieces(&self, index: usize, builder: bool) -> Option<Vec<Piece>> {
        let build = self.at(index)?;
        let mut out = Vec::new();
        if builder && self.first().step == index {
            out.push(Piece::Template {
                name: "setup-buildx.yml",
                vars: Vec::new(),
                carried: false,
            });
            out.push(Piece::Blank);
        }
        let replace = if build.by_digest.is_some() || build.tags_carried.is_some() {
            vec!["outputs", "push"]
        } else {
            vec!["push"]
        };
        // Attestations asked for are kept; else none, not even buildx's
        // default provenance (an input, or the env for versions without it).
        let keep = build.keep_attestations;
        out.push(Piece::Inputs(InputsEdit {
            replace,
            drop: if keep {
                &["push", "outputs"]
            } else {
                &["push", "outputs", "provenance"]
            },
            template: "build-export.yml",
            vars: vec![
                (
                    "provenance_input",
                    var(&(!build.attestations_by_env && !keep)),
                ),
                ("carried", var(&build.carried())),
            ],
            env: if build.attestations_by_env && !keep {
                NO_DEFAULT_ATTESTATIONS
            } else {
                &[]
            },
        }));
        out.push(Piece::Blank);
        // The last record step carries the values later steps read: every
        // step that sets them has run by then.
        out.push(Piece::Template {
            name: "build-record.yml",
            vars: vec![
                ("recorded", var(&false)),
                ("tags", var(&build.tags)),
                ("push_if", var(&build.push_if)),
                (
                    "push_output",
                    var(&build
                        .push_if
                        .as_deref()
                        .is_some_and(|c| !gate::step_may_read(c))),
                ),
                ("build_if", var(&build.step_if)),
            ],
            carried: self.last().step == index,
        });
        Some(out)
    }

    fn check(&self) -> Check {
        Check::Exports(self.iter().map(|b| b.step).collect())
    }
}

/// The folder scanned for Dockerfile misconfigurations: the Dockerfile's own
/// folder when it is named, else the build context.
fn dockerfile_dir(a: &BuildPush) -> String {
    match (&a.dockerfile, &a.context) {
        (Some(file), _) => std::path::Path::new(file)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| ".".into()),
        (None, Some(ctx)) => ctx.clone(),
        (None, None) => ".".into(),
    }
}

/// The values of `step` that could name an image it reads: its `run:`,
/// `env:` and `with:` values; for a build, not where its own image goes.
pub(super) fn read_values(step: &Mapping, build: bool) -> Vec<String> {
    let values = |key: &str| -> Vec<(String, String)> {
        step.get(key)
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
            .collect()
    };
    let mut out: Vec<String> = values("with")
        .into_iter()
        .filter(|(k, _)| !build || !NOT_READING.contains(&k.as_str()))
        .chain(values("env"))
        .map(|(_, v)| v)
        .collect();
    out.extend(step.get("run").and_then(scalar));
    out
}

/// How a later step can be seen to read one build's image: through the
/// outputs of the steps that built or named it, or by its repositories.
struct Traces {
    step: usize,
    /// The outputs the build's tags read (`(id, Some(output))`), and the
    /// build's own step (`(id, None)`: any of its outputs).
    outputs: Vec<(String, Option<String>)>,
    repos: Vec<String>,
}

impl Traces {
    fn of(build: &BuildPush, steps: &[(usize, &Mapping)]) -> Self {
        // Only the outputs that name the repository: a version that the
        // tags of every image share (set 37 b16: `NAME:sha-${{
        // steps.metadata.outputs.git_sha }}`) names no image.
        let mut outputs: Vec<(String, Option<String>)> = super::input_list(&build.tags)
            .flat_map(|tag| output_refs(repository(tag)))
            .map(|(id, output)| (id.to_owned(), output.map(str::to_owned)))
            .collect();
        outputs.extend(build.step_id.clone().map(|id| (id, None)));
        let ids: Vec<&str> = outputs.iter().map(|(id, _)| id.as_str()).collect();
        let mut repos = repositories(&build.tags);
        // Tags from docker/metadata-action: the repositories are its `images:`.
        for (_, meta) in steps.iter().filter(|(_, s)| {
            s.get("id")
                .and_then(scalar)
                .is_some_and(|id| ids.contains(&id.as_str()))
        }) {
            if let Some(images) = input(meta, "images") {
                repos.extend(repositories(&images));
            }
        }
        Traces {
            step: build.step,
            outputs,
            repos,
        }
    }

    /// What of the image the values `read` of a later step name (and the
    /// step ids whose outputs they read, `referenced`), as shown in the
    /// workflow. A Dockerfile's own `FROM` cannot be seen here.
    /// An output of a step that names the image counts when the later step
    /// reads that output (or outputs it cannot tell apart); another output
    /// of the same step (a version, an environment) names no image.
    fn read_by(&self, read: &[String], referenced: &HashSet<OutputRef<'_>>) -> Option<String> {
        let reads = |id: &str, output: Option<&str>| {
            referenced.iter().any(|&(rid, rout)| {
                rid == id && (output.is_none() || rout.is_none() || rout == output)
            })
        };
        if let Some((id, _)) = self.outputs.iter().find(|(id, o)| reads(id, o.as_deref())) {
            return Some(format!("the outputs of step `{id}`"));
        }
        self.repos
            .iter()
            .find(|r| read.iter().any(|v| names(v, r)))
            .map(|r| format!("`{r}`"))
    }
}

/// Whether a step only prints (and writes) values, every line of its script
/// `echo`-like (set 26 028: `echo ${{ steps.build.outputs.digest }}`
/// between two builds): it reads no image, and the digest a build reports
/// is that of the export, which the push job pushes unchanged.
fn only_prints(step: &Mapping) -> bool {
    step.get("uses").is_none()
        && step
            .get("run")
            .and_then(Value::as_str)
            .is_some_and(|run| gate::shell_body(run).lines().all(harmless))
}

/// The repositories of a tag list (newline- or comma-separated): each tag
/// without its `:tag` or `@digest`.
fn repositories(tags: &str) -> Vec<String> {
    super::input_list(tags)
        .filter(|t| !t.starts_with("${{ steps."))
        .map(repository)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The repository of a tag: what comes before its `:tag` or `@digest`.
fn repository(tag: &str) -> &str {
    // Separators inside `${{ … }}` are not the tag's: look for them in a
    // copy with the expressions blanked out.
    let mut masked = tag.to_owned();
    for m in EXPRESSION.find_iter(tag) {
        masked.replace_range(m.range(), &"x".repeat(m.len()));
    }
    let end = masked.find('@').unwrap_or(tag.len());
    let slash = masked[..end].rfind('/').unwrap_or(0);
    match masked[..end].rfind(':') {
        Some(colon) if colon > slash => &tag[..colon],
        _ => &tag[..end],
    }
}

/// Whether `value` names repository `repo` (followed by a tag, a digest or
/// the end of the name, so `acme/api` does not match `acme/api-worker`).
pub(super) fn names(value: &str, repo: &str) -> bool {
    value.match_indices(repo).any(|(at, _)| {
        value[at + repo.len()..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, ':' | '@' | '"' | '\'' | ',' | ';') || c.is_whitespace())
    })
}

/// A push by digest through `outputs:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByDigest {
    /// The image's name (the exporter's `name=`, else `tags:`).
    pub name: String,
    /// The exporter's attributes that change the pushed bytes
    /// (`rewrite-timestamp=true`, `compression=zstd`, …), in order: the
    /// export for the scan sets them too, or the push would send other
    /// bytes than the build would have.
    pub carried: Vec<(String, String)>,
}

/// How an image exporter in `outputs:` pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OutputsPush {
    /// `push-by-digest=true`: untagged, to a name.
    ByDigest(ByDigest),
    /// To the `tags:`, as `push: true` would (set 25 009: `type=image,
    /// oci-mediatypes=false,push=${{ … }}`), with the attributes that
    /// change the bytes.
    Tags(Vec<(String, String)>),
}

/// How the step pushes through `outputs:`: by digest, or to its `tags:`
/// with attributes of the exporter's own; an error for any other
/// `outputs:` that pushes.
///
/// Docker's multi-runner example names the image with `tags:` and no
/// `name=` (the image exporter then names it by its tags), and teams turn
/// the push off for dry runs with the same expression as `push:`
/// (`push=${{ !inputs.dry-run }}`): when `push:` is that expression, the
/// attribute pushes exactly when the step does.
///
/// buildx (commands/build.go) merges the step's `push: true` into an
/// image exporter of `outputs:` (`--push` sets its `push=true`), and names
/// an image exporter by the `tags:` whenever there are some, over its own
/// `name=` (build/build.go, "fill in image exporter names from tags"; set
/// 42 a18: `push: true`, `tags:` and `type=image,name=target,annotation-index.…`).
fn exporter_push(step: &Mapping) -> Result<Option<OutputsPush>, String> {
    let Some(outputs) = input(step, "outputs") else {
        return Ok(None);
    };
    let push = push_input(step).map(|p| p.trim().to_owned());
    let is_on = |value: &str| value == "true" || push.as_deref().is_some_and(|p| p == value);
    let outputs = outputs.trim();
    let pushes_somehow = outputs.contains("push=true") || outputs.contains("type=registry");
    if outputs.starts_with("${{") && outputs.ends_with("}}") && pushes_somehow {
        return Err("`outputs:` is one expression that chooses the exporter: scangate cannot tell where it pushes before GitHub evaluates it".into());
    }
    if outputs.contains('\n') {
        return if pushes_somehow {
            Err("`outputs:` lists several exporters".into())
        } else {
            Ok(None)
        };
    }
    let Ok(attrs) = exporter::attributes(outputs) else {
        return if pushes_somehow {
            Err("`outputs:` is not a CSV record buildx can read (a quote inside a field, or a quoted field not followed by a comma)".into())
        } else {
            Ok(None)
        };
    };
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let kind = get("type");
    let merged_push = kind == Some("image") && push.as_deref().is_some_and(is_on);
    let pushes = kind == Some("registry") || get("push").is_some_and(is_on) || merged_push;
    if !pushes {
        return Ok(None);
    }
    let by_digest = get("push-by-digest").is_some_and(is_on);
    let image = matches!(kind, Some("image" | "registry"));
    let tags = input(step, "tags").filter(|t| !t.trim().is_empty());
    let name = tags.clone().or_else(|| get("name").map(str::to_owned));
    // Named by `tags:`, it pushes them as `push: true` would.
    let to_tags = image && get("push-by-digest").is_none_or(|v| v == "false") && tags.is_some();
    let (true, Some(name)) = (image && (by_digest || to_tags), name) else {
        return Err(
            "`outputs:` pushes other than by digest (`type=image,name=…,push-by-digest=true,push=true`) or to the `tags:` (`type=image,push=true`)".into(),
        );
    };
    if let Some((key, _)) = attrs
        .iter()
        .find(|(k, _)| exporter::role(k) == exporter::Role::Unknown)
    {
        return Err(format!(
            "`outputs:` sets `{key}`, which scangate does not know: it might change the pushed bytes, and the export for the scan would not carry it"
        ));
    }
    // The export's `outputs:` is written as a plain YAML value.
    if let Some((key, _)) = attrs.iter().find(|(k, v)| {
        exporter::role(k) == exporter::Role::Bytes && (v.contains(": ") || v.contains(" #"))
    }) {
        return Err(format!(
            "`outputs:` sets `{key}` to a value with `: ` or ` #`, which scangate cannot carry over to the export as a plain YAML value"
        ));
    }
    let carried = attrs
        .into_iter()
        .filter(|(k, _)| exporter::role(k) == exporter::Role::Bytes)
        .collect();
    Ok(Some(if to_tags {
        OutputsPush::Tags(carried)
    } else {
        OutputsPush::ByDigest(ByDigest { name, carried })
    }))
}

/// Whether and when the step pushes: its `push:` input, or without one,
/// the `push=` of its image exporter when that is an expression (Docker's
/// multi-platform example writes `push=${{ … }}` there alone).
fn push_input(step: &Mapping) -> Option<String> {
    input(step, "push").or_else(|| outputs_push(step))
}

/// The `push=` attribute of `outputs:` when it is an expression.
fn outputs_push(step: &Mapping) -> Option<String> {
    let outputs = input(step, "outputs")?;
    key_values(outputs.trim())
        .into_iter()
        .find(|(k, _)| k == "push")
        .map(|(_, v)| v)
        .filter(|v| v.starts_with("${{"))
}

/// The `key=value` attributes of an exporter (or cache) spec, trimmed;
/// none for a spec buildx would reject (then nothing is read from it).
fn key_values(spec: &str) -> Vec<(String, String)> {
    exporter::attributes(spec).unwrap_or_default()
}

/// The major version of a `uses: …@vN…` reference; `None` for SHAs and branches.
fn major_version(step: &Mapping) -> Option<u32> {
    let uses = step.get("uses").and_then(scalar)?;
    let version = uses.split_once('@')?.1.strip_prefix('v')?;
    version.split('.').next()?.parse().ok()
}

/// The inside of `${{ … }}` when `text` is exactly one expression.
pub(super) fn whole_expression(text: &str) -> Option<String> {
    let inner = WHOLE_EXPRESSION.captures(text)?.get(1)?.as_str().trim();
    (!inner.contains("${{") && !inner.contains("}}")).then(|| inner.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Job `b`'s first step, read as detection reads it (after the checks
    /// every job passes).
    fn read_yaml(y: &str) -> Result<BuildPush, Unsupported> {
        let doc: Value = yaml_serde::from_str(y).unwrap();
        crate::detect::ungated_jobs(
            &doc,
            &gate::Threshold::default(),
            super::super::Shapes::builtin(),
        )
        .into_iter()
        .next()
        .unwrap()?;
        let job = doc["jobs"]["b"].as_mapping().unwrap();
        read("b", job, 0)
    }

    #[test]
    fn reads_tags_platforms_and_push_condition() {
        let site = read_yaml(
            "jobs:\n  b:\n    steps:\n      - id: build\n        uses: docker/build-push-action@v6\n        with:\n          push: ${{ github.event_name != 'pull_request' }}\n          platforms: linux/amd64, linux/arm64/v8\n          context: ./svc\n          tags: |\n            ghcr.io/o/r:${{ env.version }}\n            ghcr.io/o/r:latest\n",
        )
        .unwrap();
        assert_eq!(site.step_id.as_deref(), Some("build"));
        assert_eq!(
            site.platforms.as_listed(),
            ["linux/amd64", "linux/arm64/v8"]
        );
        assert_eq!(
            site.push_if.as_deref(),
            Some("github.event_name != 'pull_request'")
        );
        assert_eq!(site.context.as_deref(), Some("./svc"));
        assert!(site.tags.contains("latest"));
    }

    /// A push job's `if:` reads only what a job's `if:` may: a `push:`
    /// reading the job's `env` or a step's outputs keeps the job in one.
    #[test]
    fn a_push_condition_a_job_cannot_read_keeps_one_job() {
        let site = |push: &str| {
            super::super::tests::first_verdict(&format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          push: ${{{{ {push} }}}}\n          tags: o/a:1\n"
            ))
            .unwrap()
        };
        for push in ["env.PUSH == 'true'", "steps.v.outputs.push == 'true'"] {
            let r = site(push).refuse_jobs().unwrap();
            assert!(
                r.reason.contains("which a job's `if:` cannot read"),
                "{}",
                r.reason
            );
            assert_eq!(r.cure, Some(super::super::Cure::OneJob));
        }
        for push in [
            "github.event_name == 'push'",
            "inputs.publish && vars.ON == 'y'",
        ] {
            assert!(site(push).refuse_jobs().is_none(), "{push}");
        }
    }

    /// A step between two builds that reads the first's digest: printing
    /// it reads no image (set 26 028); signing it would need it pushed.
    #[test]
    fn a_step_between_builds_may_print_the_first_digest_but_not_use_it() {
        let job = |between: &str| {
            super::super::tests::first_verdict(&format!(
                "jobs:\n  b:\n    steps:\n      - id: first\n        uses: docker/build-push-action@v6\n        with: {{push: true, tags: o/a:1}}\n      - run: {between}\n      - uses: docker/build-push-action@v6\n        with: {{push: true, tags: o/b:1}}\n"
            ))
        };
        assert!(job("echo ${{ steps.first.outputs.digest }}").is_ok());
        let refused = job("cosign sign o/a@${{ steps.first.outputs.digest }}").unwrap_err();
        assert!(
            refused.reason.contains("the outputs of step `first`"),
            "{}",
            refused.reason
        );
    }

    /// An empty `if:` is no condition (GitHub reads it as `success()`).
    #[test]
    fn an_empty_if_on_the_build_is_no_condition() {
        for empty in ["", " ''", " ' '", " ~"] {
            let site = super::super::tests::first_verdict(&format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        if:{empty}\n        with: {{push: true, tags: o/a:1}}\n"
            ))
            .unwrap();
            assert_eq!(
                site.images().iter().map(|i| i.guarded).collect::<Vec<_>>(),
                [false],
                "{empty:?}"
            );
        }
    }

    /// Builds of their own `if:` among several: each image alone may be
    /// skipped; three jobs unless the legs of a matrix or the steps after
    /// the builds would need the skipped ones (then one job).
    #[test]
    fn builds_with_their_own_if_among_several_are_images_that_may_be_skipped() {
        let job = |header: &str, first_if: &str, after: &str| {
            let y = format!(
                "jobs:\n  b:\n{header}    steps:\n      - {first_if}uses: docker/build-push-action@v6\n        with: {{push: true, tags: o/a:1}}\n      - if: github.ref_type == 'tag'\n        uses: docker/build-push-action@v6\n        with: {{push: true, tags: o/a:2}}\n{after}"
            );
            super::super::tests::first_verdict(&y)
        };
        let site = job("", "", "      - run: echo done\n").unwrap();
        assert_eq!(
            site.images().iter().map(|i| i.guarded).collect::<Vec<_>>(),
            [false, true]
        );
        assert!(!site.may_skip_push());
        assert!(site.refuse_jobs().is_none());
        // Every build guarded and a step after them: one job.
        let all = job(
            "",
            "if: github.ref_type != 'tag'\n        ",
            "      - run: echo done\n",
        )
        .unwrap();
        let r = all.refuse_jobs().unwrap();
        assert!(
            r.reason
                .contains("every build of the job has its own `if:`"),
            "{}",
            r.reason
        );
        assert_eq!(r.cure, Some(super::super::Cure::OneJob));
        // Nothing after them: three jobs, the scan runs when either built.
        assert!(
            job("", "if: github.ref_type != 'tag'\n        ", "")
                .unwrap()
                .refuse_jobs()
                .is_none()
        );
        // A matrix: one job.
        let matrix = job("    strategy: {matrix: {x: [1, 2]}}\n", "", "").unwrap();
        assert!(
            matrix
                .refuse_jobs()
                .unwrap()
                .reason
                .contains("in a matrix job")
        );
        // A job that continues on error: refused.
        let quiet = job("    continue-on-error: true\n", "", "").unwrap_err();
        assert!(
            quiet.reason.contains("continues on error"),
            "{}",
            quiet.reason
        );
    }

    #[test]
    fn a_hash_line_in_a_platform_list_is_a_platform_buildx_rejects() {
        let r = read_yaml(
            "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: o/r:1\n          platforms: |\n            linux/amd64\n            # linux/arm/v6\n",
        )
        .unwrap_err();
        assert!(
            r.reason
                .contains("`# linux/arm/v6`: a `#` line inside `platforms: |`"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn reads_the_local_cache_directory() {
        let step = |cache_to: &str| -> Mapping {
            yaml_serde::from_str(&format!(
                "uses: docker/build-push-action@v6\nwith:\n  cache-to: {cache_to}\n"
            ))
            .unwrap()
        };
        assert_eq!(
            local_cache_dest(&step("type=local,dest=/tmp/.buildx-cache-new,mode=max")).as_deref(),
            Some("/tmp/.buildx-cache-new")
        );
        assert_eq!(local_cache_dest(&step("type=gha,mode=max")), None);
        assert_eq!(
            local_cache_dest(&step("type=registry,ref=ghcr.io/a/b:cache")),
            None
        );
    }

    #[test]
    fn refuses_what_it_cannot_keep() {
        let refused = |with: &str| {
            let y = format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: x/y:z\n{with}"
            );
            read_yaml(&y).unwrap_err().reason
        };
        assert!(refused("          outputs: type=tar,dest=x.tar\n").contains("`outputs:`"));
        assert!(refused("          platforms: windows/amd64\n").contains("linux/ARCH"));
        assert!(
            refused("          build-args:\n            - A=1\n")
                .contains("`build-args:` is a YAML list or mapping")
        );
    }

    #[test]
    fn reads_each_way_of_pushing_by_digest() {
        let read = |with: &str| {
            let y = format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n{with}"
            );
            read_yaml(&y).map(|s| (s.by_digest.map(|b| b.name), s.push_if))
        };
        // The name in `outputs:` (Docker's earlier example).
        let (name, push_if) =
            read("          outputs: type=image,name=ghcr.io/o/r,push-by-digest=true,name-canonical=true,push=true\n").unwrap();
        assert_eq!(name.as_deref(), Some("ghcr.io/o/r"));
        assert_eq!(push_if, None);
        // Named by `tags:`, pushed as `push:` says (its current example, with a dry run).
        let (name, push_if) = read(
            "          tags: ${{ env.IMAGE }}\n          push: ${{ !inputs.dry-run }}\n          outputs: type=image,push-by-digest=${{ !inputs.dry-run }},name-canonical=true,push=${{ !inputs.dry-run }}\n",
        )
        .unwrap();
        assert_eq!(name.as_deref(), Some("${{ env.IMAGE }}"));
        assert_eq!(push_if.as_deref(), Some("!inputs.dry-run"));
        // Without `push:`, the exporter's own `push=${{ … }}` says when.
        let (name, push_if) = read(
            "          tags: ${{ env.IMAGE }}\n          outputs: type=image,push-by-digest=${{ !inputs.dry-run }},push=${{ !inputs.dry-run }}\n",
        )
        .unwrap();
        assert_eq!(name.as_deref(), Some("${{ env.IMAGE }}"));
        assert_eq!(push_if.as_deref(), Some("!inputs.dry-run"));
        // An attribute's expression that is not `push:`'s could differ from it.
        let refused = read(
            "          tags: ${{ env.IMAGE }}\n          push: true\n          outputs: type=image,push-by-digest=${{ inputs.digest }},push=true\n",
        )
        .unwrap_err();
        assert!(
            refused.reason.contains("other than by digest"),
            "{}",
            refused.reason
        );
        // Without a name anywhere there is nothing to push to.
        assert!(read("          outputs: type=image,push-by-digest=true,push=true\n").is_err());
    }

    #[test]
    fn an_image_exporter_without_a_name_pushes_the_tags() {
        let read = |with: &str| {
            read_yaml(&format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          tags: ghcr.io/o/r:1\n{with}"
            ))
        };
        // Set 25 009: the push's condition in the exporter, Docker media types.
        let build = read("          outputs: type=image,oci-mediatypes=false,push=${{ github.event_name != 'pull_request' }}\n").unwrap();
        assert_eq!(build.by_digest, None);
        assert_eq!(build.tags, "ghcr.io/o/r:1");
        assert_eq!(
            build.push_if.as_deref(),
            Some("github.event_name != 'pull_request'")
        );
        assert_eq!(build.carried(), ",oci-mediatypes=false");
        let zstd = read("          push: true\n          outputs: type=image,compression=zstd,force-compression=true,push=true\n").unwrap();
        assert_eq!(zstd.carried(), ",compression=zstd,force-compression=true");
        assert_eq!(
            read("          outputs: type=registry\n")
                .unwrap()
                .carried(),
            ""
        );
        // A name of its own beside the tags: buildx names it by the tags.
        let named = read("          outputs: type=image,name=ghcr.io/o/other,push=true\n").unwrap();
        assert_eq!(
            (named.tags.as_str(), named.by_digest),
            ("ghcr.io/o/r:1", None)
        );
        // `push: true` sets the exporter's push=true over its own.
        assert!(read("          push: true\n          outputs: type=image,push=false\n").is_ok());
    }

    #[test]
    fn push_input_turns_on_an_image_exporter_named_by_the_tags() {
        let read = |platforms: &str, outputs: &str| {
            read_yaml(&format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: ghcr.io/a/b:1\n{platforms}          outputs: {outputs}\n"
            ))
        };
        let two = "          platforms: linux/amd64,linux/arm64\n";
        // Set 42 a18: the tags name the image over `name=target`.
        let build = read(
            two,
            "type=image,name=target,annotation-index.org.opencontainers.image.description=Multi-arch",
        )
        .unwrap();
        assert_eq!(build.by_digest, None);
        assert_eq!(build.tags, "ghcr.io/a/b:1");
        assert_eq!(
            build.carried(),
            ",annotation-index.org.opencontainers.image.description=Multi-arch"
        );
        // An index annotation where the export may be one manifest: BuildKit
        // rejects it there.
        let one = read("", "type=image,annotation-index.x=y").unwrap_err();
        assert!(
            one.reason.contains("`annotation-index.x`"),
            "{}",
            one.reason
        );
        assert!(read("", "type=image,annotation-manifest.x=y").is_ok());
        // `push:` cannot turn another exporter into a push.
        assert!(
            read(two, "type=local,dest=out")
                .unwrap_err()
                .reason
                .contains("outputs")
        );
        // An expression choosing the exporter is not read.
        let chosen = read(
            two,
            "${{ github.event_name != 'pull_request' && 'type=image,push=true' || '' }}",
        )
        .unwrap_err();
        assert!(
            chosen.reason.contains("one expression"),
            "{}",
            chosen.reason
        );
    }

    #[test]
    fn a_push_by_digest_carries_what_changes_the_bytes_to_the_export() {
        let read = |outputs: &str| {
            read_yaml(&format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          outputs: {outputs}\n"
            ))
        };
        // A quoted field, as buildx reads it (freedomofpress/repro-build's example).
        let build = read(r#"type=image,"name=${{ env.IMAGE }}",push-by-digest=true,push=true,rewrite-timestamp=true,name-canonical=true,"annotation.x=a,b""#).unwrap();
        let by_digest = build.by_digest.clone().unwrap();
        assert_eq!(by_digest.name, "${{ env.IMAGE }}");
        assert_eq!(
            build.carried(),
            r#",rewrite-timestamp=true,"annotation.x=a,b""#
        );
        // An attribute scangate does not know might change the bytes.
        let unknown =
            read("type=image,name=x/y,push-by-digest=true,push=true,buildinfo=false").unwrap_err();
        assert!(unknown.reason.contains("`buildinfo`"), "{}", unknown.reason);
        // What buildx cannot read is refused, not guessed.
        let bare = read(r#"type=image,name="x/y",push-by-digest=true,push=true"#).unwrap_err();
        assert!(bare.reason.contains("CSV"), "{}", bare.reason);
    }

    #[test]
    fn a_matrix_build_condition_must_read_what_every_job_sees() {
        assert_eq!(leg_values("needs.meta.outputs.push == 'true'"), None);
        assert_eq!(
            leg_values("github.event_name != 'pull_request' && inputs.publish && vars.ON"),
            None
        );
        // Words in strings are not contexts.
        assert_eq!(leg_values("github.ref == 'refs/heads/env.main'"), None);
        assert_eq!(leg_values("env.TAGS != ''").as_deref(), Some("env"));
        assert_eq!(leg_values("matrix.push").as_deref(), Some("matrix"));
        assert_eq!(
            leg_values("steps.meta.outputs.tags != ''").as_deref(),
            Some("steps")
        );
        assert_eq!(
            leg_values("success() && github.ref_type == 'tag'").as_deref(),
            Some("success()")
        );
        let matrix = |cond: &str| {
            read_yaml(&format!(
                "jobs:\n  prepare:\n    steps:\n      - run: echo\n  b:\n    needs: prepare\n    strategy:\n      matrix:\n        p: [linux/amd64]\n    steps:\n      - if: {cond}\n        uses: docker/build-push-action@v6\n        with:\n          push: true\n          platforms: ${{{{ matrix.p }}}}\n          tags: ghcr.io/o/r:${{{{ github.sha }}}}\n"
            ))
        };
        let site = matrix("needs.prepare.outputs.push == 'true'").unwrap();
        assert_eq!(
            site.step_if.as_deref(),
            Some("needs.prepare.outputs.push == 'true'")
        );
        let builds = |cond: &str| Builds::new("b", &Mapping::new(), vec![matrix(cond).unwrap()]);
        let portable = builds("needs.prepare.outputs.push == 'true'").unwrap();
        assert!(portable.refuse_jobs().is_none());
        assert!(portable.matrix_build_if().is_some());
        let own = builds("env.PUSH == 'true'").unwrap();
        assert_eq!(own.matrix_build_if(), None);
        let refused = own.refuse_jobs().unwrap();
        assert!(refused.reason.contains("reads `env`"), "{}", refused.reason);
        assert_eq!(refused.cure, Some(super::super::Cure::OneJob));
    }

    /// Two build-and-push steps; `second_with` is added to the second's
    /// `with:` (a `push:` there replaces its `push: true`).
    fn two_builds(first_tags: &str, second_with: &str) -> Result<Site, Unsupported> {
        let push = if second_with.trim_start().starts_with("push:") {
            ""
        } else {
            "          push: true\n"
        };
        let y = format!(
            "jobs:\n  b:\n    steps:\n      - id: meta\n        uses: docker/metadata-action@v6\n        with:\n          images: ghcr.io/o/meta-base\n      - id: base\n        uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: {first_tags}\n      - id: app\n        uses: docker/build-push-action@v6\n        with:\n{push}          tags: ghcr.io/o/app:1\n{second_with}"
        );
        super::super::tests::first_verdict(&y)
    }

    #[test]
    fn several_independent_builds_are_one_site() {
        let site = two_builds(
            "ghcr.io/o/api:1",
            "          build-args: BASE=ghcr.io/o/api-base:1\n          cache-from: type=registry,ref=ghcr.io/o/api:cache\n",
        )
        .unwrap();
        let steps: Vec<Option<usize>> = site.images().iter().map(|b| b.step).collect();
        assert_eq!(steps, [Some(1), Some(2)]);
    }

    #[test]
    fn a_build_that_reads_an_earlier_image_is_refused() {
        let reason = |tags: &str, with: &str| two_builds(tags, with).unwrap_err().reason;
        // Its repository in a build argument or a named context.
        let r = reason(
            "ghcr.io/o/base:1",
            "          build-args: BASE=ghcr.io/o/base:1\n",
        );
        assert!(
            r.contains("`ghcr.io/o/base`") && r.contains("step 2"),
            "{r}"
        );
        let r = reason(
            "${{ env.REG }}/base:${{ github.sha }}",
            "          build-contexts: base=docker-image://${{ env.REG }}/base:${{ github.sha }}\n",
        );
        assert!(r.contains("/base`"), "{r}");
        // The outputs of the step that built it, or of its metadata step.
        let r = reason(
            "ghcr.io/o/base:1",
            "          build-args: BASE=ghcr.io/o/base@${{ steps.base.outputs.digest }}\n",
        );
        assert!(r.contains("step `base`"), "{r}");
        let r = reason(
            "${{ steps.meta.outputs.tags }}",
            "          build-args: BASE=ghcr.io/o/meta-base:latest\n",
        );
        assert!(r.contains("`ghcr.io/o/meta-base`"), "{r}");
        // The same output of the step that named it; another output of that
        // step (an environment), or the version the tags share after the
        // repository (set 37 b16), names no image.
        let r = reason(
            "${{ steps.meta.outputs.base }}:1",
            "          build-args: BASE=${{ steps.meta.outputs.base }}:1\n",
        );
        assert!(r.contains("step `meta`"), "{r}");
        let r = reason(
            "ghcr.io/o/base:${{ steps.meta.outputs.tag }}",
            "          build-args: BASE=ghcr.io/o/base:${{ steps.meta.outputs.tag }}\n",
        );
        assert!(r.contains("`ghcr.io/o/base`"), "{r}");
        for with in [
            "          build-args: APP_ENV=${{ steps.meta.outputs.app_env }}\n",
            "          build-args: VERSION=sha-${{ steps.meta.outputs.tag }}\n",
        ] {
            assert!(
                two_builds(
                    "${{ steps.meta.outputs.base }}:${{ steps.meta.outputs.tag }}",
                    with
                )
                .is_ok(),
                "{with}"
            );
        }
        // A different push condition cannot share the push job.
        let r = reason(
            "ghcr.io/o/base:1",
            "          push: ${{ github.ref == 'refs/heads/main' }}\n",
        );
        assert!(r.contains("condition"), "{r}");
    }

    #[test]
    fn repositories_drop_tags_and_digests_only() {
        assert_eq!(
            repositories("ghcr.io/o/a:1, localhost:5000/b@sha256:00\n${{ env.R }}/c:${{ env.T }}"),
            ["ghcr.io/o/a", "localhost:5000/b", "${{ env.R }}/c"]
        );
        assert!(names("FROM=ghcr.io/o/a:2", "ghcr.io/o/a"));
        assert!(!names("ghcr.io/o/a-worker:2", "ghcr.io/o/a"));
    }

    #[test]
    fn whole_expressions_only() {
        assert_eq!(
            whole_expression("${{ a == 'b' }}").as_deref(),
            Some("a == 'b'")
        );
        assert_eq!(whole_expression("x-${{ a }}"), None);
        assert_eq!(whole_expression("${{ a }}-${{ b }}"), None);
    }
}
