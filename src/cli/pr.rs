//! `scangate pr`: one pull request per repository, through the API.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use scangate::config::Settings;
use scangate::github::RepoName;

use super::{ConfigArgs, Format, NO_TOKEN, exit};

#[derive(Debug, clap::Args)]
pub(crate) struct PrArgs {
    /// A repository to migrate (repeatable) [default: the config's
    /// [[repos]]]. The token comes from GH_TOKEN, GITHUB_TOKEN or
    /// `gh auth token`.
    #[arg(long = "repo", value_name = "OWNER/NAME")]
    repos: Vec<RepoName>,
    /// Commit, push the branch and open (or update) the pull requests.
    #[arg(long)]
    apply: bool,
    /// Open the pull requests as drafts.
    #[arg(long)]
    draft: bool,
    /// A label for new pull requests (repeatable).
    #[arg(long = "label", value_name = "NAME")]
    labels: Vec<String>,
    /// A reviewer to request on new pull requests (repeatable).
    #[arg(long = "reviewer", value_name = "LOGIN")]
    reviewers: Vec<String>,
    /// The branch to commit to.
    #[arg(long, default_value = scangate::pr::DEFAULT_BRANCH)]
    branch: String,
    /// Close scangate's open pull request where nothing is left to migrate.
    #[arg(long)]
    close_stale: bool,
    /// The GitHub API [default: https://api.github.com] (GitHub Enterprise
    /// Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Repositories read at the same time (writes are always one at a time).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    concurrency: u16,
    #[command(flatten)]
    config: ConfigArgs,
}

/// The repositories of `--repo`, else of the config's `[[repos]]` (with
/// their workflows, branch, labels and reviewers; flags add to them).
pub(crate) fn pr_targets(
    args: &PrArgs,
    settings: &Settings,
) -> anyhow::Result<Vec<scangate::pr::PrTarget>> {
    use scangate::pr::PrTarget;
    let with_flags = |mut t: PrTarget| {
        t.labels.extend(args.labels.iter().cloned());
        t.reviewers.extend(args.reviewers.iter().cloned());
        t
    };
    if !args.repos.is_empty() {
        return Ok(args
            .repos
            .iter()
            .map(|r| with_flags(PrTarget::new(r.clone())))
            .collect());
    }
    if settings.config.repos.is_empty() {
        anyhow::bail!(
            "no repositories: pass --repo OWNER/NAME, or list them as [[repos]] in scangate.toml (--config PATH)"
        );
    }
    settings
        .config
        .repos
        .iter()
        .map(|r| {
            let repo = r.repo().map_err(anyhow::Error::msg)?;
            Ok(with_flags(PrTarget {
                workflows: (!r.workflows.is_empty()).then(|| r.workflows.clone()),
                branch: r.branch.clone(),
                labels: r.labels.clone(),
                reviewers: r.reviewers.clone(),
                ..PrTarget::new(repo)
            }))
        })
        .collect()
}

pub(crate) fn run(args: &PrArgs) -> anyhow::Result<u8> {
    use scangate::pr::{self, Progress, output};
    let settings = args.config.load(&[])?;
    let migrator = settings.migrator()?;
    let targets = pr_targets(args, &settings)?;
    let (runtime, client, token) = scangate::github::connect(args.api_url.as_deref())?;
    if token.is_none() && !args.apply {
        eprintln!("{NO_TOKEN}");
    }
    let options = pr::Options {
        apply: args.apply,
        draft: args.draft,
        close_stale: args.close_stale,
        branch: args.branch.clone(),
        concurrency: usize::from(args.concurrency),
    };
    let bar = std::io::stderr().is_terminal().then(output::Bar::new);
    let progress: &dyn Progress = bar.as_ref().map_or(&pr::Silent, |b| b);
    let result = runtime.block_on(pr::run(&client, &migrator, &targets, &options, progress));
    if let Some(bar) = &bar {
        bar.finish();
    }
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: {}", client.redact(&e.to_string()));
            return Ok(exit::ERROR);
        }
    };
    let rendered = match args.format {
        Format::Json => serde_json::to_string_pretty(&output::json(&run))? + "\n",
        Format::Text => output::diffs(&run) + &output::table(&run),
    };
    let mut notes = output::problems(&run);
    for note in &run.notes {
        notes.push_str(&format!("note: {note}\n"));
    }
    // As for `check`: nothing printed can carry the token.
    std::io::stdout()
        .lock()
        .write_all(client.redact(&rendered).as_bytes())
        .context("writing the report")?;
    std::io::stderr()
        .lock()
        .write_all(client.redact(&notes).as_bytes())?;
    Ok(run.exit_code())
}
