//! The *detect* stage: which jobs push an image that no gate protects, and
//! whether scangate understands each of them well enough to rewrite it.
//!
//! Detection reads the parsed workflow only; it knows nothing about text or
//! indentation. The checks every job passes are here; each push shape
//! (`crate::shape`) reads the jobs whose pushes are its own, and a job it
//! does not fully understand is an [`Unsupported`], never a guess.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use crate::gate::{self, Recognise};
pub use crate::shape::{Cure, Shapes, Site, Unsupported, Verdict};

/// One verdict per job that pushes an image no gate protects, in file order.
/// Jobs whose pushes are all gated (or that push nothing) do not appear.
pub fn ungated_jobs(doc: &Value, threshold: &gate::Threshold, shapes: &Shapes) -> Vec<Verdict> {
    let mut by_job: BTreeMap<usize, (String, Vec<gate::Push>)> = BTreeMap::new();
    let order: Vec<String> = gate::jobs(doc).into_iter().map(|(id, _)| id).collect();
    for push in gate::pushes(doc, threshold, shapes)
        .into_iter()
        .filter(|p| !p.gated)
    {
        let pos = order
            .iter()
            .position(|j| *j == push.job)
            .unwrap_or(usize::MAX);
        by_job
            .entry(pos)
            .or_insert_with(|| (push.job.clone(), Vec::new()))
            .1
            .push(push);
    }
    by_job
        .into_values()
        .map(|(job, pushes)| verdict(doc, &job, &pushes, shapes))
        .collect()
}

fn verdict(doc: &Value, job_id: &str, pushes: &[gate::Push], shapes: &Shapes) -> Verdict {
    let jobs = gate::jobs(doc);
    let Some((_, job)) = jobs.iter().find(|(id, _)| id == job_id) else {
        return Err(Unsupported::new(job_id, None, "job not found", ""));
    };
    if !is_job_id(job_id) {
        return Err(Unsupported::new(
            job_id,
            None,
            format!(
                "`{job_id}` is not a valid job id (letters, digits, `_` and `-`, not starting with a digit or `-`)"
            ),
            "rename the job; GitHub rejects this id",
        ));
    }
    if let Some(step) = job
        .get("steps")
        .and_then(yaml_serde::Value::as_sequence)
        .and_then(|steps| steps.iter().position(|s| !s.is_mapping()))
    {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            "this step is empty or not a mapping; GitHub rejects such a workflow",
            "remove the empty `-` item or complete the step, then run scangate again",
        ));
    }
    if let Some((step, _)) = gate::steps(job).into_iter().find(|(_, s)| {
        ["with", "env"]
            .iter()
            .any(|k| s.get(*k).is_some_and(|v| !v.is_mapping()))
    }) {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            "this step's `with:` or `env:` is not a mapping; GitHub rejects such a workflow",
            "write the inputs as `key: value` lines, then run scangate again",
        ));
    }
    if let Some((step, key)) = unknown_step_key(job) {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            format!(
                "this step has the key `{key}`, which is not a step key; GitHub rejects such a workflow (an action's inputs go under `with:`)"
            ),
            "move the key under `with:` or remove it, then run scangate again",
        ));
    }
    if let Some(need) = gate::needs(job)
        .into_iter()
        .find(|n| !jobs.iter().any(|(id, _)| id == n))
    {
        return Err(Unsupported::new(
            job_id,
            None,
            format!(
                "the job needs `{need}`, which is no job of this workflow; GitHub rejects such a workflow"
            ),
            "fix the job id in `needs:` or remove it, then run scangate again",
        ));
    }
    let pushing: Vec<usize> = pushes
        .iter()
        .filter(|p| p.job == job_id)
        .map(|p| p.step)
        .collect();
    let repeated = repeated_expressions(job, &pushing);
    if let Some((step, need)) = unneeded_read(job, &repeated) {
        return Err(Unsupported::new(
            job_id,
            step,
            format!(
                "the job reads `needs.{need}`, but `{need}` is not in its `needs:`; GitHub gives a job the outputs of its needs only, so the value is empty (actionlint reports it), and the new jobs would repeat it"
            ),
            format!("add `{need}` to the job's `needs:`, then run scangate again"),
        ));
    }
    if let Some((step, property)) = unknown_github_property(&repeated) {
        return Err(Unsupported::new(
            job_id,
            step,
            format!(
                "the job reads `github.{property}`, which is no property of the `github` context, so it is always empty (actionlint reports it), and the new jobs would repeat it"
            ),
            "read the value from where it is (`secrets.`, `vars.`, `github.event.`…), then run scangate again",
        ));
    }
    if let Some((step, read)) = number_property(&repeated) {
        return Err(Unsupported::new(
            job_id,
            step,
            format!(
                "the expression reads `{read}`: a property named by a number is no expression GitHub can parse, so it rejects such a workflow (actionlint reports it), and the new jobs would repeat it"
            ),
            "name the property (`secrets.NAME`) or index it (`x['0']`), then run scangate again",
        ));
    }
    if let Some((key, context)) = gate::job_forbidden_read(job) {
        return Err(forbidden_read(job_id, &key, &context));
    }
    if let Some(step) = duplicate_step_id(job) {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            "this step's `id:` is already used by an earlier step of the job; GitHub rejects such a workflow",
            "give every step a unique id, then run scangate again",
        ));
    }
    if let Some((step, _)) = gate::steps(job).into_iter().find(|(_, s)| {
        gate::condition(s)
            .and_then(gate::scalar)
            .is_some_and(|c| !gate::step_may_read(&c))
    }) {
        return Err(Unsupported::new(
            job_id,
            Some(step),
            "this step's `if:` reads the `secrets` context, which GitHub does not allow in a step's `if:`; it rejects such a workflow",
            "set the secret in the step's or the job's `env:` and test `env.NAME` instead, then run scangate again",
        ));
    }
    shapes.read(job_id, job, pushes)
}

/// A command whose pushes scangate cannot read: a script file, a make-like
/// runner, a JVM build (Jib, Quarkus and Spring Boot push from there), nix,
/// a bake file (its targets' `output`/`push` attributes push).
static OPAQUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?m)^\s*(?:sudo\s+)?(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(",
        r"(?:bash|sh|zsh)\s+(?:-\S+\s+)*[^\s-][^\n]*|\./[^\n]+|",
        // a script by its relative path (set 15 038: `scripts/build.sh --push`)
        r"[\w.-]+/[\w./-]*\.sh\b[^\n]*|",
        r"(?:make|just|task|earthly|dagger|mvn|gradle)\b[^\n]*|",
        r"(?:npm|yarn|pnpm|bun|devbox|mise)\s+run\b[^\n]*|nix\s+(?:run|build|shell)\b[^\n]*|",
        // a script file run by its interpreter (set 19 003: `bun
        // ./packages/containers/script/build.ts --push`)
        r"(?:node|bun|deno\s+run|tsx|ts-node|python3?|ruby|perl|pwsh)\s+(?:-\S+\s+)*[\w./-]+\.(?:[cm]?js|ts|py|rb|pl|ps1)\b[^\n]*|",
        r"(?:docker\s+)?buildx\s+bake\b[^\n]*",
        r")",
    ))
    .expect("static regex")
});

/// `ko`, `crane` and `oras` log in to registries too.
static TOOL_LOGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:ko|crane(?:\s+auth)?|oras)\s+login\b").expect("static regex")
});

/// Jobs that log in to a container registry, push nothing scangate can
/// see, and then run a command that may push on its own (`make release`,
/// `bash ci/images.sh`, a local action): one note each, at the last such step,
/// since such a push is not gated and `migrate` would otherwise say
/// nothing at all. A login followed only by builds (a private base image)
/// says nothing.
pub fn unseen_pushes(doc: &Value, shapes: &Shapes) -> Vec<Unsupported> {
    gate::jobs(doc)
        .into_iter()
        .filter_map(|(id, job)| unseen_push(&id, job, shapes))
        .collect()
}

/// Owners whose pushing actions scangate knows (or that publish none).
const KNOWN_OWNERS: &[&str] = &[
    "actions/",
    "docker/",
    "aws-actions/",
    "azure/",
    "google-github-actions/",
    "redhat-actions/",
    "sigstore/",
    "anchore/",
    "aquasecurity/",
    "github/",
];

/// An action scangate does not know that takes registry credentials and
/// names an image or registry, or takes a password and says it pushes in
/// its name: it may well push (a team's own "release docker image" action).
fn publishing_action(step: &Mapping) -> Option<String> {
    let action = gate::action_name(step)?;
    // A local action too (set 19 024: `uses: ./` given a registry's
    // credentials and the built image).
    if KNOWN_OWNERS.iter().any(|o| action.starts_with(o)) {
        return None;
    }
    let inputs = KeyNames::of(step, &["with"]);
    let has = |words: &[&str]| inputs.has(words);
    // Or a password given to an action whose name says it pushes, and
    // images by its name or a `tag` input (`…/build-tag-push-action` with
    // `repository:`, `tag:`; not `pypa/gh-action-pypi-publish`).
    let named_push = PUSH_WORD.is_match(&action)
        && has(&["password"])
        && (IMAGE_WORD.is_match(&action) || has(&["tag"]));
    (named_push || has(&["password", "token"]) && has(&["image", "registry", "docker"])).then(
        || {
            step.get("uses")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        },
    )
}

/// The keys of a node's mappings (`with:`, `secrets:`), lower-cased, as
/// GitHub matches input names.
struct KeyNames(Vec<String>);

impl KeyNames {
    fn of(node: &Mapping, fields: &[&str]) -> Self {
        KeyNames(
            fields
                .iter()
                .filter_map(|f| node.get(*f).and_then(Value::as_mapping))
                .flat_map(Mapping::keys)
                .filter_map(|k| k.as_str().map(str::to_ascii_lowercase))
                .collect(),
        )
    }

    /// Whether a key holds one of `words` (`registry_password` holds `password`).
    fn has(&self, words: &[&str]) -> bool {
        self.0.iter().any(|k| words.iter().any(|w| k.contains(w)))
    }
}

const CALL_HINT: &str = "run scangate on the repository that holds that workflow (it gates the push there), or gate that push by hand";

/// A call of a reusable workflow of another repository that is given
/// registry credentials and names an image or registry, or whose file name
/// says it pushes (set 36 b01: `konveyor/release-tools/…/build-push-images.yaml`
/// given `registry_password`): its push, if any, is gated only where that
/// workflow lives. A workflow of the same repository (`./.github/…`) is
/// migrated with the others.
fn publishing_call(job: &Mapping) -> Option<String> {
    let called = job.get("uses").and_then(Value::as_str)?.trim();
    if called.starts_with("./") {
        return None;
    }
    let keys = KeyNames::of(job, &["with", "secrets"]);
    let has = |words: &[&str]| keys.has(words);
    let credentials = has(&["password", "token"])
        || job.get("secrets").and_then(Value::as_str) == Some("inherit");
    let path = called.split('@').next().unwrap_or(called);
    let names_push = PUSH_WORD.is_match(path) && IMAGE_WORD.is_match(path);
    (credentials && (names_push || has(&["image", "registry", "docker"]))).then(|| {
        format!(
            "the job calls `{called}` with registry credentials: if that workflow pushes an image, the push is gated only if that workflow is (scangate reads the workflows of this repository only)"
        )
    })
}

/// A word of a name that says it is about container images.
static IMAGE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)docker|image|container|oci|registry|ghcr|quay|ecr|gcr|acr")
        .expect("static regex")
});

const UNSEEN_HINT: &str = "push from the workflow itself (`docker push`, docker/build-push-action), which scangate migrates, or gate that push by hand";

fn unseen_push(job_id: &str, job: &Mapping, shapes: &Shapes) -> Option<Unsupported> {
    if let Some(reason) = publishing_call(job) {
        return Some(Unsupported::new(job_id, None, reason, CALL_HINT));
    }
    let steps = gate::steps(job);
    if steps
        .iter()
        .any(|(_, s)| shapes.push_kind(job, s).is_some())
    {
        return None;
    }
    let (step, reason) = unknown_publisher(&steps)
        .or_else(|| computed_outputs(&steps))
        .or_else(|| named_push(&steps))
        .or_else(|| opaque_after_login(&steps))?;
    Some(Unsupported::new(job_id, Some(step), reason, UNSEEN_HINT))
}

/// The first docker/build-push-action whose `outputs:` is a whole
/// expression: the exporter, and whether it pushes, is known only when the
/// job runs (`type=image,…,push=true` from an earlier step's output).
fn computed_outputs(steps: &[(usize, &Mapping)]) -> Option<(usize, String)> {
    steps.iter().find_map(|(i, s)| {
        let outputs = gate::input(s, "outputs")?;
        let whole = outputs.trim().starts_with("${{") && outputs.trim().ends_with("}}");
        (gate::action_name(s)? == "docker/build-push-action" && whole).then(|| {
            (
                *i,
                format!(
                    "docker/build-push-action's `outputs: {}` is known only when the job runs: if it pushes, the push is not gated",
                    outputs.trim()
                ),
            )
        })
    })
}

/// The first step that uses an action scangate does not know taking
/// registry credentials ([`publishing_action`]), and why it is said.
fn unknown_publisher(steps: &[(usize, &Mapping)]) -> Option<(usize, String)> {
    steps.iter().find_map(|(i, s)| {
        let action = publishing_action(s)?;
        Some((
            *i,
            format!(
                "`{action}` takes registry credentials and names an image: if it pushes one, the push is not gated (scangate cannot read what an action it does not know does)"
            ),
        ))
    })
}

/// The last step after a registry login that runs what scangate cannot
/// read ([`OPAQUE`], or a local action), and why it is said.
fn opaque_after_login(steps: &[(usize, &Mapping)]) -> Option<(usize, String)> {
    let logs_in = |s: &Mapping| {
        gate::registry_login(s)
            || s.get("run")
                .and_then(Value::as_str)
                .is_some_and(|r| TOOL_LOGIN.is_match(&gate::shell_body(r)))
    };
    let login = steps.iter().position(|(_, s)| logs_in(s))?;
    // The last such command: a release pushes at the end. In the script
    // that logs in, what runs after its login (set 17 027: `echo … | docker
    // login …` then `make image REGISTRY=…`).
    steps[login..].iter().rev().find_map(|(i, s)| {
        let command = match s.get("run").and_then(Value::as_str) {
            Some(run) => {
                let body = gate::shell_body(run);
                let after_login = [&*gate::LOGIN_RUN, &*TOOL_LOGIN]
                    .iter()
                    .filter_map(|login| login.find_iter(&body).last())
                    .map(|m| m.end())
                    .max()
                    .unwrap_or(0);
                shorten(OPAQUE.captures_iter(&body[after_login..]).last()?.get(1)?.as_str())
            }
            None if logs_in(s) => return None,
            // A local action, or a bake file's targets: their `output` or
            // `push` attributes push without a `push:` input.
            None => s
                .get("uses")?
                .as_str()
                .filter(|u| {
                    u.starts_with("./")
                        || gate::action_name(s).as_deref() == Some("docker/bake-action")
                })?
                .to_owned(),
        };
        Some((
            *i,
            format!(
                "the job logs in to a container registry, then runs `{command}`, which scangate cannot read: if that pushes an image, the push is not gated"
            ),
        ))
    })
}

/// The last step that runs a command scangate cannot read ([`OPAQUE`])
/// whose words say it pushes or publishes (set 15 018: `make
/// push-ubi8-rust-builder`, with the registry's password in the step's
/// env and no login step), or the retired `actions/docker/cli` running
/// `push` (set 15 029), and why it is said.
fn named_push(steps: &[(usize, &Mapping)]) -> Option<(usize, String)> {
    steps.iter().rev().find_map(|(i, s)| {
        let reason = match s.get("run").and_then(Value::as_str) {
            Some(run) => {
                let command = OPAQUE
                    .captures_iter(&gate::shell_body(run))
                    .filter_map(|c| c.get(1))
                    .map(|m| m.as_str().to_owned())
                    .filter(|c| PUSH_WORD.is_match(c))
                    .last()?;
                format!(
                    "`{}` says it pushes, and scangate cannot read what it runs: if it pushes an image, the push is not gated",
                    shorten(&command)
                )
            }
            None => action_command(s)?,
        };
        Some((*i, reason))
    })
}

/// An action that runs a command given as an input, when the command says
/// it pushes: the retired `actions/docker/cli` running `docker push` (set 15
/// 029), a build tool's runner (set 34 b12: `dagger/dagger-for-github` with
/// `cmds: do -p containers.cue push`). Why it is said.
fn action_command(step: &Mapping) -> Option<String> {
    let action = gate::action_name(step)?;
    if action == "actions/docker/cli" {
        let args = gate::input(step, "args")?;
        return (args.split_whitespace().next() == Some("push")).then(|| {
            format!(
                "`actions/docker/cli` runs `docker {}` in a container of its own (the action is retired): the push is not gated",
                shorten(&args)
            )
        });
    }
    if KNOWN_OWNERS.iter().any(|o| action.starts_with(o)) {
        return None;
    }
    let command = COMMAND_INPUTS
        .iter()
        .filter_map(|key| gate::input(step, key))
        .find(|c| PUSH_WORD.is_match(c))?;
    Some(format!(
        "`{action}` runs `{}`, which says it pushes, and scangate cannot read what it runs: if it pushes an image, the push is not gated",
        shorten(&command)
    ))
}

/// The inputs through which actions take the command they run.
const COMMAND_INPUTS: &[&str] = &["cmds", "cmd", "command", "commands", "args", "verb", "call"];

/// `push` or `publish` as a word or part of a name (`push-image`,
/// `docker:publish`, `publish_images.sh`).
static PUSH_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[\s/:._-])(?:push|publish)(?:$|[\s/:._-])").expect("static regex")
});

/// A command for a message: its words one space apart (continued lines
/// are joined), the first 60 characters.
fn shorten(command: &str) -> String {
    let command = gate::one_line(command);
    match command.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &command[..at]),
        None => command.to_owned(),
    }
}

/// GitHub's rule for job ids; the new jobs' ids are built from it, so an id
/// outside it could not be written back safely either.
fn is_job_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The keys GitHub accepts on a step (actionlint's list, which has
/// `background` too).
const STEP_KEYS: &[&str] = &[
    "background",
    "continue-on-error",
    "env",
    "id",
    "if",
    "name",
    "run",
    "shell",
    "timeout-minutes",
    "uses",
    "with",
    "working-directory",
];

/// The first step with a key GitHub does not accept on a step, and the key.
fn unknown_step_key(job: &yaml_serde::Mapping) -> Option<(usize, String)> {
    gate::steps(job).into_iter().find_map(|(i, s)| {
        s.keys()
            .filter_map(gate::scalar)
            // A merge key (`<<: *defaults`) brings keys the parser checks.
            .find(|k| k != "<<" && !STEP_KEYS.contains(&k.as_str()))
            .map(|k| (i, k))
    })
}

/// The refusal of a job-level key that reads a context GitHub does not give
/// it ([`gate::job_forbidden_read`]).
fn forbidden_read(job_id: &str, key: &str, context: &str) -> Unsupported {
    let given = match key {
        "if" | "strategy" => {
            "only `github`, `needs`, `vars` and `inputs`: it is evaluated before the matrix and the runner exist"
        }
        _ => "it is evaluated before the job's runner exists",
    };
    let help = match (key, context) {
        ("if", "matrix") => {
            "test the matrix value in the steps' `if:` instead (a step's `if:` may read `matrix`), then run scangate again"
        }
        (key, "env") if key != "if" => {
            "write the value there, or read a variable (`vars.NAME`) or an output of a job it needs instead, then run scangate again"
        }
        _ => {
            "read a variable (`vars.NAME`) or an output of a job it needs instead, then run scangate again"
        }
    };
    Unsupported::new(
        job_id,
        None,
        format!(
            "the job's `{key}:` reads the `{context}` context, which GitHub does not allow in a job's `{key}:` ({given}); it rejects such a workflow, and the new jobs would repeat it"
        ),
        help,
    )
}

/// The expressions of a job that the migration evaluates again in a new
/// job, with the step each is in (`None`: the job's own keys, which every
/// new job repeats): those of its own keys, its registry logins (the push
/// job repeats them) and the condition, push switch and tags of its
/// pushing steps (the record step and the push job read them again).
/// Every `${{ … }}`, and the whole of each `if:`; their string literals
/// blanked, so that `'github.io'` reads nothing.
fn repeated_expressions(job: &Mapping, pushes: &[usize]) -> Vec<(Option<usize>, String)> {
    let mut found = Vec::new();
    let mut collect = |step: Option<usize>, is_if: bool, value: &Value| {
        let mut texts = Vec::new();
        gate::expression_texts(value, is_if, &mut texts);
        found.extend(
            texts
                .into_iter()
                .map(|t| (step, LITERAL.replace_all(&t, "''").into_owned())),
        );
    };
    for (i, step) in gate::steps(job) {
        if gate::registry_login(step) {
            step.iter()
                .for_each(|(k, v)| collect(Some(i), k.as_str() == Some("if"), v));
        } else if pushes.contains(&i) {
            // What the scan and push jobs read of a build: its condition,
            // its push switch and its tags.
            if let Some(cond) = gate::condition(step) {
                collect(Some(i), true, cond);
            }
            let with = step.get("with").and_then(Value::as_mapping);
            for key in ["push", "tags"] {
                if let Some(v) = with.and_then(|w| w.get(key)) {
                    collect(Some(i), false, v);
                }
            }
        }
    }
    job.iter()
        .filter(|(k, _)| k.as_str() != Some("steps"))
        .for_each(|(k, v)| collect(None, k.as_str() == Some("if"), v));
    found
}

/// The first read of `needs.<job>` of a job the job does not need (set 25
/// 017), that the migration would repeat, with its step; the job ids
/// compared without case, as GitHub does.
fn unneeded_read(
    job: &Mapping,
    repeated: &[(Option<usize>, String)],
) -> Option<(Option<usize>, String)> {
    let needs: Vec<String> = gate::needs(job)
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    repeated.iter().find_map(|(step, text)| {
        NEEDS_READ
            .captures_iter(text)
            .map(|c| c[1].to_owned())
            .find(|n| !needs.contains(&n.to_ascii_lowercase()))
            .map(|n| (*step, n))
    })
}

/// The first read of a property the `github` context does not have (set
/// 22 026 `github.DOCKERHUB_USERNAME`, set 30 037 `github.event_run`),
/// that the migration would repeat, with its step: it is always empty.
fn unknown_github_property(
    repeated: &[(Option<usize>, String)],
) -> Option<(Option<usize>, String)> {
    repeated.iter().find_map(|(step, text)| {
        GITHUB_READ
            .captures_iter(text)
            .map(|c| c[1].to_owned())
            .find(|p| !GITHUB_PROPERTIES.contains(&p.to_ascii_lowercase().as_str()))
            .map(|p| (*step, p))
    })
}

/// The properties of the `github` context, as the actionlint the tests
/// install (kjanat 1.17.0) types it: GitHub's documented ones and a few it
/// sets without documenting.
const GITHUB_PROPERTIES: &[&str] = &[
    "action",
    "action_path",
    "action_ref",
    "action_repository",
    "action_status",
    "actor",
    "actor_id",
    "api_url",
    "artifact_cache_size_limit",
    "artifacts",
    "artifacts_list",
    "base_ref",
    "env",
    "event",
    "event_name",
    "event_path",
    "graphql_url",
    "head_ref",
    "job",
    "output",
    "path",
    "ref",
    "ref_name",
    "ref_protected",
    "ref_type",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "repository_visibility",
    "repositoryurl",
    "retention_days",
    "run_attempt",
    "run_id",
    "run_number",
    "secret_source",
    "server_url",
    "sha",
    "state",
    "step_summary",
    "token",
    "triggering_actor",
    "workflow",
    "workflow_ref",
    "workflow_sha",
    "workspace",
];

/// A string literal of an expression (`''` inside one is a quote).
static LITERAL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"'[^']*'").expect("static regex"));
/// A read of a needed job's result or outputs: `needs.<job>`.
static NEEDS_READ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^.\w-])needs\.([A-Za-z_][A-Za-z0-9_-]*)").expect("static regex")
});
/// A property named by a number (set 37 a15: `secrets.111`), which
/// GitHub's expression syntax has no place for: after a dot comes a name or
/// `*`.
static NUMBER_PROPERTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^.\w-])([A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*|\[[^\]]*\])*\.[0-9][\w-]*)")
        .expect("static regex")
});
/// A property of the `github` context: `github.<name>` (not a step's
/// `steps.github.…`).
static GITHUB_READ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^.\w-])github\.([A-Za-z_][A-Za-z0-9_]*)").expect("static regex")
});

/// The first read of a property named by a number, that the migration
/// would repeat, with its step.
fn number_property(repeated: &[(Option<usize>, String)]) -> Option<(Option<usize>, String)> {
    repeated.iter().find_map(|(step, text)| {
        NUMBER_PROPERTY
            .captures(text)
            .map(|c| (*step, c[1].to_owned()))
    })
}

/// The index of the first step whose `id` (case-insensitive, as GitHub
/// compares them) an earlier step already has.
fn duplicate_step_id(job: &yaml_serde::Mapping) -> Option<usize> {
    let mut seen = std::collections::HashSet::new();
    gate::steps(job).into_iter().find_map(|(i, s)| {
        let id = s.get("id").and_then(gate::scalar)?.to_ascii_lowercase();
        (!seen.insert(id)).then_some(i)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
mod tests {
    use super::*;

    fn unseen(steps: &str) -> Vec<(Option<usize>, String)> {
        let doc: Value =
            yaml_serde::from_str(&format!("jobs:\n  release:\n    steps:\n{steps}")).unwrap();
        unseen_pushes(&doc, Shapes::builtin())
            .into_iter()
            .map(|u| (u.step, u.reason))
            .collect()
    }

    const LOGIN: &str = "      - uses: docker/login-action@v4\n        with: {registry: ghcr.io}\n";

    /// A reusable workflow of another repository given registry credentials.
    #[test]
    fn a_call_of_a_publishing_workflow_elsewhere_is_said() {
        let calls = |job: &str| {
            let doc: Value = yaml_serde::from_str(&format!("jobs:\n  c:\n{job}")).unwrap();
            unseen_pushes(&doc, Shapes::builtin())
                .into_iter()
                .map(|u| u.reason)
                .collect::<Vec<_>>()
        };
        let found = calls(
            "    uses: konveyor/release-tools/.github/workflows/build-push-images.yaml@4cf4ec7\n    with: {image_name: app}\n    secrets: {registry_password: x}\n",
        );
        assert!(
            found[0].contains(
                "calls `konveyor/release-tools/.github/workflows/build-push-images.yaml@4cf4ec7`"
            ),
            "{found:?}"
        );
        let found = calls(
            "    uses: acme/ci/.github/workflows/docker-publish.yml@v1\n    secrets: inherit\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        // Tests, a workflow of this repository, or no credentials: nothing.
        for job in [
            "    uses: acme/ci/.github/workflows/test.yml@v1\n    secrets: inherit\n",
            "    uses: ./.github/workflows/docker-publish.yml\n    secrets: inherit\n",
            "    uses: acme/ci/.github/workflows/docker-publish.yml@v1\n",
        ] {
            assert!(calls(job).is_empty(), "{job}");
        }
    }

    /// A job's reads of jobs it does not need (set 25 017), with their step.
    #[test]
    fn reads_of_jobs_not_needed_are_found() {
        let read = |job: &str| {
            let doc: Value = yaml_serde::from_str(job).unwrap();
            let job = doc.as_mapping().unwrap();
            unneeded_read(job, &repeated_expressions(job, &[1]))
        };
        assert_eq!(
            read(
                "needs: [Meta]\nsteps:\n  - run: echo ${{ needs.meta.outputs.v }}\n  - with: {tags: 'a:${{ needs.get-tags.outputs.tags }}'}\n"
            ),
            Some((Some(1), "get-tags".to_owned()))
        );
        assert_eq!(
            read(
                "needs: meta\nif: needs.other.result == 'success'\nsteps:\n  - if: needs.meta.outputs.push\n    run: echo\n"
            ),
            Some((None, "other".to_owned()))
        );
        assert_eq!(
            read("steps:\n  - run: echo\n  - if: needs.meta.outputs.push\n    run: echo\n"),
            Some((Some(1), "meta".to_owned()))
        );
        // A step the migration does not repeat (not the push, no login).
        assert_eq!(
            read("steps:\n  - run: echo ${{ needs.meta.outputs.v }}\n  - run: echo\n"),
            None
        );
        // Outside an expression, `needs.` is text of the script.
        assert_eq!(
            read("steps:\n  - run: echo\n  - run: cat needs.txt\n"),
            None
        );
    }

    /// Reads of properties the `github` context does not have (set 22 026,
    /// set 30 037); words in string literals and step ids are no reads.
    #[test]
    fn properties_named_by_a_number_are_found() {
        let read = |job: &str| {
            let doc: Value = yaml_serde::from_str(job).unwrap();
            number_property(&repeated_expressions(doc.as_mapping().unwrap(), &[1]))
        };
        assert_eq!(
            read(
                "steps:\n  - uses: docker/login-action@v4\n    with: {password: '${{ secrets.111 }}'}\n  - run: docker push a/b\n"
            ),
            Some((Some(0), "secrets.111".to_owned()))
        );
        assert_eq!(
            read("if: needs.a.outputs['x'].2 == 'y'\nsteps:\n  - run: echo\n"),
            Some((None, "needs.a.outputs[''].2".to_owned()))
        );
        // Numbers, indexes by number and string literals are no such read.
        assert_eq!(
            read(
                "if: github.run_attempt >= 1.5 && fromJSON(needs.a.outputs.l)[0] == 'v1.2'\nsteps:\n  - uses: docker/login-action@v4\n    with: {password: '${{ secrets.T1 }}'}\n"
            ),
            None
        );
    }

    #[test]
    fn reads_of_unknown_github_properties_are_found() {
        let read = |job: &str| {
            let doc: Value = yaml_serde::from_str(job).unwrap();
            unknown_github_property(&repeated_expressions(doc.as_mapping().unwrap(), &[1]))
        };
        assert_eq!(
            read("if: github.event_run.conclusion == 'success'\nsteps:\n  - run: echo\n"),
            Some((None, "event_run".to_owned()))
        );
        assert_eq!(
            read(
                "steps:\n  - uses: docker/login-action@v4\n    with: {username: '${{ github.DOCKERHUB_USERNAME }}'}\n"
            ),
            Some((Some(0), "DOCKERHUB_USERNAME".to_owned()))
        );
        // A label of the metadata step is not evaluated again (set 29 035).
        assert_eq!(
            read(
                "steps:\n  - uses: docker/metadata-action@v6\n    with: {labels: 'c=${{ github.event_created_at }}'}\n  - run: docker push a/b\n"
            ),
            None
        );
        assert_eq!(
            read(
                "if: contains(github.ref, 'github.io') && github.repositoryUrl != ''\nsteps:\n  - run: echo\n  - run: echo ${{ steps.github.outputs.x }} ${{ github.event.inputs.tag }} github.nothing\n"
            ),
            None
        );
    }

    #[test]
    fn a_login_then_a_script_scangate_cannot_read_is_said() {
        let found = unseen(&format!(
            "{LOGIN}      - run: make test\n      - run: |\n          echo go\n          VERSION=1 bash ./ci/images.sh --push\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Some(2));
        assert!(
            found[0]
                .1
                .contains("`bash ./ci/images.sh --push` says it pushes"),
            "{found:?}"
        );
        let found = unseen(&format!(
            "{LOGIN}      - run: |\n          VERSION=1 bash ./ci/images.sh\n      - run: echo done\n"
        ));
        assert!(
            found[0].1.contains("runs `bash ./ci/images.sh`"),
            "{found:?}"
        );
        // What runs after the login in the script that logs in (set 17 027);
        // a build before the login is no push after it.
        let found = unseen(
            "      - run: |\n          make test\n          echo \"$P\" | docker login quay.io -u u --password-stdin\n          make image REGISTRY=quay.io/u\n          docker logout\n",
        );
        assert!(
            found[0]
                .1
                .contains("then runs `make image REGISTRY=quay.io/u`"),
            "{found:?}"
        );
        assert!(
            unseen("      - run: |\n          make image\n          docker login -u u -p \"$P\"\n")
                .is_empty()
        );
        // A script file run by its interpreter, named as a push (set 19 003).
        let found = unseen(&format!(
            "{LOGIN}      - run: bun ./packages/containers/script/build.ts --push\n"
        ));
        assert!(
            found[0]
                .1
                .contains("`bun ./packages/containers/script/build.ts --push` says it pushes"),
            "{found:?}"
        );
        // A local action given a registry's credentials (set 19 024).
        let found = unseen(
            "      - uses: ./\n        with: {image: app, registry: ghcr.io/a, password: x}\n",
        );
        assert!(
            found[0].1.contains("`./` takes registry credentials"),
            "{found:?}"
        );
        // An action scangate does not know that takes registry credentials.
        let found = unseen(
            "      - uses: acme/toolkit/.github/actions/release-docker-image@main\n        with: {docker-password: x, docker-image-name: acme/web}\n",
        );
        assert!(found[0].1.contains("`acme/toolkit/.github/actions/release-docker-image@main` takes registry credentials"), "{found:?}");
        // A password given to an action whose name says it pushes; a git
        // push action given a token is not a registry push.
        let found = unseen(
            "      - uses: someone/build-tag-push-action@v2\n        with: {username: u, password: p, repository: web, tag: latest}\n",
        );
        assert!(
            found[0]
                .1
                .contains("`someone/build-tag-push-action@v2` takes registry credentials"),
            "{found:?}"
        );
        for other in [
            "      - uses: ad-m/github-push-action@v0.8.0\n        with: {github_token: t, branch: main}\n",
            "      - uses: pypa/gh-action-pypi-publish@release/v1\n        with: {user: __token__, password: x}\n",
        ] {
            let found = unseen(other);
            assert!(found.is_empty(), "{found:?}");
        }
        // A build tool's action told to push (set 34 b12); git's push is
        // not said (a known owner's action, or no push word).
        let found = unseen(
            "      - uses: dagger/dagger-for-github@v3\n        with: {version: v0.2.36, cmds: do -p containers.cue push}\n",
        );
        assert!(
            found[0]
                .1
                .contains("`dagger/dagger-for-github` runs `do -p containers.cue push`"),
            "{found:?}"
        );
        assert!(
            unseen("      - uses: dagger/dagger-for-github@v3\n        with: {cmds: do test}\n")
                .is_empty()
        );
        // A task runner after a login (set 36 b04: `devbox run build-…-image`).
        let found = unseen(&format!(
            "{LOGIN}      - run: devbox run build-karpl-image\n"
        ));
        assert!(
            found[0].1.contains("`devbox run build-karpl-image`"),
            "{found:?}"
        );
        // An exporter computed by an earlier step may push.
        let found = unseen(
            "      - uses: docker/build-push-action@v6\n        with: {outputs: '${{ steps.o.outputs.outputs }}'}\n",
        );
        assert!(
            found[0].1.contains(
                "`outputs: ${{ steps.o.outputs.outputs }}` is known only when the job runs"
            ),
            "{found:?}"
        );
        // A bake file's targets may push (`output: type=image,push=true`).
        let found = unseen(&format!(
            "{LOGIN}      - run: docker buildx bake -f \"$bake_file\"\n"
        ));
        assert!(
            found[0]
                .1
                .contains("runs `docker buildx bake -f \"$bake_file\"`"),
            "{found:?}"
        );
        // A local action, after `ko login` in a script.
        let found = unseen(
            "      - run: ko login ghcr.io -u me -p \"$T\"\n      - uses: ./.github/actions/release\n",
        );
        assert!(
            found[0].1.contains("`./.github/actions/release`"),
            "{found:?}"
        );
        // A bake file's targets, after `skopeo login` run through nix.
        let found = unseen(
            "      - run: nix run nixpkgs#skopeo -- login -u me --password-stdin ghcr.io\n      - uses: docker/bake-action@v4\n        with:\n          files: docker-bake.hcl\n",
        );
        assert!(found[0].1.contains("`docker/bake-action@v4`"), "{found:?}");
    }

    #[test]
    fn a_step_if_reading_secrets_is_refused_as_github_rejects_it() {
        let doc = |cond: &str| -> Value {
            yaml_serde::from_str(&format!(
                "jobs:\n  r:\n    steps:\n      - if: {cond}\n        uses: docker/login-action@v4\n      - run: docker push ghcr.io/a/b:1\n"
            ))
            .unwrap()
        };
        let verdicts =
            |cond: &str| ungated_jobs(&doc(cond), &gate::Threshold::default(), Shapes::builtin());
        let refused = verdicts("${{ secrets.TOKEN != '' }}")
            .remove(0)
            .unwrap_err();
        assert!(refused.reason.contains("`secrets`"), "{}", refused.reason);
        assert_eq!(refused.step, Some(0));
        assert!(verdicts("secrets['TOKEN'] != ''").remove(0).is_err());
        assert!(verdicts("env.TOKEN != ''").remove(0).is_ok());
        // Nor in a job's `if:` (set 30 031).
        let job_if: Value = yaml_serde::from_str(
            "jobs:\n  r:\n    if: ${{ github.event_name != 'pull_request' && secrets.T != '' }}\n    steps:\n      - run: docker push ghcr.io/a/b:1\n",
        )
        .unwrap();
        let refused = ungated_jobs(&job_if, &gate::Threshold::default(), Shapes::builtin())
            .remove(0)
            .unwrap_err();
        assert!(
            refused.reason.contains("a job's `if:`"),
            "{}",
            refused.reason
        );
        assert_eq!(refused.step, None);
        // Nor `matrix`, which exists only after the job's `if:` (set 37
        // b02); a job named for it is no read of it.
        let job_if = |cond: &str| {
            let doc: Value = yaml_serde::from_str(&format!(
                "jobs:\n  m:\n    runs-on: x\n  r:\n    needs: [m, build-matrix]\n    if: {cond}\n    strategy: {{matrix: {{s: [a]}}}}\n    steps:\n      - run: docker push ghcr.io/a/b:1\n  build-matrix:\n    runs-on: x\n"
            ))
            .unwrap();
            ungated_jobs(&doc, &gate::Threshold::default(), Shapes::builtin()).remove(0)
        };
        let refused = job_if("needs.m.outputs[matrix.s] == 'true'").unwrap_err();
        assert!(refused.reason.contains("`matrix`"), "{}", refused.reason);
        assert!(refused.hint.contains("steps' `if:`"), "{}", refused.hint);
        assert!(job_if("needs.build-matrix.outputs.matrix.s == 'true'").is_ok());
        assert!(job_if("always() && github.ref == 'refs/heads/main'").is_ok());
    }

    #[test]
    fn a_command_named_for_a_push_is_said_without_a_login() {
        // set 15 018: the Makefile logs in with the password in the env.
        let found = unseen(
            "      - env: {DOCKER_PASSWORD: x}\n        run: make push-ubi8-rust-builder\n      - run: make test\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Some(0));
        assert!(
            found[0]
                .1
                .contains("`make push-ubi8-rust-builder` says it pushes")
        );
        for run in [
            "./scripts/publish_images.sh",
            "npm run docker:push",
            "bash ci/push.sh v1",
            "apps/x/scripts/build.sh --push",
        ] {
            assert_eq!(unseen(&format!("      - run: {run}\n")).len(), 1, "{run}");
        }
        // set 15 029: the retired action's `docker push`.
        let found = unseen(
            "      - uses: actions/docker/cli@master\n        with:\n          args: push acme/app:1\n",
        );
        assert!(
            found[0].1.contains("runs `docker push acme/app:1`"),
            "{found:?}"
        );
        for quiet in [
            "      - run: make pushover-test\n",
            "      - run: git push origin main\n",
            "      - uses: actions/docker/cli@master\n        with:\n          args: build -t a .\n",
        ] {
            assert!(unseen(quiet).is_empty(), "{quiet}");
        }
    }

    #[test]
    fn nothing_is_said_without_a_login_or_with_a_push_scangate_sees() {
        // No login and no push in a name: a script that pushes could not.
        assert!(unseen("      - run: make release\n").is_empty());
        // Known actions with a token and image names push nothing.
        assert!(
            unseen("      - uses: docker/metadata-action@v5\n        with: {images: acme/app, github-token: x}\n")
                .is_empty()
        );
        // A login for a private base image, then only builds.
        assert!(unseen(&format!("{LOGIN}      - run: docker build -t app .\n")).is_empty());
        // The script comes before the login.
        assert!(unseen(&format!("      - run: make\n{LOGIN}")).is_empty());
        // A push scangate sees: `migrate` gates or refuses it.
        assert!(
            unseen(&format!(
                "{LOGIN}      - run: make build\n      - run: docker push ghcr.io/acme/app:1\n"
            ))
            .is_empty()
        );
    }
}
