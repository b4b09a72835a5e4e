//! `scangate report`: the arguments, where the input comes from, and where
//! the output goes. The metrics themselves are [`scangate::metrics`].

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use clap::ValueEnum;

use scangate::config::Settings;
use scangate::github::{Client, RepoName};
use scangate::metrics::collect::{self, Request};
use scangate::metrics::compute::{self, Window};
use scangate::metrics::model::RepoInput;
use scangate::metrics::offline;
use scangate::metrics::render::{self, Format};
use scangate::pr::Silent;
use scangate::pr::output::Bar;

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
    /// Report on every repository of the organisation (archived ones left out).
    #[arg(long, value_name = "ORG", conflicts_with = "from")]
    org: Option<String>,
    /// The GitHub API [default: https://api.github.com] (GitHub Enterprise
    /// Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", conflicts_with = "from")]
    api_url: Option<String>,
    /// Repositories read at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    concurrency: u16,
    /// Also write every API body and reports artifact read under DIR, in
    /// the layout --from reads (artifacts are kept nowhere else).
    #[arg(long, value_name = "DIR", conflicts_with = "from")]
    keep: Option<PathBuf>,
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
    let (inputs, client) = match &args.from {
        Some(dir) => (offline::read(dir, &settings.policy)?, None),
        None => {
            let (inputs, client) = remote(args, &settings, since, until)?;
            (inputs, Some(client))
        }
    };
    let summary = compute::summarize(&inputs, &window);
    let mut text = render::render(format, &summary);
    if let Some(client) = &client {
        // Nothing printed can carry the token, even if a server echoed it.
        text = client.redact(&text);
    }
    match &args.output {
        Some(path) => scangate::files::write_new_or_atomic(path, text.as_bytes())?,
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("writing the report")?,
    }
    Ok(0)
}

/// The input of the named repositories, read through the API.
fn remote(
    args: &ReportArgs,
    settings: &Settings,
    since: NaiveDate,
    until: NaiveDate,
) -> anyhow::Result<(Vec<RepoInput>, Client)> {
    let (runtime, client) = super::remote_client(args.api_url.as_deref())?;
    let mut repos = super::repos_with_config(&args.repos, args.config_repos, settings)?;
    if let Some(org) = &args.org {
        for repo in runtime.block_on(collect::org_repos(&client, org))? {
            if !repos.contains(&repo) {
                repos.push(repo);
            }
        }
    }
    if repos.is_empty() {
        bail!("name the repositories: --repo OWNER/NAME, --config-repos, --org ORG, or --from DIR");
    }
    let request = Request {
        policy: &settings.policy,
        since,
        until,
        concurrency: usize::from(args.concurrency),
        keep: args.keep.clone(),
    };
    let inputs = if std::io::stderr().is_terminal() {
        let bar = Bar::new();
        let inputs = runtime.block_on(collect::collect(&client, &repos, &request, &bar));
        bar.finish();
        inputs
    } else {
        runtime.block_on(collect::collect(&client, &repos, &request, &Silent))
    };
    Ok((inputs, client))
}
