//! `scangate pins`: the pinned actions, and `--update` through the API.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use scangate::config;
use scangate::files;
use scangate::pins::Pin;
use scangate::pins::update as pin_update;

use super::{ConfigArgs, Format, exit, remote_client};

#[derive(Debug, clap::Args)]
pub(crate) struct PinsArgs {
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

pub(crate) fn run(args: &PinsArgs) -> anyhow::Result<u8> {
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
    let compromised = settings
        .config
        .compromised_tags
        .iter()
        .map(|(action, tags)| (action.to_string(), tags.clone()))
        .collect();
    let resolved = runtime.block_on(pin_update::latest(&client, &settings.pins, &compromised));
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
