//! The endpoints `scangate pr` needs beyond reading workflows: the Git Data
//! API (trees, commits, refs), compare, pulls, labels and reviewers.
//!
//! Each write says whether it may be repeated ([`Repeat`]): trees and
//! commits are content-addressed and PATCHes set a value, so a lost answer
//! is sent again; creating a ref or a pull request is never sent blindly
//! twice — a 422 "already exists", a 5xx or a lost answer sends the caller
//! back to reading the state.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Client, Method, RemoteError, Repeat, Reply, RepoName, encode, encode_path, repo_route,
};

/// A commit as the Git Data API returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Commit {
    pub sha: String,
    pub message: String,
    pub tree: Sha,
    #[serde(default)]
    pub parents: Vec<Sha>,
    #[serde(default)]
    pub author: Option<Person>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sha {
    pub sha: String,
}

/// An open pull request.
#[derive(Debug, Clone, Deserialize)]
pub struct Pull {
    pub number: u64,
    pub html_url: String,
    #[serde(default)]
    pub body: Option<String>,
}

/// `GET /compare/{base}...{head}`: the commits on `head` that `base` lacks
/// and the files that differ.
#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    pub ahead_by: usize,
    pub commits: Vec<ComparedCommit>,
    #[serde(default)]
    pub files: Vec<ComparedFile>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComparedCommit {
    pub sha: String,
    pub commit: CommitText,
    /// The GitHub account of the commit's author, when GitHub knows it.
    #[serde(default)]
    pub author: Option<Account>,
}

impl ComparedCommit {
    /// Who wrote the commit, for a person: the git author's name, with the
    /// GitHub login when GitHub links one.
    pub fn author(&self) -> String {
        let name = self.commit.author.as_ref().map(|a| a.name.as_str());
        match (name, &self.author) {
            (Some(n), Some(a)) => format!("{n} (@{})", a.login),
            (Some(n), None) => n.to_owned(),
            (None, Some(a)) => format!("@{}", a.login),
            (None, None) => "an unknown author".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommitText {
    pub message: String,
    #[serde(default)]
    pub author: Option<Person>,
}

/// A git author or committer.
#[derive(Debug, Clone, Deserialize)]
pub struct Person {
    pub name: String,
}

/// A GitHub account.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub login: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComparedFile {
    pub filename: String,
    /// The blob at `head`.
    #[serde(default)]
    pub sha: Option<String>,
}

/// A file for a new tree.
#[derive(Debug, Clone)]
pub struct TreeFile {
    pub path: String,
    pub content: String,
}

/// What a create request found.
#[derive(Debug)]
pub enum Created<T> {
    Done(T),
    /// 422: it exists already (made by someone, or by an earlier try whose
    /// answer was lost).
    Exists(String),
    /// No usable answer (5xx or lost): it may or may not exist now.
    Unknown(String),
}

impl Client {
    /// Creates something that must exist once (a ref, a pull request).
    /// `create` is sent; after a 5xx or a lost answer ([`Created::Unknown`])
    /// `reread` looks at the state, and what it finds is the answer
    /// (`Some`). Only when it proves nothing was made (`None`) is `create`
    /// sent again, after the same back-off as reads, up to
    /// [`Retry::attempts`](super::Retry) tries in all; then the last
    /// `Unknown` comes back. Any other answer (made, 422 "already exists")
    /// is returned as it is.
    pub async fn create_checked<T, C, R>(
        &self,
        mut create: impl FnMut() -> C,
        mut reread: impl FnMut() -> R,
    ) -> Result<Created<T>, RemoteError>
    where
        C: Future<Output = Result<Created<T>, RemoteError>>,
        R: Future<Output = Result<Option<Created<T>>, RemoteError>>,
    {
        let mut backoff = self.retry.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let why = match create().await? {
                Created::Unknown(why) => why,
                answer => return Ok(answer),
            };
            if let Some(found) = reread().await? {
                return Ok(found);
            }
            if attempt >= self.retry.attempts.max(1) {
                return Ok(Created::Unknown(format!(
                    "{why} (after {attempt} attempts)"
                )));
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
}

/// The repository routes, for one repository.
pub struct Repo<'a> {
    pub client: &'a Client,
    pub name: &'a RepoName,
}

fn parse<T: serde::de::DeserializeOwned>(
    client: &Client,
    what: &str,
    reply: &Reply,
) -> Result<T, RemoteError> {
    serde_json::from_str(&reply.body).map_err(|e| {
        RemoteError(client.redact(&format!("{what}: unexpected answer from the API: {e}")))
    })
}

/// GitHub's refusal of a commit that touches `.github/workflows` ("refusing
/// to allow a Personal Access Token to create or update workflow … without
/// `workflow` scope", or "… a GitHub App … without `workflows`
/// permission"), whatever the status code it comes with.
fn refuses_workflows(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("refusing to allow") && m.contains("workflow")
}

impl Repo<'_> {
    fn route(&self, rest: &str) -> String {
        format!("{}{rest}", repo_route(self.name))
    }

    /// A failed write as a message that says what to do.
    fn write_error(&self, what: &str, reply: &Reply) -> RemoteError {
        let message = reply.message();
        let hint = match reply.status {
            401 => " — the token is invalid or expired",
            _ if refuses_workflows(&message) => {
                " — the token may not change workflow files: a classic token needs the `workflow` scope, a fine-grained or app token `Workflows: write`"
            }
            403 | 404 => {
                " — the token may not write here: it needs `Contents: write` and `Pull requests: write` (classic: `repo` and `workflow` scopes)"
            }
            _ => "",
        };
        RemoteError(self.client.redact(&format!(
            "{what} in {}: HTTP {}: {message}{hint}",
            self.name, reply.status
        )))
    }

    async fn write<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        what: &str,
        route: &str,
        body: &Value,
    ) -> Result<T, RemoteError> {
        let reply = self
            .client
            .send(method, &self.route(route), Some(body), Repeat::Safe)
            .await?;
        if (200..300).contains(&reply.status) {
            parse(self.client, what, &reply)
        } else {
            Err(self.write_error(what, &reply))
        }
    }

    async fn create<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        route: &str,
        body: &Value,
    ) -> Result<Created<T>, RemoteError> {
        let reply = match self
            .client
            .send(Method::Post, &self.route(route), Some(body), Repeat::Never)
            .await
        {
            Ok(reply) => reply,
            Err(e) => return Ok(Created::Unknown(e.0)),
        };
        let message = self.client.redact(&reply.message());
        match reply.status {
            200..=299 => parse(self.client, what, &reply).map(Created::Done),
            _ if refuses_workflows(&message) => Err(self.write_error(what, &reply)),
            422 => Ok(Created::Exists(message)),
            500.. => Ok(Created::Unknown(format!(
                "HTTP {}: {message}",
                reply.status
            ))),
            _ => Err(self.write_error(what, &reply)),
        }
    }

    /// The commit a branch points at; `None` when there is no such branch.
    pub async fn branch_head(&self, branch: &str) -> Result<Option<String>, RemoteError> {
        #[derive(Deserialize)]
        struct Ref {
            object: Sha,
        }
        let route = self.route(&format!("/git/ref/heads/{}", encode_path(branch)));
        Ok(self.client.json::<Ref>(&route).await?.map(|r| r.object.sha))
    }

    pub async fn commit(&self, sha: &str) -> Result<Commit, RemoteError> {
        let route = self.route(&format!("/git/commits/{}", encode(sha)));
        self.client
            .json(&route)
            .await?
            .ok_or_else(|| RemoteError(format!("{}: commit {sha} not found", self.name)))
    }

    pub async fn compare(&self, base: &str, head: &str) -> Result<Comparison, RemoteError> {
        let route = self.route(&format!("/compare/{}...{}", encode(base), encode(head)));
        self.client
            .json(&route)
            .await?
            .ok_or_else(|| RemoteError(format!("{}: cannot compare {base}...{head}", self.name)))
    }

    /// The open pull request from `branch` of this repository. The `head`
    /// filter needs the `owner:branch` form: GitHub ignores a bare branch
    /// and lists every open PR.
    pub async fn open_pull(&self, branch: &str) -> Result<Option<Pull>, RemoteError> {
        let head = format!("{}:{branch}", self.name.owner);
        let route = self.route(&format!("/pulls?state=open&head={}", encode(&head)));
        let pulls: Vec<Pull> = self.client.json(&route).await?.unwrap_or_default();
        Ok(pulls.into_iter().next())
    }

    /// A tree: `base` with `files` replaced (mode 100644).
    pub async fn create_tree(&self, base: &str, files: &[TreeFile]) -> Result<String, RemoteError> {
        let tree: Vec<Value> = files
            .iter()
            .map(
                |f| json!({"path": f.path, "mode": "100644", "type": "blob", "content": f.content}),
            )
            .collect();
        let body = json!({"base_tree": base, "tree": tree});
        let made: Sha = self
            .write(Method::Post, "creating the tree", "/git/trees", &body)
            .await?;
        Ok(made.sha)
    }

    pub async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parent: &str,
    ) -> Result<String, RemoteError> {
        let body = json!({"message": message, "tree": tree, "parents": [parent]});
        let made: Sha = self
            .write(Method::Post, "creating the commit", "/git/commits", &body)
            .await?;
        Ok(made.sha)
    }

    pub async fn create_branch(&self, branch: &str, sha: &str) -> Result<Created<()>, RemoteError> {
        let body = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
        Ok(
            match self
                .create::<Value>("creating the branch", "/git/refs", &body)
                .await?
            {
                Created::Done(_) => Created::Done(()),
                Created::Exists(m) => Created::Exists(m),
                Created::Unknown(m) => Created::Unknown(m),
            },
        )
    }

    /// Points `branch` at `sha` even when that is not a fast-forward. The
    /// caller has checked that the branch holds only scangate's commits.
    pub async fn move_branch(&self, branch: &str, sha: &str) -> Result<(), RemoteError> {
        let route = format!("/git/refs/heads/{}", encode_path(branch));
        let body = json!({"sha": sha, "force": true});
        self.write::<Value>(Method::Patch, "updating the branch", &route, &body)
            .await
            .map(drop)
    }

    pub async fn create_pull(
        &self,
        title: &str,
        branch: &str,
        base: &str,
        body: &str,
        draft: bool,
    ) -> Result<Created<Pull>, RemoteError> {
        let body =
            json!({"title": title, "head": branch, "base": base, "body": body, "draft": draft});
        self.create("opening the pull request", "/pulls", &body)
            .await
    }

    pub async fn update_pull(&self, number: u64, fields: &Value) -> Result<(), RemoteError> {
        self.write::<Value>(
            Method::Patch,
            "updating the pull request",
            &format!("/pulls/{number}"),
            fields,
        )
        .await
        .map(drop)
    }

    pub async fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), RemoteError> {
        let body = json!({ "labels": labels });
        self.write::<Value>(
            Method::Post,
            "adding labels",
            &format!("/issues/{number}/labels"),
            &body,
        )
        .await
        .map(drop)
    }

    pub async fn request_reviewers(
        &self,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), RemoteError> {
        let body = json!({ "reviewers": reviewers });
        self.write::<Value>(
            Method::Post,
            "requesting reviewers",
            &format!("/pulls/{number}/requested_reviewers"),
            &body,
        )
        .await
        .map(drop)
    }
}

/// What the token may do, as far as GitHub tells before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScopes {
    /// A classic personal access token or OAuth token with the `workflow`
    /// scope.
    Workflow,
    /// A classic token without it: any commit touching a workflow fails.
    Missing(String),
    /// A fine-grained or GitHub App token: GitHub does not list its
    /// permissions, so the first write to each repository tells.
    Unlisted,
}

/// Asks GitHub what the token may do (`GET /rate_limit`: every kind of
/// token may read it, and it costs no quota). 401 is an error.
pub async fn token_scopes(client: &Client) -> Result<TokenScopes, RemoteError> {
    let reply = client
        .send(Method::Get, "/rate_limit", None, Repeat::Safe)
        .await?;
    if reply.status == 401 {
        return Err(RemoteError(client.redact(&format!(
            "authentication failed (HTTP 401: {}): the token from GH_TOKEN, GITHUB_TOKEN or `gh auth token` is invalid or expired",
            reply.message()
        ))));
    }
    Ok(match reply.scopes {
        None => TokenScopes::Unlisted,
        Some(s) if s.split(',').any(|x| x.trim() == "workflow") => TokenScopes::Workflow,
        Some(s) => TokenScopes::Missing(s.trim().to_owned()),
    })
}
