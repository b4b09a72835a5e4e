//! What the gate enforces, how the scan runs and how the new jobs are laid
//! out. The defaults are scangate's built-in behaviour; `scangate.toml`
//! ([`crate::config`]) changes them.

use std::collections::HashSet;

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
    /// In the three-job layout, a job that cannot be split (its push job
    /// would copy a tag-pinned action, say) is put in one job instead of
    /// being refused.
    pub fallback_to_one_job: bool,
    /// Suffixes of the build and scan jobs' ids (three-job layout).
    pub build_suffix: String,
    pub scan_suffix: String,
    /// The self-hosted runner labels the repository declares
    /// (`.github/actionlint.yaml`): the new jobs may repeat them.
    pub runner_labels: Vec<String>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            single_job: false,
            fallback_to_one_job: true,
            build_suffix: "-build".into(),
            scan_suffix: "-scan".into(),
            runner_labels: Vec::new(),
        }
    }
}

impl Policy {
    /// The flags of `trivy image` that make it this policy's gate: what is
    /// looked for ([`Policy::trivy_image_flags`]), what fails
    /// ([`Policy::trivy_threshold_flags`]) and Trivy's table for a person.
    /// The generated gate step is rendered from the same two (plus
    /// `--skip-db-update`, as its job downloaded the database before);
    /// `scangate gate` runs them on a laptop, where Trivy fetches the
    /// database itself from the policy's mirrors.
    pub fn trivy_gate_flags(&self) -> Vec<String> {
        let mut flags = self.trivy_image_flags();
        flags.extend(self.trivy_threshold_flags());
        flags.extend(["--format", "table"].map(str::to_owned));
        flags
    }

    /// What every `trivy image` run of the policy looks for, the full
    /// report's and the gate's alike: the scanners, the package types when
    /// not Trivy's default, and the ignore file.
    pub fn trivy_image_flags(&self) -> Vec<String> {
        let mut flags = vec!["--scanners".to_owned(), self.scanners.image()];
        if self.scanners.vuln && self.pkg_types != Policy::default().pkg_types {
            flags.extend(["--pkg-types".to_owned(), self.pkg_types.clone()]);
        }
        if let Some(file) = &self.trivyignore {
            flags.extend(["--ignorefile".to_owned(), file.clone()]);
        }
        flags
    }

    /// What makes the gate fail: the severities, unfixed ones or not, and
    /// the verdict as the exit code.
    pub fn trivy_threshold_flags(&self) -> Vec<String> {
        let mut flags = vec!["--severity".to_owned(), self.severity.clone()];
        if self.ignore_unfixed {
            flags.push("--ignore-unfixed".to_owned());
        }
        flags.extend(["--exit-code", "1"].map(str::to_owned));
        flags
    }

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
    pub fn threshold(&self) -> Threshold {
        Threshold::new(&self.severity)
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

/// The severities a Trivy run must fail on to count as a gate: the policy's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold(HashSet<String>);

impl Threshold {
    /// From a comma-separated list as Trivy takes it (`CRITICAL,HIGH`).
    pub fn new(severities: &str) -> Self {
        Threshold(severity_set(severities))
    }

    /// Whether failing on `severities` (a Trivy list) fails on all of ours.
    pub fn covered_by(&self, severities: &str) -> bool {
        self.0.is_subset(&severity_set(severities))
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::new(&Policy::default().severity)
    }
}

fn severity_set(list: &str) -> HashSet<String> {
    list.split(',')
        .map(|x| x.trim().to_ascii_uppercase())
        .filter(|x| !x.is_empty())
        .collect()
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
}
