//! What the gate enforces and how the scan runs. Today these are the
//! defaults; a `scangate.toml` will be able to change them.

/// Gate and scan settings that shape the generated jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Severities that fail the gate, comma-separated as Trivy takes them.
    pub severity: String,
    /// Trivy release installed by the scan job; never `latest`.
    pub trivy_version: String,
    /// Vulnerability DB mirrors, tried in order (avoids registry rate limits).
    pub db_repositories: String,
    pub java_db_repositories: String,
    /// How long the published reports are kept.
    pub report_retention_days: u32,
    /// Sign and attest the pushed image (`[signing]`); `None`: no signing.
    pub signing: Option<crate::signing::Signing>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            severity: "CRITICAL,HIGH".into(),
            trivy_version: "v0.70.0".into(),
            db_repositories: "mirror.gcr.io/aquasec/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2,public.ecr.aws/aquasecurity/trivy-db:2".into(),
            java_db_repositories:
                "mirror.gcr.io/aquasec/trivy-java-db:1,ghcr.io/aquasecurity/trivy-java-db:1,public.ecr.aws/aquasecurity/trivy-java-db:1"
                    .into(),
            report_retention_days: 30,
            signing: None,
        }
    }
}
