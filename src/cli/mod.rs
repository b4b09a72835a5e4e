//! The commands, one file each: its arguments (a clap struct) and its
//! handler, `run`, which returns the exit code. This is the binary's side:
//! it may use `anyhow`, print, and read the process environment; the
//! library does none of that.

pub(crate) mod check;
pub(crate) mod completions;
pub(crate) mod gate;
pub(crate) mod init;
pub(crate) mod man;
pub(crate) mod migrate;
pub(crate) mod pins;
pub(crate) mod policy;
pub(crate) mod pr;
pub(crate) mod report;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::OnceLock;

use clap::ValueEnum;

use scangate::config::Settings;
use scangate::error::Error;
use scangate::github::{Client, RepoName};

/// Where the policy, pins and templates come from.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConfigArgs {
    /// The config file [default: scangate.toml at the repository root: the
    /// first PATH if it is a folder, else the current folder].
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// A folder of templates that replace the built-in ones of the same name.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
}

impl ConfigArgs {
    pub(crate) fn load(&self, paths: &[PathBuf]) -> Result<Settings, Error> {
        Settings::load(
            self.config.as_deref(),
            self.templates.as_deref(),
            &root(paths),
        )
    }
}

/// The repository the PATH arguments are in: the first if it is a folder,
/// else the current folder.
pub(crate) fn root(paths: &[PathBuf]) -> PathBuf {
    paths
        .first()
        .filter(|p| p.is_dir())
        .map_or_else(|| PathBuf::from("."), Clone::clone)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// `--repo` arguments, followed (with `--config-repos`) by the config's
/// `[[repos]]` not already named.
pub(crate) fn repos_with_config(
    named: &[RepoName],
    config_repos: bool,
    settings: &Settings,
) -> anyhow::Result<Vec<RepoName>> {
    let mut repos = named.to_vec();
    if config_repos {
        if settings.config.repos.is_empty() {
            anyhow::bail!("--config-repos: the config lists no [[repos]]");
        }
        for r in &settings.config.repos {
            let repo = r.repo().map_err(anyhow::Error::msg)?;
            if !repos.contains(&repo) {
                repos.push(repo);
            }
        }
    }
    Ok(repos)
}

/// How much a command says on standard error, beside its result: the
/// `--quiet` and `--verbose` of every command. Set once, by `main`, before
/// the command runs; read wherever a message is printed, as ripgrep does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Verbosity {
    /// Findings and errors only.
    Quiet,
    #[default]
    Normal,
    /// Also what was read and decided.
    Verbose,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();

pub(crate) fn set_verbosity(v: Verbosity) {
    // Set once at start-up; a second call cannot happen and would change nothing.
    let _ = VERBOSITY.set(v);
}

pub(crate) fn verbosity() -> Verbosity {
    VERBOSITY.get().copied().unwrap_or_default()
}

/// A message for a person (what was written, a hint); not under `--quiet`.
pub(crate) fn note(message: &str) {
    if verbosity() != Verbosity::Quiet {
        eprintln!("{message}");
    }
}

/// What was read and decided; only under `--verbose`.
pub(crate) fn detail(message: &str) {
    if verbosity() == Verbosity::Verbose {
        eprintln!("{message}");
    }
}

/// `--verbose`: which config the policy comes from.
pub(crate) fn detail_config(settings: &Settings) {
    detail(&match &settings.path {
        Some(path) => format!("config: {}", path.display()),
        None => "config: no scangate.toml found; the built-in policy".to_owned(),
    });
}

/// Whether to colour: `--color always|never`, else only on a terminal and
/// when `no_color` (the `NO_COLOR` variable, https://no-color.org) is unset
/// or empty.
pub(crate) fn use_color(choice: Color, terminal: bool, no_color: Option<&OsStr>) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && no_color.is_none_or(OsStr::is_empty),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

/// Exit codes shared by every command.
pub(crate) mod exit {
    pub(crate) const DIFF: u8 = 1;
    pub(crate) const ERROR: u8 = 2;
    pub(crate) const REFUSED: u8 = 3;
}

/// A GitHub API client with the token found in the environment, and the
/// runtime to drive it; says so when there is no token.
pub(crate) fn remote_client(
    api_url: Option<&str>,
) -> anyhow::Result<(tokio::runtime::Runtime, Client)> {
    let (runtime, client, token) = scangate::github::connect(api_url)?;
    if token.is_none() {
        note(NO_TOKEN);
    }
    Ok((runtime, client))
}

/// What a command that can run without a token says when it has none.
pub(crate) const NO_TOKEN: &str = "note: no GitHub token (GH_TOKEN, GITHUB_TOKEN or `gh auth token`); public repositories only, at 60 requests an hour";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_the_terminal_and_no_color() {
        let set = Some(OsStr::new("1"));
        assert!(use_color(Color::Auto, true, None));
        assert!(use_color(Color::Auto, true, Some(OsStr::new(""))));
        assert!(!use_color(Color::Auto, true, set));
        assert!(!use_color(Color::Auto, false, None));
        assert!(use_color(Color::Always, false, set));
        assert!(!use_color(Color::Never, true, None));
    }
}
