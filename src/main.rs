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
use scangate::error::Error;
use scangate::report::{self, FileReport, FileStatus, RunReport};
use scangate::signing::{Identity, SignatureFormat, Signing};
use scangate::{Migrator, Outcome, files, pins::Pins, policy::Policy};

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
    /// Set scangate up in a repository.
    Init(InitArgs),
    /// Print the cluster admission policies that admit only images these
    /// workflows pushed through the gate and signed: one per image, keyless
    /// identity of the workflow on a tag, Trivy vulnerability attestation
    /// without fixable CRITICAL findings. Exit 3 if some pushed image name
    /// is only known at run time (no policy covers it).
    Policy(AdmissionArgs),
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
    /// How the workflows store signatures (`[signing] format`).
    #[arg(long, value_enum, default_value_t = SignatureFormatArg::Legacy)]
    signature_format: SignatureFormatArg,
    /// Write one file per policy (DIR/NAME.yaml) instead of printing them.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
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
    /// The GitHub API [default: https://api.github.com] (GitHub Enterprise
    /// Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", requires = "repos", conflicts_with = "paths")]
    api_url: Option<String>,
    /// Output format; `github` (annotations) when GITHUB_ACTIONS=true, else `text`.
    #[arg(long, value_enum)]
    format: Option<CheckFormatArg>,
    /// Do not require the actions of gate chains to be pinned by commit SHA.
    #[arg(long)]
    allow_unpinned: bool,
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
    /// Write .github/workflows/scangate-drift.yml: `scangate check` on a
    /// schedule, with the findings uploaded to code scanning.
    #[arg(long, required = true)]
    drift_workflow: bool,
    /// The scangate action the workflow runs, pinned by commit:
    /// OWNER/REPO@<40-hex SHA>.
    #[arg(long, value_name = "OWNER/REPO@SHA")]
    action: ActionRef,
    /// Install this scangate release tag (`cargo install --git … --tag`)
    /// instead of the action's own commit.
    #[arg(long, value_name = "TAG")]
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
    /// Sign and attest the pushed images (cosign keyless, vulnerability
    /// attestation, GitHub artifact attestations); `[signing]` defaults.
    #[arg(long)]
    sign: bool,
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
    let policy = Policy {
        signing: args.sign.then(Signing::default),
        ..Policy::default()
    };
    let migrator = Migrator::new(Pins::embedded(), policy)?;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut reports = Vec::new();
    for arg in &args.paths {
        match files::workflows(arg) {
            Ok(paths) => reports.extend(
                paths
                    .iter()
                    .map(|p| migrate_file(&migrator, p, args, color)),
            ),
            Err(e) => reports.push(FileReport {
                path: arg.display().to_string(),
                status: FileStatus::Error {
                    message: e.to_string(),
                },
            }),
        }
    }
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
    Ok(code)
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
    let mut rendered = Vec::new();
    let mut notes = Vec::new();
    let report = if args.repos.is_empty() {
        let report = check_local(&options, &args.paths);
        output::render(format, &report, &mut rendered, &mut notes)?;
        report
    } else {
        let (report, client) = check_remote(&new_checker(&options), args)?;
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

fn check_local(options: &Options, paths: &[PathBuf]) -> Report {
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
        scangate::check::check_paths(&files, threads, || new_checker(options)).into_iter();
    for slot in slots {
        match slot {
            Ok(_) => report.files.extend(checked.next()),
            Err(error) => report.files.push(error),
        }
    }
    report
}

fn new_checker(options: &Options) -> Checker {
    Checker::new(Policy::default(), Pins::embedded(), options.clone())
}

/// Reads each repository's workflows through the API, one repository at a
/// time (GitHub asks clients not to make concurrent requests), and checks them.
fn check_remote(checker: &Checker, args: &CheckArgs) -> anyhow::Result<(Report, Client)> {
    let (runtime, client) = remote_client(args.api_url.as_deref())?;
    let mut report = Report::default();
    for repo in &args.repos {
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
    let signing = Signing {
        format: match args.signature_format {
            SignatureFormatArg::Bundle => SignatureFormat::Bundle,
            SignatureFormatArg::Legacy => SignatureFormat::Legacy,
        },
        ..Signing::default()
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
    let renderer = scangate::render::Renderer::new(&Pins::embedded())?;
    // The generated gate passes unfixed vulnerabilities (`--ignore-unfixed`).
    let manifests = inventory.manifests(&renderer, verifier, &signing, true)?;
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
    let text = DriftWorkflow {
        action: args.action.clone(),
        version: args.version.clone(),
    }
    .render(&Pins::embedded())
    .map_err(anyhow::Error::msg)?;
    let path = args.dir.join(drift_workflow::PATH);
    let dir = path.parent().unwrap_or(&args.dir);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if path.exists() || path.symlink_metadata().is_ok() {
        if !args.force {
            anyhow::bail!("{} exists; pass --force to replace it", path.display());
        }
        files::write_atomic(&path, text.as_bytes())?;
    } else {
        // `create_new` fails rather than replace a file that appeared since.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "wrote {}: `scangate check` daily, on workflow changes and on demand, with SARIF to code scanning",
        path.display()
    );
    Ok(0)
}
