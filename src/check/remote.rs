//! `check --repo`: the workflows of each repository's default branch, read
//! through the GitHub API and checked like local files.

use super::Checker;
use super::finding::{FileCheck, FileStatus, RepoCheck, Report};
/// The client a remote check reads through, and the names it takes.
pub use crate::github::{Client, RepoName, Retry, Token};

/// Reads each repository's workflows through the API, one repository at a
/// time (GitHub asks clients not to make concurrent requests), and checks
/// them. A repository that cannot be read is reported, not fatal.
pub async fn check_repos(checker: &Checker, client: &Client, repos: &[RepoName]) -> Report {
    let mut report = Report::default();
    for repo in repos {
        let name = repo.to_string();
        match client.workflows(repo).await {
            Ok(found) => {
                report.repositories.push(RepoCheck {
                    repo: name.clone(),
                    default_branch: Some(found.default_branch),
                    workflows: found.files.len(),
                    error: None,
                });
                for (path, source) in found.files {
                    report.files.push(match source {
                        Ok(source) => checker.check_source(Some(&name), path, &source),
                        Err(message) => FileCheck {
                            repo: Some(name.clone()),
                            path,
                            status: FileStatus::Error { message },
                        },
                    });
                }
            }
            Err(e) => report.repositories.push(RepoCheck {
                repo: name,
                default_branch: None,
                workflows: 0,
                error: Some(e.to_string()),
            }),
        }
    }
    report
}
