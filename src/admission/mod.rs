//! The cluster side of the gate: admission policies that let a Kubernetes
//! cluster run an image only when the workflow that pushed it signed it and
//! attested a Trivy scan without fixable CRITICAL vulnerabilities.
//!
//! [`Inventory`] collects which images each workflow pushes ([`images`]) and
//! under which keyless identity it signs them ([`Identity`]); [`Verifier`]
//! names the admission controller, and [`Inventory::manifests`] renders one
//! policy per image from `templates/` for it. No I/O here: the caller reads
//! the workflows and writes the manifests.

pub mod images;

use std::collections::{BTreeMap, BTreeSet};

use minijinja::context;

use crate::error::Error;
use crate::github::RepoName;
use crate::render::{Renderer, ser};
use crate::signing::{ISSUER, Identity, SignatureFormat, Signing, VULN_PREDICATE};
use crate::source::Source;

/// The admission controller a policy is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verifier {
    /// Kyverno `ClusterPolicy` with a `verifyImages` rule.
    Kyverno,
    /// sigstore policy-controller `ClusterImagePolicy`.
    PolicyController,
}

impl Verifier {
    fn template(self) -> &'static str {
        match self {
            Verifier::Kyverno => "kyverno-policy.yml",
            Verifier::PolicyController => "cluster-image-policy.yml",
        }
    }

    /// `image` as the verifier matches it: a Docker Hub name (no registry
    /// host in front) gets the host the verifier normalises to —
    /// `docker.io` for Kyverno, `index.docker.io` for policy-controller
    /// (its globs never match a short name) — and `library/` when it has
    /// no namespace.
    fn qualified(self, image: &str) -> String {
        let first = image.split('/').next().unwrap_or(image);
        let has_host = image.contains('/')
            && (first.contains('.') || first.contains(':') || first == "localhost");
        if has_host {
            return image.to_owned();
        }
        let host = match self {
            Verifier::Kyverno => "docker.io",
            Verifier::PolicyController => "index.docker.io",
        };
        if image.contains('/') {
            format!("{host}/{image}")
        } else {
            format!("{host}/library/{image}")
        }
    }
}

/// One generated policy: its `metadata.name` and YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub text: String,
}

/// A pushed reference whose image name is not known before the workflow
/// runs: no policy covers it, and the user is told where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub path: String,
    pub job: String,
    pub reference: String,
    pub reason: String,
}

/// The images of some workflows and the identities that sign each.
#[derive(Debug, Default)]
pub struct Inventory {
    images: BTreeMap<String, BTreeSet<Identity>>,
    pub unresolved: Vec<Unresolved>,
}

impl Inventory {
    /// Adds the images the workflow `source` (shown as `path`) pushes,
    /// signed under `identity`. A workflow that is not YAML is an error.
    pub fn add(&mut self, identity: &Identity, path: &str, source: &Source) -> Result<(), Error> {
        let doc = crate::migrate::parse(source, &source.text)?;
        let repo = images::Repository {
            full_name: identity.repo.clone(),
        };
        for found in images::pushed(&doc, &repo) {
            match found.image {
                Ok(image) => {
                    self.images
                        .entry(image)
                        .or_default()
                        .insert(identity.clone());
                }
                Err(reason) => self.unresolved.push(Unresolved {
                    path: path.to_owned(),
                    job: found.job,
                    reference: found.reference,
                    reason,
                }),
            }
        }
        Ok(())
    }

    /// The images found, each with the identities that sign it.
    pub fn images(&self) -> impl Iterator<Item = (&String, &BTreeSet<Identity>)> {
        self.images.iter()
    }

    /// One policy per image, for `verifier`, matching `signing`'s format.
    /// `fixable_only`: the cluster ignores CRITICAL vulnerabilities without
    /// a fix, as a gate with `--ignore-unfixed` does (it must judge as the
    /// gate did, or it refuses images that passed).
    pub fn manifests(
        &self,
        r: &Renderer,
        verifier: Verifier,
        signing: &Signing,
        fixable_only: bool,
    ) -> Result<Vec<Manifest>, Error> {
        self.images
            .iter()
            .map(|(image, identities)| {
                let image = verifier.qualified(image);
                let name = policy_name(&image);
                let identities: Vec<IdentityView> =
                    identities.iter().map(IdentityView::from).collect();
                let text = r.render(
                    verifier.template(),
                    &context! {
                        name => name.clone(),
                        image => image,
                        identities => ser(&identities),
                        issuer => ISSUER,
                        vuln_predicate => VULN_PREDICATE,
                        bundle => signing.format == SignatureFormat::Bundle,
                        fixable_only => fixable_only,
                    },
                )?;
                Ok(Manifest { name, text })
            })
            .collect()
    }
}

/// What the templates read of an identity.
#[derive(Debug, serde::Serialize)]
struct IdentityView {
    /// Unique within a policy: `OWNER-NAME-FILE`, DNS-label style.
    name: String,
    subject: String,
    subject_regexp: String,
}

impl From<&Identity> for IdentityView {
    fn from(id: &Identity) -> Self {
        IdentityView {
            name: dns_label(&format!("{}-{}", id.repo, id.workflow)),
            subject: id.subject_glob(),
            subject_regexp: id.subject_regexp(),
        }
    }
}

/// `scangate-` and the image name as a Kubernetes object name.
fn policy_name(image: &str) -> String {
    dns_label(&format!("scangate-{image}"))
}

/// Lower-case letters, digits and single `-`, at most 63 characters, not
/// starting or ending with `-` (valid as a name and as a label).
fn dns_label(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(63);
    out.trim_matches('-').to_owned()
}

/// `OWNER/NAME` of a GitHub remote URL (`https://github.com/OWNER/NAME.git`,
/// `git@github.com:OWNER/NAME.git`, `ssh://git@github.com/OWNER/NAME`), or
/// `None` for another host or shape.
pub fn github_repo_from_remote(url: &str) -> Option<RepoName> {
    let url = url.trim();
    let path = [
        "https://github.com/",
        "http://github.com/",
        "ssh://git@github.com/",
        "git@github.com:",
    ]
    .iter()
    .find_map(|prefix| url.strip_prefix(prefix))?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    path.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(
            policy_name("ghcr.io/Acme/model-service"),
            "scangate-ghcr-io-acme-model-service"
        );
        let long = policy_name(&format!("ghcr.io/acme/{}", "x".repeat(80)));
        assert!(long.len() <= 63 && !long.ends_with('-'));
    }

    #[test]
    fn the_vulnerability_condition_judges_as_the_gate_did() {
        let source = Source::from_bytes(
            std::path::Path::new("release.yml"),
            b"on: push\njobs:\n  a:\n    steps:\n      - run: docker push ghcr.io/acme/app:1\n",
        )
        .unwrap();
        let id = Identity {
            repo: "acme/app".into(),
            workflow: "release.yml".into(),
        };
        let mut inventory = Inventory::default();
        inventory.add(&id, "release.yml", &source).unwrap();
        let r = Renderer::new(
            &crate::pins::Pins::embedded(),
            crate::render::Overrides::default(),
        )
        .unwrap();
        let signing = Signing::default();
        for verifier in [Verifier::Kyverno, Verifier::PolicyController] {
            let text = |fixable_only| {
                let m = inventory
                    .manifests(&r, verifier, &signing, fixable_only)
                    .unwrap();
                assert_eq!(m.len(), 1);
                m[0].text.clone()
            };
            let (fixable, all) = (text(true), text(false));
            assert!(
                fixable.contains("'fixed'") || fixable.contains("\"fixed\""),
                "{fixable}"
            );
            assert!(!all.contains("fixed"), "{all}");
            assert!(all.contains("CRITICAL"));
        }
    }

    #[test]
    fn docker_hub_names_get_the_host_each_verifier_matches() {
        let k = Verifier::Kyverno;
        let p = Verifier::PolicyController;
        assert_eq!(k.qualified("ghcr.io/acme/app"), "ghcr.io/acme/app");
        assert_eq!(p.qualified("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(k.qualified("acme/app"), "docker.io/acme/app");
        assert_eq!(p.qualified("acme/app"), "index.docker.io/acme/app");
        assert_eq!(p.qualified("app"), "index.docker.io/library/app");
    }

    #[test]
    fn reads_github_remotes_only() {
        for url in [
            "https://github.com/acme/model-service.git",
            "git@github.com:acme/model-service.git\n",
            "ssh://git@github.com/acme/model-service",
        ] {
            assert_eq!(
                github_repo_from_remote(url)
                    .map(|r| r.to_string())
                    .as_deref(),
                Some("acme/model-service"),
                "{url}"
            );
        }
        assert_eq!(
            github_repo_from_remote("https://gitlab.com/acme/x.git"),
            None
        );
        assert_eq!(github_repo_from_remote("https://github.com/acme"), None);
    }
}
