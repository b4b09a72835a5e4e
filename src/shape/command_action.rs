//! Actions that run shell text given as one of their inputs: a retry
//! wrapper's `command:` (`nick-fields/retry`; set 17 017 pushes with
//! `docker buildx build … --push` there), or `appleboy/ssh-action`'s
//! `script:` on another host. A push in that text is read as the script
//! shapes read a `run:` step's, and refused: scangate rewrites `run:`
//! steps only, and a push it does not rewrite must not pass as "nothing to
//! migrate".

use yaml_serde::{Mapping, Value};

use super::{Finder, Refused, Shapes};
use crate::gate::{self, Recognise};

/// The actions, lower-cased, and the input whose text they run.
const COMMAND_INPUTS: &[(&str, &str)] = &[
    ("nick-fields/retry", "command"),
    ("nick-invision/retry", "command"),
    ("wandalen/wretry.action", "command"),
    ("appleboy/ssh-action", "script"),
];

/// The push in the shell text `step` hands its action, as messages name it.
fn push_in_input(job: &Mapping, step: &Mapping) -> Option<String> {
    let action = gate::action_name(step)?;
    let (_, input) = COMMAND_INPUTS.iter().find(|(a, _)| *a == action)?;
    let text = gate::input(step, input)?;
    // The text as a `run:` step of its own: what the script shapes read.
    let as_run = Mapping::from_iter([(Value::from("run"), Value::from(text))]);
    let push = Shapes::builtin().push_kind(job, &as_run)?;
    let what = gate::one_line(&push.what);
    Some(format!(
        "`{action}` runs `{what}` from its `{input}:` input"
    ))
}

pub static REFUSED: Refused = Refused {
    id: "command-action",
    label: "a command run by an action",
    finder: Finder::InJob(push_in_input),
    reason: |what| format!("{what}; scangate rewrites pushes in `run:` steps only"),
    hint: "build and push in `run:` steps of the workflow (a shell loop can retry them), which scangate migrates; or gate the job by hand",
};

/// The shape (refused).
pub struct CommandAction;

crate::refused_shape!(CommandAction, REFUSED);

#[cfg(test)]
mod tests {
    use yaml_serde::Value;

    use super::super::Shapes;
    use super::super::tests::first_verdict as verdict;
    use crate::{detect, gate};

    #[test]
    fn a_push_in_a_retried_command_is_refused_with_the_command() {
        let job = "jobs:\n  p:\n    steps:\n      - uses: nick-fields/retry@v4\n        with:\n          max_attempts: 3\n          command: |\n            docker buildx build \\\n              --push \\\n              -t r/a:1 .\n";
        let r = verdict(job).unwrap_err();
        assert!(
            r.reason
                .contains("`nick-fields/retry` runs `buildx build --push`"),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("`command:` input"), "{}", r.reason);
        assert!(r.hint.contains("`run:` steps"), "{}", r.hint);
    }

    #[test]
    fn a_remote_deploy_that_pulls_is_no_push() {
        let deploy = "jobs:\n  d:\n    steps:\n      - uses: appleboy/ssh-action@v1\n        with:\n          script: docker compose pull && docker compose up -d\n";
        let doc: Value = yaml_serde::from_str(deploy).unwrap();
        let ungated = detect::ungated_jobs(&doc, &gate::Threshold::default(), Shapes::builtin());
        assert!(ungated.is_empty(), "{ungated:?}");
    }
}
