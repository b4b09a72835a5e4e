//! Signing and attestation of the pushed image (opt-in: `[signing]` in
//! `scangate.toml`, `scangate migrate --sign`), and the keyless identity a
//! cluster checks them against.
//!
//! The push job signs only after it has pushed the scanned bytes and proved
//! the registry holds the scanned digest, so a signature vouches for an image
//! that passed the gate. Three things are written, all by digest:
//!
//! 1. a cosign keyless signature (the job's OIDC identity, no key to keep);
//! 2. a cosign vulnerability attestation (`--type vuln`) whose predicate is
//!    the scan job's Trivy report converted to the cosign-vuln format, so the
//!    cluster can check "scanned, no fixable CRITICAL" itself;
//! 3. GitHub artifact attestations (`actions/attest`): SLSA provenance, and
//!    the scan job's CycloneDX SBOM when [`Signing::sbom`] is set.

use std::collections::BTreeMap;

/// The OIDC issuer of GitHub Actions' keyless signing certificates.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The predicate type of cosign's vulnerability attestation (`--type vuln`).
pub const VULN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

/// The `[signing]` table of `scangate.toml`: what the push job signs and
/// attests, and how. The single source of truth for the table: it is
/// deserialised straight into this type, so an unknown key or value is an
/// error that lists what is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Signing {
    /// Also attest a CycloneDX SBOM of each scanned image (GitHub artifact
    /// attestation). The scan job derives it from the same Trivy JSON report
    /// the gate judged, so the SBOM describes exactly the pushed bytes.
    /// Default: false.
    pub sbom: bool,
    /// Where cosign stores signatures and attestations; match it to the
    /// verifier the cluster runs. Default: `legacy`.
    pub format: SignatureFormat,
}

/// How cosign stores what it writes. cosign v3 writes Sigstore bundles by
/// default, which verifiers that read the `sha256-<digest>.sig` /
/// `.att` tags do not find.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// Sigstore bundles attached as OCI referrers (cosign v3's default).
    /// Verifiers: Kyverno ≥ 1.13 with `type: SigstoreBundle`, policy-controller
    /// ≥ 0.13 with `signatureFormat: bundle`, `cosign verify` ≥ 3. Registries
    /// without the referrers API (GHCR) get cosign's fallback tag, which
    /// Kyverno's `SigstoreBundle` verifier does not read (kyverno#16664).
    Bundle,
    /// The `.sig` / `.att` tags of cosign v2 (`--new-bundle-format=false
    /// --use-signing-config=false`). Verifiers: Kyverno's default `Cosign`
    /// type, policy-controller's default `legacy` format, on every registry.
    /// Deprecated by cosign, so a default that will move to `bundle`.
    #[default]
    Legacy,
}

impl Signing {
    /// The extra flags of `cosign sign` / `cosign attest` for the format.
    pub fn cosign_flags(&self) -> &'static str {
        match self.format {
            SignatureFormat::Bundle => "",
            SignatureFormat::Legacy => " --new-bundle-format=false --use-signing-config=false",
        }
    }

    /// The push job's permissions (a job's `permissions:`, as
    /// `plan::Permissions`) with what signing needs: the job's OIDC token
    /// (keyless certificates) and writing artifact attestations.
    pub fn push_permissions(&self, base: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut p = base.clone();
        p.insert("id-token".into(), "write".into());
        p.insert("attestations".into(), "write".into());
        p
    }
}

/// The keyless identity of one workflow: what its signatures' certificates
/// name, on runs for a tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity {
    /// `OWNER/NAME` of the repository the workflow runs in.
    pub repo: String,
    /// The workflow's file name (`release.yml`).
    pub workflow: String,
}

impl Identity {
    /// The certificate subject with a `*` for the tag, as Kyverno matches it.
    pub fn subject_glob(&self) -> String {
        format!(
            "https://github.com/{}/.github/workflows/{}@refs/tags/*",
            self.repo, self.workflow
        )
    }

    /// The same subject as an anchored regular expression (policy-controller
    /// and `cosign verify --certificate-identity-regexp`).
    pub fn subject_regexp(&self) -> String {
        format!(
            "^https://github\\.com/{}/\\.github/workflows/{}@refs/tags/.+$",
            regex::escape(&self.repo),
            regex::escape(&self.workflow)
        )
    }

    /// Commands that verify an image by hand as the cluster will: the cosign
    /// signature and vulnerability attestation, and the GitHub provenance.
    pub fn verify_commands(&self, image: &str, signing: &Signing) -> String {
        let cosign = |what: &str, extra: &str| {
            format!(
                "cosign {what}{extra} --certificate-identity-regexp '{}' --certificate-oidc-issuer {ISSUER}{} {image}",
                self.subject_regexp(),
                match signing.format {
                    SignatureFormat::Bundle => "",
                    SignatureFormat::Legacy => " --new-bundle-format=false",
                },
            )
        };
        format!(
            "{}\n{}\ngh attestation verify oci://{image} --repo {}\n",
            cosign("verify", ""),
            cosign("verify-attestation", " --type vuln"),
            self.repo
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_and_names_what_is_accepted() {
        let s: Signing = serde_json::from_str(r#"{"sbom": true, "format": "bundle"}"#).unwrap();
        assert_eq!(
            s,
            Signing {
                sbom: true,
                format: SignatureFormat::Bundle
            }
        );
        let empty: Signing = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Signing::default());
        assert_eq!(empty.format, SignatureFormat::Legacy);
        let bad = serde_json::from_str::<Signing>(r#"{"format": "v3"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("`bundle`") && bad.contains("`legacy`"),
            "{bad}"
        );
        let unknown = serde_json::from_str::<Signing>(r#"{"sboms": true}"#)
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("`sbom`") && unknown.contains("`format`"),
            "{unknown}"
        );
    }

    #[test]
    fn legacy_asks_cosign_v3_for_the_old_tags() {
        let legacy = Signing::default();
        assert!(legacy.cosign_flags().contains("--new-bundle-format=false"));
        let bundle = Signing {
            format: SignatureFormat::Bundle,
            ..Signing::default()
        };
        assert_eq!(bundle.cosign_flags(), "");
    }

    #[test]
    fn signing_adds_only_oidc_and_attestations() {
        let base = BTreeMap::from([("contents".into(), "read".into())]);
        let p = Signing::default().push_permissions(&base);
        let scopes: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(scopes, ["attestations", "contents", "id-token"]);
        assert_eq!(p["id-token"], "write");
    }

    #[test]
    fn the_identity_is_the_workflow_on_a_tag() {
        let id = Identity {
            repo: "acme/model-service".into(),
            workflow: "release.yml".into(),
        };
        assert_eq!(
            id.subject_glob(),
            "https://github.com/acme/model-service/.github/workflows/release.yml@refs/tags/*"
        );
        let re = regex::Regex::new(&id.subject_regexp()).unwrap();
        assert!(re.is_match(
            "https://github.com/acme/model-service/.github/workflows/release.yml@refs/tags/v1.2.3"
        ));
        assert!(!re.is_match(
            "https://github.com/acme/model-service/.github/workflows/release.yml@refs/heads/main"
        ));
        assert!(!re.is_match(
            "https://github.com/acme/model-service/.github/workflows/releaseXyml@refs/tags/v1"
        ));
    }
}
