//! `scangate completions SHELL`: the shell's completion script, generated
//! from the same argument definitions the parser uses, so it cannot drift.

use std::io::Write;

use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for. Bash: `source <(scangate completions
    /// bash)` in ~/.bashrc; zsh: write it as `_scangate` into a folder of
    /// your `$fpath`; fish: into ~/.config/fish/completions/scangate.fish.
    #[arg(value_enum)]
    shell: Shell,
}

pub(crate) fn run(args: &CompletionsArgs, mut command: clap::Command) -> anyhow::Result<u8> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "scangate", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(0)
}
