//! The API token: found where `gh` finds it, and never shown.

use std::fmt;

/// An API token. Its `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Token(pub(super) String);

impl Token {
    /// `None` for an empty or blank string.
    pub fn new(token: impl Into<String>) -> Option<Token> {
        let t: String = token.into().trim().to_owned();
        (!t.is_empty()).then_some(Token(t))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Where a token was found, for a message that does not show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    GhToken,
    GithubToken,
    GhCli,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenSource::GhToken => "GH_TOKEN",
            TokenSource::GithubToken => "GITHUB_TOKEN",
            TokenSource::GhCli => "`gh auth token`",
        })
    }
}

/// The token to use, in the order `gh` itself uses: `GH_TOKEN`, then
/// `GITHUB_TOKEN`, then whatever `gh auth token --hostname HOST` prints (the
/// GitHub CLI's stored login, possibly in the OS keyring). `env` reads an
/// environment variable; passed in so that tests need not change the
/// process environment.
pub fn find_token(
    api_url: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Option<(Token, TokenSource)> {
    if let Some(t) = env("GH_TOKEN").and_then(Token::new) {
        return Some((t, TokenSource::GhToken));
    }
    if let Some(t) = env("GITHUB_TOKEN").and_then(Token::new) {
        return Some((t, TokenSource::GithubToken));
    }
    let output = std::process::Command::new("gh")
        .args(["auth", "token", "--hostname", &cli_host(api_url)])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let token = String::from_utf8(output.stdout).ok()?;
    Token::new(token).map(|t| (t, TokenSource::GhCli))
}

/// The host `gh` knows an API URL by: `github.com` for api.github.com, the
/// server's host for GitHub Enterprise (`https://HOST/api/v3`).
pub fn cli_host(api_url: &str) -> String {
    let rest = api_url.split_once("://").map_or(api_url, |(_, rest)| rest);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    match host {
        "api.github.com" => "github.com".to_owned(),
        h => h.strip_prefix("api.").unwrap_or(h).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::GITHUB_API;

    #[test]
    fn hosts_for_gh() {
        assert_eq!(cli_host("https://api.github.com"), "github.com");
        assert_eq!(
            cli_host("https://ghe.example.com/api/v3"),
            "ghe.example.com"
        );
    }

    #[test]
    fn tokens_do_not_print() {
        let t = Token::new("ghp_secret").unwrap();
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert!(Token::new("  ").is_none());
        let env = |k: &str| (k == "GITHUB_TOKEN").then(|| "abc".to_owned());
        let (t, from) = find_token(GITHUB_API, env).unwrap();
        assert_eq!(from, TokenSource::GithubToken);
        assert_eq!(t.0, "abc");
    }
}
