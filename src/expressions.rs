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

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

/// An expression `${{ … }}`, lazily up to the first `}}`.
static EXPRESSION: LazyLock<Regex> = LazyLock::new(|| {
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

/// The expressions of `step`'s `run:` moved to variables, or `None` when it
/// has none, or when the shell would read a variable differently than the
/// pasted text somewhere (inside single quotes or a here-document, or a
/// shell that is not bash or sh), or when an expression is not a plain
/// context path, or a new variable's name is taken.
pub fn moved(step: &Mapping) -> Option<Moved> {
    let run = step.get("run").and_then(Value::as_str)?;
    if !EXPRESSION.is_match(run) || !posix_shell(step) || !pasted_as_values(run) {
        return None;
    }
    let env = step.get("env").and_then(Value::as_mapping);
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut moved = Moved::default();
    for found in EXPRESSION.captures_iter(run) {
        let (written, path) = (&found[0], &found[1]);
        if moved.replace.iter().any(|(w, _)| w == written) {
            continue;
        }
        if !PATH.is_match(path) {
            return None;
        }
        let variable = variable_of(path)?;
        // A script that sets the variable itself would read its own value.
        if assigned_in(run, &variable.name) {
            return None;
        }
        match names.get(&variable.name) {
            Some(other) if other != path => return None,
            _ => {}
        }
        names.insert(variable.name.clone(), path.to_owned());
        if variable.new && !moved.env.iter().any(|(n, _)| *n == variable.name) {
            let value = format!("${{{{ {path} }}}}");
            let taken = env.and_then(|e| e.get(variable.name.as_str()));
            match taken.and_then(Value::as_str) {
                Some(v) if v == value => {}
                Some(_) => return None,
                None if used_in(run, &variable.name) => return None,
                None => moved.env.push((variable.name.clone(), value)),
            }
        }
        moved
            .replace
            .push((written.to_owned(), format!("${{{}}}", variable.name)));
    }
    Some(moved)
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

/// Whether every expression of `run` sits where the shell expands a
/// `${NAME}` in its place: unquoted or inside double quotes (or in a
/// comment), never inside single quotes (`'…'`, `$'…'`, also within a
/// command substitution inside double quotes) and with no here-document in
/// the script at all.
fn pasted_as_values(run: &str) -> bool {
    /// Where the lexer is: a command substitution (`$(…)`, with its open
    /// parentheses; a backtick one has none) starts a context of its own.
    #[derive(Clone, Copy, PartialEq)]
    enum Context {
        Code { parens: usize, backtick: bool },
        Double,
    }
    if run.contains("<<") {
        return false;
    }
    let bytes = run.as_bytes();
    let mut stack = vec![Context::Code {
        parens: 0,
        backtick: false,
    }];
    let (mut single, mut comment) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let (top, depth) = (
            stack.last().copied().unwrap_or(Context::Double),
            stack.len(),
        );
        if comment {
            comment = c != b'\n';
        } else if single {
            if run[i..].starts_with("${{") {
                return false;
            }
            single = c != b'\'';
        } else if c == b'\\' {
            i += 1;
        } else if run[i..].starts_with("$(") {
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
    true
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
        let m = moved(&s).unwrap();
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
        assert_eq!(moved(&step("run: echo '${{ inputs.tag }}'")), None);
        assert_eq!(moved(&step("run: echo $'${{ inputs.tag }}'")), None);
        // A here-document may not expand either.
        assert_eq!(
            moved(&step("run: |\n  cat <<'EOF'\n  ${{ inputs.tag }}\n  EOF\n")),
            None
        );
        // pwsh reads `$env:NAME`.
        assert_eq!(
            moved(&step("shell: pwsh\nrun: docker push ${{ inputs.tag }}")),
            None
        );
        // A call or an operator is not a value scangate can name.
        assert_eq!(
            moved(&step("run: docker push ${{ inputs.tag || 'latest' }}")),
            None
        );
        // A variable the script sets itself.
        assert_eq!(
            moved(&step("run: |\n  TAG=2\n  docker push a:${{ env.TAG }}")),
            None
        );
        assert_eq!(
            moved(&step(
                "run: for GITHUB_SHA in a; do docker push a:${{ github.sha }}; done"
            )),
            None
        );
        assert!(moved(&step("run: docker push a:${{ env.TAG }} # TAG == 2")).is_some());
        // A name the script already uses.
        assert_eq!(
            moved(&step("run: INPUTS_TAG=1; docker push ${{ inputs.tag }}")),
            None
        );
        // A name the step's env gives another value.
        assert_eq!(
            moved(&step(
                "env:\n  INPUTS_TAG: x\nrun: docker push ${{ inputs.tag }}"
            )),
            None
        );
        // Nothing to move.
        assert_eq!(moved(&step("run: docker push \"$IMAGE\"")), None);
    }

    #[test]
    fn double_quotes_and_comments_are_read_alike() {
        let s = step(
            "run: |\n  # push ${{ inputs.tag }} (it's the release)\n  docker push \"a:${{ inputs.tag }}\" # ${{ inputs.tag }}\n",
        );
        let m = moved(&s).unwrap();
        assert_eq!(m.env.len(), 1);
        assert_eq!(
            m.apply("docker push \"a:${{ inputs.tag }}\""),
            "docker push \"a:${INPUTS_TAG}\""
        );
        // An apostrophe inside double quotes opens no single quote...
        assert!(moved(&step("run: echo \"it's ${{ inputs.tag }}\"")).is_some());
        assert!(
            moved(&step(
                "run: echo \"$(basename \"$(pwd)\") it's\" ${{ inputs.tag }}"
            ))
            .is_some()
        );
        // ... but one inside a command substitution does.
        assert_eq!(
            moved(&step("run: echo \"$(echo '${{ inputs.tag }}')\"")),
            None
        );
        assert_eq!(
            moved(&step("run: echo \"`echo '${{ inputs.tag }}'`\"")),
            None
        );
    }
}
