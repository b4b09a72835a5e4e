//! Which images a workflow pushes, by name (no tag): the images a cluster
//! policy must cover. Reads the same shapes detection does, before and after
//! migration: `docker/build-push-action` `tags:` (and a push-by-digest
//! `name=`), `docker push` / `scangate-record-push` and
//! `docker buildx build --push` / `scangate-buildx build --scan-export` and
//! `docker buildx imagetools create --tag` / `scangate-record-promotion
//! --tag` in `run:` scripts.
//!
//! Names are resolved where the workflow text fixes them: `${{ env.X }}`
//! from workflow and job `env:`, `${{ github.repository }}` and
//! `${{ github.repository_owner }}` (or the runner's `$GITHUB_REPOSITORY`
//! and `$GITHUB_REPOSITORY_OWNER`, which migration writes instead) from
//! the repository, and
//! `${{ steps.ID.outputs.tags }}` of `docker/metadata-action` from its
//! `images:` input. The tag is dropped, so a tag computed at run time does
//! not matter. Anything else computed at run time is reported, not guessed.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use crate::expressions::runner_variable;
use crate::gate::{self, action_name, input, scalar};
use crate::shape::buildx_script::{EXPORT_FLAG, STAND_IN, push_as_flag};
use crate::shape::imagetools_create::promotes;
use crate::shape::run_script::{DOCKER_PUSH, RECORD_COMMAND};
use crate::shape::{jib, ko, manifest_push};

/// The `env:` key of scangate's record step that holds the build's tags.
const RECORDED_TAGS: &str = "SCANGATE_TAGS";
/// The loop of scangate's push step (templates/push-job.yml) over the
/// references the build job recorded; those are read where recorded.
const PUSH_LOOP: &str = "done < \"$dir/tags.txt\"";

static EXPRESSION: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests below.
    Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").expect("static regex")
});
static METADATA_TAGS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\$\{\{\s*steps\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.tags\s*\}\}$")
        .expect("static regex")
});
static PUSH_ARG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?:{}|\b{RECORD_COMMAND})\s+(?:-\S+\s+)*(?P<image>"[^"]+"|'[^']+'|\S+)(?:[ \t]+(?P<dest>"[^"]+"|'[^']+'|[^\s;&|>]+))?"#,
        DOCKER_PUSH.as_str()
    ))
    .expect("static regex")
});
static TAG_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|\s)(?:-t|--tag)[ =]("[^"]+"|'[^']+'|\S+)"#).expect("static regex")
});
static SHELL_VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
        .expect("static regex")
});
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)\s*(?:#.*)?$"#)
        .expect("static regex")
});
static EXPRESSION_OR_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\$\{\{.*?\}\}|\S)+").expect("static regex"));
static OUTPUT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bname=((?:\$\{\{[^}]*\}\}|[^,"\s])+)"#).expect("static regex"));

/// What a reference may use besides the workflow's own `env:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// `OWNER/NAME`, the value of `github.repository`.
    pub full_name: String,
}

/// One image reference a job pushes, as written, and its name if static.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub job: String,
    /// The index of the step that pushes (or records) it in the job's `steps:`.
    pub step: usize,
    /// The reference as the workflow writes it.
    pub reference: String,
    /// The image name without tag or digest, or why it is not known before
    /// the workflow runs.
    pub image: Result<String, String>,
}

/// Every image reference the jobs of `doc` push, in file order.
pub fn pushed(doc: &Value, repo: &Repository) -> Vec<Found> {
    let workflow_env = doc.get("env").and_then(Value::as_mapping);
    let mut out = Vec::new();
    for (job_id, job) in gate::jobs(doc) {
        let env = Env {
            workflow: workflow_env,
            job: job.get("env").and_then(Value::as_mapping),
            repo,
        };
        let steps = gate::steps(job);
        let mut after_mark = false;
        for (index, step) in &steps {
            let vars = shell_vars(step);
            for reference in references(job, step, after_mark) {
                let image = resolve(&reference, &env, &vars, &steps, 0);
                out.push(Found {
                    job: job_id.clone(),
                    step: *index,
                    reference,
                    image,
                });
            }
            // Migrated Jib: scangate's mark comes right before the step.
            after_mark = step
                .get("run")
                .and_then(Value::as_str)
                .is_some_and(|r| r.contains(jib::MARK));
        }
    }
    out
}

/// The references one step of `job` pushes (or, migrated, exports for the
/// push job). `after_mark`: the step follows the mark scangate leaves before
/// a migrated Jib step.
fn references(job: &Mapping, step: &Mapping, after_mark: bool) -> Vec<String> {
    match action_name(step).as_deref() {
        Some("docker/build-push-action") => return build_push_references(job, step),
        Some("redhat-actions/push-to-registry") => {
            let text = |key: &str| input(step, key).unwrap_or_default();
            let tags = input(step, "tags").unwrap_or_else(|| "latest".into());
            return registry_push_references(&text("image"), &tags, &text("registry"));
        }
        _ => {}
    }
    // Migrated push-to-registry: the step that records its push reads the
    // same inputs from its `env:`.
    let env = |key: &str| step.get("env").and_then(|e| e.get(key)).and_then(scalar);
    if let Some(tags) = env("SCANGATE_PUSH_TAGS") {
        return registry_push_references(
            &env("SCANGATE_PUSH_IMAGE").unwrap_or_default(),
            &tags,
            &env("SCANGATE_PUSH_REGISTRY").unwrap_or_default(),
        );
    }
    // Migrated: the build step exports, and the step after it records the
    // references the push job pushes, from the build step's tags (or name).
    if let Some(tags) = step
        .get("env")
        .and_then(|e| e.get(RECORDED_TAGS))
        .and_then(scalar)
    {
        return split_list(&tags);
    }
    let Some(run) = step.get("run").and_then(Value::as_str) else {
        return Vec::new();
    };
    if run.contains(PUSH_LOOP) {
        return Vec::new();
    }
    // Jib names its image on the command line (migrated, its tarball build
    // is what the push job pushes); ko names it from `KO_DOCKER_REPO`.
    let builders = [jib::pushed_images(run, after_mark), ko::pushed_images(run)].concat();
    if !builders.is_empty() {
        return builders;
    }
    let joined = run.replace("\\\n", " ");
    let mut refs = Vec::new();
    for line in joined.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        // `podman push SRC DEST` (and its stand-in) pushes DEST.
        refs.extend(PUSH_ARG.captures_iter(line).map(|c| {
            let pushed = c
                .name("dest")
                .map(|d| unquote(d.as_str()))
                .filter(|d| d.starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '$'));
            let pushed = pushed.unwrap_or_else(|| unquote(&c["image"]));
            pushed
                .strip_prefix("docker://")
                .map_or(pushed.clone(), str::to_owned)
        }));
        refs.extend(manifest_push::pushed_reference(line));
        // `docker build` is buildx's since Docker 23: with `--push` it pushes.
        let buildx = line.contains("buildx build")
            || line.contains(STAND_IN)
            || line.contains("docker build");
        let pushes = push_as_flag(line)
            .split_whitespace()
            .any(|w| w == "--push" || w == EXPORT_FLAG);
        if (buildx && pushes) || promotes(line) {
            refs.extend(TAG_FLAG.captures_iter(line).map(|c| unquote(&c[1])));
        }
    }
    refs
}

/// What `redhat-actions/push-to-registry` pushes (its src/index.ts): each
/// whitespace-separated tag, lower-cased, as a full name when it has a
/// colon, else `REGISTRY/IMAGE:TAG`. A tag that is an expression stays one
/// (`${{ … }}` holds spaces).
fn registry_push_references(image: &str, tags: &str, registry: &str) -> Vec<String> {
    let registry = registry.trim_end_matches('/');
    let image = image.to_lowercase();
    EXPRESSION_OR_WORD
        .find_iter(tags)
        .map(|t| t.as_str().to_lowercase())
        .map(|tag| {
            if tag.find(':').is_some_and(|at| at > 0) && !tag.starts_with("${{") {
                tag
            } else {
                format!("{registry}/{image}:{tag}")
            }
        })
        .collect()
}

fn build_push_references(job: &Mapping, step: &Mapping) -> Vec<String> {
    if gate::Recognise::push_kind(crate::shape::Shapes::builtin(), job, step).is_none() {
        return Vec::new();
    }
    let outputs = input(step, "outputs").unwrap_or_default();
    let named: Vec<String> = OUTPUT_NAME
        .captures_iter(&outputs)
        .map(|c| c[1].to_owned())
        .collect();
    // Pushed by digest, named in `outputs:` or else by `tags:`.
    if outputs.contains("push-by-digest=true") && !named.is_empty() {
        return named;
    }
    split_list(&input(step, "tags").unwrap_or_default())
}

/// A newline- or comma-separated list, as the docker actions read it.
fn split_list(s: &str) -> Vec<String> {
    s.split(['\n', ','])
        .map(|t| unquote(t.trim()))
        .filter(|t| !t.is_empty())
        .collect()
}

fn unquote(s: &str) -> String {
    s.trim_matches(|c| c == '"' || c == '\'').to_owned()
}

/// Shell variables a step's script sees with a fixed value: its `env:` and
/// its own first assignment of each name (`IMG="ghcr.io/…"`), unless that
/// assignment reads the variable itself (`IMG=${IMG@L}`).
fn shell_vars(step: &Mapping) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = step
        .get("env")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
                .collect()
        })
        .unwrap_or_default();
    let run = step.get("run").and_then(Value::as_str).unwrap_or_default();
    for c in run.lines().filter_map(|l| ASSIGNMENT.captures(l)) {
        let value = unquote(&c[2]);
        let reads_itself = SHELL_VAR
            .captures_iter(&value)
            .any(|v| v.get(1).or(v.get(2)).map(|m| m.as_str()) == Some(&c[1]));
        if !reads_itself {
            vars.entry(c[1].to_owned()).or_insert(value);
        }
    }
    vars
}

/// Where `${{ env.X }}` and `${{ github.* }}` come from.
struct Env<'a> {
    workflow: Option<&'a Mapping>,
    job: Option<&'a Mapping>,
    repo: &'a Repository,
}

impl Env<'_> {
    fn value(&self, expr: &str) -> Option<String> {
        // Image names are lower case; GitHub keeps the owner's case.
        match expr {
            "github.repository" => Some(self.repo.full_name.to_ascii_lowercase()),
            "github.repository_owner" => self
                .repo
                .full_name
                .split('/')
                .next()
                .map(str::to_ascii_lowercase),
            _ => self.env(expr.strip_prefix("env.")?),
        }
    }

    /// A job or workflow `env:` value.
    fn env(&self, name: &str) -> Option<String> {
        [self.job, self.workflow]
            .into_iter()
            .flatten()
            .find_map(|m| m.get(name).and_then(scalar))
    }
}

/// `reference` as an image name without tag, or why it cannot be known.
/// `depth` bounds the substitution of values that contain expressions.
fn resolve(
    reference: &str,
    env: &Env<'_>,
    vars: &BTreeMap<String, String>,
    steps: &[(usize, &Mapping)],
    depth: usize,
) -> Result<String, String> {
    if let Some(c) = METADATA_TAGS.captures(reference.trim()) {
        return metadata_images(&c[1], env, vars, steps, depth);
    }
    let mut text = reference.to_owned();
    for _ in 0..4 {
        let shell = SHELL_VAR.replace_all(&text, |c: &regex::Captures<'_>| {
            let name = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            vars.get(name)
                .cloned()
                .or_else(|| env.env(name))
                .or_else(|| runner_variable(name).map(|path| format!("${{{{ {path} }}}}")))
                .unwrap_or_else(|| c[0].to_owned())
        });
        let next = EXPRESSION.replace_all(&shell, |c: &regex::Captures<'_>| {
            env.value(&c[1]).unwrap_or_else(|| c[0].to_owned())
        });
        if next == text {
            break;
        }
        text = next.into_owned();
    }
    let name = without_tag(&text);
    if let Some(expr) = EXPRESSION.captures(name) {
        return Err(format!(
            "the image name depends on `{}`, known only when the workflow runs",
            &expr[0]
        ));
    }
    if name.contains('$') {
        return Err(
            "the image name comes from a shell variable, known only when the script runs".into(),
        );
    }
    if name.is_empty() {
        return Err("the reference names no image".into());
    }
    Ok(name.to_owned())
}

/// The `images:` of the `docker/metadata-action` step `id` (its `tags`
/// output is those images with the computed tags).
fn metadata_images(
    id: &str,
    env: &Env<'_>,
    vars: &BTreeMap<String, String>,
    steps: &[(usize, &Mapping)],
    depth: usize,
) -> Result<String, String> {
    let step = steps
        .iter()
        .find(|(_, s)| s.get("id").and_then(scalar).as_deref() == Some(id))
        .map(|(_, s)| *s);
    let images = step
        .filter(|s| action_name(s).as_deref() == Some("docker/metadata-action"))
        .and_then(|s| input(s, "images"))
        .ok_or_else(|| {
            format!(
                "the tags come from step `{id}`, which is not docker/metadata-action with `images:`"
            )
        })?;
    let names: Vec<String> = images
        .lines()
        .map(|l| {
            let l = l.trim();
            OUTPUT_NAME
                .captures(l)
                .map_or_else(|| l.to_owned(), |c| c[1].to_owned())
        })
        .filter(|l| !l.is_empty())
        .collect();
    match names.as_slice() {
        [one] if depth == 0 => resolve(one, env, vars, steps, depth + 1),
        [] => Err(format!("step `{id}` lists no images")),
        _ => Err(format!(
            "step `{id}` lists several images; scangate resolves one per reference"
        )),
    }
}

/// `name[:tag][@digest]` → `name` (a registry port stays: only the last
/// path segment can hold a tag).
fn without_tag(reference: &str) -> &str {
    let name = reference.split('@').next().unwrap_or(reference);
    let last = name.rfind('/').map_or(0, |i| i + 1);
    match name[last..].find(':') {
        Some(i) => &name[..last + i],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(y: &str) -> Vec<(String, Result<String, String>)> {
        let doc: Value = yaml_serde::from_str(y).unwrap();
        let repo = Repository {
            full_name: "Acme/Model-Service".into(),
        };
        pushed(&doc, &repo)
            .into_iter()
            .map(|f| (f.reference, f.image))
            .collect()
    }

    #[test]
    fn ko_names_its_image_from_ko_docker_repo_where_the_module_does_not_matter() {
        let doc = |script: &str| {
            format!(
                "env:\n  KO_DOCKER_REPO: ghcr.io/${{{{ github.repository_owner }}}}\njobs:\n  k:\n    steps:\n      - run: {script}\n"
            )
        };
        let names =
            |script: &str| -> Vec<_> { found(&doc(script)).into_iter().map(|(_, n)| n).collect() };
        assert_eq!(names("ko build --bare ."), [Ok("ghcr.io/acme".to_owned())]);
        assert_eq!(
            names("ko build -B --tags v1 ./cmd/API"),
            [Ok("ghcr.io/acme/api".to_owned())]
        );
        // Migrated: the stand-in records the same names.
        assert_eq!(
            names("scangate-ko publish --push=false --base-import-paths ./cmd/worker"),
            [Ok("ghcr.io/acme/worker".to_owned())]
        );
        // Local builds push nothing; -P and the default need the Go module.
        for none in [
            "ko build --bare --local .",
            "ko build -P ./cmd/a",
            "ko build ./cmd/a",
            "ko build -B .",
        ] {
            assert!(names(none).is_empty(), "{none}");
        }
    }

    #[test]
    fn jib_names_its_image_on_the_command_line_before_and_after_migration() {
        let original = "jobs:\n  j:\n    steps:\n      - run: ./gradlew :api:jib --image=ghcr.io/${{ github.repository }}:1\n      - run: mvn jib:buildTar -Djib.to.image=local/only\n";
        assert_eq!(
            found(original),
            [(
                "ghcr.io/${{ github.repository }}:1".to_owned(),
                Ok("ghcr.io/acme/model-service".to_owned())
            )]
        );
        // Migrated: the tarball build after scangate's mark, not the user's own.
        let migrated = original.replace(":api:jib ", ":api:jibBuildTar ").replace(
            "    steps:\n",
            &format!(
                "    steps:\n      - run: touch \"$RUNNER_TEMP/scangate/j/{}\"\n",
                jib::MARK
            ),
        );
        let names: Vec<_> = found(&migrated).into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, [Ok("ghcr.io/acme/model-service".to_owned())]);
        for template in ["jib-prepare.yml", "jib-record.yml"] {
            let text = crate::render::TEMPLATES
                .iter()
                .find(|(n, _)| *n == template)
                .unwrap()
                .1;
            assert!(text.contains(jib::MARK), "{template}");
        }
    }

    #[test]
    fn strips_tags_but_keeps_registry_ports() {
        assert_eq!(without_tag("ghcr.io/a/b:1.2"), "ghcr.io/a/b");
        assert_eq!(without_tag("localhost:5000/b"), "localhost:5000/b");
        assert_eq!(
            without_tag("localhost:5000/b:v1@sha256:ab"),
            "localhost:5000/b"
        );
        assert_eq!(without_tag("ghcr.io/a/b:${{ env.version }}"), "ghcr.io/a/b");
    }

    #[test]
    fn resolves_env_github_and_metadata_action() {
        let f = found(
            r#"
env:
  IMAGE: ghcr.io/${{ github.repository_owner }}/app
jobs:
  a:
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ${{ env.IMAGE }}:${{ env.version }},ghcr.io/${{ github.repository }}:latest
  b:
    steps:
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/${{ github.repository }}
      - uses: docker/build-push-action@v6
        with:
          push: ${{ github.event_name != 'pull_request' }}
          tags: ${{ steps.meta.outputs.tags }}
      - uses: docker/build-push-action@v6
        with: {push: false, tags: "ghcr.io/not/pushed:1"}
"#,
        );
        let images: Vec<_> = f.iter().map(|(_, i)| i.clone().unwrap()).collect();
        assert_eq!(
            images,
            [
                "ghcr.io/acme/app",
                "ghcr.io/acme/model-service",
                "ghcr.io/acme/model-service"
            ]
        );
    }

    #[test]
    fn reads_scripts_before_and_after_migration() {
        let f = found(
            r#"
jobs:
  a:
    steps:
      - run: |
          docker push ghcr.io/acme/one:${GITHUB_SHA}
          scangate-record-push "ghcr.io/acme/two:v1"
          # docker push ghcr.io/acme/commented
          docker buildx build --platform linux/amd64 \
            -t ghcr.io/acme/three:v1 --push .
          scangate-buildx build --tag=ghcr.io/acme/four:v1 --scan-export .
          docker buildx build -o type=registry -t ghcr.io/acme/five:v1 .
          docker build -t ghcr.io/acme/local-only:v1 .
          docker build -t ghcr.io/acme/six:v1 --push .
          docker push "$IMAGE"
"#,
        );
        let images: Vec<_> = f.iter().map(|(_, i)| i.clone()).collect();
        assert_eq!(
            images[..6],
            [
                Ok("ghcr.io/acme/one".into()),
                Ok("ghcr.io/acme/two".into()),
                Ok("ghcr.io/acme/three".into()),
                Ok("ghcr.io/acme/four".into()),
                Ok("ghcr.io/acme/five".into()),
                Ok("ghcr.io/acme/six".into()),
            ]
        );
        assert_eq!(images.len(), 7);
        assert!(images[6].as_ref().unwrap_err().contains("shell variable"));
    }

    #[test]
    fn reads_push_to_registry_and_by_digest_names_from_tags() {
        let f = found(
            r#"
jobs:
  a:
    steps:
      - uses: redhat-actions/push-to-registry@v2
        with:
          image: App
          tags: latest ${{ github.ref_name }}
          registry: ghcr.io/acme/
      - uses: redhat-actions/push-to-registry@v2
        with:
          tags: quay.io/acme/tool:1
      - uses: docker/build-push-action@v6
        with:
          tags: ghcr.io/acme/legs
          outputs: type=image,push-by-digest=true,name-canonical=true,push=true
"#,
        );
        let refs: Vec<&str> = f.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            refs,
            [
                "ghcr.io/acme/app:latest",
                "ghcr.io/acme/app:${{ github.ref_name }}",
                "quay.io/acme/tool:1",
                "ghcr.io/acme/legs"
            ]
        );
        let images: Vec<_> = f.iter().map(|(_, i)| i.clone().unwrap()).collect();
        assert_eq!(images[1], "ghcr.io/acme/app");
        assert_eq!(images[3], "ghcr.io/acme/legs");
    }

    #[test]
    fn reads_push_by_digest_names_and_script_variables() {
        let f = found(
            r#"
env:
  IMAGE: ghcr.io/acme/api
jobs:
  a:
    steps:
      - uses: docker/build-push-action@v6
        with:
          outputs: type=image,name=${{ env.IMAGE }},push-by-digest=true,push=true
      - env:
          REPO: ghcr.io/acme
        run: |
          IMG="ghcr.io/${{ github.repository }}"
          IMG=${IMG@L}
          docker push --all-tags "$IMG"
          docker push "${REPO}/tool:$version"
"#,
        );
        let images: Vec<_> = f.iter().map(|(_, i)| i.clone().unwrap()).collect();
        assert_eq!(
            images,
            [
                "ghcr.io/acme/api",
                "ghcr.io/acme/model-service",
                "ghcr.io/acme/tool"
            ]
        );
    }

    #[test]
    fn says_why_a_name_is_unknown() {
        let f = found(
            "jobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with: {push: true, tags: \"${{ vars.REGISTRY }}/app:1\"}\n",
        );
        assert!(
            f[0].1.as_ref().unwrap_err().contains("vars.REGISTRY"),
            "{f:?}"
        );
    }
}
