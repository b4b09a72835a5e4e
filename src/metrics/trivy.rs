//! The part of Trivy's JSON report (`--format json`, schema version 2) that
//! the metrics read: the image's OS and its vulnerabilities.
//!
//! Only the fields used are declared and every one is optional, so a report
//! of a newer Trivy with more fields (or a repository scan with no
//! `Metadata.OS`) still reads. Misconfigurations and secrets are not read:
//! the metrics count vulnerabilities, and those are reported apart.

use serde::Deserialize;

/// `ArtifactType` of a report that scanned an image (not the Dockerfile
/// misconfiguration report published in the same artifact).
pub const IMAGE_ARTIFACT: &str = "container_image";

/// One Trivy JSON report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrivyReport {
    pub artifact_type: Option<String>,
    pub metadata: Metadata,
    pub results: Vec<TrivyResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Metadata {
    #[serde(rename = "OS")]
    pub os: Option<Os>,
}

/// The image's operating system as Trivy detected it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Os {
    pub family: String,
    pub name: String,
    /// End of service life: Trivy sets it when the distribution no longer
    /// ships security fixes for this release.
    #[serde(rename = "EOSL")]
    pub eosl: bool,
}

impl Os {
    /// "Family Name", e.g. `debian 10.1`: how the report names the OS.
    pub fn label(&self) -> String {
        format!("{} {}", self.family, self.name).trim().to_owned()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrivyResult {
    pub target: String,
    pub class: String,
    /// `null` in Trivy's output when nothing was found.
    pub vulnerabilities: Option<Vec<Vulnerability>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    pub vulnerability_id: String,
    pub pkg_name: String,
    pub installed_version: String,
    pub fixed_version: Option<String>,
    pub severity: String,
}

impl TrivyReport {
    /// Reads a report; the error is serde's, with the line and column.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Whether this report scanned an image. A report without the field
    /// (older Trivy) counts as one when it names an OS.
    pub fn is_image(&self) -> bool {
        match &self.artifact_type {
            Some(t) => t == IMAGE_ARTIFACT,
            None => self.metadata.os.is_some(),
        }
    }
}
