#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! A push shape added from outside the crate, as issue 13 asks: a fake
//! `acme-push IMAGE` command in `run:` scripts. The shape is this one file;
//! it touches no file of `src/` (neither `plan.rs`, `render/` nor
//! `verify.rs`), brings its own template, and is registered by handing a
//! [`Shapes`] value to the migrator. The rewrite then goes through the same
//! plan, render and verify stages as the built-in shapes: `acme-push`
//! records instead of pushing, the image travels as a docker archive, the
//! scan job gates it, and the push job pushes the scanned bytes.

use std::path::Path;

use scangate::gate::Push;
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::render::Overrides;
use scangate::shape::{
    Check, Format, Found, Piece, Rewrite, Shape, Shapes, Site, Tool, Verdict, check_job,
};
use scangate::{Migrator, Outcome, Source};
use yaml_serde::Mapping;

/// The shape: `acme-push IMAGE` pushes an image of the Docker daemon.
struct AcmePush;

/// The recording stand-in replaces the command; the built-in
/// `script-save.yml` then saves what was recorded, as for `docker push`.
fn record_instead_of_acme_push(script: &str) -> String {
    script.replace("acme-push ", "scangate-record-push ")
}

/// The shape's own template: puts the stand-in on the PATH.
const PREPARE: &str = r#"- name: Record acme pushes instead of pushing
  run: |
    set -euo pipefail
    bin="${RUNNER_TEMP}/scangate/bin"
    mkdir -p "$bin" "${RUNNER_TEMP}/scangate/{= job =}"
    printf '%s\n' '#!/usr/bin/env bash' 'printf "%s %s\n" "$1" "$(docker image inspect --format "{{.Id}}" "$1")" >> "${RUNNER_TEMP}/scangate/{= job =}/pushes.txt"' > "$bin/scangate-record-push"
    chmod +x "$bin/scangate-record-push"
    echo "$bin" >> "$GITHUB_PATH"
"#;

#[derive(Debug)]
struct AcmeJob {
    job: String,
    step: usize,
    command: String,
}

impl Shape for AcmePush {
    fn id(&self) -> &'static str {
        "acme-push"
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[("acme-prepare.yml", PREPARE)]
    }

    fn push(&self, _job: &Mapping, _step: &Mapping, script: Option<&str>) -> Option<Found> {
        let at = script?.find("acme-push ")?;
        Some(Found {
            at,
            what: "acme-push".into(),
        })
    }

    fn in_script(&self) -> bool {
        true
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        check_job(job).map_err(|(r, h)| scangate::shape::Unsupported::new(job_id, None, r, h))?;
        let [push] = pushes else {
            return Err(scangate::shape::Unsupported::new(
                job_id,
                Some(pushes[1].step),
                "more than one acme push",
                "one per job",
            ));
        };
        Ok(Site::new(AcmeJob {
            job: job_id.to_owned(),
            step: push.step,
            command: push.kind.what.clone(),
        }))
    }
}

impl Rewrite for AcmeJob {
    fn job(&self) -> &str {
        &self.job
    }

    fn first_step(&self) -> usize {
        self.step
    }

    fn last_step(&self) -> usize {
        self.step
    }

    fn matrix(&self) -> bool {
        false
    }

    fn destinations(&self) -> String {
        self.command.clone()
    }

    fn may_skip_push(&self) -> bool {
        true
    }

    fn format(&self) -> Format {
        Format::DockerArchive(Tool::Docker)
    }

    fn pieces(&self, index: usize, _builder: bool) -> Option<Vec<Piece>> {
        (index == self.step).then(|| {
            vec![
                Piece::Template {
                    name: "acme-prepare.yml",
                    vars: Vec::new(),
                    carried: false,
                },
                Piece::Run(record_instead_of_acme_push),
                Piece::Template {
                    name: "script-save.yml",
                    vars: Vec::new(),
                    carried: true,
                },
            ]
        })
    }

    fn check(&self) -> Check {
        Check::Runs {
            steps: vec![self.step],
            edit: record_instead_of_acme_push,
            each: false,
            record_steps: 0,
        }
    }
}

const WORKFLOW: &str = "on: push
permissions:
  contents: read
jobs:
  release:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - name: Log in
        run: echo \"$TOKEN\" | docker login ghcr.io -u acme --password-stdin
        env:
          TOKEN: ${{ secrets.GITHUB_TOKEN }}
      - name: Build and push
        run: |
          docker build -t ghcr.io/acme/app:1 .
          acme-push ghcr.io/acme/app:1
";

fn migrate(shapes: Shapes, text: &str) -> Outcome {
    let migrator = Migrator::with_shapes(
        Pins::embedded(),
        Policy::default(),
        Overrides::default(),
        shapes,
    )
    .unwrap();
    let source = Source::from_bytes(Path::new("release.yml"), text.as_bytes()).unwrap();
    migrator.migrate(&source).unwrap()
}

#[test]
fn the_built_in_shapes_do_not_see_acme_push() {
    assert_eq!(migrate(Shapes::default(), WORKFLOW), Outcome::Unchanged);
}

#[test]
fn a_registered_shape_is_planned_rendered_and_verified() {
    let shapes = Shapes::default().with(AcmePush);
    let Outcome::Migrated { text, jobs } = migrate(shapes.clone(), WORKFLOW) else {
        panic!("not migrated");
    };
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].chain(),
        "`release` → `release-build` → `release-scan` → `release`"
    );
    // The shape's own template, its edit, and the built-in save step.
    assert!(
        text.contains("- name: Record acme pushes instead of pushing"),
        "{text}"
    );
    assert!(
        text.contains("scangate-record-push ghcr.io/acme/app:1"),
        "{text}"
    );
    assert!(!text.contains("acme-push ghcr.io"), "{text}");
    assert!(text.contains("docker save"), "{text}");
    // A docker archive: scanned as one target, loaded and pushed by docker.
    assert!(text.contains("release-scan:"), "{text}");
    assert!(text.contains("docker load -i"), "{text}");
    assert!(!text.contains("skopeo copy"), "{text}");
    // The result is stable: migrating it again changes nothing.
    assert_eq!(migrate(shapes, &text), Outcome::Unchanged);
}
