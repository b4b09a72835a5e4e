//! The GitHub API edge of `check --repo owner/name`: the workflows of a
//! repository's default branch, read through the contents API with octocrab.
//!
//! Three decisions shape this module:
//!
//! * **Retries are ours, and bounded.** octocrab's default retry repeats
//!   immediately and without regard to `Retry-After`. Here a request is tried
//!   at most [`Retry::attempts`] times: 5xx and transport errors back off
//!   (1 s, 2 s, 4 s …), a rate limit (429, or 403 with `Retry-After`,
//!   `x-ratelimit-remaining: 0` or a "rate limit" message) waits as long as
//!   GitHub asks — unless that is longer than [`Retry::max_wait`], in which
//!   case the repository fails at once with the wait in the message.
//! * **The token never leaves the `Authorization` header.** It is not
//!   `Debug`-printable, and every message that reaches the user passes
//!   through [`Client::redact`], so even a server echoing it back cannot put
//!   it on a terminal or in a CI log.
//! * **Bytes, not text, come back.** File content is base64-decoded here and
//!   handed to [`Source::from_bytes`], so BOM, line endings and invalid
//!   UTF-8 are treated exactly as for a file on disk.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use octocrab::Octocrab;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::source::{MAX_FILE_BYTES, Source};

/// Where the API is when `--api-url` is not given.
pub const GITHUB_API: &str = "https://api.github.com";
/// The folder whose `*.yml`/`*.yaml` files are a repository's workflows.
pub const WORKFLOWS_DIR: &str = ".github/workflows";

/// An API token. Its `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Token(String);

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

/// `owner/name`, checked to be only characters GitHub allows, so that it
/// cannot change the API path it is put into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl std::str::FromStr for RepoName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match s.split_once('/') {
            Some((owner, name)) if ok(owner) && ok(name) => Ok(RepoName {
                owner: owner.to_owned(),
                name: name.trim_end_matches(".git").to_owned(),
            }),
            _ => Err(format!(
                "`{s}` is not a repository name; write it as OWNER/NAME"
            )),
        }
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// How hard to try a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries per request, the first included.
    pub attempts: u32,
    /// First back-off after a 5xx or a transport error; doubles each time.
    pub backoff: Duration,
    /// The longest wait for a rate limit; a longer `Retry-After` fails.
    pub max_wait: Duration,
    /// The wait for a rate limit that says nothing about how long (GitHub
    /// asks for at least a minute on secondary limits).
    pub unspecified_wait: Duration,
    /// How long to wait for an answer before counting the request as lost.
    pub timeout: Duration,
    /// The pause between two writes (GitHub asks integrations to space
    /// mutating requests by at least a second).
    pub write_pause: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(90),
            unspecified_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(60),
            write_pause: Duration::from_secs(1),
        }
    }
}

/// Why a repository or file could not be read. The text is redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RemoteError(pub String);

/// A repository's workflows as read at its default branch.
#[derive(Debug)]
pub struct RemoteRepo {
    pub default_branch: String,
    /// `(path in the repository, the file or why it could not be read)`,
    /// sorted by path.
    pub files: Vec<(String, Result<Source, String>)>,
}

/// What scangate reads of a repository.
#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    pub default_branch: String,
}

/// `/repos/{owner}/{name}`, encoded.
pub fn repo_route(repo: &RepoName) -> String {
    format!("/repos/{}/{}", encode(&repo.owner), encode(&repo.name))
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    path: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    sha: String,
    #[serde(default)]
    size: u64,
}

#[derive(Deserialize)]
struct FileContent {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    sha: String,
}

#[derive(Deserialize)]
struct Blob {
    content: String,
    #[serde(default)]
    encoding: Option<String>,
}

/// What one response meant.
enum Answer {
    Ok(String),
    NotFound,
}

/// The HTTP methods scangate sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        })
    }
}

/// Whether a request may be sent again after a server error or a lost
/// answer. A rate-limited request is always sent again: GitHub refused it
/// before doing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Sending it twice has the effect of sending it once (reads; PATCHes
    /// that set a value; POSTs of content-addressed git objects).
    Safe,
    /// It creates something (a ref, a pull request): after a 5xx or a lost
    /// answer the caller reads the state again instead.
    Never,
}

/// A final answer from the API (any status below 500 for writes; a 5xx
/// when the request may not be repeated), with the body as text.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// `X-OAuth-Scopes`: present for classic personal access tokens and
    /// OAuth tokens, absent for fine-grained and GitHub App tokens.
    pub scopes: Option<String>,
}

impl Reply {
    /// GitHub's `message` in an error body, or the start of the body.
    pub fn message(&self) -> String {
        message_of(&self.body)
    }
}

/// A GitHub API client, for reading workflows and (for `scangate pr`)
/// writing branches and pull requests.
pub struct Client {
    gh: Octocrab,
    retry: Retry,
    secret: Option<String>,
    /// When the last write was sent: writes are spaced by
    /// [`Retry::write_pause`], as GitHub asks of integrations.
    last_write: std::sync::Mutex<Option<std::time::Instant>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("retry", &self.retry)
            .finish()
    }
}

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes each segment of a `/`-separated path.
pub fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// The `message` of a GitHub error body, or the start of the body.
fn message_of(body: &str) -> String {
    #[derive(Deserialize)]
    struct Message {
        message: String,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    match serde_json::from_str::<Message>(body) {
        // A 422 says "Validation Failed" and puts the reason in `errors`,
        // as objects with a `message` or as plain strings.
        Ok(m) => std::iter::once(m.message)
            .chain(
                m.errors
                    .iter()
                    .filter_map(|d| d.get("message").unwrap_or(d).as_str().map(str::to_owned)),
            )
            .collect::<Vec<_>>()
            .join(": "),
        Err(_) => body.chars().take(200).collect::<String>().trim().to_owned(),
    }
}

/// How long GitHub asks to wait, if the answer is a rate limit: 429, or
/// 403 with `Retry-After`, `x-ratelimit-remaining: 0` or a "rate limit"
/// message (the secondary limits).
fn rate_limit_wait(
    code: u16,
    header: impl Fn(&str) -> Option<String>,
    message: &str,
    unspecified: Duration,
) -> Option<Duration> {
    let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
    let remaining = header("x-ratelimit-remaining");
    let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok());
    let limited = code == 429
        || (code == 403
            && (retry_after.is_some()
                || remaining.as_deref() == Some("0")
                || message.to_ascii_lowercase().contains("rate limit")));
    if !limited {
        return None;
    }
    Some(match (retry_after, reset) {
        (Some(s), _) => Duration::from_secs(s),
        (None, Some(reset)) if remaining.as_deref() == Some("0") => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Duration::from_secs(reset.saturating_sub(now).max(1))
        }
        _ => unspecified,
    })
}

impl Client {
    /// A client for `api_url` (`https://api.github.com`, or
    /// `https://HOST/api/v3` for GitHub Enterprise Server). Call it inside a
    /// Tokio runtime (`Runtime::enter`): octocrab starts its connection
    /// service there.
    pub fn new(api_url: &str, token: Option<Token>, retry: Retry) -> Result<Client, RemoteError> {
        let secret = token.as_ref().map(|t| t.0.clone());
        let mut builder = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| RemoteError(format!("invalid --api-url `{api_url}`: {e}")))?
            .set_connect_timeout(Some(Duration::from_secs(20)))
            .set_read_timeout(Some(retry.timeout))
            .set_write_timeout(Some(retry.timeout));
        if let Some(Token(t)) = token {
            builder = builder.personal_token(t);
        }
        let gh = builder
            .build()
            .map_err(|e| RemoteError(format!("cannot set up the GitHub client: {e}")))?;
        Ok(Client {
            gh,
            retry,
            secret,
            last_write: std::sync::Mutex::new(None),
        })
    }

    /// Whether requests carry a token.
    pub fn has_token(&self) -> bool {
        self.secret.is_some()
    }

    /// `text` without the token in it.
    pub fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(s) if !s.is_empty() => text.replace(s.as_str(), "***"),
            _ => text.to_owned(),
        }
    }

    /// Waits until [`Retry::write_pause`] has passed since the last write.
    async fn pace_write(&self) {
        let wait = {
            let mut last = self
                .last_write
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = std::time::Instant::now();
            let next = last.map_or(now, |t| (t + self.retry.write_pause).max(now));
            *last = Some(next);
            next - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends one request to `route` (relative to the API URL) and returns
    /// its final answer. Rate limits are waited out as GitHub asks (up to
    /// [`Retry::max_wait`]); server errors and lost answers are tried again
    /// with back-off only when `repeat` is [`Repeat::Safe`] — otherwise a
    /// 5xx comes back as the reply and a lost answer as an error, and the
    /// caller reads the state to learn whether the request took effect.
    pub async fn send(
        &self,
        method: Method,
        route: &str,
        body: Option<&serde_json::Value>,
        repeat: Repeat,
    ) -> Result<Reply, RemoteError> {
        let mut backoff = self.retry.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.attempts.max(1);
            if method != Method::Get {
                self.pace_write().await;
            }
            let sent = match method {
                Method::Get => self.gh._get(route).await,
                Method::Post => self.gh._post(route, body).await,
                Method::Patch => self.gh._patch(route, body).await,
            };
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    if last || repeat == Repeat::Never {
                        return Err(self.error(format!(
                            "{method} {route}: {e} (after {attempt} attempt{})",
                            if attempt == 1 { "" } else { "s" }
                        )));
                    }
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    continue;
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let body =
                self.gh.body_to_string(response).await.map_err(|e| {
                    self.error(format!("{method} {route}: reading the answer: {e}"))
                })?;
            let code = status.as_u16();
            let reply = Reply {
                status: code,
                scopes: header("x-oauth-scopes"),
                body,
            };
            if status.is_success() {
                return Ok(reply);
            }
            let message = reply.message();
            if let Some(wait) = rate_limit_wait(code, header, &message, self.retry.unspecified_wait)
            {
                if wait > self.retry.max_wait {
                    return Err(self.error(format!(
                        "{method} {route}: rate limited (HTTP {code}: {message}); GitHub asks to wait {} s, longer than scangate waits ({} s): try again later",
                        wait.as_secs(),
                        self.retry.max_wait.as_secs()
                    )));
                }
                if last {
                    return Err(self.error(format!(
                        "{method} {route}: still rate limited after {attempt} attempts (HTTP {code}: {message})"
                    )));
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.is_server_error() && !last && repeat == Repeat::Safe {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                continue;
            }
            if status.is_server_error() && repeat == Repeat::Safe {
                return Err(self.error(format!(
                    "{method} {route}: HTTP {code}: {message} (after {attempt} attempts)"
                )));
            }
            return Ok(reply);
        }
    }

    /// GETs `route`, retrying as [`Retry`] says; 404 is an answer, other
    /// failures are errors that say what to do.
    async fn get(&self, route: &str) -> Result<Answer, RemoteError> {
        let reply = self.send(Method::Get, route, None, Repeat::Safe).await?;
        let message = reply.message();
        match reply.status {
            200..=299 => Ok(Answer::Ok(reply.body)),
            404 => Ok(Answer::NotFound),
            401 => Err(self.error(format!(
                "authentication failed (HTTP 401: {message}): the token from GH_TOKEN, GITHUB_TOKEN or `gh auth token` is invalid or expired"
            ))),
            403 => Err(self.error(format!(
                "access denied (HTTP 403: {message}): the token needs read access to the repository's contents"
            ))),
            code => Err(self.error(format!("GET {route}: HTTP {code}: {message}"))),
        }
    }

    fn error(&self, text: String) -> RemoteError {
        RemoteError(self.redact(&text))
    }

    /// GETs `route` as JSON; `None` when it is not found.
    pub async fn json<T: DeserializeOwned>(&self, route: &str) -> Result<Option<T>, RemoteError> {
        match self.get(route).await? {
            Answer::NotFound => Ok(None),
            Answer::Ok(body) => serde_json::from_str(&body).map(Some).map_err(|e| {
                self.error(format!("GET {route}: unexpected answer from the API: {e}"))
            }),
        }
    }

    /// The workflows of `repo` at its default branch. A repository without
    /// `.github/workflows` has none; one that does not exist (or that the
    /// token cannot see — GitHub answers 404 to both) is an error.
    pub async fn workflows(&self, repo: &RepoName) -> Result<RemoteRepo, RemoteError> {
        let default_branch = self.repository(repo).await?.default_branch;
        let files = self.workflows_at(repo, &default_branch).await?;
        Ok(RemoteRepo {
            default_branch,
            files,
        })
    }

    /// `GET /repos/{owner}/{name}`; not found is an error that says so.
    pub async fn repository(&self, repo: &RepoName) -> Result<RepoInfo, RemoteError> {
        self.json(&repo_route(repo)).await?.ok_or_else(|| {
            RemoteError(format!(
                "repository {repo} not found (or the token cannot see it)"
            ))
        })
    }

    /// The workflow files of `repo` at `git_ref` (a branch or a commit
    /// SHA), sorted by path; none when `.github/workflows` does not exist.
    pub async fn workflows_at(
        &self,
        repo: &RepoName,
        git_ref: &str,
    ) -> Result<Vec<(String, Result<Source, String>)>, RemoteError> {
        let base = repo_route(repo);
        let at = format!("ref={}", encode(git_ref));
        let listing: Option<serde_json::Value> = self
            .json(&format!("{base}/contents/{WORKFLOWS_DIR}?{at}"))
            .await?;
        let Some(listing) = listing else {
            return Ok(Vec::new());
        };
        let entries: Vec<Entry> = serde_json::from_value(listing)
            .map_err(|_| RemoteError(format!("{repo}: {WORKFLOWS_DIR} is not a folder")))?;
        let mut entries: Vec<Entry> = entries
            .into_iter()
            .filter(|e| e.kind == "file")
            .filter(|e| e.name.ends_with(".yml") || e.name.ends_with(".yaml"))
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let mut files = Vec::new();
        for entry in entries {
            let file = self.file(&base, &at, &entry).await;
            files.push((entry.path, file));
        }
        Ok(files)
    }

    /// One file's bytes as a [`Source`]; large files (the contents API
    /// leaves out content over 1 MB) come from the git blob.
    async fn file(&self, base: &str, at: &str, entry: &Entry) -> Result<Source, String> {
        let path = Path::new(&entry.path);
        if entry.size > MAX_FILE_BYTES as u64 {
            return Err(format!(
                "{}: {} bytes is over the {MAX_FILE_BYTES}-byte limit for a workflow file",
                entry.path, entry.size
            ));
        }
        let route = format!("{base}/contents/{}?{at}", encode_path(&entry.path));
        let content: FileContent = self
            .json(&route)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{}: disappeared while reading", entry.path))?;
        let (text, encoding) = match (content.content, content.encoding) {
            (Some(c), Some(enc)) if enc == "base64" && !(c.is_empty() && entry.size > 0) => {
                (c, enc)
            }
            _ => {
                let sha = if content.sha.is_empty() {
                    &entry.sha
                } else {
                    &content.sha
                };
                let blob: Blob = self
                    .json(&format!("{base}/git/blobs/{}", encode(sha)))
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("{}: its blob was not found", entry.path))?;
                (blob.content, blob.encoding.unwrap_or_default())
            }
        };
        if encoding != "base64" {
            return Err(format!(
                "{}: the API sent the content as `{encoding}`, not base64",
                entry.path
            ));
        }
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| format!("{}: invalid base64 from the API: {e}", entry.path))?;
        Source::from_bytes(path, &bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names_are_checked() {
        let r: RepoName = "acme/model-service".parse().unwrap();
        assert_eq!(r.to_string(), "acme/model-service");
        for bad in ["acme", "acme/", "/x", "a/b/c", "a/..", "a/b?x=1", "a b/c"] {
            assert!(bad.parse::<RepoName>().is_err(), "{bad}");
        }
    }

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
