//! The *render* stage: new YAML text from the templates in `templates/`,
//! re-indented to the file's measured style, with verbatim slices of the
//! original (moved steps, copied keys) put in where the templates say.
//!
//! Templates are written in one canonical style (two-space mappings,
//! sequences indented under their key, `- ` items); [`reindent`] maps that
//! style onto the file's. Slices are never re-indented unless the file's own
//! indentation differs between the place they came from and the place they
//! go, and then only shifted as a block.

pub mod jobs;

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, Value as TplValue};

use crate::error::Error;
use crate::pins::Pins;
use crate::style::Style;

/// Embeds each file of `templates/` under its name.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// The templates built into the binary, by file name. A test checks that
/// every file in `templates/` is listed.
pub const TEMPLATES: &[(&str, &str)] = templates![
    "build-export.yml",
    "build-outputs.yml",
    "build-record.yml",
    "buildx-prepare.yml",
    "built-digest.yml",
    "call-id.yml",
    "carry-env.yml",
    "carry-run.yml",
    "cluster-image-policy.yml",
    "imagetools-prepare.yml",
    "jib-prepare.yml",
    "jib-record.yml",
    "ko-index-prepare.yml",
    "ko-prepare.yml",
    "kyverno-policy.yml",
    "login.yml",
    "manifest-prepare.yml",
    "oci-layout.yml",
    "permissions.yml",
    "platforms-at-run-time.yml",
    "push-job.yml",
    "push-to-registry-record.yml",
    "scan-job.yml",
    "script-prepare.yml",
    "script-save.yml",
    "setup-buildx.yml",
    "sign-steps.yml",
    "tarball-load.yml",
];

/// A line that the caller replaces with a verbatim slice of the original.
pub const SLICE_MARKER: &str = "#SCANGATE-SLICE:";

/// Templates that replace built-in ones: file name → (where it came from,
/// its text). Only names of built-in templates are accepted, so a typo in a
/// file name is an error rather than a silently ignored override.
#[derive(Debug, Clone, Default)]
pub struct Overrides(BTreeMap<String, (String, String)>);

impl Overrides {
    /// Adds the template `name`, read from `origin` (shown in errors).
    pub fn insert(&mut self, name: &str, origin: String, text: String) -> Result<(), Error> {
        if !TEMPLATES.iter().any(|(n, _)| *n == name) {
            let known: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
            return Err(Error::Template {
                name: origin,
                line: 0,
                message: format!(
                    "not a scangate template name; the templates are: {}",
                    known.join(", ")
                ),
            });
        }
        self.0.insert(name.to_owned(), (origin, text));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Renders templates; holds the parsed templates and the pins they use.
pub struct Renderer {
    env: Environment<'static>,
    pins: Pins,
    /// Template name → the file it came from, for overridden templates.
    origins: BTreeMap<String, String>,
}

impl Renderer {
    /// The built-in templates, replaced by `overrides` where it has one,
    /// with `pins` for `uses("owner/action")`.
    pub fn new(pins: &Pins, overrides: Overrides) -> Result<Self, Error> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .block_delimiters("{%", "%}")
            .variable_delimiters("{=", "=}")
            .comment_delimiters("{##", "##}")
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| template_error("<syntax>", &e))?;
        env.set_syntax(syntax);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let table: BTreeMap<String, String> =
            pins.iter().map(|p| (p.action.clone(), p.uses())).collect();
        env.add_function(
            "uses",
            move |action: String| -> Result<String, minijinja::Error> {
                table.get(&action).cloned().ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("no pin for {action}"),
                    )
                })
            },
        );
        env.add_filter("yaml", |s: String| yaml_scalar(&s));
        env.add_filter("yaml_block", |s: String, indent: usize| {
            yaml_block(&s, indent)
        });
        env.add_filter("flow", |items: Vec<String>| {
            format!("[{}]", items.join(", "))
        });
        let mut origins = BTreeMap::new();
        for (name, source) in TEMPLATES {
            match overrides.0.get(*name) {
                Some((origin, text)) => {
                    env.add_template_owned(*name, text.clone())
                        .map_err(|e| template_error(origin, &e))?;
                    origins.insert((*name).to_owned(), origin.clone());
                }
                None => env
                    .add_template(name, source)
                    .map_err(|e| template_error(name, &e))?,
            }
        }
        Ok(Renderer {
            env,
            pins: pins.clone(),
            origins,
        })
    }

    /// Adds template `name` that a push shape brings (`shape::Shape::templates`).
    pub fn add_template(&mut self, name: &'static str, text: &'static str) -> Result<(), Error> {
        self.env
            .add_template(name, text)
            .map_err(|e| template_error(name, &e))
    }

    /// The pinned `uses:` value for `action`, if the pin table has it.
    pub fn pinned_uses(&self, action: &str) -> Option<String> {
        self.pins
            .iter()
            .find(|p| p.action == action)
            .map(crate::pins::Pin::uses)
    }

    /// Renders template `name` in canonical style.
    pub fn render(&self, name: &str, ctx: &TplValue) -> Result<String, Error> {
        let shown = self.origins.get(name).map_or(name, String::as_str);
        let tpl = self
            .env
            .get_template(name)
            .map_err(|e| template_error(shown, &e))?;
        tpl.render(ctx).map_err(|e| template_error(shown, &e))
    }
}

/// A template value from anything serialisable.
pub fn ser<T: serde::Serialize>(value: &T) -> TplValue {
    TplValue::from(minijinja::value::Serde(value))
}

/// A template error named after `shown`: the built-in name or the file an
/// override came from (minijinja's own name would hide which one failed).
fn template_error(shown: &str, e: &minijinja::Error) -> Error {
    Error::Template {
        name: shown.to_owned(),
        line: e.line().unwrap_or(0),
        message: e
            .detail()
            .map_or_else(|| e.kind().to_string(), str::to_owned),
    }
}

/// `s` as a YAML scalar on one line: plain when that reads back the same,
/// otherwise double-quoted (JSON string syntax is valid YAML).
pub fn yaml_scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
    );
    !reserved
        && !"-?:,[]{}#&*!|>'\"%@`".contains(first)
        && !first.is_whitespace()
        && !s.ends_with(char::is_whitespace)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.chars().any(char::is_control)
        && s.parse::<f64>().is_err()
}

/// `s` as a literal block scalar whose lines sit `indent` columns in (in
/// canonical style), or a one-line scalar when it has one line or when a
/// literal block could not hold it unchanged.
pub fn yaml_block(s: &str, indent: usize) -> String {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let block_safe = body.contains('\n')
        && !body
            .lines()
            .any(|l| l.starts_with([' ', '\t']) || l.ends_with([' ', '\t']))
        && !body.chars().any(|c| c.is_control() && c != '\n');
    if !block_safe || body.ends_with('\n') {
        return yaml_scalar(s);
    }
    let pad = " ".repeat(indent);
    let chomp = if s.ends_with('\n') { "" } else { "-" };
    let mut out = format!("|{chomp}");
    for line in body.lines() {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// One open node while re-indenting: its canonical and target columns.
#[derive(Debug, Clone, Copy)]
struct Frame {
    canonical: usize,
    target: usize,
    in_item: bool,
}

/// Moves canonical-style YAML (`text`, rooted at column 0) to `root` in the
/// file's `style`. `root_in_item` says whether the root is inside a step
/// (nested mappings then use the steps' indentation).
pub fn reindent(text: &str, root: usize, style: &Style, root_in_item: bool) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut stack: Vec<Frame> = Vec::new();
    let mut block: Option<(usize, isize)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start_matches(' ');
        let col = line.len() - trimmed.len();
        if trimmed.is_empty() {
            out.push('\n');
            continue;
        }
        if let Some((key_col, delta)) = block {
            if col > key_col {
                push_line(&mut out, col.saturating_add_signed(delta), trimmed);
                continue;
            }
            block = None;
        }
        while stack.last().is_some_and(|f| f.canonical > col) {
            stack.pop();
        }
        let is_item = trimmed.starts_with("- ")
            || trimmed == "-"
            || trimmed.starts_with("#SCANGATE-SLICE:step:");
        let (target, in_item) = match stack.last() {
            Some(f) if f.canonical == col => {
                let f = *f;
                stack.pop();
                (f.target, f.in_item)
            }
            Some(parent) => {
                let offset = if is_item {
                    style.seq_indent
                } else if parent.in_item {
                    style.step_map_indent
                } else {
                    style.map_indent
                };
                (parent.target + offset, parent.in_item)
            }
            None => (root, root_in_item),
        };
        stack.push(Frame {
            canonical: col,
            target,
            in_item,
        });
        if is_item && !trimmed.starts_with('#') {
            stack.push(Frame {
                canonical: col + 2,
                target: target + style.item_offset,
                in_item: true,
            });
        }
        let mut printed = trimmed.to_owned();
        if is_item && !trimmed.starts_with('#') && trimmed.len() > 2 {
            printed = format!("-{}{}", " ".repeat(style.item_offset - 1), &trimmed[2..]);
        }
        push_line(&mut out, target, &printed);
        if opens_block_scalar(trimmed) {
            let key_col = if is_item { col + 2 } else { col };
            let key_target = if is_item {
                target + style.item_offset
            } else {
                target
            };
            let nested = if in_item || is_item {
                style.step_map_indent
            } else {
                style.map_indent
            };
            let delta = (key_target + nested) as isize - (key_col + 2) as isize;
            block = Some((key_col, delta));
        }
    }
    out
}

fn push_line(out: &mut String, col: usize, text: &str) {
    out.extend(std::iter::repeat_n(' ', col));
    out.push_str(text);
    out.push('\n');
}

/// `key: |`, `key: >-`, `- run: |` and the like.
fn opens_block_scalar(line: &str) -> bool {
    let value = line.rsplit_once(": ").map_or("", |(_, v)| v).trim();
    let value = value.split(" #").next().unwrap_or(value);
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '-' | '+' | '1'..='9'))
}

/// Replaces each marker line `#SCANGATE-SLICE:<name>` with `slices[name]`,
/// shifting the slice as a block when its indentation differs from the
/// marker's. A marker without a slice is a template bug, reported as such.
pub fn fill_slices(text: &str, slices: &BTreeMap<String, Slice>) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let Some(name) = trimmed.strip_prefix(SLICE_MARKER) else {
            out.push_str(line);
            continue;
        };
        let name = name.trim_end();
        let slice = slices.get(name).ok_or_else(|| Error::Template {
            name: "<slices>".into(),
            line: 0,
            message: format!("no slice named {name}"),
        })?;
        let at = line.len() - trimmed.len();
        out.push_str(&shift(&slice.text, at as isize - slice.indent as isize));
    }
    Ok(out)
}

/// A verbatim piece of the original text and the column of its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub text: String,
    pub indent: usize,
}

/// Moves every non-blank line of `text` by `delta` columns.
fn shift(text: &str, delta: isize) -> String {
    if delta == 0 {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            out.push_str(line);
        } else if delta > 0 {
            out.extend(std::iter::repeat_n(' ', delta.unsigned_abs()));
            out.push_str(line);
        } else {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            out.push_str(&line[spaces.min(delta.unsigned_abs())..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &str = "job:\n  runs-on: x\n  steps:\n    - name: a\n      with:\n        k: v\n      run: |\n        echo 1\n          nested\n    - uses: b\n";

    fn style(map: usize, seq: usize, item: usize, step_map: usize) -> Style {
        Style {
            job_column: 2,
            map_indent: map,
            seq_indent: seq,
            item_offset: item,
            step_map_indent: step_map,
            blank_between_steps: false,
            blank_between_jobs: true,
        }
    }

    #[test]
    fn every_template_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
        assert_eq!(on_disk, embedded);
        assert!(Renderer::new(&Pins::embedded(), Overrides::default()).is_ok());
    }

    #[test]
    fn canonical_style_is_unchanged() {
        assert_eq!(reindent(CANONICAL, 0, &style(2, 2, 2, 2), false), CANONICAL);
    }

    #[test]
    fn four_space_indentless_sequences() {
        let out = reindent(CANONICAL, 4, &style(4, 0, 4, 4), false);
        let expected = "    job:\n        runs-on: x\n        steps:\n        -   name: a\n            with:\n                k: v\n            run: |\n                echo 1\n                  nested\n        -   uses: b\n";
        assert_eq!(out, expected);
        let a: yaml_serde::Value = yaml_serde::from_str(CANONICAL).unwrap();
        let b: yaml_serde::Value = yaml_serde::from_str(&out).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn scalars_read_back_the_same() {
        for s in [
            "plain", "on", "a: b", "${{ x }}", "#x", "1.10", "", " lead", "it's",
        ] {
            let y = format!("k: {}\n", yaml_scalar(s));
            let v: yaml_serde::Value = yaml_serde::from_str(&y).unwrap();
            assert_eq!(v.get("k").and_then(|v| v.as_str()), Some(s), "{y}");
        }
        let y = format!("k: {}\n", yaml_block("a\nb:c\n", 2));
        let v: yaml_serde::Value = yaml_serde::from_str(&y).unwrap();
        assert_eq!(v.get("k").and_then(|v| v.as_str()), Some("a\nb:c\n"), "{y}");
    }

    #[test]
    fn slices_are_shifted_as_blocks() {
        let mut slices = BTreeMap::new();
        slices.insert(
            "x".to_owned(),
            Slice {
                text: "  a: |\n    b\n\n".into(),
                indent: 2,
            },
        );
        let out = fill_slices("k:\n    #SCANGATE-SLICE:x\n", &slices).unwrap();
        assert_eq!(out, "k:\n    a: |\n      b\n\n");
    }
}
