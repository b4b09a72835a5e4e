//! Builders that push the image they build by themselves, with no daemon
//! and no step in between (ko, Jib), but can write the same image to a
//! docker-load tarball instead. The build job keeps each builder's step,
//! its command turned to the tarball (ko's `--push=false --tarball`, Jib's
//! `buildTar`); the tarball is loaded into the Docker daemon and every tag
//! in it recorded, as `scangate-record-push` records a `docker push`; from
//! there the image is saved, scanned and pushed as a script's is. One step
//! is one image. What differs between the builders is a [`Builder`].

use yaml_serde::Mapping;

use super::build_push_action::{later_steps_differ, step_condition};
use super::run_script::harmless;
use super::{
    Check, Format, ImageSpec, Piece, Platforms, Rewrite, Site, Tool, Unsupported, Verdict,
    check_job,
};
use crate::gate::{self, Push};

const GATE_BY_HAND: &str = "or gate the job by hand";

/// What one builder brings to the common rewrite.
pub struct Builder {
    /// How messages name it (`ko`, `Jib`).
    pub name: &'static str,
    /// The template inserted before each of its steps.
    pub prepare: &'static str,
    /// What follows each of its steps to load and record its image, when
    /// the prepared stand-in does not record it itself.
    pub record: Option<Record>,
    /// The step's script as the build job runs it (the function
    /// verification applies too).
    pub edit: fn(&str) -> String,
    /// One of its steps, checked; else the reason and the hint.
    pub read_one: fn(&Mapping) -> Result<BuilderStep, (String, String)>,
    /// Why no login step before its first step matters: split, the push job
    /// would have no credentials.
    pub without_login: WithoutLogin,
    /// How it writes an image of several platforms, which no docker-load
    /// tarball can hold: the template inserted before each of its steps
    /// instead of `prepare`, whose stand-in writes an OCI layout of the
    /// image index and records the tags itself. The job's images then
    /// travel as that layout (copied as it is, every platform scanned;
    /// `Format::OciCopy`). `None` when it has none: such steps are refused.
    pub index: Option<&'static str>,
}

/// One builder step as `read_one` accepts it.
pub struct BuilderStep {
    /// The command as the shell reads it, for summaries.
    pub command: String,
    /// It builds several platforms, or platforms known only at run time:
    /// an image index, which the builder's `index` output writes.
    pub builds_index: bool,
}

/// The step after a builder's step that loads the image it wrote and
/// records its tags.
pub struct Record {
    /// Its template. It runs under the step's own `if:` (`build_if`).
    pub template: &'static str,
    /// The credentials the builder's step gives the builder, when they can
    /// log Docker in as well (expressions): the record step logs in with
    /// them (`login`), once it knows the registries of the tags.
    pub own_login: fn(&Mapping) -> Option<StepLogin>,
}

/// Credentials a builder's step passes the builder itself: with them the
/// record step logs Docker in too, to the registry of each tag the builder
/// wrote, so that the push of the scanned image in the same job has them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StepLogin {
    /// Whole expressions (`${{ github.actor }}`), set in the step's `env:`;
    /// a user name may be written out.
    pub username: String,
    pub password: String,
    /// Where the step passes them: `its command line`, `its env: USER and
    /// PASSWORD`; the one-job fallback says so.
    pub source: String,
}

/// What a job whose builder steps no login step precedes becomes.
pub struct WithoutLogin {
    pub reason: &'static str,
    pub hint: &'static str,
    /// The builder logs in by itself, in a way the job keeps (ko's login
    /// writes Docker's config): the one-job layout pushes with it. Else
    /// the credentials are the builder's own and nothing can push with them.
    pub one_job: bool,
}

super::named_static!(Builder);

/// One step that pushes with the builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarballPush {
    pub step: usize,
    /// The step's `id:`, which names its image among several.
    pub step_id: Option<String>,
    /// The command as the shell reads it, for summaries.
    pub command: String,
    /// The step's own `if:` (of the job's only push, outside a matrix, or
    /// of one of several alternatives): when it is false nothing is
    /// recorded, and scan and push are skipped.
    pub step_if: Option<String>,
    /// A later step runs under another condition than `step_if`.
    pub later_steps_differ: bool,
    /// The credentials the step gives the builder, which log Docker in too.
    pub login: Option<StepLogin>,
}

/// The builder's pushes of one job, one step (and one image) each, in
/// order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarballPushes {
    pub builder: &'static Builder,
    pub job: String,
    pub pushes: Vec<TarballPush>,
    /// The job runs a matrix: each leg is built, scanned and pushed alone.
    pub matrix: bool,
    /// No step before the first push logs in to a registry in a way the
    /// push job repeats.
    pub no_login: bool,
    /// Steps follow the last push.
    pub followed: bool,
    /// A step builds several platforms: every step of the job writes the
    /// builder's `index` output instead of a tarball; its template.
    pub index: Option<&'static str>,
}

impl TarballPushes {
    /// Several pushes, some with an `if:` of their own (one of two
    /// alternatives): each such image is scanned and pushed only when built.
    fn guarded_among_several(&self) -> bool {
        self.pushes.len() > 1 && self.pushes.iter().any(|p| p.step_if.is_some())
    }

    fn steps(&self) -> Vec<usize> {
        self.pushes.iter().map(|p| p.step).collect()
    }
}

impl Rewrite for TarballPushes {
    fn job(&self) -> &str {
        &self.job
    }

    fn first_step(&self) -> usize {
        self.pushes.first().map_or(0, |p| p.step)
    }

    fn last_step(&self) -> usize {
        self.pushes.last().map_or(0, |p| p.step)
    }

    fn matrix(&self) -> bool {
        self.matrix
    }

    fn destinations(&self) -> String {
        self.pushes
            .iter()
            .map(|p| p.command.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The tarball is loaded into the Docker daemon, from where it is
    /// saved, loaded and pushed as `docker push`'s image is; an index
    /// travels as the OCI archive its layout becomes.
    fn format(&self) -> Format {
        match self.index {
            Some(_) => Format::OciCopy,
            None => Format::DockerArchive(Tool::Docker),
        }
    }

    /// Split, the push job logs in only with the login steps it copies: a
    /// login of the builder's own stays behind in the build job. In one
    /// job it is still in force when the image is pushed.
    fn refuse_jobs(&self) -> Option<Unsupported> {
        let name = self.builder.name;
        let all_guarded = self.pushes.iter().all(|p| p.step_if.is_some());
        match self.pushes.as_slice() {
            [only] if only.step_if.is_some() && only.later_steps_differ => {
                return Some(super::skipped_push_followed(
                    &self.job,
                    only.step,
                    &format!("the {name} step"),
                ));
            }
            [first, ..] if self.guarded_among_several() && all_guarded && self.followed => {
                return Some(
                    Unsupported::new(
                        &self.job,
                        Some(first.step),
                        format!(
                            "every {name} step of the job has its own `if:`, and steps follow the last; they run when no {name} step does, and a push job skipped with them could not"
                        ),
                        "move the condition to the job's `if:`, or split the job",
                    )
                    .cured_by_one_job(),
                );
            }
            _ => {}
        }
        let login = &self.builder.without_login;
        let (reason, hint) = if login.one_job {
            (login.reason.to_owned(), login.hint)
        } else {
            let source = self
                .pushes
                .iter()
                .find_map(|p| p.login.as_ref())
                .map_or("its step", |l| l.source.as_str());
            (
                format!(
                    "no step before {name} logs in to the registry: {name} pushes with the credentials of {source}, with which the scanned image is pushed in the same job (logged in to the registry of each tag); a push job would have none"
                ),
                "log in with docker/login-action before the build, which the push job repeats, or gate the job by hand",
            )
        };
        self.no_login.then(|| {
            Unsupported::new(&self.job, Some(self.first_step()), reason, hint).cured_by_one_job()
        })
    }

    /// The job's only push has its own `if:`: the save step says whether
    /// it recorded anything (among several, each image says it).
    fn may_skip_push(&self) -> bool {
        matches!(self.pushes.as_slice(), [only] if only.step_if.is_some())
    }

    /// One image per step. A docker archive holds one platform: the scan
    /// reads the image as it is; an index says which it holds.
    fn images(&self) -> Vec<ImageSpec> {
        let platforms = match self.index {
            Some(_) => Platforms::AtRunTime,
            None => Platforms::Runner,
        };
        self.pushes
            .iter()
            .map(|p| ImageSpec {
                step: Some(p.step),
                step_id: p.step_id.clone(),
                platforms: platforms.clone(),
                guarded: self.guarded_among_several() && p.step_if.is_some(),
                ..ImageSpec::default()
            })
            .collect()
    }

    /// Before each step the builder's prepared step; the step, edited;
    /// after it the record step (when the builder has one), then the image
    /// saved (the save step the scripts' pushes use, for that image alone).
    fn pieces(&self, index: usize, _builder: bool) -> Option<Vec<Piece>> {
        let push = self.pushes.iter().find(|p| p.step == index)?;
        let carried = index == self.last_step();
        if let Some(prepare) = self.index {
            return Some(
                super::recorded_by_stand_in(
                    prepare,
                    self.builder.edit,
                    carried,
                    push.step_if.as_deref(),
                )
                .into(),
            );
        }
        // Without a login step, the push in this job logs in as the builder does.
        let login = push.login.as_ref().filter(|_| self.no_login);
        let mut pieces = vec![
            Piece::Template {
                name: self.builder.prepare,
                vars: vec![],
                carried: false,
            },
            Piece::Blank,
            Piece::Run(self.builder.edit),
        ];
        if let Some(record) = &self.builder.record {
            pieces.extend([
                Piece::Blank,
                Piece::Template {
                    name: record.template,
                    vars: vec![
                        ("build_if", super::var(&push.step_if)),
                        ("login", super::var(&login)),
                    ],
                    carried: false,
                },
            ]);
        }
        pieces.extend([
            Piece::Blank,
            Piece::Template {
                name: "script-save.yml",
                vars: vec![("only_image", super::var(&true))],
                carried,
            },
        ]);
        Some(pieces)
    }

    fn check(&self) -> Check {
        Check::Runs {
            steps: self.steps(),
            edit: self.builder.edit,
            each: true,
            record_steps: usize::from(self.builder.record.is_some() && self.index.is_none()),
        }
    }
}

/// Reads job `job_id`, whose pushes are `pushes` (all the builder's).
pub fn read(builder: &'static Builder, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
    let name = builder.name;
    check_job(job).map_err(|(r, h)| Unsupported::new(job_id, None, r, h))?;
    let matrix = super::has_matrix(job);
    if matrix && let Some(second) = pushes.get(1) {
        return Err(Unsupported::new(
            job_id,
            Some(second.step),
            format!(
                "this matrix job pushes more than once with {name}; scangate gates one {name} push per matrix leg"
            ),
            "split it into one job per push (scangate migrates each)",
        ));
    }
    let steps = gate::steps(job);
    let read = pushes
        .iter()
        .map(|push| {
            let step = steps
                .iter()
                .find(|(n, _)| *n == push.step)
                .map(|(_, s)| *s)
                .ok_or_else(|| Unsupported::new(job_id, Some(push.step), "step not found", ""))?;
            let step_if = gate::condition(step).and_then(step_condition);
            (builder.read_one)(step)
                .map(|read| {
                    let push = TarballPush {
                        step: push.step,
                        step_id: step.get("id").and_then(gate::scalar),
                        command: read.command,
                        later_steps_differ: later_steps_differ(&steps, push.step, &step_if, &None),
                        step_if,
                        login: builder.record.as_ref().and_then(|r| (r.own_login)(step)),
                    };
                    (push, read.builds_index)
                })
                .map_err(|(reason, hint)| Unsupported::new(job_id, Some(push.step), reason, hint))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let index_step = read.iter().find(|(_, index)| *index).map(|(p, _)| p.step);
    let each: Vec<TarballPush> = read.into_iter().map(|(push, _)| push).collect();
    // A guarded push, outside a matrix: its record says whether it ran (in
    // a matrix, one leg's outputs would say it for every leg).
    let guarded = pushes.iter().find(|p| {
        steps
            .iter()
            .any(|(n, s)| *n == p.step && gate::condition(s).is_some())
    });
    if let Some(guarded) = guarded {
        let why = match (matrix, each.iter().find(|p| p.step == guarded.step)) {
            (true, _) => Some("in a matrix job"),
            (_, Some(p)) if p.step_if.is_none() => Some("that mixes text and expressions"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(Unsupported::new(
                job_id,
                Some(guarded.step),
                format!("the {name} step has its own `if:` {why}"),
                format!("move the condition to the job's `if:`, {GATE_BY_HAND}"),
            ));
        }
    }
    let first = each.first().map_or(0, |p| p.step);
    let last = each.last().map_or(0, |p| p.step);
    let followed = steps.iter().any(|(n, _)| *n > last);
    let no_login = !steps
        .iter()
        .any(|(n, s)| *n < first && gate::registry_login(s));
    let login = &builder.without_login;
    let own_logins = each.iter().all(|p| p.login.is_some());
    if no_login && !login.one_job && !own_logins {
        return Err(Unsupported::new(
            job_id,
            Some(first),
            login.reason,
            login.hint,
        ));
    }
    let index = match (index_step, builder.index) {
        (None, _) => None,
        (Some(_), Some(prepare)) => Some(prepare),
        (Some(step), None) => {
            let command = each
                .iter()
                .find(|p| p.step == step)
                .map_or("", |p| &p.command);
            return Err(Unsupported::new(
                job_id,
                Some(step),
                format!(
                    "`{command}`: it builds several platforms (or platforms known only at run time); a {name} tarball holds one platform"
                ),
                format!("build one platform per {name} step, {GATE_BY_HAND}"),
            ));
        }
    };
    Ok(Site::new(TarballPushes {
        builder,
        job: job_id.to_owned(),
        pushes: each,
        matrix,
        no_login,
        followed,
        index,
    }))
}

/// The command that starts at `at` in `script`, to the end of its line or
/// the next `;`, `&` or `|`. A line that ends in `\` goes on on the next,
/// as the shell reads it (a Gradle command with one flag a line).
pub fn command_at(script: &str, at: usize) -> &str {
    let rest = &script[at..];
    let end = rest
        .char_indices()
        .find(|&(n, c)| match c {
            '\n' => !rest[..n].trim_end_matches('\r').ends_with('\\'),
            ';' | '&' | '|' => true,
            _ => false,
        })
        .map_or(rest.len(), |(n, _)| n);
    &rest[..end]
}

/// The first command after `end` (the end of the builder's command) in
/// `body` that does more than print: on its line, as written (split where
/// `masked`, the body with quoted text blanked, has an operator), then on
/// the lines after it. It would now run before the scan.
pub fn command_after<'a>(body: &'a str, masked: &str, end: usize) -> Option<&'a str> {
    let line_end = body[end..].find('\n').map_or(body.len(), |n| end + n);
    let after = &masked[end..line_end];
    let cuts: Vec<usize> = after.match_indices([';', '&']).map(|(at, _)| at).collect();
    let on_its_line = cuts.iter().enumerate().map(|(n, &at)| {
        let to = cuts.get(n + 1).copied().unwrap_or(after.len());
        &body[end + at + 1..end + to]
    });
    on_its_line
        .chain(body[line_end..].lines())
        .find(|c| !c.is_empty() && !harmless(c))
}
