//! `scangate policy`: the cluster admission policies for the pushed images.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::ValueEnum;

use scangate::admission::{Inventory, Verifier};
use scangate::files;
use scangate::github::{Client, RepoName};
use scangate::signing::{Identity, SignatureFormat, Signing};

use super::{ConfigArgs, exit, remote_client};

#[derive(Debug, clap::Args)]
pub(crate) struct AdmissionArgs {
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
pub(crate) enum VerifierArg {
    Kyverno,
    PolicyController,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SignatureFormatArg {
    Bundle,
    Legacy,
}

pub(crate) fn run(args: &AdmissionArgs) -> anyhow::Result<u8> {
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
pub(crate) fn local_inventory(args: &AdmissionArgs) -> anyhow::Result<Inventory> {
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
pub(crate) fn remote_inventory(args: &AdmissionArgs) -> anyhow::Result<(Inventory, Client)> {
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
pub(crate) fn origin_repo(path: &Path) -> anyhow::Result<RepoName> {
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
pub(crate) fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}
