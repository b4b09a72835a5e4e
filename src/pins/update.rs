//! `scangate pins --update`: each pinned action's latest release, resolved
//! to the commit its tag points at, and written into `scangate.toml`.
//!
//! A tag is followed to its commit through the Git Data API (an annotated
//! tag is an object of its own that points at the commit), because a pin
//! must name the commit: tags move, as the March 2026 trivy-action
//! compromise showed.

use std::collections::BTreeMap;

use super::{Pin, Pins};
use crate::github::{Client, RemoteError, RepoName};

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    pub action: String,
    /// The pin in force before the update.
    pub before: Pin,
    /// The new pin, or why the action keeps its old one.
    pub after: Result<Pin, String>,
}

/// Nested annotated tags followed at most this deep (GitHub allows chains;
/// real releases have one level).
const MAX_TAG_DEPTH: usize = 4;

/// Resolves the latest release of every action in `pins`, refusing the tags
/// `compromised` lists (action → tags). One action's failure does not stop
/// the others.
pub async fn latest(
    client: &Client,
    pins: &Pins,
    compromised: &BTreeMap<String, Vec<String>>,
) -> Vec<Resolved> {
    let mut out = Vec::new();
    for pin in pins.iter() {
        let bad = compromised.get(&pin.action).map_or(&[][..], Vec::as_slice);
        let after = resolve(client, &pin.action, bad)
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
        out.push(Resolved {
            action: pin.action.clone(),
            before: pin.clone(),
            after,
        });
    }
    out
}

/// The repository part of an action (`github/codeql-action/upload-sarif` →
/// `github/codeql-action`).
fn repository(action: &str) -> Option<RepoName> {
    let mut parts = action.split('/');
    let (owner, name) = (parts.next()?, parts.next()?);
    format!("{owner}/{name}").parse().ok()
}

/// The outer error is the API's; the inner one is a refusal of the answer.
async fn resolve(
    client: &Client,
    action: &str,
    compromised: &[String],
) -> Result<Result<Pin, String>, RemoteError> {
    let Some(repo) = repository(action) else {
        return Ok(Err(format!("`{action}` is not an `owner/repo` action")));
    };
    let Some(tag) = client.latest_release_tag(&repo).await? else {
        return Ok(Err(format!(
            "{repo} has no published release (or the token cannot see it)"
        )));
    };
    if compromised.contains(&tag) {
        return Ok(Err(format!(
            "the latest release {tag} is listed in [compromised-tags]; kept the current pin"
        )));
    }
    if !tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
    {
        return Ok(Err(format!(
            "the release tag `{tag}` has unexpected characters"
        )));
    }
    let Some(mut object) = client.tag_ref(&repo, &tag).await? else {
        return Ok(Err(format!("{repo} has a release {tag} but no such tag")));
    };
    for _ in 0..MAX_TAG_DEPTH {
        match object.kind.as_str() {
            "commit" => {
                return Ok(Ok(Pin {
                    action: action.to_owned(),
                    version: tag,
                    sha: object.sha,
                }));
            }
            "tag" => {
                let Some(next) = client.tag_object(&repo, &object.sha).await? else {
                    return Ok(Err(format!("the tag object of {tag} is missing")));
                };
                object = next;
            }
            other => return Ok(Err(format!("tag {tag} points at a {other}, not a commit"))),
        }
    }
    Ok(Err(format!(
        "tag {tag} is nested more than {MAX_TAG_DEPTH} deep"
    )))
}

/// `config` (the text of a `scangate.toml`) with `[pins]` set to `pins`,
/// comments and every other key kept as they were.
pub fn write_pins(config: &str, pins: &[Pin]) -> Result<String, toml_edit::TomlError> {
    let mut doc: toml_edit::DocumentMut = config.parse()?;
    let table = doc
        .entry("pins")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut();
    // `pins` as something else than a table is rejected by the config
    // parser before an update starts.
    if let Some(table) = table {
        for pin in pins {
            let mut entry = toml_edit::Table::new();
            entry["version"] = toml_edit::value(pin.version.as_str());
            entry["sha"] = toml_edit::value(pin.sha.as_str());
            table.insert(&pin.action, toml_edit::Item::Table(entry));
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_of_an_action() {
        assert_eq!(
            repository("github/codeql-action/upload-sarif").map(|r| r.to_string()),
            Some("github/codeql-action".to_owned())
        );
        assert_eq!(repository("x"), None);
        assert_eq!(repository("a/b?c"), None);
    }

    #[test]
    fn pins_are_written_and_comments_kept() {
        let text = "# team policy\n[policy]\nseverity = [\"CRITICAL\"] # only\n";
        let pin = Pin {
            action: "actions/checkout".into(),
            version: "v9.0.0".into(),
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
        };
        let out = write_pins(text, std::slice::from_ref(&pin)).unwrap();
        assert!(out.starts_with(text), "{out}");
        let config = crate::config::Config::parse(std::path::Path::new("x"), &out).unwrap();
        assert_eq!(
            config.pins().uses("actions/checkout"),
            "actions/checkout@0123456789abcdef0123456789abcdef01234567 # v9.0.0"
        );
        // Again: replaced, not duplicated.
        let again = write_pins(&out, &[pin]).unwrap();
        assert_eq!(again, out);
    }
}
