//! `scangate report`: the arguments, where the input comes from, and where
//! the output goes. The metrics themselves are [`scangate::metrics`].

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use clap::ValueEnum;

use scangate::github::RepoName;
use scangate::metrics::compute::{self, Window};
use scangate::metrics::offline;
use scangate::metrics::render::{self, Format};

/// The window when `--since` is not given: the 90 days up to `--until`,
/// GitHub's longest artifact retention.
const DEFAULT_DAYS: u64 = 90;

#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// A repository to report on (repeatable). The token comes from
    /// GH_TOKEN, GITHUB_TOKEN or `gh auth token`.
    #[arg(long = "repo", value_name = "OWNER/NAME")]
    repos: Vec<RepoName>,
    /// Report on every repository of the config's [[repos]] (with any --repo).
    #[arg(long, conflicts_with = "from")]
    config_repos: bool,
    /// Read the runs, jobs and reports artifacts from DIR instead of the
    /// API (the layout --keep writes: OWNER/NAME/.github/workflows,
    /// OWNER/NAME/runs/RUN/{run,jobs,artifacts}.json and ARTIFACT.zip).
    #[arg(long, value_name = "DIR", conflicts_with = "repos")]
    from: Option<PathBuf>,
    /// First day of the window, UTC, inclusive [default: 90 days before --until].
    #[arg(long, value_name = "YYYY-MM-DD")]
    since: Option<NaiveDate>,
    /// Last day of the window, UTC, inclusive [default: today].
    #[arg(long, value_name = "YYYY-MM-DD")]
    until: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Write the report to FILE (replaced atomically) instead of standard
    /// output; required for html.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    config: super::ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Text,
    Markdown,
    Json,
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Html => Format::Html,
        }
    }
}

pub(crate) fn run(args: &ReportArgs) -> anyhow::Result<u8> {
    let format = Format::from(args.format);
    if format == Format::Html && args.output.is_none() {
        bail!(
            "--format html writes a page: name it with --output FILE (e.g. --output report.html)"
        );
    }
    let until = args.until.unwrap_or_else(|| Utc::now().date_naive());
    let since = match args.since {
        Some(d) => d,
        None => until
            .checked_sub_days(chrono::Days::new(DEFAULT_DAYS))
            .context("--until is too early")?,
    };
    if since > until {
        bail!("--since {since} is after --until {until}: the window is empty");
    }
    let settings = args.config.load(&[])?;
    let window = Window::new(since, until, &settings.policy);
    let inputs = match &args.from {
        Some(dir) => offline::read(dir, &settings.policy)?,
        None => bail!(
            "reading runs through the GitHub API is not built yet; download the runs and use --from DIR"
        ),
    };
    let summary = compute::summarize(&inputs, &window);
    let text = render::render(format, &summary);
    match &args.output {
        Some(path) => scangate::files::write_atomic(path, text.as_bytes())?,
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("writing the report")?,
    }
    Ok(0)
}
