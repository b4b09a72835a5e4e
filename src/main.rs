//! The `scangate` command line: argument parsing, the terminal, exit codes.
//! Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use scangate::admission::{Inventory, Verifier};
use scangate::check::drift_workflow::{self, ActionRef, DriftWorkflow};
use scangate::check::finding::{FileCheck, RepoCheck, Report};
use scangate::check::output::{self, Format as CheckFormat};
use scangate::check::remote::{self, Client, RepoName, Retry};
use scangate::check::{Checker, Options};
use scangate::config::{self, Settings};
use scangate::error::Error;
use scangate::pins::update as pin_update;
use scangate::pins::{Pin, Pins};
use scangate::report::{self, FileReport, FileStatus, RunReport};
use scangate::signing::{Identity, SignatureFormat, Signing};
use scangate::{Migrator, Outcome, files};

/// Put a Trivy gate between building and pushing container images in GitHub
/// Actions workflows.
#[derive(Debug, Parser)]
#[command(name = "scangate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Split every job that builds and pushes an image into build → Trivy
    /// scan → push. Shows a diff by default; nothing is written without --write.
    Migrate(MigrateArgs),
    /// Prove that every image push is still gated by a Trivy scan (the gate
    /// invariants) and that `migrate` would change nothing. Exit 0: no
    /// drift; 1: drift found; 2: an error (parse, I/O, API).
    Check(CheckArgs),
    /// Set scangate up in a repository: write a commented scangate.toml
    /// (and, with --drift-workflow, the scheduled drift check).
    Init(InitArgs),
    /// Show the actions scangate writes and the commits they are pinned to;
    /// --update resolves each action's latest release through the GitHub API.
    Pins(PinsArgs),
    /// Open the migration as one pull request per repository, through the
    /// GitHub API (no clone). A dry run (diffs and a table) unless --apply.
    /// Exit 0: done; 1: a repository failed or its branch is someone
    /// else's; 2: a global error (token); 3: a workflow needs manual migration.
    Pr(PrArgs),
    /// Print the cluster admission policies that admit only images these
    /// workflows pushed through the gate and signed: one per image, keyless
    /// identity of the workflow on a tag, Trivy vulnerability attestation
    /// without fixable CRITICAL findings. Exit 3 if some pushed image name
    /// is only known at run time (no policy covers it).
    Policy(AdmissionArgs),
}

/// Where the policy, pins and templates come from.
#[derive(Debug, Clone, clap::Args)]
struct ConfigArgs {
    /// The config file [default: scangate.toml at the repository root: the
    /// first PATH if it is a folder, else the current folder].
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// A folder of templates that replace the built-in ones of the same name.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
}

impl ConfigArgs {
    fn load(&self, paths: &[PathBuf]) -> Result<Settings, Error> {
        let root = paths
            .first()
            .filter(|p| p.is_dir())
            .map_or_else(|| PathBuf::from("."), Clone::clone);
        Settings::load(self.config.as_deref(), self.templates.as_deref(), &root)
    }
}

#[derive(Debug, clap::Args)]
struct PrArgs {
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

#[derive(Debug, clap::Args)]
struct AdmissionArgs {
    /// The admission controller the policies are for.
    #[arg(value_enum)]
    verifier: VerifierArg,
    /// Workflow files or repository roots (their .github/workflows/*.yml);
    /// the default is the current folder.
    paths: Vec<PathBuf>,
    /// Read OWNER/NAME's workflows at its default branch through the GitHub
    /// API instead of local files (repeatable).
    #[arg(long = "repo", value_name = "OWNER/NAME", conflicts_with = "paths")]
    repos: Vec<RepoName>,
    /// The GitHub API [default: https://api.github.com].
    #[arg(long, value_name = "URL", requires = "repos")]
    api_url: Option<String>,
    /// The GitHub repository the local PATHs belong to (it names the signing
    /// identity) [default: from the checkout's `origin` remote].
    #[arg(long, value_name = "OWNER/NAME", conflicts_with = "repos")]
    github_repo: Option<RepoName>,
    /// How the workflows store signatures [default: the config's
    /// `[signing] format`, else legacy].
    #[arg(long, value_enum)]
    signature_format: Option<SignatureFormatArg>,
    /// Write one file per policy (DIR/NAME.yaml) instead of printing them.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VerifierArg {
    Kyverno,
    PolicyController,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SignatureFormatArg {
    Bundle,
    Legacy,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
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
enum CheckFormatArg {
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

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Write .github/workflows/scangate-drift.yml instead: `scangate check`
    /// on a schedule, with the findings uploaded to code scanning.
    #[arg(long, requires = "action")]
    drift_workflow: bool,
    /// The scangate action the drift workflow runs, pinned by commit:
    /// OWNER/REPO@<40-hex SHA>.
    #[arg(long, value_name = "OWNER/REPO@SHA", requires = "drift_workflow")]
    action: Option<ActionRef>,
    /// Install this scangate release tag (`cargo install --git … --tag`)
    /// instead of the action's own commit.
    #[arg(long, value_name = "TAG", requires = "drift_workflow")]
    version: Option<String>,
    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
    /// The repository root.
    #[arg(default_value = ".")]
    dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    /// Workflow files or repository roots (their .github/workflows/*.yml).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Write the migrated workflows (each file replaced atomically).
    #[arg(long, conflicts_with = "check")]
    write: bool,
    /// Exit 1 if anything would change (for CI).
    #[arg(long)]
    check: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colour the diff.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Override the config's layout: `jobs` (build → scan → push jobs) or
    /// `steps` (one job).
    #[arg(long, value_enum)]
    layout: Option<LayoutArg>,
    #[command(flatten)]
    config: ConfigArgs,
    /// With --write in a git checkout: commit the changed workflows on a new
    /// branch and switch to it (no push; the files must be clean first).
    #[arg(long, requires = "write")]
    commit: bool,
    /// The branch --commit creates.
    #[arg(long, requires = "commit", default_value = scangate::pr::DEFAULT_BRANCH)]
    branch: String,
    /// Sign and attest the pushed images (cosign keyless, vulnerability
    /// attestation, GitHub artifact attestations); `[signing]` defaults.
    #[arg(long)]
    sign: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LayoutArg {
    Jobs,
    Steps,
}

#[derive(Debug, clap::Args)]
struct PinsArgs {
    /// Resolve each action's latest release to its commit through the GitHub
    /// API and write the result to the config's [pins] (the token comes from
    /// GH_TOKEN, GITHUB_TOKEN or `gh auth token`; optional for public actions).
    #[arg(long)]
    update: bool,
    /// The GitHub API [default: https://api.github.com].
    #[arg(long, value_name = "URL", requires = "update")]
    api_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Exit codes shared by every command.
mod exit {
    pub(crate) const DIFF: u8 = 1;
    pub(crate) const ERROR: u8 = 2;
    pub(crate) const REFUSED: u8 = 3;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Migrate(args) => migrate(&args),
        Command::Check(args) => check(&args),
        Command::Init(args) => init(&args),
        Command::Pins(args) => pins(&args),
        Command::Pr(args) => pr(&args),
        Command::Policy(args) => admission(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn migrate(args: &MigrateArgs) -> anyhow::Result<u8> {
    let mut settings = args.config.load(&args.paths)?;
    if let Some(layout) = args.layout {
        settings.policy.layout.single_job = layout == LayoutArg::Steps;
    }
    if args.sign && settings.policy.signing.is_none() {
        settings.policy.signing = Some(Signing::default());
    }
    let migrator = settings.migrator()?;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let (reports, committed) = if args.commit {
        let (reports, commit) =
            scangate::pr::local::migrate_and_commit(&migrator, &args.paths, &args.branch)?;
        (reports, Some(commit))
    } else {
        (migrate_paths(&migrator, args, color), None)
    };
    let code = exit_code(&reports, args.check);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let run = RunReport {
                schema: report::SCHEMA,
                files: reports,
            };
            serde_json::to_writer_pretty(&mut out, &run).context("writing the JSON report")?;
            writeln!(out)?;
        }
        Format::Text => print_text(&mut out, &reports, args)?,
    }
    if let Some(commit) = committed {
        print_commit(commit.as_ref());
    }
    Ok(code)
}

fn migrate_paths(migrator: &Migrator, args: &MigrateArgs, color: bool) -> Vec<FileReport> {
    let mut reports = Vec::new();
    for arg in &args.paths {
        match files::workflows(arg) {
            Ok(paths) => {
                reports.extend(paths.iter().map(|p| migrate_file(migrator, p, args, color)))
            }
            Err(e) => reports.push(FileReport {
                path: arg.display().to_string(),
                status: FileStatus::Error {
                    message: e.to_string(),
                },
            }),
        }
    }
    reports
}

/// The repositories of `--repo`, else of the config's `[[repos]]` (with
/// their workflows, branch, labels and reviewers; flags add to them).
fn pr_targets(args: &PrArgs, settings: &Settings) -> anyhow::Result<Vec<scangate::pr::PrTarget>> {
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

/// `migrate --write --commit`: the commit made, for a person.
fn print_commit(commit: Option<&scangate::pr::local::LocalCommit>) {
    match commit {
        Some(c) => eprintln!(
            "committed {} on the new branch `{}` ({}); push it with `git push -u origin {}`",
            c.files.join(", "),
            c.branch,
            scangate::pr::decision::short(&c.commit),
            c.branch
        ),
        None => eprintln!("nothing to commit; no branch created"),
    }
}

fn migrate_file(migrator: &Migrator, path: &Path, args: &MigrateArgs, color: bool) -> FileReport {
    let shown = path.display().to_string();
    let status = match run_file(migrator, path, args.write, color) {
        Ok(status) => status,
        Err(e) => FileStatus::Error {
            message: e.to_string(),
        },
    };
    FileReport {
        path: shown,
        status,
    }
}

fn run_file(
    migrator: &Migrator,
    path: &Path,
    write: bool,
    color: bool,
) -> Result<FileStatus, Error> {
    let source = files::read(path)?;
    Ok(match migrator.migrate(&source)? {
        Outcome::Unchanged => FileStatus::Unchanged,
        Outcome::NotAWorkflow(reason) => FileStatus::Skipped { reason },
        Outcome::Refused(refusals) => FileStatus::Refused { refusals },
        Outcome::Migrated { text, jobs } => {
            let diff =
                report::unified_diff(&path.display().to_string(), &source.text, &text, color);
            if write {
                files::write_atomic(path, &source.restore(&text))?;
            }
            FileStatus::Migrated {
                jobs,
                diff,
                written: write,
            }
        }
    })
}

/// Errors win over refusals, refusals over a `--check` diff.
fn exit_code(reports: &[FileReport], check: bool) -> u8 {
    let any = |f: fn(&FileStatus) -> bool| reports.iter().any(|r| f(&r.status));
    if any(|s| matches!(s, FileStatus::Error { .. })) {
        exit::ERROR
    } else if any(|s| matches!(s, FileStatus::Refused { .. })) {
        exit::REFUSED
    } else if check && any(|s| matches!(s, FileStatus::Migrated { .. })) {
        exit::DIFF
    } else {
        0
    }
}

fn print_text(
    out: &mut impl Write,
    reports: &[FileReport],
    args: &MigrateArgs,
) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    let (mut migrated, mut unchanged, mut refused, mut failed) = (0, 0, 0, 0);
    for r in reports {
        match &r.status {
            FileStatus::Migrated {
                jobs,
                diff,
                written,
            } => {
                migrated += 1;
                if !written {
                    write!(out, "{diff}")?;
                }
                let verb = if *written {
                    "migrated"
                } else {
                    "would migrate"
                };
                for job in jobs {
                    writeln!(err, "{verb} {}: {}", r.path, report::job_summary(job))?;
                    write!(err, "{}", report::job_notes(&r.path, job))?;
                }
            }
            FileStatus::Unchanged => unchanged += 1,
            FileStatus::Skipped { reason } => {
                unchanged += 1;
                writeln!(err, "skipped {}: {reason}", r.path)?;
            }
            FileStatus::Refused { refusals } => {
                refused += 1;
                for refusal in refusals {
                    write!(err, "{}", report::refusal_text(&r.path, refusal))?;
                }
            }
            FileStatus::Error { message } => {
                failed += 1;
                writeln!(err, "error: {message}")?;
            }
        }
    }
    if reports.len() < 2 {
        return Ok(());
    }
    let action = if args.write { "migrated" } else { "to migrate" };
    writeln!(
        err,
        "{migrated} file(s) {action}, {unchanged} unchanged, {refused} need manual migration, {failed} error(s)"
    )?;
    Ok(())
}

fn check(args: &CheckArgs) -> anyhow::Result<u8> {
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
        let (report, client) = check_remote(
            &new_checker(&settings, &options),
            &repos,
            args.api_url.as_deref(),
        )?;
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

fn check_local(settings: &Settings, options: &Options, paths: &[PathBuf]) -> Report {
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

fn new_checker(settings: &Settings, options: &Options) -> Checker {
    Checker::new(
        settings.policy.clone(),
        settings.pins.clone(),
        options.clone(),
    )
    .with_templates(settings.templates.clone())
}

/// Reads each repository's workflows through the API, one repository at a
/// time (GitHub asks clients not to make concurrent requests), and checks them.
fn check_remote(
    checker: &Checker,
    repos: &[RepoName],
    api_url: Option<&str>,
) -> anyhow::Result<(Report, Client)> {
    let (runtime, client) = remote_client(api_url)?;
    let mut report = Report::default();
    for repo in repos {
        let name = repo.to_string();
        match runtime.block_on(client.workflows(repo)) {
            Ok(found) => {
                report.repositories.push(RepoCheck {
                    repo: name.clone(),
                    default_branch: Some(found.default_branch),
                    workflows: found.files.len(),
                    error: None,
                });
                for (path, source) in found.files {
                    report.files.push(match source {
                        Ok(source) => checker.check_source(Some(&name), path, &source),
                        Err(message) => FileCheck {
                            repo: Some(name.clone()),
                            path,
                            status: scangate::check::finding::FileStatus::Error { message },
                        },
                    });
                }
            }
            Err(e) => report.repositories.push(RepoCheck {
                repo: name,
                default_branch: None,
                workflows: 0,
                error: Some(e.to_string()),
            }),
        }
    }
    Ok((report, client))
}

/// A GitHub API client with the token found in the environment, and the
/// runtime to drive it.
fn remote_client(api_url: Option<&str>) -> anyhow::Result<(tokio::runtime::Runtime, Client)> {
    let api_url = api_url.unwrap_or(remote::GITHUB_API);
    let token = remote::find_token(api_url, |k| std::env::var(k).ok());
    if token.is_none() {
        eprintln!(
            "note: no GitHub token (GH_TOKEN, GITHUB_TOKEN or `gh auth token`); public repositories only, at 60 requests an hour"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    // octocrab starts its connection service on the current runtime.
    let client = {
        let _entered = runtime.enter();
        Client::new(api_url, token.map(|(t, _)| t), Retry::default())?
    };
    Ok((runtime, client))
}

fn admission(args: &AdmissionArgs) -> anyhow::Result<u8> {
    let settings = args.config.load(&args.paths)?;
    let configured = settings.policy.signing.clone().unwrap_or_default();
    let signing = Signing {
        format: match args.signature_format {
            Some(SignatureFormatArg::Bundle) => SignatureFormat::Bundle,
            Some(SignatureFormatArg::Legacy) => SignatureFormat::Legacy,
            None => configured.format,
        },
        ..configured
    };
    let verifier = match args.verifier {
        VerifierArg::Kyverno => Verifier::Kyverno,
        VerifierArg::PolicyController => Verifier::PolicyController,
    };
    let (inventory, client) = if args.repos.is_empty() {
        (local_inventory(args)?, None)
    } else {
        let (inventory, client) = remote_inventory(args)?;
        (inventory, Some(client))
    };
    // Nothing printed can carry the token, even if a workflow quoted it.
    let redact = |text: &str| {
        client
            .as_ref()
            .map_or_else(|| text.to_owned(), |c| c.redact(text))
    };
    let mut notes = String::new();
    for u in &inventory.unresolved {
        notes.push_str(&format!(
            "{}: job `{}` pushes `{}`: {}; no policy covers it (name the image literally, or write its policy by hand)\n",
            u.path, u.job, u.reference, u.reason
        ));
    }
    if inventory.images().next().is_none() {
        eprint!("{}", redact(&notes));
        anyhow::bail!("no pushed image found in these workflows");
    }
    let renderer = scangate::render::Renderer::new(&settings.pins, settings.templates.clone())?;
    // The cluster asks what the gate asked: no fixable CRITICAL with
    // `ignore-unfixed` (the default), no CRITICAL at all without it.
    let manifests = inventory.manifests(
        &renderer,
        verifier,
        &signing,
        settings.policy.ignore_unfixed,
    )?;
    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for m in &manifests {
            let path = dir.join(format!("{}.yaml", m.name));
            files::write_new_or_atomic(&path, redact(&m.text).as_bytes())?;
            notes.push_str(&format!("wrote {}\n", path.display()));
        }
    } else {
        let text: Vec<&str> = manifests.iter().map(|m| m.text.as_str()).collect();
        print!("{}", redact(&text.join("---\n")));
    }
    for (image, identities) in inventory.images() {
        if let Some(id) = identities.iter().next() {
            notes.push_str(&format!("verify {image} by hand:\n"));
            notes.push_str(&id.verify_commands(&format!("{image}:TAG"), &signing));
        }
    }
    eprint!("{}", redact(&notes));
    Ok(if inventory.unresolved.is_empty() {
        0
    } else {
        exit::REFUSED
    })
}

/// The images of the local PATHs' workflows, signed as their repository.
fn local_inventory(args: &AdmissionArgs) -> anyhow::Result<Inventory> {
    let mut inventory = Inventory::default();
    let default = [PathBuf::from(".")];
    let paths = if args.paths.is_empty() {
        &default[..]
    } else {
        &args.paths
    };
    for arg in paths {
        let repo = match &args.github_repo {
            Some(repo) => repo.clone(),
            None => origin_repo(arg)?,
        };
        for file in files::workflows(arg)? {
            let shown = file.display().to_string();
            let identity = Identity {
                repo: repo.to_string(),
                workflow: file_name(&shown),
            };
            inventory.add(&identity, &shown, &files::read(&file)?)?;
        }
    }
    Ok(inventory)
}

/// The images of each `--repo`'s workflows at its default branch, read
/// through the API one repository at a time.
fn remote_inventory(args: &AdmissionArgs) -> anyhow::Result<(Inventory, Client)> {
    let mut inventory = Inventory::default();
    let (runtime, client) = remote_client(args.api_url.as_deref())?;
    for repo in &args.repos {
        let found = runtime
            .block_on(client.workflows(repo))
            .map_err(|e| anyhow::anyhow!("{repo}: {e}"))?;
        for (path, source) in found.files {
            let source = source.map_err(|e| anyhow::anyhow!("{repo}: {path}: {e}"))?;
            let identity = Identity {
                repo: repo.to_string(),
                workflow: file_name(&path),
            };
            inventory.add(&identity, &format!("{repo}: {path}"), &source)?;
        }
    }
    Ok((inventory, client))
}

/// The GitHub repository of the checkout `path` is in, from its `origin`.
fn origin_repo(path: &Path) -> anyhow::Result<RepoName> {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["remote", "get-url", "origin"])
        .output();
    let url = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => String::new(),
    };
    scangate::admission::github_repo_from_remote(&url).with_context(|| {
        format!(
            "{}: cannot tell its GitHub repository (no github.com `origin` remote); pass --github-repo OWNER/NAME",
            path.display()
        )
    })
}

/// The last component of a `/`-separated path.
fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}

fn init(args: &InitArgs) -> anyhow::Result<u8> {
    let Some(action) = args.action.clone().filter(|_| args.drift_workflow) else {
        let path = args.dir.join(config::FILE_NAME);
        create(&path, config::DEFAULT_TEXT, args.force)?;
        eprintln!(
            "wrote {}: every key at its default, with comments; `scangate migrate` and `scangate check` read it",
            path.display()
        );
        return Ok(0);
    };
    let text = DriftWorkflow {
        action,
        version: args.version.clone(),
    }
    .render(&Pins::embedded())
    .map_err(anyhow::Error::msg)?;
    let path = args.dir.join(drift_workflow::PATH);
    let dir = path.parent().unwrap_or(&args.dir);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    create(&path, &text, args.force)?;
    eprintln!(
        "wrote {}: `scangate check` daily, on workflow changes and on demand, with SARIF to code scanning",
        path.display()
    );
    Ok(0)
}

fn pins(args: &PinsArgs) -> anyhow::Result<u8> {
    let settings = args.config.load(&[])?;
    if !args.update {
        let pins: Vec<&Pin> = settings.pins.iter().collect();
        let mut out = std::io::stdout().lock();
        match args.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, &pins)?;
                writeln!(out)?;
            }
            Format::Text => {
                for p in pins {
                    writeln!(out, "{:<36} {:<10} {}", p.action, p.version, p.sha)?;
                }
            }
        }
        return Ok(0);
    }
    let (runtime, client) = remote_client(args.api_url.as_deref())?;
    let resolved = runtime.block_on(pin_update::latest(
        &client,
        &settings.pins,
        &settings.config.compromised_tags,
    ));
    let path = settings
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(config::FILE_NAME));
    let old = match &settings.path {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => config::DEFAULT_TEXT.to_owned(),
    };
    let new_pins: Vec<Pin> = resolved
        .iter()
        .filter_map(|r| r.after.as_ref().ok().cloned())
        .collect();
    if !new_pins.is_empty() {
        let text = pin_update::write_pins(&old, &new_pins)
            .with_context(|| format!("editing {}", path.display()))?;
        // Read back before writing: the file must still be a valid config.
        scangate::config::Config::parse(&path, &text)?;
        files::write_atomic(&path, text.as_bytes())?;
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let shown = client.redact(&serde_json::to_string_pretty(&resolved)?);
            writeln!(out, "{shown}")?;
        }
        Format::Text => {
            for r in &resolved {
                let line = match &r.after {
                    Ok(p) if *p == r.before => {
                        format!("{:<36} {} (unchanged)", r.action, p.version)
                    }
                    Ok(p) => format!(
                        "{:<36} {} -> {} {}",
                        r.action, r.before.version, p.version, p.sha
                    ),
                    Err(why) => format!("{:<36} kept {}: {why}", r.action, r.before.version),
                };
                writeln!(out, "{}", client.redact(&line))?;
            }
        }
    }
    if new_pins.is_empty() {
        eprintln!("no pin resolved; {} was not written", path.display());
    } else {
        eprintln!("wrote the pins to {}", path.display());
    }
    Ok(if resolved.iter().any(|r| r.after.is_err()) {
        exit::DIFF
    } else {
        0
    })
}

/// Writes a new file, or replaces one with `force`; never half-written.
fn create(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    if path.symlink_metadata().is_ok() && !force {
        anyhow::bail!("{} exists; pass --force to replace it", path.display());
    }
    if force {
        files::write_atomic(path, text.as_bytes())?;
    } else {
        // Written aside, then linked in without replacing a file that
        // appeared meanwhile.
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let mut tmp = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))
            .with_context(|| format!("creating {}", path.display()))?;
        tmp.write_all(text.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        tmp.persist_noclobber(path)
            .with_context(|| format!("creating {}", path.display()))?;
    }
    Ok(())
}

fn pr(args: &PrArgs) -> anyhow::Result<u8> {
    use scangate::pr::{self, Progress, output};
    let settings = args.config.load(&[])?;
    let migrator = settings.migrator()?;
    let targets = pr_targets(args, &settings)?;
    let api_url = args.api_url.as_deref().unwrap_or(remote::GITHUB_API);
    let token = remote::find_token(api_url, |k| std::env::var(k).ok());
    if token.is_none() && !args.apply {
        eprintln!(
            "note: no GitHub token (GH_TOKEN, GITHUB_TOKEN or `gh auth token`); public repositories only, at 60 requests an hour"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    let _entered = runtime.enter();
    let client = Client::new(api_url, token.map(|(t, _)| t), Retry::default())?;
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
