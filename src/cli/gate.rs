//! `scangate gate IMAGE | --input PATH`: the repository's gate, run on a
//! laptop with the installed `trivy` and the policy's flags — the same
//! verdict CI gives, before pushing anything.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

use super::{ConfigArgs, exit};

#[derive(Debug, clap::Args)]
pub(crate) struct GateArgs {
    /// A local image (`name:tag`, as `docker images` lists it) to scan.
    #[arg(required_unless_present = "input", conflicts_with = "input")]
    image: Option<String>,
    /// Scan an OCI image layout directory or a docker archive (`docker
    /// save` tar) instead, as the CI gate does.
    #[arg(long, value_name = "PATH")]
    input: Option<PathBuf>,
    /// Print the trivy command instead of running it.
    #[arg(long)]
    print: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Where to get Trivy when it is not on PATH.
const INSTALL: &str = "https://trivy.dev/latest/getting-started/installation/";

pub(crate) fn run(args: &GateArgs) -> anyhow::Result<u8> {
    let settings = args.config.load(&[])?;
    let policy = &settings.policy;
    let mut argv: Vec<String> = vec!["image".to_owned()];
    argv.extend(policy.trivy_gate_flags());
    argv.extend([
        "--db-repository".to_owned(),
        policy.db_repositories.clone(),
        "--java-db-repository".to_owned(),
        policy.java_db_repositories.clone(),
    ]);
    match (&args.input, &args.image) {
        (Some(path), _) => {
            argv.push("--input".to_owned());
            argv.push(path.display().to_string());
        }
        (None, Some(image)) => argv.push(image.clone()),
        // clap requires one of the two.
        (None, None) => anyhow::bail!("give an IMAGE or --input PATH"),
    }
    if args.print {
        println!("trivy {}", shell_words(&argv));
        return Ok(0);
    }
    if policy.fail_on_misconfig {
        eprintln!(
            "note: the policy also fails on Dockerfile misconfigurations; CI runs `trivy config --misconfig-scanners dockerfile --severity {} --exit-code 1 <context>` for that, which this command does not",
            policy.severity
        );
    }
    let status = match Command::new("trivy").args(&argv).status() {
        Ok(status) => status,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "error: `trivy` is not on PATH; install Trivy {} (the version the policy pins) from {INSTALL}",
                policy.trivy_version
            );
            return Ok(exit::ERROR);
        }
        Err(e) => return Err(e).context("running trivy"),
    };
    Ok(match status.code() {
        Some(0) => 0,
        Some(1) => {
            eprintln!(
                "the gate fails: findings at {} (see Trivy's table above); CI would not push this image",
                policy.severity
            );
            exit::DIFF
        }
        code => {
            eprintln!(
                "error: trivy failed ({}); no verdict",
                code.map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}"))
            );
            exit::ERROR
        }
    })
}

/// `argv` for a POSIX shell: words with anything but safe characters are
/// single-quoted.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            let safe = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:,=@".contains(c));
            if safe {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
