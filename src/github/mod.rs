//! The one GitHub API client: every command that talks to GitHub (`check
//! --repo`, `pr`, `pins --update`, `policy --repo`) goes through it, and no
//! other module builds one.
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
//! * **A write that creates something is never sent blindly twice.** Each
//!   request says whether it may be repeated ([`Repeat`]); creating a ref or
//!   a pull request is not, and after a 5xx or a lost answer the caller reads
//!   the state again ([`Created::Unknown`]).
//! * **The token never leaves the `Authorization` header.** It is not
//!   `Debug`-printable, and every message that reaches the user passes
//!   through [`Client::redact`], so even a server echoing it back cannot put
//!   it on a terminal or in a CI log.
//!
//! [`client`] is the request loop, [`token`] finds the token, [`name`]
//! names repositories; the typed endpoints are [`contents`] (workflows),
//! [`repo`] (branches, commits, pull requests) and [`releases`] (tags).

pub mod client;
pub mod contents;
pub mod name;
pub mod releases;
pub mod repo;
pub mod token;

pub use client::{Client, GITHUB_API, Method, RemoteError, Repeat, Reply, Retry};
pub use contents::{RemoteRepo, RepoInfo, WORKFLOWS_DIR};
pub use name::{RepoName, encode, encode_path, repo_route};
pub use repo::{Created, Repo};
pub use token::{Token, TokenSource, find_token};

/// A client for `api_url` (default [`GITHUB_API`]) with the token found in
/// the environment (`None` in the second value: no token, public
/// repositories only), and the runtime that drives it: octocrab starts its
/// connection service on the runtime it is built in.
pub fn connect(
    api_url: Option<&str>,
) -> Result<(tokio::runtime::Runtime, Client, Option<TokenSource>), RemoteError> {
    let api_url = api_url.unwrap_or(GITHUB_API);
    let (token, source) = find_token(api_url, |k| std::env::var(k).ok()).unzip();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RemoteError(format!("starting the HTTP runtime: {e}")))?;
    let client = {
        let _entered = runtime.enter();
        Client::new(api_url, token, Retry::default())?
    };
    Ok((runtime, client, source))
}
