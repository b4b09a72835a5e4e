//! What the gate enforces, how the scan runs and how the new jobs are laid
//! out. The defaults are scangate's built-in behaviour; `scangate.toml`
//! ([`crate::config`]) changes them.

/// Gate and scan settings that shape the generated jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Severities that fail the gate, comma-separated as Trivy takes them.
    pub severity: String,
    /// Pass vulnerabilities that have no fixed version yet.
    pub ignore_unfixed: bool,
    pub scanners: Scanners,
    /// Package types checked for vulnerabilities, comma-separated (`os,library`).
    pub pkg_types: String,
    /// The repository's Trivy ignore file, if not Trivy's default `.trivyignore`.
    pub trivyignore: Option<String>,
    /// Fail the gate on Dockerfile misconfigurations too.
    pub fail_on_misconfig: bool,
    /// Fail the gate when Trivy marks the image's OS end-of-life (its
    /// distribution ships no more security fixes): [`Policy::eol_gate`].
    pub fail_on_eol: bool,
    /// Trivy release installed by the scan job; never `latest`.
    pub trivy_version: String,
    /// Vulnerability DB mirrors, tried in order (avoids registry rate limits).
    pub db_repositories: String,
    pub java_db_repositories: String,
    /// Keep Trivy's DB in the Actions cache between runs.
    pub trivy_cache: bool,
    pub reports: Reports,
    pub layout: Layout,
    /// Sign and attest the pushed image (`[signing]`); `None`: no signing.
    pub signing: Option<crate::signing::Signing>,
}

/// What Trivy looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanners {
    /// Known vulnerabilities of the image's packages.
    pub vuln: bool,
    /// Secrets left in the image.
    pub secret: bool,
    /// Misconfigurations of the Dockerfile.
    pub misconfig: bool,
}

impl Scanners {
    /// The image scanners as Trivy's `--scanners` takes them (misconfig is
    /// a separate `trivy config` run on the Dockerfile); empty when none.
    pub fn image(&self) -> String {
        let mut out = Vec::new();
        if self.vuln {
            out.push("vuln");
        }
        if self.secret {
            out.push("secret");
        }
        out.join(",")
    }
}

/// Where the scan results are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reports {
    /// The reports artifact's name; `{job}` stands for the original job id.
    pub artifact_name: String,
    /// How long the published reports are kept.
    pub retention_days: u32,
    /// Upload SARIF to code scanning.
    pub sarif: bool,
    /// The first part of every SARIF category.
    pub category_prefix: String,
}

impl Reports {
    /// The reports artifact of job `job` (before any matrix-leg suffix).
    pub fn artifact_of(&self, job: &str) -> String {
        self.artifact_name.replace("{job}", job)
    }
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            artifact_name: "scangate-{job}-reports".into(),
            retention_days: 30,
            sarif: true,
            category_prefix: "scangate".into(),
        }
    }
}

/// How the gate is laid out in the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// One job (build, scan steps, push of the local image) instead of three.
    pub single_job: bool,
    /// Suffixes of the build and scan jobs' ids (three-job layout).
    pub build_suffix: String,
    pub scan_suffix: String,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            single_job: false,
            build_suffix: "-build".into(),
            scan_suffix: "-scan".into(),
        }
    }
}

impl Policy {
    /// The gate's command for `fail-on-eol`, for the JSON report at
    /// `report` (a shell word, e.g. `"$dir/reports/image.json"`), or `None`
    /// when the knob is off. It reads the report the scan step already
    /// wrote, so nothing is scanned twice: `trivy convert --exit-on-eol 1`
    /// exits 1 when `Metadata.OS.EOSL` is true (trivy's
    /// `docs/…/trivy_convert.md` lists the flag; `convert/run.go` calls
    /// `operation.ExitOnEOL`). The gate step's `|| status=1` collects it
    /// like its other checks.
    pub fn eol_gate(&self, report: &str) -> Option<String> {
        self.fail_on_eol.then(|| {
            format!("trivy convert --exit-on-eol 1 --format table --output /dev/null {report} || status=1")
        })
    }

    /// What a Trivy run must fail on to count as this policy's gate.
    pub fn threshold(&self) -> crate::gate::Threshold {
        crate::gate::Threshold::new(&self.severity)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            severity: "CRITICAL,HIGH".into(),
            ignore_unfixed: true,
            scanners: Scanners {
                vuln: true,
                secret: true,
                misconfig: true,
            },
            pkg_types: "os,library".into(),
            trivyignore: None,
            fail_on_misconfig: false,
            fail_on_eol: false,
            trivy_version: "v0.70.0".into(),
            db_repositories: "mirror.gcr.io/aquasec/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2,public.ecr.aws/aquasecurity/trivy-db:2".into(),
            java_db_repositories:
                "mirror.gcr.io/aquasec/trivy-java-db:1,ghcr.io/aquasecurity/trivy-java-db:1,public.ecr.aws/aquasecurity/trivy-java-db:1"
                    .into(),
            trivy_cache: false,
            reports: Reports::default(),
            layout: Layout::default(),
            signing: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eol_gate_reads_the_written_report_only_when_asked() {
        let off = Policy::default();
        assert_eq!(off.eol_gate("\"$dir/reports/image.json\""), None);
        let on = Policy {
            fail_on_eol: true,
            ..Policy::default()
        };
        let cmd = on.eol_gate("\"$dir/reports/image.json\"").unwrap();
        assert!(cmd.starts_with("trivy convert --exit-on-eol 1 "), "{cmd}");
        assert!(cmd.contains("\"$dir/reports/image.json\""), "{cmd}");
        assert!(!cmd.contains("trivy image"), "no second scan: {cmd}");
    }

    #[test]
    fn fail_on_eol_is_read_from_the_config() {
        let config: crate::config::Config =
            toml::from_str("[policy]\nfail-on-eol = true\n").unwrap();
        assert!(config.policy.fail_on_eol);
        let config: crate::config::Config = toml::from_str("").unwrap();
        assert!(!config.policy.fail_on_eol);
    }
}
