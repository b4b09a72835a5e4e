//! `heroku container:push`: the Heroku CLI builds each process type's
//! Dockerfile and pushes the image to `registry.heroku.com/<app>/<process>`
//! in one command ("Builds, then pushes Docker images to deploy your
//! Heroku app"). Detected and refused: there is no image to scan between
//! the build and the push. Heroku's own documentation gives the split form
//! (`docker build`/`docker tag`, `docker push registry.heroku.com/…`),
//! which scangate gates.

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static HEROKU_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bheroku\s+container:push\b").expect("static regex")
});

pub static REFUSED: Refused = Refused {
    id: "heroku-container-push",
    label: "heroku container:push",
    finder: Finder::Command {
        pattern: &HEROKU_PUSH,
        pushes: |_| true,
    },
    reason: |what| {
        format!(
            "`{what}`: the Heroku CLI builds the image and pushes it to registry.heroku.com in one command, with no step between to scan it"
        )
    },
    hint: "build with `docker build -t registry.heroku.com/APP/PROCESS .` and push with `docker push registry.heroku.com/APP/PROCESS` after `heroku container:login` (scangate gates those), then `heroku container:release PROCESS`; or gate the job by hand",
};

/// The shape (refused).
pub struct HerokuPush;

crate::refused_shape!(HerokuPush, REFUSED);

#[cfg(test)]
mod tests {
    use super::super::find_command;
    use super::*;

    #[test]
    fn a_container_push_is_found_with_its_arguments() {
        let found = |script: &str| find_command(&HEROKU_PUSH, |_| true, script);
        let push = found("heroku container:login\nheroku container:push web --app api\nheroku container:release web --app api\n").unwrap();
        assert!(
            (REFUSED.reason)(&push.what).starts_with("`heroku container:push web --app api`"),
            "{}",
            push.what
        );
        for other in [
            "heroku container:login",
            "heroku container:release web",
            "heroku container:pull web",
        ] {
            assert!(found(other).is_none(), "{other}");
        }
    }
}
