//! Jib (`mvn … jib:build`, `gradle jib`) in a `run:` script: builds the
//! image from the Java build and pushes it to the registry in one command.
//! The build job keeps the command with Jib's goal turned to the one that
//! writes the same image to a tarball (`jib:buildTar`, Gradle's
//! `jibBuildTar`), which holds every tag (`jib.to.image` and `jib.to.tags`,
//! since Jib 1.7); the step after it loads the tarball and records its
//! tags, and from there the image is saved, scanned and pushed as a
//! script's is (see [`super::tarball`]).
//!
//! Jib pushes with credentials of its own (`jib.to.auth`, a credential
//! helper) when the job does not log in to the registry: then nothing after
//! the scan could push, and the job is refused. `jib:dockerBuild`,
//! `jib:buildTar` and their Gradle tasks push nothing.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use super::build_push_action::whole_expression;
use super::run_script::under_condition;
use super::tarball::{
    self, Builder, BuilderStep, Record, StepLogin, WithoutLogin, command_after, command_at,
};
use super::{Found, Shape, Unsupported, Verdict};
use crate::gate::{self, Push};

/// A Maven or Gradle command (wrappers too).
pub(super) static BUILD_TOOL: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\b(?:mvnw?|gradlew?)\b").expect("static regex")
});
/// Maven's `jib:build` (or the plugin's full coordinates), Gradle's `jib`
/// task (of the root project or `:a:project`).
static JIB_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bjib:build\b|jib-maven-plugin(?::[^:\s]+)?:build\b|(?:^|\s)(?::[\w-]+)*:?jib(?:\s|$)",
    )
    .expect("static regex")
});
/// What the rewrite renames in Maven's goals: `…jib:build` and the
/// plugin's coordinates, up to `:build`.
static MAVEN_BUILD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\bjib|jib-maven-plugin(?::[^:\s]+)?):build\b").expect("static regex")
});
/// What the rewrite renames in Gradle's tasks: `jib`, `:a:project:jib`.
static GRADLE_JIB: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:^|\s)(?::[\w-]+)*:?)jib(\s|$)").expect("static regex"));
/// Jib's push target on the command line (credentials, image, tags): a
/// build whose pom binds `jib:build` to a phase (`mvn package
/// -Djib.to.auth.password=…`; set 15 012, `mvn package -Ppublish-image
/// -Djib.to.tags=…`).
static JIB_TARGET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-Djib\.to\.").expect("static regex"));
/// Jib's goals that build into the Docker daemon (with [`gate::JIB_TARBALL`]'s,
/// those that keep the image local).
static DOCKER_BUILD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\bjib|jib-maven-plugin(?::[^:\s]+)?):dockerBuild\b|\bjibDockerBuild\b")
        .expect("static regex")
});
/// The files Jib writes beside the image: a step that reads them would
/// read the tarball's image, not the pushed one.
/// The names of a step's `env:` entries that hold a registry user name
/// and its password or token, as build files read them for `jib.to.auth`.
static USER_VAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)user|actor|login").expect("static regex"));
static PASSWORD_VAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)pass|token|secret|pwd").expect("static regex"));
static JIB_OUTPUTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"jib-image\.(?:digest|id|json)\b").expect("static regex"));

const GATE_BY_HAND: &str = "or gate the job by hand";

/// Whether a Maven or Gradle `command` pushes with Jib.
fn pushes(command: &str) -> bool {
    let local = DOCKER_BUILD.is_match(command) || gate::JIB_TARBALL.is_match(command);
    JIB_PUSH.is_match(command) || (JIB_TARGET.is_match(command) && !local)
}

/// Jib, to the common rewrite of builders that push by themselves.
static BUILDER: Builder = Builder {
    name: "Jib",
    prepare: "jib-prepare.yml",
    record: Some(Record {
        template: "jib-record.yml",
        own_login,
    }),
    edit: build_for_the_scan,
    read_one,
    without_login: WithoutLogin {
        reason: "no step before Jib logs in to the registry, and the step gives Jib no credentials as expressions (on its command line, or one user name and one password or token in its `env:`): Jib pushes with credentials of its own (the build file's `jib.to.auth`, a credential helper), which nothing can push with after the scan",
        hint: "log in with docker/login-action (or `docker login`) before the Jib step, which Jib reads too, or pass `-Djib.to.auth.username=${{ … }} -Djib.to.auth.password=${{ … }}`; or gate the job by hand",
        one_job: false,
    },
    index: None,
};

/// The credentials the step gives Jib: on its command line
/// (`-Djib.to.auth.username` and `.password`), else in its `env:`, which
/// the build file reads (`username = System.getenv('USERNAME')`, sets 12
/// and 14): one user name and one password or token there, each a whole
/// expression (a user name may be written out). A guess the push checks:
/// the record step logs in with them to the registry of each tag, and a
/// wrong pair fails it before anything is pushed.
fn own_login(step: &Mapping) -> Option<StepLogin> {
    let run = step.get("run").and_then(Value::as_str)?;
    let body = gate::shell_body(run);
    let (_, command) = build_commands(&body).into_iter().find(|(_, c)| pushes(c))?;
    let words = unquoted_words(command);
    let env = |name: &str| step.get("env")?.get(name).and_then(gate::scalar);
    let expression = |v: &str| -> Option<String> {
        let v = v.trim();
        whole_expression(v).map(|_| v.to_owned())
    };
    // A `$VARIABLE` is the expression the step's `env:` sets it to.
    let resolved = |v: String| -> Option<String> {
        expression(&v).or_else(|| {
            let name = v.strip_prefix('$')?;
            expression(&env(name.trim_start_matches('{').trim_end_matches('}'))?)
        })
    };
    let user = |v: String| resolved(v.clone()).or_else(|| literal(&v).then_some(v));
    let flag = |prefix: &str| property(&words, prefix);
    if let Some(username) = flag("-Djib.to.auth.username=") {
        return Some(StepLogin {
            username: user(username)?,
            password: resolved(flag("-Djib.to.auth.password=")?)?,
            source: "its command line".to_owned(),
        });
    }
    env_credentials(step.get("env").and_then(Value::as_mapping)?)
}

/// One user name and one password (or token) among a step's `env:`, by
/// their names.
fn env_credentials(env: &Mapping) -> Option<StepLogin> {
    let one = |name_ok: &dyn Fn(&str) -> bool, value_ok: &dyn Fn(&str) -> bool| {
        let mut found = env.iter().filter_map(|(k, v)| {
            let (k, v) = (k.as_str()?, gate::scalar(v)?);
            (name_ok(k) && value_ok(v.trim())).then(|| (k.to_owned(), v.trim().to_owned()))
        });
        let first = found.next()?;
        found.next().is_none().then_some(first)
    };
    let expression = |v: &str| whole_expression(v).is_some();
    // `USER_TOKEN` is a token.
    let user_name = |k: &str| USER_VAR.is_match(k) && !PASSWORD_VAR.is_match(k);
    let (user_var, username) = one(&user_name, &|v| expression(v) || literal(v))?;
    let (password_var, password) = one(&|k| PASSWORD_VAR.is_match(k), &expression)?;
    Some(StepLogin {
        username,
        password,
        source: format!(
            "the build file, which reads them from the step's `env:` ({user_var} and {password_var})"
        ),
    })
}

/// A user name written out.
fn literal(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
}

/// The Maven and Gradle commands of `body` (a script as the shell reads
/// it) with where each starts, each to the end of its line or the next
/// operator outside quotes.
fn build_commands(body: &str) -> Vec<(usize, &str)> {
    let masked = super::mask_quoted(body);
    BUILD_TOOL
        .find_iter(body)
        .map(|m| {
            let end = m.start() + command_at(&masked, m.start()).len();
            (m.start(), &body[m.start()..end])
        })
        .collect()
}

/// The words of `command`, their quotes dropped.
fn unquoted_words(command: &str) -> Vec<String> {
    super::shell_words(command)
        .into_iter()
        .map(|w| w.replace(['"', '\''], ""))
        .collect()
}

/// The value of the first of `words` that starts with `prefix` (`-Dkey=`),
/// or of the next word when it is empty (`--image VALUE`).
fn property(words: &[String], prefix: &str) -> Option<String> {
    words
        .iter()
        .enumerate()
        .find_map(|(n, w)| match w.strip_prefix(prefix) {
            Some(v) if !v.is_empty() => Some(v.to_owned()),
            Some(_) => words.get(n + 1).cloned(),
            None => None,
        })
}

/// The image Jib's command line targets: `-Djib.to.image`, Gradle's `--image`.
fn target_image(words: &[String]) -> Option<String> {
    property(words, "-Djib.to.image=").or_else(|| property(words, "--image="))
}

/// The time mark scangate's step before a migrated Jib step leaves
/// (templates/jib-prepare.yml): a job with it pushes what its Jib tarball
/// builds hold.
pub const MARK: &str = "jib-started";

/// The images the Maven and Gradle commands of `script` push with Jib, as
/// their command lines name them (`-Djib.to.image`, `--image`); with
/// `migrated`, also those they build to a tarball for scangate's push job.
pub fn pushed_images(script: &str, migrated: bool) -> Vec<String> {
    build_commands(&gate::shell_body(script))
        .into_iter()
        .filter(|(_, c)| pushes(c) || (migrated && gate::JIB_TARBALL.is_match(c)))
        .filter_map(|(_, c)| target_image(&unquoted_words(c)))
        .collect()
}

/// `script` with each Maven or Gradle command's Jib push turned to the
/// tarball build (`jib:build` → `jib:buildTar`, `jib` → `jibBuildTar`), on
/// lines that are not comments (a line continued with `\` takes its goal
/// from the lines it goes on onto); everything else stays as written.
pub fn build_for_the_scan(script: &str) -> String {
    super::continued_lines(script)
        .map(|line| {
            if line.trim_start().starts_with('#') {
                return line.to_owned();
            }
            // Operators and names inside quotes belong to an argument.
            let masked = super::mask_quoted(line);
            let mut out = String::new();
            let mut from = 0;
            for m in BUILD_TOOL.find_iter(&masked) {
                if m.start() < from {
                    continue;
                }
                let end = m.end() + command_at(&masked, m.end()).len();
                let goals = MAVEN_BUILD.replace_all(&line[m.end()..end], "${1}:buildTar");
                out.push_str(&line[from..m.end()]);
                out.push_str(&GRADLE_JIB.replace_all(&goals, "${1}jibBuildTar$2"));
                from = end;
            }
            out.push_str(&line[from..]);
            out
        })
        .collect()
}

/// The shape: `jib:build` / `gradle jib` in `run:` scripts.
pub struct Jib;

impl Shape for Jib {
    fn id(&self) -> &'static str {
        "jib"
    }

    fn label(&self) -> &'static str {
        "jib:build / gradle jib"
    }

    fn push(&self, _job: &Mapping, _step: &Mapping, script: Option<&str>) -> Option<Found> {
        super::find_command(&BUILD_TOOL, pushes, script?)
    }

    fn in_script(&self) -> bool {
        true
    }

    fn several_per_job(&self) -> bool {
        true
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        outputs_read_later(job_id, job, pushes)?;
        tarball::read(&BUILDER, job_id, job, pushes)
    }
}

/// Refuses a job in which a step after the first Jib push reads the files
/// Jib writes beside the image (`jib-image.digest`, `.id`, `.json`).
fn outputs_read_later(job_id: &str, job: &Mapping, pushes: &[Push]) -> Result<(), Unsupported> {
    let first = pushes.first().map_or(0, |p| p.step);
    let reads = gate::steps(job).into_iter().find(|(n, s)| {
        *n > first
            && yaml_serde::to_string(s)
                .ok()
                .is_some_and(|text| JIB_OUTPUTS.is_match(&text))
    });
    match reads {
        Some((step, _)) => Err(Unsupported::new(
            job_id,
            Some(step),
            "this step reads what Jib writes beside the pushed image (`jib-image.digest`, `.id` or `.json`); after the rewrite Jib writes a tarball's, and the push job pushes later, with another digest",
            format!(
                "read the pushed digest from the push job's outputs (`needs.<job>.outputs.digest`), {GATE_BY_HAND}"
            ),
        )),
        None => Ok(()),
    }
}

/// One Jib step, checked: a single Maven or Gradle command that pushes
/// with Jib by naming its goal, on one line, that no command follows and
/// no shell condition guards. Returns the command; else reason and hint.
fn read_one(step: &Mapping) -> Result<BuilderStep, (String, String)> {
    let refuse = |reason: String, hint: &str| Err((reason, hint.to_owned()));
    let run = step.get("run").and_then(Value::as_str).unwrap_or_default();
    let body = gate::shell_body(run);
    // Operators inside quotes or substitutions belong to an argument.
    let masked = super::mask_quoted(&body);
    let commands: Vec<(usize, &str)> = build_commands(&body)
        .into_iter()
        .filter(|(_, command)| pushes(command))
        .collect();
    let [(at, command)] = commands.as_slice() else {
        return refuse(
            "this step runs several Jib builds; scangate gates one Jib image per step".into(),
            &format!("run each Jib build in a step of its own, {GATE_BY_HAND}"),
        );
    };
    let what = gate::one_line(command);
    if !JIB_PUSH.is_match(command) {
        return refuse(
            format!(
                "`{what}`: the build pushes with Jib from a goal bound to a lifecycle phase in the pom; scangate rewrites `jib:build` named on the command line"
            ),
            &format!(
                "name the goal on the command line (`mvn package jib:build`) instead of binding it, {GATE_BY_HAND}"
            ),
        );
    }
    if build_for_the_scan(run) == run {
        return refuse(
            format!(
                "`{what}`: the build tool and Jib's goal are on different lines, so the rewrite cannot turn the goal to `buildTar`"
            ),
            &format!("write the goal on the build tool's line, {GATE_BY_HAND}"),
        );
    }
    if let Some(next) = command_after(&body, &masked, at + command.len()) {
        return refuse(
            format!(
                "`{}` follows `{what}` in the same step; it would now run before the scan",
                next.trim()
            ),
            "move the commands after Jib to a step of their own after it",
        );
    }
    if under_condition(run, &JIB_PUSH) {
        return refuse(
            format!("`{what}` runs only under a shell condition"),
            &format!("move the condition to the step's or the job's `if:`, {GATE_BY_HAND}"),
        );
    }
    let builds_index = check_properties(command)
        .map_err(|(reason, hint)| (format!("`{what}`: {reason}"), hint))?;
    Ok(BuilderStep {
        command: what,
        builds_index,
    })
}

/// Refuses system properties the rewrite cannot keep: a tarball written
/// elsewhere (the record step looks for `jib-image.tar`). Says whether the
/// command builds several platforms, or platforms known only at run time
/// (which no Jib tarball holds: the builder has no index output).
fn check_properties(command: &str) -> Result<bool, (String, String)> {
    let mut several = false;
    for word in super::shell_words(command) {
        let word = word.trim_matches(['"', '\'']);
        let Some((property, value)) = word.strip_prefix("-D").and_then(|p| p.split_once('='))
        else {
            continue;
        };
        match property {
            "jib.outputPaths.tar" => {
                return Err((
                    "`jib.outputPaths.tar` moves the tarball scangate loads for the scan".into(),
                    format!("drop the property, {GATE_BY_HAND}"),
                ));
            }
            "jib.from.platforms" => several |= value.contains(',') || value.contains('$'),
            _ => {}
        }
    }
    Ok(several)
}

#[cfg(test)]
mod tests {
    use super::super::tests::first_verdict as verdict;
    use super::super::{Format, Tool, Unsupported};
    use super::*;

    const HEAD: &str = "    steps:\n      - uses: docker/login-action@v4\n";

    fn job(script: &str) -> String {
        super::super::tests::script_job("jib", HEAD, script)
    }

    fn refused(script: &str) -> Unsupported {
        super::super::tests::refused_script("jib", HEAD, script)
    }

    #[test]
    fn only_the_jib_goal_is_turned_to_the_tarball() {
        // Jib's target on the command line means a push unless a local goal
        // is named (set 15 012: `jib:build` bound to `package` in a profile).
        assert!(pushes("mvn package -Ppublish-image -Djib.to.tags=1"));
        for local in [
            "mvn package com.google.cloud.tools:jib-maven-plugin:3.4.6:buildTar -Djib.to.image=a",
            "mvn jib:dockerBuild -Djib.to.image=a",
            "./gradlew jibBuildTar -Djib.to.tags=1",
        ] {
            assert!(!pushes(local), "{local}");
        }
        for (before, after) in [
            (
                "./gradlew --no-daemon snapshot jib",
                "./gradlew --no-daemon snapshot jibBuildTar",
            ),
            (
                "./gradlew :app:jib --image=x",
                "./gradlew :app:jibBuildTar --image=x",
            ),
            ("gradle jib\n", "gradle jibBuildTar\n"),
            (
                "mvn -B package jib:build -Djib.to.tags=a,b",
                "mvn -B package jib:buildTar -Djib.to.tags=a,b",
            ),
            (
                "./mvnw com.google.cloud.tools:jib-maven-plugin:3.4.6:build",
                "./mvnw com.google.cloud.tools:jib-maven-plugin:3.4.6:buildTar",
            ),
            // Not Jib's: a folder named jib, another command, a comment, a quoted word.
            ("cd jib && ./gradlew jib", "cd jib && ./gradlew jibBuildTar"),
            ("# ./gradlew jib\necho jib", "# ./gradlew jib\necho jib"),
            // A command continued with `\`, its goal lines below (set 16 012).
            (
                "./gradlew \\\n  -Djib.to.image=\"$I\" \\\n  :bot:jib\necho jib\n",
                "./gradlew \\\n  -Djib.to.image=\"$I\" \\\n  :bot:jibBuildTar\necho jib\n",
            ),
            (
                "mvn -B \\\r\n  jib:build\r\n",
                "mvn -B \\\r\n  jib:buildTar\r\n",
            ),
            (
                "./gradlew build \"-Pname=a jib\" jib",
                "./gradlew build \"-Pname=a jib\" jibBuildTar",
            ),
        ] {
            assert_eq!(build_for_the_scan(before), after, "{before}");
        }
        // The tarball build is no push (migrating twice changes nothing).
        for local in [
            "./gradlew :app:jibBuildTar",
            "mvn jib:buildTar",
            "./mvnw jib:dockerBuild",
        ] {
            assert!(
                Jib.push(&Mapping::new(), &Mapping::new(), Some(local))
                    .is_none(),
                "{local}"
            );
        }
    }

    #[test]
    fn a_jib_step_is_one_image() {
        let site = verdict(&job(
            "./gradlew --no-daemon :api:jib -Djib.to.image=ghcr.io/a/api",
        ))
        .unwrap();
        assert_eq!(site.format(), Format::DockerArchive(Tool::Docker));
        assert_eq!(site.images().len(), 1);
        assert_eq!(site.first_step(), 1);
        let two = format!(
            "{}      - id: worker\n        run: mvn jib:build -pl worker\n",
            job("./gradlew jib")
        );
        let images = verdict(&two).unwrap().images();
        assert_eq!(images.len(), 2);
        assert_eq!(images[1].step_id.as_deref(), Some("worker"));
    }

    #[test]
    fn what_the_rewrite_cannot_keep_is_refused_with_its_cause() {
        for (script, cause) in [
            ("./gradlew :a:jib && ./gradlew :b:jib", "several Jib builds"),
            (
                "mvn package -Djib.to.auth.username=u -Djib.to.auth.password=p",
                "bound to a lifecycle phase",
            ),
            // The shell ends the command at the comment; `jib` is another.
            ("./gradlew \\\n  # the image\n  jib", "different lines"),
            ("./gradlew jib\ngit tag v1", "`git tag v1` follows"),
            (
                "if [ -n \"$T\" ]; then\n  ./gradlew jib\nfi",
                "under a shell condition",
            ),
            (
                "mvn jib:build -Djib.outputPaths.tar=out/i.tar",
                "`jib.outputPaths.tar`",
            ),
            (
                "mvn jib:build -Djib.from.platforms=linux/amd64,linux/arm64",
                "several platforms",
            ),
        ] {
            let r = refused(script);
            assert!(r.reason.contains(cause), "{script}: {}", r.reason);
            assert_eq!(r.step, Some(1), "{script}");
            assert!(!r.hint.is_empty(), "{script}");
        }
        // One platform, printing after the build: kept.
        assert!(
            verdict(&job(
                "mvn jib:build -Djib.from.platforms=linux/arm64\necho done"
            ))
            .is_ok()
        );
        // A later step reading what Jib writes beside the image.
        let reads = format!(
            "{}      - run: cat build/jib-image.digest\n",
            job("./gradlew jib")
        );
        let r = verdict(&reads).unwrap_err();
        assert!(r.reason.contains("jib-image.digest"), "{}", r.reason);
        assert_eq!(r.step, Some(2));
        // No login: Jib's own credentials, which nothing after the scan has.
        let own = job("./gradlew jib").replace("      - uses: docker/login-action@v4\n", "");
        let r = verdict(&own).unwrap_err();
        assert!(r.reason.contains("credentials of its own"), "{}", r.reason);
        assert_eq!((r.step, r.cure), (Some(0), None));
    }

    #[test]
    fn credentials_the_step_gives_jib_log_docker_in_for_the_push_in_one_job() {
        let own = |script: &str, env: &str| {
            let steps = format!(
                "jobs:\n  jib:\n    steps:\n      - {env}run: |\n          {}\n",
                script.replace('\n', "\n          ")
            );
            verdict(&steps)
        };
        let step = |yaml: &str| own_login(&yaml_serde::from_str::<Mapping>(yaml).unwrap());
        let auth = "-Djib.to.auth.username=${{ github.actor }} -Djib.to.auth.password=\"$P\"";
        let env = "env:\n          P: ${{ secrets.GITHUB_TOKEN }}\n        ";
        // set 13 022: ghcr.io with the job's token, no docker login.
        let site = own(
            &format!("mvn jib:build -Djib.to.image=ghcr.io/a/b:1 {auth}"),
            env,
        )
        .unwrap();
        let cured = site.refuse_jobs().unwrap();
        assert_eq!(cured.cure, Some(super::super::Cure::OneJob));
        assert!(
            cured.reason.contains("credentials of its command line"),
            "{}",
            cured.reason
        );
        let command_line = StepLogin {
            username: "${{ github.actor }}".into(),
            password: "${{ secrets.GITHUB_TOKEN }}".into(),
            source: "its command line".into(),
        };
        assert_eq!(
            step(&format!(
                "env:\n  P: ${{{{ secrets.GITHUB_TOKEN }}}}\nrun: mvn jib:build -Djib.to.image=ghcr.io/a/b:1 {auth}\n"
            )),
            Some(command_line.clone())
        );
        // The registry comes from the tags at run time: any target will do.
        assert!(own(&format!("./gradlew jib --image=acme/app {auth}"), env).is_ok());
        assert!(own(&format!("mvn jib:build -Djib.to.image=$IMAGE {auth}"), env).is_ok());
        // Sets 12 and 14: no flags, the build file reads the step's env.
        let gradle = "run: ./gradlew snapshot jib\nenv:\n  USERNAME: ${{ secrets.DOCKERHUB_USERNAME }}\n  PASSWORD: ${{ secrets.DOCKERHUB_PASSWORD }}\n";
        let login = step(gradle).unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            (
                "${{ secrets.DOCKERHUB_USERNAME }}",
                "${{ secrets.DOCKERHUB_PASSWORD }}"
            )
        );
        assert!(
            login.source.contains("(USERNAME and PASSWORD)"),
            "{}",
            login.source
        );
        let ghcr = "run: ./gradlew jib\nenv:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n  GITHUB_ACTOR: ${{ github.actor }}\n  GITHUB_REPOSITORY: ${{ github.repository }}\n";
        assert_eq!(step(ghcr).unwrap().username, "${{ github.actor }}");
        // No pair to tell, or a password written out: Jib's own credentials.
        for script in [
            "mvn jib:build -Djib.to.image=ghcr.io/a/b -Djib.to.auth.username=me -Djib.to.auth.password=hunter2".to_owned(),
            format!("mvn jib:build -Djib.to.image=ghcr.io/a/b {auth}"),
        ] {
            let r = own(&script, "").unwrap_err();
            assert!(r.reason.contains("credentials of its own"), "{script}: {}", r.reason);
        }
        for env in [
            "run: mvn jib:build\nenv:\n  USER_TOKEN: ${{ secrets.A }}\n",
            "run: mvn jib:build\nenv:\n  USER: me\n  PASSWORD: hunter2\n",
            "run: mvn jib:build\nenv:\n  USER: ${{ github.actor }}\n  TOKEN: ${{ secrets.A }}\n  PASSWORD: ${{ secrets.B }}\n",
            "run: mvn jib:build\nenv:\n  TOKEN: ${{ secrets.A }}\n",
        ] {
            assert_eq!(step(env), None, "{env}");
        }
    }
}
