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
    /// In the three-job layout, a job that cannot be split (its push job
    /// would copy a tag-pinned action, say) is put in one job instead of
    /// being refused.
    pub fallback_to_one_job: bool,
    /// Suffixes of the build and scan jobs' ids (three-job layout).
    pub build_suffix: String,
    pub scan_suffix: String,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            single_job: false,
            fallback_to_one_job: true,
            build_suffix: "-build".into(),
            scan_suffix: "-scan".into(),
        }
    }
}

impl Policy {
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
