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

use std::path::PathBuf;

use clap::ValueEnum;

use scangate::config::Settings;
use scangate::error::Error;
use scangate::github::Client;

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
        let root = paths
            .first()
            .filter(|p| p.is_dir())
            .map_or_else(|| PathBuf::from("."), Clone::clone);
        Settings::load(self.config.as_deref(), self.templates.as_deref(), &root)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
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
        eprintln!("{NO_TOKEN}");
    }
    Ok((runtime, client))
}

/// What a command that can run without a token says when it has none.
pub(crate) const NO_TOKEN: &str = "note: no GitHub token (GH_TOKEN, GITHUB_TOKEN or `gh auth token`); public repositories only, at 60 requests an hour";
