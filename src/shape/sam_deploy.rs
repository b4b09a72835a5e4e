//! `sam deploy` / `sam package` of functions packaged as container images:
//! the AWS SAM CLI pushes each image `sam build` left in the Docker daemon
//! to ECR as it packages the stack (`--resolve-image-repos`, or the repos
//! given with `--image-repository|--image-repositories`). Detected and
//! refused: the push is inside the deployment, with no step between to
//! scan. Without those flags the command names no image repository, and
//! zip-packaged functions push no image: not counted (a repository set only
//! in `samconfig.toml` is not seen).

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static SAM: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bsam\s+(?:deploy|package)\b").expect("static regex")
});
/// The flags that give the command image repositories to push to.
static IMAGE_REPOS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)(--resolve-image-repos|--image-repositor(?:y|ies))(?:[\s=]|$)")
        .expect("static regex")
});

pub static REFUSED: Refused = Refused {
    id: "sam-deploy",
    label: "sam deploy of container images",
    finder: Finder::Command {
        pattern: &SAM,
        pushes: |command| IMAGE_REPOS.is_match(command),
    },
    reason: |what| {
        let command = what
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let flag = IMAGE_REPOS
            .captures(what)
            .and_then(|c| c.get(1))
            .map_or("", |m| m.as_str());
        format!(
            "`{command}` with `{flag}`: the SAM CLI pushes the functions' container images to ECR as it deploys, with no step between to scan them"
        )
    },
    hint: "scan the images `sam build` leaves in the Docker daemon with a Trivy step (failing on findings) before `sam deploy`, or gate the job by hand",
};

/// The shape (refused).
pub struct SamDeploy;

crate::refused_shape!(SamDeploy, REFUSED);

#[cfg(test)]
mod tests {
    use super::super::find_command;
    use super::*;

    #[test]
    fn a_deploy_pushes_when_it_names_image_repositories() {
        let pushes = |script: &str| find_command(&SAM, |c| IMAGE_REPOS.is_match(c), script);
        let continued = "sam deploy \\\n  --stack-name app \\\n  --resolve-image-repos \\\n  --resolve-s3\necho done";
        let found = pushes(continued).unwrap();
        assert_eq!(found.at, 0);
        assert!(
            (REFUSED.reason)(&found.what).starts_with("`sam deploy` with `--resolve-image-repos`")
        );
        assert!(
            pushes("sam package --image-repository 1.dkr.ecr.x/app --output-template-file t.yml")
                .is_some()
        );
        assert!(pushes("sam deploy --image-repositories Fn=1.dkr.ecr.x/app").is_some());
        // Zip functions: S3 only.
        assert!(pushes("sam deploy --resolve-s3 --stack-name app").is_none());
        assert!(pushes("sam build --use-container").is_none());
        // The flag of a later command on the next line is not the deploy's.
        assert!(pushes("sam deploy --resolve-s3\necho --resolve-image-repos").is_none());
    }
}
