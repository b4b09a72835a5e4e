//! `docker/build-push-action` with `push: true` (or `push: ${{ expr }}`):
//! the shape scangate splits into build → scan → push.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::{Unsupported, Verdict};
use crate::gate::{self, input, scalar};

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
    /// Target platforms, in order; empty means the runner's own.
    pub platforms: Vec<String>,
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
    pub by_digest: Option<String>,
    /// The job runs a matrix: each leg builds, is scanned and pushed alone.
    pub matrix: bool,
}

/// Inputs that change what the step produces in ways the export cannot keep.
const CONFLICTING_INPUTS: &[(&str, &str)] = &[
    ("outputs", "the step already sets `outputs:`"),
    (
        "load",
        "the step loads the image into the local Docker daemon",
    ),
    ("sbom", "the step attaches an SBOM attestation"),
    ("attests", "the step attaches attestations"),
    (
        "repository",
        "the step uses docker/build-push-action v1 inputs",
    ),
];

pub(super) fn read(job_id: &str, job: &Mapping, step_index: usize) -> Verdict {
    let refuse = |step: Option<usize>, reason: &str, hint: &str| {
        Unsupported::new(job_id, step, reason, hint)
    };
    let matrix = job.get("strategy").and_then(|s| s.get("matrix")).is_some();
    check_job(job, matrix).map_err(|(r, h)| refuse(None, r, h))?;
    let steps = gate::steps(job);
    let Some((_, step)) = steps.iter().find(|(i, _)| *i == step_index) else {
        return Err(refuse(Some(step_index), "step not found", ""));
    };
    let here = Some(step_index);
    if step.get("if").is_some() {
        return Err(refuse(
            here,
            "the build-and-push step has its own `if:`",
            "move the condition to the job's `if:` or to `push: ${{ … }}`",
        ));
    }
    if let Some(major) = major_version(step)
        && major < 3
    {
        return Err(refuse(
            here,
            &format!("docker/build-push-action v{major} cannot turn off provenance for the export"),
            "upgrade to docker/build-push-action v6 or later",
        ));
    }
    if !matches!(step.get("with"), Some(Value::Mapping(_))) {
        return Err(refuse(here, "the step's `with:` is not a mapping", ""));
    }
    let by_digest = push_by_digest(step).map_err(|why| refuse(here, why, "push with `push: true` and `tags:`, or by digest with `outputs: type=image,name=NAME,push-by-digest=true,push=true`"))?;
    for (key, why) in CONFLICTING_INPUTS {
        if *key == "outputs" && by_digest.is_some() {
            continue;
        }
        if step
            .get("with")
            .and_then(|w| w.get(*key))
            .is_some_and(|v| !is_false(v))
        {
            return Err(refuse(here, why, "remove it, or gate this job by hand"));
        }
    }
    let push_if = match input(step, "push") {
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
        Some(name) => Some(name.clone()),
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
        // A matrix leg builds what its expression says; the scan checks at
        // run time that the leg's image has one platform.
        Some(p) if p.contains("${{") && matrix => Vec::new(),
        Some(p) if p.contains("${{") => {
            return Err(refuse(
                here,
                "`platforms:` is an expression; every platform must be known to scan each one",
                "list the platforms literally, e.g. `platforms: linux/amd64,linux/arm64`",
            ));
        }
        Some(p) => p
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    for p in &platforms {
        if !p.starts_with("linux/") || p.split('/').count() > 3 {
            return Err(refuse(
                here,
                &format!("platform `{p}` is not a linux/ARCH[/VARIANT] platform"),
                "scangate scans Linux images only",
            ));
        }
    }
    let literal = |key: &str| input(step, key).filter(|v| !v.contains("${{") && !v.contains("://"));
    Ok(super::Site::Action(BuildPush {
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
        matrix,
    }))
}

/// Job-level shapes that the three-job split cannot keep correct.
/// `allow_matrix`: the shape can give every leg its own artifact, scan and
/// push (the strategy is copied to the scan and push jobs).
pub(super) fn check_job(
    job: &Mapping,
    allow_matrix: bool,
) -> Result<(), (&'static str, &'static str)> {
    let matrix = job.get("strategy").and_then(|s| s.get("matrix")).is_some();
    if matrix && !allow_matrix {
        return Err((
            "the job runs a matrix; pushes from scripts in matrix jobs are not migrated yet",
            "push with docker/build-push-action, or gate the job by hand",
        ));
    }
    if job.get("continue-on-error").is_some_and(|v| !is_false(v)) {
        return Err((
            "the job has `continue-on-error`; a gate that may fail silently is no gate",
            "remove `continue-on-error` from the job",
        ));
    }
    if job.get("container").is_some() {
        return Err((
            "the job runs in a `container:`; the scan and push jobs could not reproduce it",
            "build on the runner itself, or gate the job by hand",
        ));
    }
    for key in [
        "runs-on",
        "env",
        "environment",
        "timeout-minutes",
        "defaults",
        "concurrency",
    ] {
        if job
            .get(key)
            .and_then(|v| yaml_serde::to_string(v).ok())
            .is_some_and(|t| t.contains("needs.") || (!matrix && t.contains("matrix.")))
        {
            return Err((
                "a job-level setting reads `needs` or `matrix`, which the new jobs would not have",
                "gate the job by hand",
            ));
        }
    }
    Ok(())
}

/// The image name when the step pushes by digest through `outputs:`; an
/// error for any other `outputs:` that pushes.
fn push_by_digest(step: &Mapping) -> Result<Option<String>, &'static str> {
    let Some(outputs) = input(step, "outputs") else {
        return Ok(None);
    };
    let outputs = outputs.trim();
    let pushes = outputs.contains("push=true") || outputs.contains("type=registry");
    if !pushes {
        return Ok(None);
    }
    if outputs.contains('\n') || outputs.contains('"') {
        return Err("`outputs:` lists several exporters or quoted values");
    }
    let attrs: Vec<(&str, &str)> = outputs
        .split(',')
        .filter_map(|a| a.split_once('='))
        .collect();
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(key, _)| key.trim() == k)
            .map(|(_, v)| v.trim())
    };
    let by_digest = get("push-by-digest") == Some("true");
    let image = matches!(get("type"), Some("image" | "registry"));
    match (image, by_digest, get("name")) {
        (true, true, Some(name)) if !name.is_empty() => Ok(Some(name.to_owned())),
        _ => Err(
            "`outputs:` pushes other than by digest (`type=image,name=…,push-by-digest=true,push=true`)",
        ),
    }
}

/// The major version of a `uses: …@vN…` reference; `None` for SHAs and branches.
fn major_version(step: &Mapping) -> Option<u32> {
    let uses = step.get("uses").and_then(scalar)?;
    let version = uses.split_once('@')?.1.strip_prefix('v')?;
    version.split('.').next()?.parse().ok()
}

fn is_false(v: &Value) -> bool {
    matches!(
        scalar(v).as_deref().map(str::trim),
        Some("false" | "False" | "FALSE")
    )
}

/// The inside of `${{ … }}` when `text` is exactly one expression.
fn whole_expression(text: &str) -> Option<String> {
    let inner = WHOLE_EXPRESSION.captures(text)?.get(1)?.as_str().trim();
    (!inner.contains("${{") && !inner.contains("}}")).then(|| inner.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_yaml(y: &str) -> Result<BuildPush, Unsupported> {
        let doc: Value = yaml_serde::from_str(y).unwrap();
        match super::super::ungated_jobs(&doc, &gate::Threshold::default())
            .into_iter()
            .next()
            .unwrap()?
        {
            super::super::Site::Action(a) => Ok(a),
            other => panic!("not an action site: {other:?}"),
        }
    }

    #[test]
    fn reads_tags_platforms_and_push_condition() {
        let site = read_yaml(
            "jobs:\n  b:\n    steps:\n      - id: build\n        uses: docker/build-push-action@v6\n        with:\n          push: ${{ github.event_name != 'pull_request' }}\n          platforms: linux/amd64, linux/arm64/v8\n          context: ./svc\n          tags: |\n            ghcr.io/o/r:${{ env.version }}\n            ghcr.io/o/r:latest\n",
        )
        .unwrap();
        assert_eq!(site.step_id.as_deref(), Some("build"));
        assert_eq!(site.platforms, ["linux/amd64", "linux/arm64/v8"]);
        assert_eq!(
            site.push_if.as_deref(),
            Some("github.event_name != 'pull_request'")
        );
        assert_eq!(site.context.as_deref(), Some("./svc"));
        assert!(site.tags.contains("latest"));
    }

    #[test]
    fn refuses_what_it_cannot_keep() {
        let refused = |with: &str| {
            let y = format!(
                "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: x/y:z\n{with}"
            );
            read_yaml(&y).unwrap_err().reason
        };
        assert!(refused("          load: true\n").contains("loads"));
        assert!(refused("          platforms: ${{ matrix.p }}\n").contains("expression"));
        assert!(refused("          platforms: windows/amd64\n").contains("linux/ARCH"));
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
