//! `redhat-actions/push-to-registry`: pushes what an earlier step (usually
//! `redhat-actions/buildah-build`) put into containers storage. The build
//! job records, instead of the push, exactly what the action would push
//! (its `src/index.ts`: tags split on whitespace and lower-cased, a tag
//! with a colon a full name, else `IMAGE:TAG` pushed to
//! `REGISTRY/IMAGE:TAG`); from there it is the podman script shape: saved,
//! scanned, loaded and pushed by `podman push` in the push job.
//!
//! Forks of the action (`OWNER/push-to-registry`, with signing added, say)
//! push the same way but may mean more by their inputs: detected and
//! refused ([`Fork`]).

use yaml_serde::Mapping;

use super::{
    Check, Finder, Format, Found, ImageSpec, Piece, Refused, Rewrite, Shape, Site, Tool,
    Unsupported, Verdict, check_job, guarded_push, var,
};
use crate::gate::{self, Push, input};

const ACTION: &str = "redhat-actions/push-to-registry";

/// Inputs the push job's `podman push` could not repeat.
const UNSUPPORTED_INPUTS: &[(&str, &str)] = &[
    ("extra-args", "passes its own `podman push` arguments"),
    ("digestfile", "writes the digest to a file of its choosing"),
];

/// `podman push` arguments that change nothing the push job's push does:
/// Docker's `--disable-content-trust` (a no-op in podman, set 18 006),
/// quiet output, the default TLS verification.
const NO_OP_ARGS: &[&str] = &[
    "--disable-content-trust",
    "--disable-content-trust=true",
    "-q",
    "--quiet",
    "--tls-verify",
    "--tls-verify=true",
];

/// The shape.
pub struct PushToRegistry;

impl Shape for PushToRegistry {
    fn id(&self) -> &'static str {
        "push-to-registry"
    }

    fn label(&self) -> &'static str {
        ACTION
    }

    fn push(&self, _job: &Mapping, step: &Mapping, script: Option<&str>) -> Option<Found> {
        if script.is_some() {
            return None;
        }
        (gate::action_name(step)? == ACTION).then(|| Found {
            at: 0,
            what: ACTION.to_owned(),
        })
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        read(job_id, job, pushes).map(Site::new)
    }
}

/// One `push-to-registry` step, its inputs as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    index: usize,
    id: Option<String>,
    name: Option<String>,
    image: String,
    tags: String,
    registry: String,
    /// `username` and `password`, when the step logs in itself.
    creds: Option<(String, String)>,
    step_if: Option<String>,
}

/// A job whose pushes are all `push-to-registry` steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryPush {
    job: String,
    steps: Vec<Step>,
    matrix: bool,
    /// A push step with its own `if:`, when steps follow the last push.
    guarded_before_steps: Option<usize>,
}

fn read(job_id: &str, job: &Mapping, pushes: &[Push]) -> Result<RegistryPush, Unsupported> {
    let refuse = |step: usize, reason: String, hint: &str| {
        Unsupported::new(job_id, Some(step), reason, hint)
    };
    check_job(job).map_err(|(r, h)| Unsupported::new(job_id, None, r, h))?;
    let matrix = super::has_matrix(job);
    let all = gate::steps(job);
    let mut steps = Vec::new();
    for push in pushes {
        let Some((_, step)) = all.iter().find(|(i, _)| *i == push.step) else {
            continue;
        };
        let text = |key: &str| input(step, key).unwrap_or_default();
        for (key, why) in UNSUPPORTED_INPUTS {
            let value = text(key);
            let words = value.split_whitespace();
            if *key == "extra-args" && words.clone().all(|w| NO_OP_ARGS.contains(&w)) {
                continue;
            }
            if !value.trim().is_empty() {
                return Err(refuse(
                    push.step,
                    format!("the push step {why} (`{key}:`)"),
                    "remove it, or gate this job by hand",
                ));
            }
        }
        let tls = text("tls-verify");
        if !matches!(tls.trim(), "" | "true") {
            return Err(refuse(
                push.step,
                format!("the push step sets `tls-verify: {}`", tls.trim()),
                "push to a registry with a trusted certificate, or gate this job by hand",
            ));
        }
        // One push step's outputs are the push job's push step's; several
        // are pushed together, by one step.
        if let Some(id) = step.get("id").and_then(gate::scalar)
            && pushes.len() > 1
            && all
                .iter()
                .filter(|(i, _)| *i > push.step)
                .any(|(_, s)| reads_outputs_of(s, &id))
        {
            return Err(refuse(
                push.step,
                format!(
                    "a later step reads the outputs of this push step (`steps.{id}.outputs`); the push job pushes what the job's push-to-registry steps would have pushed in one step, which cannot set each one's outputs"
                ),
                "read the pushed names from the build step's outputs instead, or gate this job by hand",
            ));
        }
        let (username, password) = (text("username"), text("password"));
        steps.push(Step {
            index: push.step,
            id: step.get("id").and_then(gate::scalar),
            name: step.get("name").and_then(gate::scalar),
            image: text("image"),
            tags: input(step, "tags").unwrap_or_else(|| "latest".into()),
            registry: text("registry"),
            creds: (!username.is_empty() && !password.is_empty()).then_some((username, password)),
            step_if: gate::condition(step).and_then(gate::scalar),
        });
    }
    let Some(first) = steps.first() else {
        return Err(Unsupported::new(job_id, None, "no push step", ""));
    };
    let guarded = steps.iter().find(|s| s.step_if.is_some());
    if let Some(guarded) = guarded
        && matrix
    {
        return Err(refuse(
            guarded.index,
            "in a matrix job, this push may be skipped (its own `if:`); a matrix job's outputs cannot say which legs pushed".into(),
            "make every leg push (move the condition to the job's `if:`), or gate the job by hand",
        ));
    }
    let last = steps.last().map_or(first.index, |s| s.index);
    let guarded_before_steps = guarded
        .map(|s| s.index)
        .filter(|_| all.iter().any(|(i, _)| *i > last));
    Ok(RegistryPush {
        job: job_id.to_owned(),
        steps,
        matrix,
        guarded_before_steps,
    })
}

/// Whether `step` reads `steps.<id>.outputs`.
fn reads_outputs_of(step: &Mapping, id: &str) -> bool {
    yaml_serde::to_string(step).is_ok_and(|text| text.contains(&format!("steps.{id}.outputs")))
}

impl RegistryPush {
    fn at(&self, index: usize) -> Option<&Step> {
        self.steps.iter().find(|s| s.index == index)
    }

    /// The id of the job's push step, when it has one push step.
    fn lone_id(&self) -> Option<String> {
        match self.steps.as_slice() {
            [one] => one.id.clone(),
            _ => None,
        }
    }
}

impl Rewrite for RegistryPush {
    fn job(&self) -> &str {
        &self.job
    }

    fn first_step(&self) -> usize {
        self.steps.first().map_or(0, |s| s.index)
    }

    fn last_step(&self) -> usize {
        self.steps.last().map_or(0, |s| s.index)
    }

    fn matrix(&self) -> bool {
        self.matrix
    }

    fn destinations(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("{} {} → {}", s.image, s.tags.trim(), s.registry))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A step with its own `if:` may not push: the build job records
    /// whether anything was pushed.
    fn may_skip_push(&self) -> bool {
        true
    }

    fn format(&self) -> Format {
        Format::DockerArchive(Tool::Podman)
    }

    /// A lone push step's id goes to the push job's push step, which sets
    /// the action's outputs (later steps of several push steps read none:
    /// `read` refuses that).
    fn images(&self) -> Vec<ImageSpec> {
        vec![ImageSpec {
            step_id: self.lone_id(),
            step_removed: true,
            ..ImageSpec::default()
        }]
    }

    fn replaced_ids(&self) -> Vec<String> {
        self.lone_id().into_iter().collect()
    }

    /// The action's outputs (its README): the digest of the pushed
    /// manifest, the first pushed name and all of them as a JSON array.
    fn push_outputs(&self) -> &'static [&'static str] {
        &["digest", "registry-path", "registry-paths"]
    }

    /// The credentials are the step's own: a push job would not have them.
    /// A push step with its own `if:` followed by other steps: split, those
    /// could not keep running when it is skipped (in one job they do,
    /// under their own conditions).
    fn refuse_jobs(&self) -> Option<Unsupported> {
        if let Some(step) = self.steps.iter().find(|s| s.creds.is_some()) {
            return Some(
                Unsupported::new(
                    &self.job,
                    Some(step.index),
                    "the push step logs in with its own `username` and `password`; a push job could not repeat that",
                    "log in with a step of its own before the build (`redhat-actions/podman-login`, `podman login`)",
                )
                .cured_by_one_job(),
            );
        }
        self.guarded_before_steps
            .map(|step| guarded_push(&self.job, step))
    }

    /// The stand-in before the first push; each push step becomes the step
    /// that records what it would push (logging in as it would); after the
    /// last, the image is saved.
    fn pieces(&self, index: usize, _builder: bool) -> Option<Vec<Piece>> {
        let step = self.at(index)?;
        let (username, password) = step.creds.clone().unzip();
        let record = Piece::Template {
            name: "push-to-registry-record.yml",
            vars: vec![
                ("name", var(&step.name)),
                ("step_if", var(&step.step_if)),
                ("image", var(&step.image)),
                ("tags", var(&step.tags)),
                ("registry", var(&step.registry)),
                ("username", var(&username)),
                ("password", var(&password)),
            ],
            carried: false,
        };
        Some(super::run_script::recording(
            self.first_step() == index,
            record,
            self.last_step() == index,
            &[],
        ))
    }

    fn check(&self) -> Check {
        Check::Replaced(self.steps.iter().map(|s| s.index).collect())
    }
}

/// Forks of the action: detected and refused.
pub static FORK: Refused = Refused {
    id: "push-to-registry-fork",
    label: "a fork of push-to-registry",
    finder: Finder::Action(|action, _| {
        (action != ACTION && action.ends_with("/push-to-registry")).then(|| action.to_owned())
    }),
    reason: |what| {
        format!(
            "`{what}` is a fork of `{ACTION}`: it pushes straight from containers storage, and its inputs may mean more than the original's"
        )
    },
    hint: "push with `redhat-actions/push-to-registry` or `buildah push IMAGE docker://REGISTRY/IMAGE:TAG` in a `run:` step: scangate migrates both, scanning the image before the push",
};

/// The fork shape (refused).
pub struct Fork;

crate::refused_shape!(Fork, FORK);

#[cfg(test)]
mod tests {
    fn verdict(with: &str, after: &str) -> super::Verdict {
        super::super::tests::first_verdict(&format!(
            "jobs:\n  p:\n    steps:\n      - uses: redhat-actions/buildah-build@v2\n        with: {{image: app, tags: latest}}\n      - id: push\n        uses: redhat-actions/push-to-registry@v2\n        with:\n{with}{after}"
        ))
    }

    #[test]
    fn reads_the_inputs_and_refuses_what_a_push_job_could_not_repeat() {
        let site = verdict(
            "          image: app\n          tags: latest v1\n          registry: ghcr.io/acme\n",
            "",
        )
        .unwrap();
        assert_eq!(site.destinations(), "app latest v1 → ghcr.io/acme");
        assert!(site.refuse_jobs().is_none());
        let creds = verdict(
            "          image: app\n          registry: ghcr.io/acme\n          username: u\n          password: ${{ secrets.P }}\n",
            "",
        )
        .unwrap();
        assert_eq!(creds.destinations(), "app latest → ghcr.io/acme");
        let refused = creds.refuse_jobs().unwrap();
        assert_eq!(refused.cure, Some(super::super::Cure::OneJob));
        let r = verdict(
            "          image: app\n          extra-args: --sign-by x\n",
            "",
        )
        .unwrap_err();
        assert!(r.reason.contains("`extra-args:`"), "{}", r.reason);
        // Arguments that change nothing the push job's push does.
        assert!(
            verdict(
                "          image: app\n          extra-args: |\n            --disable-content-trust\n",
                ""
            )
            .is_ok()
        );
        let r = verdict("          image: app\n          tls-verify: false\n", "").unwrap_err();
        assert!(r.reason.contains("tls-verify"), "{}", r.reason);
        // One push step: its outputs are the push job's push step's.
        let one = verdict(
            "          image: app\n",
            "      - run: echo ${{ steps.push.outputs.registry-paths }}\n",
        )
        .unwrap();
        assert_eq!(one.replaced_ids(), ["push"]);
        assert!(one.push_outputs().contains(&"registry-paths"));
        // Two: pushed together, by one step, which cannot be both.
        let r = verdict(
            "          image: app\n",
            "      - uses: redhat-actions/push-to-registry@v2\n        with: {image: app, tags: v1}\n      - run: echo ${{ steps.push.outputs.registry-paths }}\n",
        )
        .unwrap_err();
        assert!(r.reason.contains("steps.push.outputs"), "{}", r.reason);
        // A push under its own `if:` with steps after it: one job.
        let guarded = verdict(
            "          image: app\n",
            "        if: github.ref_type == 'tag'\n      - run: echo done\n",
        )
        .unwrap();
        assert_eq!(
            guarded.refuse_jobs().map(|r| r.cure),
            Some(Some(super::super::Cure::OneJob))
        );
    }

    #[test]
    fn forks_are_refused() {
        let r = super::super::tests::first_verdict(
            "jobs:\n  p:\n    steps:\n      - uses: travier/push-to-registry@sigstore-signing\n        with: {image: app}\n",
        )
        .unwrap_err();
        assert!(r.reason.contains("fork of"), "{}", r.reason);
    }
}
