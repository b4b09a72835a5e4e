//! The cluster side of the gate: admission policies that let a Kubernetes
//! cluster run an image only when a workflow that pushes it signed it on a
//! run the cluster trusts, and attested a Trivy scan that passes the same
//! policy the gate enforced.
//!
//! [`Inventory`] collects which images each workflow pushes ([`images`]) and
//! under which keyless identities it signs them: the workflow file at the
//! refs its triggers run for ([`triggers`]). [`Requirements`] says which of
//! those runs the cluster admits ([`Admit`]) and what the scan must show;
//! [`Inventory::manifests`] renders one policy per image from `templates/`
//! for a [`Verifier`]. No I/O here: the caller reads the workflows and writes
//! the manifests.

pub mod images;
pub mod triggers;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use minijinja::context;

use crate::error::Error;
use crate::github::RepoName;
use crate::policy::Policy;
use crate::render::{Renderer, ser};
use crate::signing::{ISSUER, Identity, SignatureFormat, Signing, VULN_PREDICATE};
use crate::source::Source;
use triggers::{Branches, RefKind, RunRef};

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

/// Which runs' signatures the cluster accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Admit {
    /// Runs for tags (tag pushes, releases): what a production cluster runs.
    #[default]
    Releases,
    /// Branch builds too (pushes, manual and scheduled runs): staging.
    All,
}

impl Admit {
    fn admits(self, run: &RunRef) -> bool {
        self == Admit::All || run.kind == RefKind::Tag
    }
}

impl fmt::Display for Admit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Admit::Releases => "releases",
            Admit::All => "all",
        })
    }
}

/// The longest a vulnerability attestation stays good after its scan
/// finished: `Nd`, `Nh` or `Nm` (`[admission] max-scan-age = "7d"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct ScanAge {
    text: String,
    minutes: u64,
}

impl TryFrom<String> for ScanAge {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let unit = match text.chars().last() {
            Some('d') => 24 * 60,
            Some('h') => 60,
            Some('m') => 1,
            _ => 0,
        };
        // `get`: a last character of several bytes is no unit anyway.
        let count = text
            .get(..text.len().saturating_sub(1))
            .and_then(|n| n.parse::<u32>().ok());
        match count.filter(|n| *n > 0 && unit > 0) {
            Some(n) => Ok(ScanAge {
                minutes: u64::from(n) * unit,
                text,
            }),
            None => Err(format!(
                "`{text}` is not a scan age; expected a whole number of days, hours or minutes such as `7d`, `36h` or `90m`"
            )),
        }
    }
}

impl ScanAge {
    /// As a Go duration (`168h`), which Kyverno and Rego's
    /// `time.parse_duration_ns` read (Go durations have no days).
    pub fn go_duration(&self) -> String {
        if self.minutes.is_multiple_of(60) {
            format!("{}h", self.minutes / 60)
        } else {
            format!("{}m", self.minutes)
        }
    }
}

impl fmt::Display for ScanAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What the cluster requires of an image: signed on a run it admits, and a
/// vulnerability attestation that passes the gate's own policy (one policy
/// in two places), recent enough when `max_scan_age` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirements {
    pub admit: Admit,
    /// The severities that fail the gate, in Trivy's spelling.
    pub severities: Vec<String>,
    /// Only vulnerabilities with a fix count (the gate's `ignore-unfixed`).
    pub fixable_only: bool,
    pub max_scan_age: Option<ScanAge>,
}

impl Requirements {
    /// The requirements that judge as `policy`'s gate does.
    pub fn new(policy: &Policy, admit: Admit, max_scan_age: Option<ScanAge>) -> Self {
        Requirements {
            admit,
            severities: policy
                .severity
                .split(',')
                .map(|s| s.trim().to_ascii_uppercase())
                // Trivy's words only: the templates quote them as they are.
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase()))
                .collect(),
            fixable_only: policy.ignore_unfixed,
            max_scan_age,
        }
    }

    /// The JMESPath filter of the vulnerabilities that refuse an image.
    fn refused_filter(&self) -> String {
        let severity: Vec<String> = self
            .severities
            .iter()
            .map(|s| format!("Severity == '{s}'"))
            .collect();
        let severity = match severity.as_slice() {
            [one] => one.clone(),
            _ => format!("({})", severity.join(" || ")),
        };
        if self.fixable_only {
            format!("{severity} && Status == 'fixed'")
        } else {
            severity
        }
    }

    /// The severities as a Rego array (`["CRITICAL", "HIGH"]`); they are
    /// Trivy's upper-case words, so nothing needs escaping.
    fn rego_severities(&self) -> String {
        let quoted: Vec<String> = self.severities.iter().map(|s| format!("\"{s}\"")).collect();
        format!("[{}]", quoted.join(", "))
    }

    /// `CRITICAL or HIGH vulnerabilities that have a fix`.
    fn refused_words(&self) -> String {
        let fix = if self.fixable_only {
            " that have a fix"
        } else {
            ""
        };
        format!("{} vulnerabilities{fix}", self.severities.join(" or "))
    }
}

/// One generated policy: its `metadata.name` and YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub text: String,
}

/// The policies for some images, and what they leave out.
#[derive(Debug, Default)]
pub struct Policies {
    pub manifests: Vec<Manifest>,
    /// Images that no admitted run signs: no policy is written for them,
    /// and each line says why.
    pub uncovered: Vec<String>,
    /// For each covered image, the commands that check it by hand.
    pub by_hand: Vec<String>,
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

/// A workflow at the refs of some of its runs: one keyless identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Signer {
    pub workflow: Identity,
    pub run: RunRef,
}

impl Signer {
    /// The certificate subjects of these runs, as an anchored regular
    /// expression.
    pub fn subject_regexp(&self) -> String {
        self.workflow.subject_regexp_at(self.run.regex())
    }
}

/// The images of some workflows and the identities that sign each.
#[derive(Debug, Default)]
pub struct Inventory {
    images: BTreeMap<String, BTreeSet<Signer>>,
    /// Each workflow that pushes an image (as shown) and the refs it runs for.
    workflows: BTreeMap<String, BTreeSet<RunRef>>,
    pub unresolved: Vec<Unresolved>,
    /// `PATH: what`, about triggers: runs never admitted, widened patterns.
    pub notes: Vec<String>,
}

impl Inventory {
    /// Adds the images the workflow `source` (shown as `path`) pushes,
    /// signed as `identity` at the refs its triggers run for. A workflow
    /// that is not YAML is an error.
    pub fn add(
        &mut self,
        identity: &Identity,
        path: &str,
        source: &Source,
        branches: &Branches,
    ) -> Result<(), Error> {
        let doc = crate::migrate::parse(source, &source.text)?;
        let repo = images::Repository {
            full_name: identity.repo.clone(),
        };
        let found = images::pushed(&doc, &repo);
        if found.is_empty() {
            return Ok(());
        }
        let runs = triggers::runs(doc.get("on"), branches);
        self.notes
            .extend(runs.notes.iter().map(|n| format!("{path}: {n}")));
        let signers: Vec<Signer> = runs
            .refs
            .iter()
            .map(|run| Signer {
                workflow: identity.clone(),
                run: run.clone(),
            })
            .collect();
        self.workflows.insert(path.to_owned(), runs.refs);
        for found in found {
            match found.image {
                Ok(image) => self
                    .images
                    .entry(image)
                    .or_default()
                    .extend(signers.iter().cloned()),
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

    /// The images found, each with the identities that may sign it.
    pub fn images(&self) -> impl Iterator<Item = (&String, &BTreeSet<Signer>)> {
        self.images.iter()
    }

    /// The workflows none of whose runs `admit` accepts, with their refs:
    /// the cluster refuses whatever they push.
    pub fn never_admitted(&self, admit: Admit) -> Vec<String> {
        self.workflows
            .iter()
            .filter(|(_, refs)| !refs.iter().any(|r| admit.admits(r)))
            .map(|(path, refs)| {
                let shown: Vec<String> = refs.iter().map(RunRef::shown).collect();
                if shown.is_empty() {
                    format!("{path}: never runs at a ref a cluster admits; the images it pushes are refused")
                } else {
                    format!(
                        "{path}: runs only at {}; under --admit {admit} the cluster refuses the images it pushes (--admit all admits them)",
                        shown.join(", ")
                    )
                }
            })
            .collect()
    }

    /// One policy per image that an admitted run signs, for `verifier`,
    /// matching `signing`'s format.
    pub fn manifests(
        &self,
        r: &Renderer,
        verifier: Verifier,
        signing: &Signing,
        req: &Requirements,
    ) -> Result<Policies, Error> {
        let mut out = Policies::default();
        for (image, signers) in &self.images {
            let admitted: Vec<&Signer> = signers
                .iter()
                .filter(|s| req.admit.admits(&s.run))
                .collect();
            let Some(first) = admitted.first() else {
                out.uncovered.push(format!(
                    "{image}: no workflow that pushes it signs on a run --admit {} accepts; no policy is written for it",
                    req.admit
                ));
                continue;
            };
            out.by_hand.push(format!(
                "verify {image} by hand:\n{}",
                first.workflow.verify_commands_at(
                    first.run.regex(),
                    &format!("{image}:TAG"),
                    signing
                )
            ));
            let image = verifier.qualified(image);
            let name = policy_name(&image);
            let identities: Vec<IdentityView> = admitted
                .iter()
                .enumerate()
                .map(|(i, s)| IdentityView::new(s, i))
                .collect();
            let text = r.render(
                verifier.template(),
                &context! {
                    name => name.clone(),
                    image => image,
                    identities => ser(&identities),
                    issuer => ISSUER,
                    vuln_predicate => VULN_PREDICATE,
                    bundle => signing.format == SignatureFormat::Bundle,
                    rego_severities => req.rego_severities(),
                    fixable_only => req.fixable_only,
                    refused_filter => req.refused_filter(),
                    refused_words => req.refused_words(),
                    max_age => req.max_scan_age.as_ref().map(ScanAge::go_duration),
                    max_age_shown => req.max_scan_age.as_ref().map(ToString::to_string),
                },
            )?;
            out.manifests.push(Manifest { name, text });
        }
        Ok(out)
    }
}

/// What the templates read of an identity.
#[derive(Debug, serde::Serialize)]
struct IdentityView {
    /// Unique within a policy: `OWNER-NAME-FILE-N`, DNS-label style.
    name: String,
    /// `release.yml at refs/tags/v*`, for a comment.
    shown: String,
    subject_regexp: String,
}

impl IdentityView {
    fn new(signer: &Signer, index: usize) -> Self {
        let id = &signer.workflow;
        let mut name = dns_label(&format!("{}-{}", id.repo, id.workflow));
        name.truncate(56);
        IdentityView {
            name: format!("{}-{}", name.trim_end_matches('-'), index + 1),
            shown: format!("{} at {}", id.workflow, signer.run.shown()),
            subject_regexp: signer.subject_regexp(),
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
        let branches = Branches {
            default: "main".into(),
            dispatch: Vec::new(),
        };
        let mut inventory = Inventory::default();
        inventory
            .add(&id, "release.yml", &source, &branches)
            .unwrap();
        let r = Renderer::new(
            &crate::pins::Pins::embedded(),
            crate::render::Overrides::default(),
        )
        .unwrap();
        let signing = Signing::default();
        for verifier in [Verifier::Kyverno, Verifier::PolicyController] {
            let text = |severity: &str, ignore_unfixed| {
                let policy = Policy {
                    severity: severity.into(),
                    ignore_unfixed,
                    ..Policy::default()
                };
                let req = Requirements::new(&policy, Admit::Releases, None);
                let m = inventory.manifests(&r, verifier, &signing, &req).unwrap();
                assert_eq!(m.manifests.len(), 1);
                m.manifests[0].text.clone()
            };
            let (fixable, all) = (text("CRITICAL,HIGH", true), text("CRITICAL", false));
            assert!(
                fixable.contains("'fixed'") || fixable.contains("\"fixed\""),
                "{fixable}"
            );
            assert!(fixable.contains("HIGH"), "{fixable}");
            assert!(!all.contains("fixed") && !all.contains("HIGH"), "{all}");
            assert!(all.contains("CRITICAL"));
        }
    }

    #[test]
    fn scan_ages_are_days_hours_or_minutes() {
        let age = |s: &str| ScanAge::try_from(s.to_owned()).map(|a| a.go_duration());
        assert_eq!(age("7d").unwrap(), "168h");
        assert_eq!(age("36h").unwrap(), "36h");
        assert_eq!(age("90m").unwrap(), "90m");
        for bad in ["", "7", "0d", "1w", "-1d", "1.5h", "d", "7é"] {
            assert!(age(bad).unwrap_err().contains("`7d`"), "{bad}");
        }
    }

    #[test]
    fn the_severity_filter_names_each_severity() {
        let req = |severity: &str, ignore_unfixed| {
            let policy = Policy {
                severity: severity.into(),
                ignore_unfixed,
                ..Policy::default()
            };
            Requirements::new(&policy, Admit::All, None)
        };
        assert_eq!(
            req("CRITICAL,HIGH", true).refused_filter(),
            "(Severity == 'CRITICAL' || Severity == 'HIGH') && Status == 'fixed'"
        );
        assert_eq!(
            req("CRITICAL", false).refused_filter(),
            "Severity == 'CRITICAL'"
        );
        assert_eq!(
            req("CRITICAL,HIGH", true).refused_words(),
            "CRITICAL or HIGH vulnerabilities that have a fix"
        );
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
