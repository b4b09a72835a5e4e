//! The one request loop every API call goes through: retries, rate limits,
//! write pacing and redaction.

use std::fmt;
use std::time::Duration;

use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::Token;

/// Where the API is when `--api-url` is not given.
pub const GITHUB_API: &str = "https://api.github.com";

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

/// The most bytes of a JSON or text answer: far above any real one, and a
/// bound on what a misbehaving server can make scangate buffer.
pub const MAX_TEXT_BYTES: u64 = 64 * 1024 * 1024;

/// A final answer with its body as it came.
struct RawReply {
    status: u16,
    body: Vec<u8>,
    scopes: Option<String>,
}

/// One request, before it is sent.
#[derive(Clone, Copy)]
struct Request<'a> {
    method: Method,
    route: &'a str,
    body: Option<&'a serde_json::Value>,
    /// The media type asked for; octocrab's default when `None`.
    accept: Option<&'a str>,
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
    pub(super) retry: Retry,
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

/// `Accept: MEDIA-TYPE`, or `None` for octocrab's default.
fn accept_header(accept: Option<&str>) -> Option<http::HeaderMap> {
    let value = http::HeaderValue::from_str(accept?).ok()?;
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::ACCEPT, value);
    Some(headers)
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

    /// Waits until [`Retry::write_pause`] has passed since the last write
    /// was sent and answered (see [`Client::write_answered`]).
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

    /// Counts the pause from a write's answer, not only from its start: a
    /// slow answer would otherwise eat the pause, and GitHub would see two
    /// writes closer together than [`Retry::write_pause`].
    fn write_answered(&self) {
        let mut last = self
            .last_write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        *last = Some(last.map_or(now, |t| t.max(now)));
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
        let request = Request {
            method,
            route,
            body,
            accept: None,
        };
        let raw = self.exchange(&request, repeat, MAX_TEXT_BYTES).await?;
        let body = String::from_utf8(raw.body)
            .map_err(|_| self.error(format!("{method} {route}: the answer is not UTF-8 text")))?;
        Ok(Reply {
            status: raw.status,
            scopes: raw.scopes,
            body,
        })
    }

    /// GETs `route` as bytes (a zip artifact: GitHub answers with a
    /// redirect to storage, which is followed without the token), reading
    /// at most `cap` bytes: a longer answer is an error, never buffered.
    /// `None` when GitHub answers 404 or 410 (gone, e.g. expired).
    pub async fn bytes(&self, route: &str, cap: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        self.get_bytes(route, None, cap).await
    }

    /// [`Client::bytes`] in the media type `accept`: some endpoints answer
    /// other representations of the same resource by `Accept` (a code
    /// scanning analysis as the SARIF that was uploaded,
    /// `application/sarif+json`).
    pub async fn bytes_as(
        &self,
        route: &str,
        accept: &str,
        cap: u64,
    ) -> Result<Option<Vec<u8>>, RemoteError> {
        self.get_bytes(route, Some(accept), cap).await
    }

    async fn get_bytes(
        &self,
        route: &str,
        accept: Option<&str>,
        cap: u64,
    ) -> Result<Option<Vec<u8>>, RemoteError> {
        let request = Request {
            method: Method::Get,
            route,
            body: None,
            accept,
        };
        let raw = self.exchange(&request, Repeat::Safe, cap).await?;
        match raw.status {
            200..=299 => Ok(Some(raw.body)),
            404 | 410 => Ok(None),
            code => Err(self.error(format!(
                "GET {route}: HTTP {code}: {}",
                message_of(&String::from_utf8_lossy(&raw.body))
            ))),
        }
    }

    /// [`Client::send`] with the answer as bytes, at most `cap` of them.
    async fn exchange(
        &self,
        request: &Request<'_>,
        repeat: Repeat,
        cap: u64,
    ) -> Result<RawReply, RemoteError> {
        let (method, route) = (request.method, request.route);
        let mut backoff = self.retry.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.attempts.max(1);
            if method != Method::Get {
                self.pace_write().await;
            }
            let sent = match method {
                Method::Get => {
                    let headers = accept_header(request.accept);
                    self.gh._get_with_headers(route, headers).await
                }
                Method::Post => self.gh._post(route, request.body).await,
                Method::Patch => self.gh._patch(route, request.body).await,
            };
            if method != Method::Get {
                self.write_answered();
            }
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
            let limit = usize::try_from(cap).unwrap_or(usize::MAX);
            let body = http_body_util::Limited::new(response.into_body(), limit)
                .collect()
                .await
                .map_err(|e| {
                    self.error(format!(
                        "{method} {route}: reading the answer: {e} (at most {cap} bytes are read)"
                    ))
                })?
                .to_bytes()
                .to_vec();
            let code = status.as_u16();
            let reply = RawReply {
                status: code,
                scopes: header("x-oauth-scopes"),
                body,
            };
            if status.is_success() {
                return Ok(reply);
            }
            let message = message_of(&String::from_utf8_lossy(&reply.body));
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
}
