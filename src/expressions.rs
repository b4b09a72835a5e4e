//! The `${{ … }}` expressions of a script scangate rewrites, moved out of
//! the script: GitHub pastes an expression's value into the script text
//! before the shell reads it (a template injection, zizmor's
//! `template-injection`), where a shell variable is only ever a value.
//!
//! Why scangate does it at all: it must rewrite the pushing script, and a
//! rewritten script is new text to every scanner. An injection zizmor or
//! code scanning reported on the old text would come back as a new finding
//! of scangate's pull request, in the very step it gates. Moving the
//! expressions to the step's `env:` is zizmor's own fix; scangate applies it
//! only where the shell reads the variable exactly as it read the text
//! (outside single quotes and here-documents), and otherwise leaves the
//! script's expressions as they are.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

/// An expression `${{ … }}`, lazily up to the first `}}`; its inside
/// (trimmed) is group 1. The one pattern every module finds them with.
pub static EXPRESSION: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: a constant pattern, exercised by the tests below.
    Regex::new(r"\$\{\{\s*(.*?)\s*\}\}").expect("static regex")
});
/// A context path (`github.event.inputs.tag`, `steps.meta.outputs.tags`),
/// the only expressions scangate moves: a call or an operator stays.
static PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)+$").expect("static regex")
});

/// `github` context values the runner already exports, under these names.
const DEFAULT_VARIABLES: &[(&str, &str)] = &[
    ("github.action", "GITHUB_ACTION"),
    ("github.actor", "GITHUB_ACTOR"),
    ("github.actor_id", "GITHUB_ACTOR_ID"),
    ("github.base_ref", "GITHUB_BASE_REF"),
    ("github.event_name", "GITHUB_EVENT_NAME"),
    ("github.head_ref", "GITHUB_HEAD_REF"),
    ("github.job", "GITHUB_JOB"),
    ("github.ref", "GITHUB_REF"),
    ("github.ref_name", "GITHUB_REF_NAME"),
    ("github.ref_type", "GITHUB_REF_TYPE"),
    ("github.repository", "GITHUB_REPOSITORY"),
    ("github.repository_id", "GITHUB_REPOSITORY_ID"),
    ("github.repository_owner", "GITHUB_REPOSITORY_OWNER"),
    ("github.run_attempt", "GITHUB_RUN_ATTEMPT"),
    ("github.run_id", "GITHUB_RUN_ID"),
    ("github.run_number", "GITHUB_RUN_NUMBER"),
    ("github.server_url", "GITHUB_SERVER_URL"),
    ("github.sha", "GITHUB_SHA"),
    ("github.triggering_actor", "GITHUB_TRIGGERING_ACTOR"),
    ("github.workflow", "GITHUB_WORKFLOW"),
    ("github.workspace", "GITHUB_WORKSPACE"),
];

/// The expressions of one script, each with the shell variable that stands
/// for it, and the variables the step's `env:` gains.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Moved {
    /// Each expression as written (`${{ github.actor }}`) and its variable
    /// (`${GITHUB_ACTOR}`), in order of first appearance.
    pub replace: Vec<(String, String)>,
    /// New `env:` entries of the step: name and `${{ path }}`.
    pub env: Vec<(String, String)>,
}

impl Moved {
    /// `text` (the script, or the YAML lines that hold it) with every
    /// moved expression replaced by its variable.
    pub fn apply(&self, text: &str) -> String {
        self.replace
            .iter()
            .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
    }

    /// `step` as it is once the expressions moved: its `run:` and `env:`.
    pub fn apply_to_step(&self, step: &mut Mapping) {
        if let Some(Value::String(run)) = step.get_mut("run") {
            *run = self.apply(run);
        }
        if self.env.is_empty() {
            return;
        }
        let env = step
            .entry(Value::String("env".into()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Value::Mapping(env) = env {
            for (name, value) in &self.env {
                env.insert(Value::String(name.clone()), Value::String(value.clone()));
            }
        }
    }
}

/// The expressions of `step`'s `run:` moved to variables, or `None` when
/// none moves: when the shell would read a variable differently than the
/// pasted text somewhere (inside single quotes or a here-document, or a
/// shell that is not bash or sh), or an expression written over lines.
/// Each expression that is not a plain context path, is read otherwise as
/// a variable where it is written, or whose variable's name is taken stays
/// pasted.
pub fn moved(step: &Mapping, inherited: &[&Mapping]) -> Option<Moved> {
    let run = step.get("run").and_then(Value::as_str)?;
    if !EXPRESSION.is_match(run) || !posix_shell(step) {
        return None;
    }
    let places = places(run)?;
    // Each place must belong to the expression it is read with; and one
    // written over several lines reads otherwise in the YAML lines that
    // render edits (their indentation) than in the script.
    let written: Vec<&str> = EXPRESSION.find_iter(run).map(|m| m.as_str()).collect();
    if places.len() != written.len() || written.iter().any(|w| w.contains('\n')) {
        return None;
    }
    let env = step.get("env").and_then(Value::as_mapping);
    let envs: Vec<&Mapping> = env.into_iter().chain(inherited.iter().copied()).collect();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut moved = Moved::default();
    let placed: Vec<(&str, Place)> = written
        .iter()
        .copied()
        .zip(places.iter().copied())
        .collect();
    let found: Vec<(&str, &str, Place)> = EXPRESSION
        .captures_iter(run)
        .zip(places)
        .filter_map(|(c, place)| Some((c.get(0)?.as_str(), c.get(1)?.as_str(), place)))
        .collect();
    // An expression moves where the shell reads it alike everywhere it is
    // written (the edit replaces its text everywhere); the others stay
    // pasted, as they were (set 41 b10: a `${{ secrets.PAT }}` argument of
    // the login beside a release's tag name in the pushes).
    let unmovable: HashSet<&str> = found
        .iter()
        .filter(|(_, path, place)| !PATH.is_match(path) || !reads_alike(path, *place, &envs))
        .map(|(written, ..)| *written)
        .collect();
    for &(written, path, _) in &found {
        if unmovable.contains(written) || moved.replace.iter().any(|(w, _)| w == written) {
            continue;
        }
        let Some(variable) = variable_of(path) else {
            continue;
        };
        // A script that sets the variable itself would read its own value.
        if assigned_in(run, &variable.name)
            || names.get(&variable.name).is_some_and(|other| other != path)
        {
            continue;
        }
        if variable.new && !moved.env.iter().any(|(n, _)| *n == variable.name) {
            let value = format!("${{{{ {path} }}}}");
            let taken = env.and_then(|e| e.get(variable.name.as_str()));
            match taken.and_then(Value::as_str) {
                Some(v) if v == value => {}
                Some(_) => continue,
                None if used_in(run, &variable.name) => continue,
                None => moved.env.push((variable.name.clone(), value)),
            }
        }
        names.insert(variable.name.clone(), path.to_owned());
        // A one-word value that is a word of its own everywhere reads alike
        // quoted, and shellcheck asks for the quotes (SC2086).
        let words_only = placed
            .iter()
            .filter(|(w, _)| *w == written)
            .all(|(_, p)| *p == Place::Word);
        let variable = match words_only && one_word(path, &envs) {
            true => format!("\"${{{}}}\"", variable.name),
            false => format!("${{{}}}", variable.name),
        };
        moved.replace.push((written.to_owned(), variable));
    }
    (!moved.replace.is_empty()).then_some(moved)
}

/// The value an `env.NAME` path reads, as written in the nearest `env:`
/// of `envs` (the step's first).
fn env_literal<'a>(path: &str, envs: &[&'a Mapping]) -> Option<&'a str> {
    let name = path.strip_prefix("env.")?;
    envs.iter()
        .find_map(|e| e.get(name))
        .and_then(Value::as_str)
}

/// Whether the value of `path` is always one word without glob characters:
/// quoting it changes nothing.
fn one_word(path: &str, envs: &[&Mapping]) -> bool {
    if PLAIN_VALUES.contains(&path) || ONE_WORD_VALUES.contains(&path) {
        return true;
    }
    env_literal(path, envs).is_some_and(|v| {
        !v.is_empty()
            && !v.contains("${{")
            && !v.contains(|c: char| c.is_whitespace() || "*?[".contains(c))
    })
}

/// `github` values the shell reads alike pasted or from a variable: ids,
/// numbers and names GitHub restricts to letters, digits and `-_.`
/// (not refs: a branch name may hold `$`, quotes or `;`), and the token
/// GitHub gives the job (`ghs_` and letters and digits; set 24 020 pipes
/// `echo ${{ secrets.GITHUB_TOKEN }}` to a login).
const PLAIN_VALUES: &[&str] = &[
    "secrets.GITHUB_TOKEN",
    "github.token",
    "github.actor",
    "github.actor_id",
    "github.event_name",
    "github.job",
    "github.ref_type",
    "github.repository",
    "github.repository_id",
    "github.repository_owner",
    "github.run_attempt",
    "github.run_id",
    "github.run_number",
    "github.server_url",
    "github.sha",
    "github.triggering_actor",
];

/// Git refs: never several words (a ref holds no whitespace), so a word
/// of their own is one value either way; the characters the shell would
/// read in one (`$`, `;`, quotes) are what template injection is.
const ONE_WORD_VALUES: &[&str] = &[
    "github.base_ref",
    "github.head_ref",
    "github.ref",
    "github.ref_name",
    // A release's tag: a ref name too.
    "github.event.release.tag_name",
];

/// Whether the shell reads `path` at `place` alike as pasted text and as a
/// variable. A value that is plain text does everywhere; an `env:` value
/// written with shell syntax (`$HOME/x`, quotes) is expanded only when
/// pasted, never; a value unknown here is, unless it is a word of its own,
/// where a list of arguments would no longer be split as the shell
/// splits text.
fn reads_alike(path: &str, place: Place, envs: &[&Mapping]) -> bool {
    match env_literal(path, envs) {
        Some(value) if value.contains("${{") => place != Place::Word,
        Some(value) => !value.contains(['$', '`', '"', '\'', '\\']),
        None if PLAIN_VALUES.contains(&path) || ONE_WORD_VALUES.contains(&path) => true,
        None => place != Place::Word,
    }
}

/// The `github` context path of a variable the runner sets
/// (`GITHUB_REPOSITORY` → `github.repository`): a moved expression is read
/// back through it.
pub fn runner_variable(name: &str) -> Option<&'static str> {
    DEFAULT_VARIABLES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(path, _)| *path)
}

/// The shell variable for a context path, and whether the step must set it.
struct Variable {
    name: String,
    new: bool,
}

fn variable_of(path: &str) -> Option<Variable> {
    if let Some((_, name)) = DEFAULT_VARIABLES.iter().find(|(p, _)| *p == path) {
        return Some(Variable {
            name: (*name).to_owned(),
            new: false,
        });
    }
    // `env.NAME` is already a variable of the step (zizmor #1052).
    if let Some(name) = path.strip_prefix("env.") {
        return (!name.contains('.')).then(|| Variable {
            name: name.to_owned(),
            new: false,
        });
    }
    let name: String = path
        .strip_prefix("github.")
        .unwrap_or(path)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    // GitHub reserves the runner's own prefixes.
    (!name.starts_with("GITHUB_") && !name.starts_with("RUNNER_"))
        .then_some(Variable { name, new: true })
}

/// Whether `name` already appears in the script as a variable (read or
/// assigned), which a new `env:` entry of that name would change.
fn used_in(run: &str, name: &str) -> bool {
    let word = |at: usize| {
        run[at + name.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
    };
    run.match_indices(name).any(|(at, _)| {
        let before = run[..at].chars().next_back();
        word(at) && before.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
    })
}

/// Whether the script assigns `name` (`NAME=…`, `export NAME=…`, `for
/// NAME in`, `read … NAME`), after which `${NAME}` is not the context's
/// value any more.
fn assigned_in(run: &str, name: &str) -> bool {
    let escaped = regex::escape(name);
    Regex::new(&format!(
        r"(?m)(?:^|[\s;&|(]){escaped}(?:\[[^\]]*\])?\+?=|\bfor\s+{escaped}\b|\bread\b[^\n;&|]*\s{escaped}\b"
    ))
    // A pattern that does not compile counts as assigned: nothing moves.
    .map_or(true, |assignment| assignment.is_match(run))
}

/// The step runs its script with bash or sh (the default on Linux), where
/// `${NAME}` reads a variable.
fn posix_shell(step: &Mapping) -> bool {
    match step.get("shell").and_then(Value::as_str) {
        None => true,
        Some(shell) => {
            let program = shell.split_whitespace().next().unwrap_or_default();
            matches!(program, "bash" | "sh")
        }
    }
}

/// Where the shell reads an expression of the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Inside double quotes: one word whatever the value.
    Quoted,
    /// Unquoted, joined to other text of its word (`app:${{ x }}`).
    InWord,
    /// Unquoted and a word of its own: a value holding several words,
    /// quotes or `$` (an argument list) reads differently as a variable.
    Word,
    /// In a comment: nothing reads it.
    Comment,
}

/// The place of each expression of `run`, in order, or `None` when one
/// sits where the shell would not expand a `${NAME}` in its place (inside
/// single quotes, `'…'` or `$'…'`, also within a command substitution inside
/// double quotes) or the script has a here-document.
fn places(run: &str) -> Option<Vec<Place>> {
    /// Where the lexer is: a command substitution (`$(…)`, with its open
    /// parentheses; a backtick one has none) starts a context of its own.
    #[derive(Clone, Copy, PartialEq)]
    enum Context {
        Code { parens: usize, backtick: bool },
        Double,
    }
    if run.contains("<<") {
        return None;
    }
    let bytes = run.as_bytes();
    let boundary =
        |b: Option<&u8>| b.is_none_or(|b| b.is_ascii_whitespace() || b";&|()".contains(b));
    let mut stack = vec![Context::Code {
        parens: 0,
        backtick: false,
    }];
    let (mut single, mut comment) = (false, false);
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let (top, depth) = (
            stack.last().copied().unwrap_or(Context::Double),
            stack.len(),
        );
        // Bytes, not `run[i..]`: `i` may sit inside a multi-byte
        // character (`echo "✅ pushed"`, set 20 004), where a `str` slice panics.
        if bytes[i..].starts_with(b"${{") {
            let end = run[i..].find("}}").map_or(run.len(), |at| i + at + 2);
            found.push(match () {
                _ if single => return None,
                _ if comment => Place::Comment,
                _ if top == Context::Double => Place::Quoted,
                _ if boundary(i.checked_sub(1).map(|b| &bytes[b])) && boundary(bytes.get(end)) => {
                    Place::Word
                }
                _ => Place::InWord,
            });
            i = end;
            continue;
        }
        if comment {
            comment = c != b'\n';
        } else if single {
            single = c != b'\'';
        } else if c == b'\\' {
            i += 1;
        } else if bytes[i..].starts_with(b"$(") {
            stack.push(Context::Code {
                parens: 1,
                backtick: false,
            });
            i += 1;
        } else if c == b'`' {
            match top {
                Context::Code { backtick: true, .. } => {
                    stack.pop();
                }
                _ => stack.push(Context::Code {
                    parens: 0,
                    backtick: true,
                }),
            }
        } else if top == Context::Double {
            if c == b'"' {
                stack.pop();
            }
        } else if let Some(Context::Code { parens, backtick }) = stack.last_mut() {
            match c {
                b'"' => stack.push(Context::Double),
                b'\'' => single = true,
                b'(' => *parens += 1,
                b')' if !*backtick && *parens == 1 && depth > 1 => {
                    stack.pop();
                }
                b')' => *parens = parens.saturating_sub(1),
                b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b';' => {
                    comment = true;
                }
                _ => {}
            }
        }
        i += 1;
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml: &str) -> Mapping {
        yaml_serde::from_str(yaml).unwrap()
    }

    #[test]
    fn expressions_become_variables_the_step_sets() {
        let s = step(
            "run: |\n  folder=${{ github.event.inputs.build_folder }}\n  docker push \"ghcr.io/${{ github.actor }}/$folder:${{ env.TAG }}\"\n",
        );
        let m = moved(&s, &[]).unwrap();
        assert_eq!(
            m.replace,
            [
                (
                    "${{ github.event.inputs.build_folder }}".to_owned(),
                    "${EVENT_INPUTS_BUILD_FOLDER}".to_owned()
                ),
                (
                    "${{ github.actor }}".to_owned(),
                    "${GITHUB_ACTOR}".to_owned()
                ),
                ("${{ env.TAG }}".to_owned(), "${TAG}".to_owned()),
            ]
        );
        assert_eq!(
            m.env,
            [(
                "EVENT_INPUTS_BUILD_FOLDER".to_owned(),
                "${{ github.event.inputs.build_folder }}".to_owned()
            )]
        );
        let mut after = s.clone();
        m.apply_to_step(&mut after);
        assert_eq!(
            after.get("run").and_then(Value::as_str),
            Some(
                "folder=${EVENT_INPUTS_BUILD_FOLDER}\ndocker push \"ghcr.io/${GITHUB_ACTOR}/$folder:${TAG}\"\n"
            )
        );
        assert!(after.get("env").is_some());
    }

    #[test]
    fn nothing_moves_where_the_shell_would_read_it_otherwise() {
        // Inside single quotes a variable is not expanded.
        assert_eq!(moved(&step("run: echo '${{ inputs.tag }}'"), &[]), None);
        assert_eq!(moved(&step("run: echo $'${{ inputs.tag }}'"), &[]), None);
        // A here-document may not expand either.
        assert_eq!(
            moved(
                &step("run: |\n  cat <<'EOF'\n  ${{ inputs.tag }}\n  EOF\n"),
                &[]
            ),
            None
        );
        // pwsh reads `$env:NAME`.
        assert_eq!(
            moved(
                &step("shell: pwsh\nrun: docker push ${{ inputs.tag }}"),
                &[]
            ),
            None
        );
        // A call or an operator is not a value scangate can name.
        assert_eq!(
            moved(&step("run: docker push ${{ inputs.tag || 'latest' }}"), &[]),
            None
        );
        // A variable the script sets itself.
        assert_eq!(
            moved(
                &step("run: |\n  TAG=2\n  docker push a:${{ env.TAG }}"),
                &[]
            ),
            None
        );
        assert_eq!(
            moved(
                &step("run: for GITHUB_SHA in a; do docker push a:${{ github.sha }}; done"),
                &[]
            ),
            None
        );
        assert!(moved(&step("run: docker push a:${{ env.TAG }} # TAG == 2"), &[]).is_some());
        // A name the script already uses.
        assert_eq!(
            moved(
                &step("run: INPUTS_TAG=1; docker push ${{ inputs.tag }}"),
                &[]
            ),
            None
        );
        // A name the step's env gives another value.
        assert_eq!(
            moved(
                &step("env:\n  INPUTS_TAG: x\nrun: docker push ${{ inputs.tag }}"),
                &[]
            ),
            None
        );
        // An expression over two lines: nothing moves.
        assert_eq!(
            moved(
                &step("run: |\n  docker push a:${{ github.sha }} b:${{\n  inputs.tag }}\n"),
                &[]
            ),
            None
        );
        // Nothing to move.
        assert_eq!(moved(&step("run: docker push \"$IMAGE\""), &[]), None);
    }

    #[test]
    fn a_word_of_its_own_moves_only_with_a_plain_value() {
        // An argument list from a step output: the shell splits pasted
        // text by its quotes, a variable only by spaces.
        let args = "run: docker buildx build ${{ steps.prepare.outputs.args }} --push .";
        assert_eq!(moved(&step(args), &[]), None);
        // Part of a word, or quoted, it is one value either way.
        assert!(moved(&step("run: docker push a:${{ steps.v.outputs.tag }}"), &[]).is_some());
        assert!(
            moved(
                &step("run: docker push \"${{ steps.v.outputs.ref }}\""),
                &[]
            )
            .is_some()
        );
        // A git ref is one word.
        assert!(
            moved(
                &step("run: ko build --tags \"latest,$(echo ${{ github.ref }} | cut -c11-)\" ."),
                &[]
            )
            .is_some()
        );
        // The runner's ids and names are plain text.
        assert!(
            moved(
                &step("run: echo ${{ github.sha }} ${{ github.repository }}"),
                &[]
            )
            .is_some()
        );
        // An `env:` value written with shell syntax expands only when pasted.
        let job: Mapping = yaml_serde::from_str("DIR: $HOME/x\nIMAGE: ghcr.io/acme/app").unwrap();
        assert_eq!(moved(&step("run: cd \"${{ env.DIR }}\""), &[&job]), None);
        let image = moved(&step("run: docker push ${{ env.IMAGE }}"), &[&job]).unwrap();
        // A word of its own, a one-word value: quoted (shellcheck SC2086).
        assert_eq!(
            image.apply("docker push ${{ env.IMAGE }}"),
            "docker push \"${IMAGE}\""
        );
        // Not quoted where it is also part of a word, or may be several.
        let joined = moved(
            &step("run: docker push ${{ env.IMAGE }} && echo ${{ env.IMAGE }}:1"),
            &[&job],
        )
        .unwrap();
        assert_eq!(joined.replace[0].1, "${IMAGE}");
        let spaced: Mapping = yaml_serde::from_str("ARGS: -a -b").unwrap();
        let split = moved(&step("run: tool ${{ env.ARGS }}"), &[&spaced]).unwrap();
        assert_eq!(split.apply("tool ${{ env.ARGS }}"), "tool ${ARGS}");
        // The step's own value wins over the job's.
        let own = step("env:\n  IMAGE: $REGISTRY/app\nrun: docker push ${{ env.IMAGE }}");
        assert_eq!(moved(&own, &[&job]), None);
        // The job's token is one word too (set 24 020); another secret may
        // be anything.
        let login = "echo ${{ secrets.GITHUB_TOKEN }} | podman login -u x --password-stdin";
        let token = moved(&step(&format!("run: {login}")), &[]).unwrap();
        assert_eq!(
            token.apply(login),
            "echo \"${SECRETS_GITHUB_TOKEN}\" | podman login -u x --password-stdin"
        );
        let pat = "run: echo ${{ secrets.PAT }} | podman login -u x --password-stdin";
        assert_eq!(moved(&step(pat), &[]), None);
    }

    #[test]
    fn each_expression_moves_on_its_own() {
        // Set 41 b10: the login's secret stays pasted, the release's tag
        // (a ref name: one word) moves out of the pushes.
        let run = "run: |\n  docker login -u u -p ${{ secrets.PAT }}\n  docker push a:${{ github.event.release.tag_name }}\n";
        let found = moved(&step(run), &[]).unwrap();
        assert_eq!(
            found.apply("docker login -u u -p ${{ secrets.PAT }} && docker push a:${{ github.event.release.tag_name }}"),
            "docker login -u u -p ${{ secrets.PAT }} && docker push a:${EVENT_RELEASE_TAG_NAME}"
        );
        assert_eq!(
            found.env,
            [(
                "EVENT_RELEASE_TAG_NAME".to_owned(),
                "${{ github.event.release.tag_name }}".to_owned()
            )]
        );
        // Written twice, read otherwise once: it stays pasted everywhere.
        let twice =
            "run: docker push a:${{ steps.v.outputs.tag }} && tool ${{ steps.v.outputs.tag }}";
        assert_eq!(moved(&step(twice), &[]), None);
    }

    #[test]
    fn text_beyond_ascii_is_read_byte_by_byte() {
        // set 20 004: an emoji before a `$` made the lexer slice inside it.
        let run = "run: |\n  docker push r/a:${{ github.sha }}\n  echo \"✅ pushed $(date)\"\n  echo é:${{ github.sha }}\n";
        let found = moved(&step(run), &[]).unwrap();
        assert_eq!(
            found.apply("echo é:${{ github.sha }}"),
            "echo é:${GITHUB_SHA}"
        );
    }

    #[test]
    fn double_quotes_and_comments_are_read_alike() {
        let s = step(
            "run: |\n  # push ${{ inputs.tag }} (it's the release)\n  docker push \"a:${{ inputs.tag }}\" # ${{ inputs.tag }}\n",
        );
        let m = moved(&s, &[]).unwrap();
        assert_eq!(m.env.len(), 1);
        assert_eq!(
            m.apply("docker push \"a:${{ inputs.tag }}\""),
            "docker push \"a:${INPUTS_TAG}\""
        );
        // An apostrophe inside double quotes opens no single quote...
        assert!(moved(&step("run: echo \"it's ${{ inputs.tag }}\""), &[]).is_some());
        assert!(
            moved(
                &step("run: echo \"$(basename \"$(pwd)\") it's\" a:${{ inputs.tag }}"),
                &[]
            )
            .is_some()
        );
        // ... but one inside a command substitution does.
        assert_eq!(
            moved(&step("run: echo \"$(echo '${{ inputs.tag }}')\""), &[]),
            None
        );
        assert_eq!(
            moved(&step("run: echo \"`echo '${{ inputs.tag }}'`\""), &[]),
            None
        );
    }
}
