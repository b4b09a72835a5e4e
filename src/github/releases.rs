//! Releases and tags, for resolving an action's latest release to the
//! commit its tag points at.

use serde::Deserialize;

use super::{Client, RemoteError, RepoName, encode, repo_route};

/// A git object as a ref or an annotated tag names it.
#[derive(Debug, Clone, Deserialize)]
pub struct GitObject {
    /// `commit`, `tag` (an annotated tag, itself pointing further), …
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
}

#[derive(Deserialize)]
struct Release {
    tag_name: String,
}

/// A ref and an annotated tag have the same shape where it matters.
#[derive(Deserialize)]
struct Pointer {
    object: GitObject,
}

impl Client {
    /// The tag of `repo`'s latest release; `None` when it has none (or the
    /// token cannot see it).
    pub async fn latest_release_tag(&self, repo: &RepoName) -> Result<Option<String>, RemoteError> {
        let route = format!("{}/releases/latest", repo_route(repo));
        Ok(self.json::<Release>(&route).await?.map(|r| r.tag_name))
    }

    /// What `refs/tags/TAG` points at; `None` when there is no such tag.
    pub async fn tag_ref(
        &self,
        repo: &RepoName,
        tag: &str,
    ) -> Result<Option<GitObject>, RemoteError> {
        self.pointer(&format!(
            "{}/git/ref/tags/{}",
            repo_route(repo),
            encode(tag)
        ))
        .await
    }

    /// What the annotated tag object `sha` points at; `None` when missing.
    pub async fn tag_object(
        &self,
        repo: &RepoName,
        sha: &str,
    ) -> Result<Option<GitObject>, RemoteError> {
        self.pointer(&format!("{}/git/tags/{}", repo_route(repo), encode(sha)))
            .await
    }

    async fn pointer(&self, route: &str) -> Result<Option<GitObject>, RemoteError> {
        Ok(self.json::<Pointer>(route).await?.map(|p| p.object))
    }
}
