//! `scangate init`: a commented `scangate.toml`, or the drift workflow.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use scangate::check::drift_workflow::{self, ActionRef, DriftWorkflow};
use scangate::config;
use scangate::files;
use scangate::pins::Pins;

#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
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

pub(crate) fn run(args: &InitArgs) -> anyhow::Result<u8> {
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

/// Writes a new file, or replaces one with `force`; never half-written.
pub(crate) fn create(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
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
