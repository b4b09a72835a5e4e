//! `scangate check`: the gate invariants, on local files or through the API.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::ValueEnum;

use scangate::check::finding::{FileCheck, Report};
use scangate::check::output::{self, Format as CheckFormat};
use scangate::check::{Checker, Options, remote};
use scangate::config::Settings;
use scangate::files;
use scangate::github::RepoName;

use super::{ConfigArgs, remote_client};

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Workflow files or repository roots (their .github/workflows/*.yml);
    /// the default is the current folder.
    paths: Vec<PathBuf>,
    /// Check the workflows of OWNER/NAME's default branch through the GitHub
    /// API instead of local files (repeatable). The token comes from
    /// GH_TOKEN, GITHUB_TOKEN or `gh auth token`.
    #[arg(long = "repo", value_name = "OWNER/NAME", conflicts_with = "paths")]
    repos: Vec<RepoName>,
    /// Check every repository of the config's [[repos]] through the API
    /// (with any --repo).
    #[arg(long, conflicts_with = "paths")]
    config_repos: bool,
    /// The GitHub API [default: https://api.github.com] (GitHub Enterprise
    /// Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", conflicts_with = "paths")]
    api_url: Option<String>,
    /// Output format; `github` (annotations) when GITHUB_ACTIONS=true, else `text`.
    #[arg(long, value_enum)]
    format: Option<CheckFormatArg>,
    /// Do not require the actions of gate chains to be pinned by commit SHA.
    #[arg(long)]
    allow_unpinned: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormatArg {
    Text,
    Json,
    Github,
    Sarif,
}

impl From<CheckFormatArg> for CheckFormat {
    fn from(f: CheckFormatArg) -> Self {
        match f {
            CheckFormatArg::Text => CheckFormat::Text,
            CheckFormatArg::Json => CheckFormat::Json,
            CheckFormatArg::Github => CheckFormat::Github,
            CheckFormatArg::Sarif => CheckFormat::Sarif,
        }
    }
}

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let format = args.format.map_or_else(
        || CheckFormat::default_for(std::env::var("GITHUB_ACTIONS").ok().as_deref()),
        CheckFormat::from,
    );
    let options = Options {
        require_pins: !args.allow_unpinned,
    };
    let settings = args.config.load(&args.paths)?;
    let mut repos = args.repos.clone();
    if args.config_repos {
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
    let mut rendered = Vec::new();
    let mut notes = Vec::new();
    let report = if repos.is_empty() {
        let report = check_local(&settings, &options, &args.paths);
        output::render(format, &report, &mut rendered, &mut notes)?;
        report
    } else {
        let (runtime, client) = remote_client(args.api_url.as_deref())?;
        let checker = new_checker(&settings, &options);
        let report = runtime.block_on(remote::check_repos(&checker, &client, &repos));
        output::render(format, &report, &mut rendered, &mut notes)?;
        // Belt and braces: nothing rendered can carry the token, even if a
        // server echoed it into a message or a workflow quoted it.
        rendered = client
            .redact(&String::from_utf8_lossy(&rendered))
            .into_bytes();
        notes = client.redact(&String::from_utf8_lossy(&notes)).into_bytes();
        report
    };
    std::io::stdout()
        .lock()
        .write_all(&rendered)
        .context("writing the report")?;
    std::io::stderr().lock().write_all(&notes)?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        let markdown = output::summary::markdown(&report);
        let written = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&summary)
            .and_then(|mut f| f.write_all(markdown.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "warning: cannot write the step summary to {}: {e}",
                Path::new(&summary).display()
            );
        }
    }
    Ok(report.exit_code())
}

pub(crate) fn check_local(settings: &Settings, options: &Options, paths: &[PathBuf]) -> Report {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut report = Report::default();
    // Expand the arguments first, so that files are checked in parallel but
    // reported in argument order.
    let mut slots: Vec<Result<PathBuf, FileCheck>> = Vec::new();
    for arg in paths {
        match files::workflows(arg) {
            Ok(found) => slots.extend(found.into_iter().map(Ok)),
            Err(e) => slots.push(Err(FileCheck {
                repo: None,
                path: arg.display().to_string(),
                status: scangate::check::finding::FileStatus::Error {
                    message: e.to_string(),
                },
            })),
        }
    }
    let files: Vec<PathBuf> = slots
        .iter()
        .filter_map(|s| s.as_ref().ok().cloned())
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut checked =
        scangate::check::check_paths(&files, threads, || new_checker(settings, options))
            .into_iter();
    for slot in slots {
        match slot {
            Ok(_) => report.files.extend(checked.next()),
            Err(error) => report.files.push(error),
        }
    }
    report
}

pub(crate) fn new_checker(settings: &Settings, options: &Options) -> Checker {
    Checker::new(
        settings.policy.clone(),
        settings.pins.clone(),
        options.clone(),
    )
    .with_templates(settings.templates.clone())
}
