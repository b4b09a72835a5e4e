//! Reading a repository's workflows: the contents API, with the git blob
//! for files too large for it.
//!
//! Bytes, not text, come back: file content is base64-decoded here and
//! handed to [`Source::from_bytes`], so BOM, line endings and invalid UTF-8
//! are treated exactly as for a file on disk.

use std::path::Path;

use base64::Engine;
use serde::Deserialize;

use super::{Client, RemoteError, RepoName, encode, encode_path, repo_route};
use crate::source::{MAX_FILE_BYTES, Source};

pub const WORKFLOWS_DIR: &str = ".github/workflows";

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

impl Client {
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

    /// The file at `path` of `repo` at `git_ref`; none when there is no
    /// file there.
    pub async fn file_at(
        &self,
        repo: &RepoName,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Source>, RemoteError> {
        let base = repo_route(repo);
        let at = format!("ref={}", encode(git_ref));
        let found: Option<serde_json::Value> = self
            .json(&format!("{base}/contents/{}?{at}", encode_path(path)))
            .await?;
        // A folder's listing is an array, not an entry.
        let Some(entry) = found.and_then(|f| serde_json::from_value::<Entry>(f).ok()) else {
            return Ok(None);
        };
        if entry.kind != "file" {
            return Ok(None);
        }
        self.file(&base, &at, &entry)
            .await
            .map(Some)
            .map_err(|e| RemoteError(format!("{repo}: {e}")))
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
