//! What counts as an image push, as a Trivy gate and as signing the image,
//! read from a parsed workflow. One definition, used by detection (is this
//! push already gated?), by verification (is every push gated after the
//! rewrite?) and by `check` (is it signed, and after the gate?).

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use crate::expressions::EXPRESSION;

/// The policy's severities, which every reading of a gate here takes.
pub use crate::policy::Threshold;

/// A Trivy command that scans an image: the image itself, its root file
/// system, or its SBOM. `trivy fs|repo|config` scan the source, which
/// says nothing of the OS packages of the image built from it.
static TRIVY_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\btrivy\s+(?:image|i|rootfs|sbom)\b").expect("static regex"));
/// A Trivy command that scans the source rather than an image.
static TRIVY_SOURCE_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\btrivy\s+(?:fs|filesystem|repo|repository|config)\b").expect("static regex")
});
/// trivy-action's `scan-type`s that scan an image (`image` when unset).
const IMAGE_SCAN_TYPES: &[&str] = &["image", "rootfs", "sbom"];
static EXIT_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--exit-code[ =]+[1-9]").expect("static regex"));
static SEVERITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--severity[ =]+([A-Za-z,]+)").expect("static regex"));
static CONTINUATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\\[ \t]*\n").expect("static regex"));
/// A string literal of the expression language (quotes doubled inside).
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"'(?:[^']|'')*'").expect("static regex"));
/// Commands that build an image (as opposed to pushing one that exists).
static BUILD_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:docker|podman)\s+(?:image\s+)?build\b",
        r"|\bbuildx\s+(?:build|bake)\b",
        r"|\bbuildah\s+(?:bud|build)\b",
        r"|\bdocker[\s-]+compose\s+build\b",
        r"|\b(?:kaniko|executor)\s+--destination\b",
        // ko, and its stand-in in a migrated build job (`scangate-ko build`)
        r"|\bko\s+(?:build|publish)\b",
    ))
    .expect("static regex")
});
/// Jib's goals that write the image to a tarball (what a migrated Jib step
/// runs): a build, as the other tools' builds.
pub static JIB_TARBALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"jib:buildTar\b|jib-maven-plugin(?::[^:\s]+)?:buildTar\b|\bjibBuildTar\b")
        .expect("static regex")
});
/// Actions that build an image.
const BUILD_ACTIONS: &[&str] = &["docker/build-push-action", "docker/bake-action"];
/// A context an expression reads (`github.ref`, `secrets['X']`), or a
/// status function it calls.
static CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^.\w-])(?:(github|inputs|vars|needs|env|matrix|steps|runner|job|strategy|secrets)\s*[.\[]|(success|failure|always|cancelled)\s*\()")
        .expect("static regex")
});
/// A name in an expression: a context, a function, or a keyword literal
/// (numbers, hexadecimal ones included, start with a digit).
static IDENTIFIER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Za-z_][A-Za-z0-9_-]*").expect("static regex"));
static BYPASS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:always|failure|cancelled)\s*\(").expect("static regex"));

/// `cosign sign` / `cosign attest` of an image (not `sign-blob`).
static COSIGN_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: a constant pattern, exercised by the tests below.
    Regex::new(r"\bcosign\s+(?:sign|attest)(?:\s|$)").expect("static regex")
});

/// `cosign sign` of an image: the signature admission policies check first.
static COSIGN_SIGN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bcosign\s+sign(?:\s|$)").expect("static regex"));

/// GitHub's attestation actions; with `subject-digest` they attest an image.
const ATTEST_ACTIONS: &[&str] = &[
    "actions/attest",
    "actions/attest-build-provenance",
    "actions/attest-sbom",
];

/// Third-party actions that build and push in one step; scangate cannot
/// split them, so a workflow using one unscanned is refused. Each with the
/// input that turns its push off or on, as its README documents it (input
/// names are matched without case, as GitHub does).
pub const PUBLISH_ACTIONS: &[(&str, Publishes)] = &[
    (
        "elgohr/publish-docker-github-action",
        Publishes::UnlessSet("no_push"),
    ),
    (
        "mr-smithers-excellent/docker-build-push",
        Publishes::UnlessOff("pushimage"),
    ),
    (
        "whoan/docker-build-with-cache-action",
        Publishes::UnlessOff("push_image_and_stages"),
    ),
    ("aevea/action-kaniko", Publishes::Always),
    ("int128/kaniko-action", Publishes::WhenOn("push")),
    ("ilteoood/docker_buildx", Publishes::WhenOn("publish")),
    ("mathieusoysal/jib-container-publish.yml", Publishes::Always),
    ("jerray/publish-docker-action", Publishes::Always),
    ("macbre/push-to-ghcr", Publishes::Always),
    // Its entrypoint runs `docker login`, `docker build` and `docker push`
    // with no switch (set 33 a02).
    ("dinushchathurya/build-tag-push-action", Publishes::Always),
    // Google registries (`push_only` skips the build, never the push)
    ("rafikfarhad/push-to-gcr-github-action", Publishes::Always),
    ("raccoondev/push-docker-gcr", Publishes::Always),
    ("adikastyle/push-docker-gcr", Publishes::Always),
];

/// When a publish action pushes.
#[derive(Debug, Clone, Copy)]
pub enum Publishes {
    Always,
    /// Unless this input is `true` (a `no_push` switch).
    UnlessSet(&'static str),
    /// Unless this input is false (a push switch that defaults to on).
    UnlessOff(&'static str),
    /// When this input is true or an expression (a switch that defaults to off).
    WhenOn(&'static str),
}

/// The publish action `step` uses (its listed name), when the step builds
/// with one, whether or not it pushes.
pub fn publish_action(step: &Mapping) -> Option<(&'static str, Publishes)> {
    let action = action_name(step)?;
    PUBLISH_ACTIONS
        .iter()
        .find(|(name, _)| action == *name || action.starts_with(&format!("{name}/")))
        .copied()
}

/// The publish action `step` pushes with, if it pushes.
pub fn publishes(step: &Mapping) -> Option<&'static str> {
    let (name, when) = publish_action(step)?;
    let switch = |key: &str| {
        step.get("with")?
            .as_mapping()?
            .iter()
            .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(key)))
            .and_then(|(_, v)| scalar(v))
    };
    let pushes = match when {
        Publishes::Always => true,
        // An expression may be false: it may push.
        Publishes::UnlessSet(key) => {
            !switch(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        }
        Publishes::UnlessOff(key) => switch(key).is_none_or(|v| truthy(Some(v))),
        Publishes::WhenOn(key) => truthy(switch(key)),
    };
    pushes.then_some(name)
}

/// Actions whose only job is to log the runner in to a container registry.
const REGISTRY_LOGIN_ACTIONS: &[&str] = &[
    "docker/login-action",
    "aws-actions/amazon-ecr-login",
    "azure/docker-login",
    "redhat-actions/podman-login",
];

pub static LOGIN_RUN: LazyLock<Regex> = LazyLock::new(|| {
    // (`nix run nixpkgs#skopeo -- login …` too)
    Regex::new(r"\b(?:docker|podman|buildah|skopeo)\s+(?:--\s+)?login\b").expect("static regex")
});

/// Whether `step` logs the runner in to a container registry (an action,
/// or `docker|podman|buildah|skopeo login` in its script).
pub fn registry_login(step: &Mapping) -> bool {
    action_name(step).is_some_and(|a| REGISTRY_LOGIN_ACTIONS.contains(&a.as_str()))
        || step
            .get("run")
            .and_then(Value::as_str)
            .is_some_and(|r| LOGIN_RUN.is_match(&shell_body(r)))
}

/// How a step pushes an image: which push shape recognised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushKind {
    /// The shape's identifier.
    pub shape: &'static str,
    /// How messages name the shape.
    pub label: &'static str,
    /// The push is a command of a `run:` script.
    pub in_script: bool,
    /// The command or action as written.
    pub what: String,
}

/// What tells a pushing step from others: the push shapes' registry
/// (`shape::Shapes`), which sits above this module and is handed in.
pub trait Recognise {
    /// How `step`, a step of `job`, pushes an image, if it does.
    fn push_kind(&self, job: &Mapping, step: &Mapping) -> Option<PushKind>;
}

/// The action name of a `uses:` value, lower-cased, without `@ref`.
pub fn action_name(step: &Mapping) -> Option<String> {
    let uses = step.get("uses")?.as_str()?;
    Some(
        uses.split('@')
            .next()
            .unwrap_or(uses)
            .trim()
            .to_ascii_lowercase(),
    )
}

/// A YAML value as the string GitHub would see (`true` → "true").
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `with.<key>` of a step as a string.
pub fn input(step: &Mapping, key: &str) -> Option<String> {
    step.get("with")?.as_mapping()?.get(key).and_then(scalar)
}

/// Whether an input is set to a true value (anything but empty, `false`, `0`).
pub fn truthy(v: Option<String>) -> bool {
    v.is_some_and(|s| !matches!(s.trim().to_ascii_lowercase().as_str(), "" | "false" | "0"))
}

/// `text` on one line, each run of blank space one space: a command
/// written over lines, as a message quotes it.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shell text without comment lines and with line continuations joined, so a
/// command split over lines is seen whole.
pub fn shell_body(run: &str) -> String {
    let body: Vec<&str> = run
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    CONTINUATION.replace_all(&body.join("\n"), " ").into_owned()
}

/// Whether `step` builds an image (whether or not it also pushes it).
pub fn builds(step: &Mapping) -> bool {
    if let Some(action) = action_name(step) {
        return BUILD_ACTIONS.contains(&action.as_str()) || publish_action(step).is_some();
    }
    step.get("run")
        .and_then(Value::as_str)
        .map(shell_body)
        // Jib's tarball build, as a migrated build job runs it, too.
        .is_some_and(|run| BUILD_RUN.is_match(&run) || JIB_TARBALL.is_match(&run))
}

/// Whether `step` is a Trivy scan of an image that fails the job on the
/// `threshold` severities.
pub fn is_gate(step: &Mapping, threshold: &Threshold) -> bool {
    if truthy(step.get("continue-on-error").and_then(scalar)) || !runs_trivy(step) {
        return false;
    }
    let covers = |list: &str| threshold.covered_by(list);
    if action_name(step).is_some_and(|a| a == "aquasecurity/trivy-action") {
        let code = input(step, "exit-code").unwrap_or_else(|| "0".into());
        let code = code.trim().trim_matches(['\'', '"']);
        let severity =
            input(step, "severity").unwrap_or_else(|| "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL".into());
        return !matches!(code, "0" | "") && covers(&severity);
    }
    let Some(run) = step.get("run").and_then(Value::as_str) else {
        return false;
    };
    let body = shell_body(run);
    if !EXIT_CODE.is_match(&body) {
        return false;
    }
    match SEVERITY.captures(&body) {
        Some(c) => covers(&c[1]),
        None => true,
    }
}

/// Whether `step` runs a Trivy scan of an image at all (gating or not):
/// `aquasecurity/trivy-action` of an image `scan-type` (or one given as an
/// expression), or a `trivy image|rootfs|sbom` command. `check` uses it to
/// find the scan a push was meant to wait for, and then asks [`is_gate`]
/// why it does not gate.
pub fn runs_trivy(step: &Mapping) -> bool {
    if let Some(action) = action_name(step) {
        let scan_type = input(step, "scan-type").unwrap_or_else(|| "image".into());
        let scan_type = scan_type
            .trim()
            .trim_matches(['\'', '"'])
            .to_ascii_lowercase();
        return action == "aquasecurity/trivy-action"
            && (IMAGE_SCAN_TYPES.contains(&scan_type.as_str()) || scan_type.contains("${{"));
    }
    step.get("run")
        .and_then(Value::as_str)
        .is_some_and(|run| TRIVY_RUN.is_match(&shell_body(run)))
}

/// Whether `step` runs Trivy on something other than an image (the source:
/// `trivy fs|repo|config`, trivy-action's `scan-type: fs|repo|config`),
/// which [`runs_trivy`] does not count: `check` says why such a scan is
/// no gate of a push.
pub fn scans_source(step: &Mapping) -> bool {
    let trivy = action_name(step).is_some_and(|a| a == "aquasecurity/trivy-action")
        || step
            .get("run")
            .and_then(Value::as_str)
            .is_some_and(|run| TRIVY_SOURCE_RUN.is_match(&shell_body(run)));
    trivy && !runs_trivy(step)
}

/// Whether a job or step sets `continue-on-error` to a true value; such a job
/// is never a gate job and such a step is never a gate.
pub fn continues_on_error(node: &Mapping) -> bool {
    truthy(node.get("continue-on-error").and_then(scalar))
}

/// A job's or step's `if:`, unless it is empty: GitHub runs a job or step
/// whose `if:` is empty (null or blank) as one without (actions/runner,
/// `ConvertToIfCondition`: "When empty, default to success()").
pub fn condition(node: &Mapping) -> Option<&Value> {
    node.get("if").filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    })
}

/// Whether an `if:` expression (bare or in `${{ }}`) reads nothing:
/// literals and operators only, as actionlint's `if-cond` rule finds them
/// ("constant expression … remove the if: section"). Repeated on a new
/// job, such a condition would be one more finding, and it adds nothing
/// there: a constant `false` skips the job that the new jobs need.
pub fn constant(expression: &str) -> bool {
    let bare = expression.trim();
    let bare = bare
        .strip_prefix("${{")
        .and_then(|c| c.strip_suffix("}}"))
        .unwrap_or(bare);
    let unquoted = QUOTED.replace_all(bare, "");
    IDENTIFIER
        .find_iter(&unquoted)
        .all(|word| matches!(word.as_str(), "true" | "false" | "null"))
}

/// What an expression reads, in order: each context by name (`secrets`),
/// each status function with its parentheses (`always()`). Text inside
/// string literals is not read.
pub fn reads(expression: &str) -> Vec<String> {
    let code = QUOTED.replace_all(expression, "''");
    CONTEXT
        .captures_iter(&code)
        .filter_map(|c| match (c.get(1), c.get(2)) {
            (_, Some(function)) => Some(format!("{}()", function.as_str())),
            (Some(context), None) => Some(context.as_str().to_owned()),
            (None, None) => None,
        })
        .collect()
}

/// Whether a step's `if:` may read what `expression` reads: every context
/// but `secrets` (GitHub's table of context availability), which a build
/// step's `with:` may read (set 33 a07: `push: ${{ … && secrets.TOKEN != '' }}`).
pub fn step_may_read(expression: &str) -> bool {
    reads(expression).iter().all(|read| read != "secrets")
}

/// The contexts GitHub's context availability table gives a job-level key
/// the new jobs copy; `None` for a key evaluated with every context (the
/// steps) or not copied. Each is evaluated before the job's runner exists,
/// `if:` and `strategy:` even before its matrix.
fn job_key_contexts(key: &str) -> Option<&'static [&'static str]> {
    const BEFORE_MATRIX: &[&str] = &["github", "needs", "vars", "inputs"];
    const WITH_MATRIX: &[&str] = &["github", "needs", "strategy", "matrix", "vars", "inputs"];
    const WITH_SECRETS: &[&str] = &[
        "github", "needs", "strategy", "matrix", "vars", "inputs", "secrets",
    ];
    // `container:` and `services:` may read `env` and `secrets` in their
    // `credentials:`; the whole key is given them, so that no credential
    // is refused.
    const WITH_CREDENTIALS: &[&str] = &[
        "github", "needs", "strategy", "matrix", "vars", "inputs", "secrets", "env",
    ];
    match key {
        "if" | "strategy" => Some(BEFORE_MATRIX),
        "runs-on" | "environment" | "concurrency" | "timeout-minutes" | "continue-on-error" => {
            Some(WITH_MATRIX)
        }
        "env" => Some(WITH_SECRETS),
        "container" | "services" => Some(WITH_CREDENTIALS),
        _ => None,
    }
}

/// The first job-level key that reads a context GitHub's context
/// availability table does not give it, with that context: GitHub rejects
/// such a workflow at parse time ("Unrecognized named-value"), and the new
/// jobs would copy the key (set 37 b02: `needs.x.outputs[matrix.service]`
/// in an `if:`; set 40 a19: `env.URL` in a `strategy.matrix` entry).
pub fn job_forbidden_read(job: &Mapping) -> Option<(String, String)> {
    job.iter().find_map(|(key, value)| {
        let key = key.as_str()?;
        let allowed = job_key_contexts(key)?;
        let mut texts = Vec::new();
        expression_texts(value, key == "if", &mut texts);
        texts.iter().flat_map(|text| reads(text)).find_map(|read| {
            (!read.ends_with("()") && !allowed.contains(&read.as_str()))
                .then(|| (key.to_owned(), read))
        })
    })
}

/// The expressions in `value`'s strings, `${{ … }}` and all (the whole of
/// an `if:`, an expression with or without its `${{ }}`).
pub fn expression_texts(value: &Value, is_if: bool, out: &mut Vec<String>) {
    match value {
        Value::String(s) if is_if => out.push(s.clone()),
        Value::String(s) => out.extend(EXPRESSION.find_iter(s).map(|m| m.as_str().to_owned())),
        Value::Sequence(seq) => seq.iter().for_each(|v| expression_texts(v, false, out)),
        Value::Mapping(m) => m.values().for_each(|v| expression_texts(v, false, out)),
        _ => {}
    }
}

/// Whether a job- or step-level `if:` lets it run after a failure upstream.
pub fn bypasses(node: &Mapping) -> bool {
    condition(node)
        .and_then(scalar)
        .is_some_and(|c| BYPASS.is_match(&c))
}

/// Whether job `job` runs only when its need `dep` succeeded: it has no
/// escape from a failure upstream, or its `if:` also requires
/// `needs.DEP.result == 'success'` as one of its top-level `&&` terms
/// (`always() && needs.build.result == 'success'`, to run after a skipped
/// sibling).
pub fn waits_for(job: &Mapping, dep: &str) -> bool {
    if !bypasses(job) {
        return true;
    }
    let Some(condition) = condition(job).and_then(scalar) else {
        return true;
    };
    let condition = condition.trim();
    let condition = condition
        .strip_prefix("${{")
        .and_then(|c| c.strip_suffix("}}"))
        .unwrap_or(condition);
    let wanted = format!("needs.{dep}.result=='success'");
    conjuncts(condition)
        .iter()
        .any(|term| term.replace([' ', '\t'], "").replace('"', "'") == wanted)
}

/// The terms of `expression` joined by `&&` outside parentheses and quotes.
fn conjuncts(expression: &str) -> Vec<&str> {
    let (mut out, mut start, mut depth, mut quoted) = (Vec::new(), 0, 0i32, false);
    let bytes = expression.as_bytes();
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            b'&' if !quoted && depth == 0 && bytes.get(at + 1) == Some(&b'&') && at >= start => {
                out.push(expression[start..at].trim());
                start = at + 2;
            }
            _ => {}
        }
    }
    out.push(expression[start..].trim());
    out
}

/// The ids a job `needs`.
pub fn needs(job: &Mapping) -> Vec<String> {
    match job.get("needs") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(seq)) => seq.iter().filter_map(scalar).collect(),
        _ => Vec::new(),
    }
}

/// The steps of a job that are mappings, with their indices.
pub fn steps(job: &Mapping) -> Vec<(usize, &Mapping)> {
    job.get("steps")
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .enumerate()
                .filter_map(|(i, v)| v.as_mapping().map(|m| (i, m)))
                .collect()
        })
        .unwrap_or_default()
}

/// The jobs of a workflow as `(id, mapping)`.
pub fn jobs(doc: &Value) -> Vec<(String, &Mapping)> {
    doc.get("jobs")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((scalar(k)?, v.as_mapping()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A push step found in a workflow, and whether a gate stands before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub job: String,
    pub step: usize,
    pub kind: PushKind,
    pub gated: bool,
    /// A job it needs (transitively) pushes too: this push may well put
    /// under other names what that one pushed (a merge, a promotion).
    pub after_push: bool,
}

/// Every push in `doc`, each marked gated when a Trivy gate must pass before
/// it: an earlier step of the same job, or a job it needs (transitively)
/// without an `always()`-style escape on the way.
pub fn pushes(doc: &Value, threshold: &Threshold, shapes: &dyn Recognise) -> Vec<Push> {
    let jobs = jobs(doc);
    let gate_jobs: HashSet<&str> = jobs
        .iter()
        .filter(|(_, j)| !truthy(j.get("continue-on-error").and_then(scalar)))
        .filter(|(_, j)| steps(j).iter().any(|(_, s)| is_gate(s, threshold)))
        .map(|(id, _)| id.as_str())
        .collect();
    // By id: a linear search per step of the walk made a 3,000-job `needs:`
    // chain take 15 s.
    let by_id: std::collections::HashMap<&str, &Mapping> =
        jobs.iter().rev().map(|(id, m)| (id.as_str(), *m)).collect();
    let job = |id: &str| by_id.get(id).copied();
    // A job reaches a gate through the needs it waits for (see `waits_for`).
    let gated_by_need = |id: &str| reaches(&job, id, waits_for, |dep| gate_jobs.contains(dep));
    // Read once: the walks below ask it of the same jobs again and again.
    let pushing: HashSet<&str> = jobs
        .iter()
        .filter(|(_, m)| {
            steps(m)
                .iter()
                .any(|(_, s)| shapes.push_kind(m, s).is_some())
        })
        .map(|(id, _)| id.as_str())
        .collect();
    // A job pushes after another when one it needs (transitively) pushes.
    let after_push = |id: &str| reaches(&job, id, |_, _| true, |dep| pushing.contains(dep));
    let mut out = Vec::new();
    for (id, j) in &jobs {
        let steps = steps(j);
        let mut follows: Option<bool> = None;
        // Walked only for jobs that push: most jobs do not, and a walk per
        // job is quadratic in a long `needs:` chain.
        let mut by_need: Option<bool> = None;
        let mut gate_seen = false;
        for (i, s) in &steps {
            // A build after the gate makes an image the gate never saw
            // (invariant 4): a push of it, or by a step that builds it
            // again (set 37 a21: a scan of the base image, then
            // build-push-action), is not gated by that gate.
            gate_seen = gate_seen && !builds(s);
            let Some(kind) = shapes.push_kind(j, s) else {
                gate_seen |= is_gate(s, threshold);
                continue;
            };
            let needed = *by_need.get_or_insert_with(|| gated_by_need(id));
            let gated = (gate_seen || needed) && !bypasses(s);
            gate_seen |= is_gate(s, threshold);
            out.push(Push {
                job: id.clone(),
                step: *i,
                kind,
                gated,
                after_push: *follows.get_or_insert_with(|| after_push(id)),
            });
        }
    }
    out
}

/// Whether a job that `id` needs, transitively through the needs `follow`
/// accepts, is `hit`.
fn reaches<'a>(
    job: &impl Fn(&str) -> Option<&'a Mapping>,
    id: &str,
    follow: impl Fn(&Mapping, &str) -> bool,
    hit: impl Fn(&str) -> bool,
) -> bool {
    let mut seen = HashSet::new();
    let mut todo = vec![id.to_owned()];
    while let Some(cur) = todo.pop() {
        let Some(m) = job(&cur) else { continue };
        for dep in needs(m) {
            if !follow(m, &dep) || !seen.insert(dep.clone()) {
                continue;
            }
            if hit(&dep) {
                return true;
            }
            todo.push(dep);
        }
    }
    false
}

/// Whether `step` signs or attests a container image: `cosign sign` or
/// `cosign attest` in its script, or a GitHub attestation action given a
/// `subject-digest` (files are attested by `subject-path`).
pub fn signs_image(step: &Mapping) -> bool {
    let script = step.get("run").and_then(Value::as_str).map(shell_body);
    script.is_some_and(|s| COSIGN_IMAGE.is_match(&s))
        || action_name(step).is_some_and(|a| {
            ATTEST_ACTIONS.contains(&a.as_str()) && input(step, "subject-digest").is_some()
        })
}

/// Whether `step` runs `cosign sign` on an image (what the admission
/// policies require, beside the vulnerability attestation).
pub fn cosign_signs(step: &Mapping) -> bool {
    step.get("run")
        .and_then(Value::as_str)
        .is_some_and(|r| COSIGN_SIGN.is_match(&shell_body(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(y: &str) -> Value {
        yaml_serde::from_str(y).unwrap()
    }

    fn step(y: &str) -> Mapping {
        yaml_serde::from_str(y).unwrap()
    }

    #[test]
    fn job_keys_read_only_the_contexts_github_gives_them() {
        let read = |yaml: &str| {
            let job: Mapping = yaml_serde::from_str(yaml).unwrap();
            job_forbidden_read(&job)
        };
        // Set 40 a19: a matrix entry reads `env`, which is not there yet.
        assert_eq!(
            read("strategy: {matrix: {include: [{url: '${{ env.URL }}'}]}}\nsteps: []\n"),
            Some(("strategy".into(), "env".into()))
        );
        assert_eq!(
            read("if: needs.m.outputs[matrix.s] == 'x'\n"),
            Some(("if".into(), "matrix".into()))
        );
        // The runner, the environment and the job's env may read the matrix,
        // the env its secrets, a container's credentials `env` too.
        assert_eq!(
            read(
                "runs-on: ${{ matrix.os }}\nenvironment: ${{ matrix.env }}\nenv: {T: '${{ secrets.T }}'}\ncontainer: {image: x, credentials: {password: '${{ env.P }}'}}\nif: always() && github.ref == 'refs/heads/main'\n"
            ),
            None
        );
        assert_eq!(
            read("runs-on: ${{ env.RUNNER }}\n"),
            Some(("runs-on".into(), "env".into()))
        );
        // Text outside `${{ }}` is no read, nor are the steps.
        assert_eq!(
            read("environment: env.prod\nsteps: [{run: '${{ env.X }}'}]\n"),
            None
        );
    }

    #[test]
    fn builds_and_pushes_are_told_apart() {
        assert!(builds(&step("run: docker build -t x .")));
        assert!(builds(&step("run: docker buildx build --push -t x .")));
        assert!(!builds(&step("run: docker push x")));
        assert!(!builds(&step("run: skopeo copy oci:a docker://x")));
        assert!(builds(&step("uses: docker/build-push-action@v7")));
        assert!(builds(&step("run: scangate-ko build --bare ./cmd/app")));
        assert!(builds(&step("run: ko publish -B .")));
    }

    #[test]
    fn a_build_after_the_gate_ungates_the_push() {
        let gated = |steps: &str| {
            let d = doc(&format!("jobs:\n  j:\n    steps:\n{steps}"));
            pushes(&d, &Threshold::default(), crate::shape::Shapes::builtin())
                .iter()
                .map(|p| p.gated)
                .collect::<Vec<_>>()
        };
        let scan = "      - run: trivy image --exit-code 1 x\n";
        let build = "      - run: docker build -t x .\n";
        let push = "      - run: docker push x\n";
        let build_push =
            "      - uses: docker/build-push-action@v7\n        with: {push: true, tags: x}\n";
        assert_eq!(gated(&format!("{build}{scan}{push}")), [true]);
        assert_eq!(gated(&format!("{scan}{build}{push}")), [false]);
        assert_eq!(gated(&format!("{scan}{build_push}")), [false]);
        // A gate after the last build gates again.
        assert_eq!(gated(&format!("{scan}{build}{scan}{push}")), [true]);
    }

    #[test]
    fn a_push_behind_a_gate_job_is_gated_and_always_escapes_it() {
        let d = doc(
            "jobs:\n  scan:\n    steps:\n      - run: trivy image --exit-code 1 --severity CRITICAL,HIGH x\n  push:\n    needs: scan\n    steps:\n      - run: docker push x\n  late:\n    needs: scan\n    if: always()\n    steps:\n      - run: docker push y\n",
        );
        let p = pushes(&d, &Threshold::default(), crate::shape::Shapes::builtin());
        assert_eq!(p.len(), 2);
        assert!(p[0].gated);
        assert!(!p[1].gated);
    }

    #[test]
    fn a_condition_that_reads_nothing_is_constant_as_actionlint_finds_it() {
        // The conditions actionlint 1.17.0 reports as `if-cond`.
        for c in [
            "false",
            "${{ false }}",
            "true",
            "${{ 1 == 2 }}",
            "(false)",
            "'a' == 'b'",
        ] {
            assert!(constant(c), "{c}");
        }
        // Those it does not: they read a context or call a function.
        for c in [
            "${{ false && github.ref == 'x' }}",
            "always()",
            "github.event_name == 'false'",
            "needs.build-x.outputs.pushed == 'true'",
        ] {
            assert!(!constant(c), "{c}");
        }
    }

    #[test]
    fn a_job_that_requires_its_need_to_succeed_waits_for_it_despite_always() {
        let wf = |cond: &str| {
            doc(&format!(
                "jobs:\n  scan:\n    steps:\n      - run: trivy image --exit-code 1 x\n  merge:\n    needs: [scan, other]\n    if: {cond}\n    steps:\n      - run: docker push x\n"
            ))
        };
        let gated = |cond: &str| {
            pushes(
                &wf(cond),
                &Threshold::default(),
                crate::shape::Shapes::builtin(),
            )[0]
            .gated
        };
        assert!(gated(
            "${{ always() && needs.scan.result == 'success' && needs.other.result != 'failure' }}"
        ));
        assert!(gated("always() && needs.scan.result == \"success\""));
        assert!(!gated("always()"));
        assert!(!gated("always() && needs.other.result == 'success'"));
        // Only a term of the whole `&&` chain counts, not one inside `||`.
        assert!(!gated(
            "always() && (needs.scan.result == 'success' || true)"
        ));
    }

    #[test]
    fn an_empty_if_is_no_condition() {
        let node = |y: &str| doc(y).as_mapping().unwrap().clone();
        for empty in ["if:\n", "if: ''\n", "if: '  '\n", "if: null\n"] {
            assert_eq!(condition(&node(empty)), None, "{empty:?}");
        }
        for set in ["if: success()\n", "if: false\n"] {
            assert!(condition(&node(set)).is_some(), "{set:?}");
        }
    }

    #[test]
    fn build_push_action_pushes_only_when_asked() {
        let d = doc(
            "jobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with: {push: false}\n      - uses: docker/build-push-action@v6\n        with: {push: '${{ github.event_name != ''pull_request'' }}'}\n",
        );
        let p = pushes(&d, &Threshold::default(), crate::shape::Shapes::builtin());
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].step, 1);
        assert!(!p[0].gated);
    }

    #[test]
    fn a_low_severity_or_zero_exit_scan_is_no_gate() {
        let m = |y: &str| doc(y).as_mapping().unwrap().clone();
        assert!(!is_gate(
            &m("run: trivy image --exit-code 0 x"),
            &Threshold::default()
        ));
        assert!(!is_gate(
            &m("run: trivy image --exit-code 1 --severity CRITICAL x"),
            &Threshold::default()
        ));
        assert!(is_gate(
            &m("run: trivy image --exit-code 1 --severity CRITICAL,HIGH x"),
            &Threshold::default()
        ));
        assert!(!is_gate(
            &m(
                "uses: aquasecurity/trivy-action@x\nwith: {exit-code: 1, severity: HIGH,CRITICAL}\ncontinue-on-error: true"
            ),
            &Threshold::default()
        ));
    }

    /// A scan of the source (set 23 004: trivy-action `scan-type: fs` in a
    /// job the push job needs) says nothing of the image's OS packages.
    #[test]
    fn only_a_scan_of_an_image_is_a_gate() {
        let m = |y: &str| doc(y).as_mapping().unwrap().clone();
        let action = |scan_type: &str| {
            m(&format!(
                "uses: aquasecurity/trivy-action@x\nwith:\n  scan-type: {scan_type}\n  exit-code: 1\n  severity: HIGH,CRITICAL"
            ))
        };
        for (scan_type, gates) in [
            ("fs", false),
            ("'repo'", false),
            ("config", false),
            ("image", true),
            ("rootfs", true),
            ("'${{ inputs.scan }}'", true),
        ] {
            assert_eq!(
                is_gate(&action(scan_type), &Threshold::default()),
                gates,
                "{scan_type}"
            );
            assert_eq!(runs_trivy(&action(scan_type)), gates, "{scan_type}");
        }
        for (run, gates) in [
            ("trivy fs --exit-code 1 .", false),
            ("trivy repo --exit-code 1 .", false),
            ("trivy rootfs --exit-code 1 /out", true),
            ("trivy i --exit-code 1 app:1", true),
        ] {
            assert_eq!(
                is_gate(&m(&format!("run: {run}")), &Threshold::default()),
                gates,
                "{run}"
            );
        }
    }

    #[test]
    fn knows_image_signing_steps() {
        let step = |y: &str| yaml_serde::from_str::<Mapping>(y).unwrap();
        assert!(signs_image(&step("run: cosign sign --yes \"$ref\"")));
        assert!(signs_image(&step(
            "run: |\n  cosign attest --type vuln --predicate p x"
        )));
        assert!(!signs_image(&step("run: cosign sign-blob --bundle b file")));
        assert!(cosign_signs(&step("run: cosign sign --yes x")));
        assert!(!cosign_signs(&step("run: cosign attest --yes x")));
        assert!(!signs_image(&step("run: echo cosign signing is next")));
        assert!(signs_image(&step(
            "uses: actions/attest-build-provenance@v3\nwith: {subject-name: x, subject-digest: sha256:1}"
        )));
        assert!(!signs_image(&step(
            "uses: actions/attest@v4\nwith: {subject-path: dist/*}"
        )));
    }
}
