//! `scangate.toml`: the team's policy, layout, pins and repositories.
//!
//! Every key is optional and defaults to scangate's built-in behaviour, so an
//! empty file changes nothing. Values are validated while they are read (each
//! constrained value is a type whose `TryFrom` says what is accepted), which
//! keeps the TOML span of the offending value: an error names the file, the
//! line and column, the key, and the accepted values.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Migrator;
use crate::error::{ConfigError, Error, Location};
use crate::pins::{Pin, Pins};
use crate::policy::{self, Layout, Policy, Reports};
use crate::render::Overrides;

/// The file `scangate` looks for at the repository root.
pub const FILE_NAME: &str = "scangate.toml";

/// The commented default that `scangate init` writes: every key, set to its
/// default, so the file documents itself. A test proves it reads back as the
/// defaults.
pub const DEFAULT_TEXT: &str = include_str!("config-default.toml");

/// A parsed `scangate.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// A folder whose files replace the built-in templates of the same name
    /// (relative paths are relative to the config file).
    pub templates: Option<PathBuf>,
    pub policy: PolicySection,
    pub trivy: TrivySection,
    pub reports: ReportsSection,
    pub layout: LayoutSection,
    /// Action → pin; overrides (or adds to) the embedded table.
    pub pins: BTreeMap<ActionName, PinEntry>,
    /// Action → release tags that `pins --update` must never pin (e.g. tags
    /// that were force-pushed to malicious code).
    pub compromised_tags: BTreeMap<ActionName, Vec<String>>,
    pub repos: Vec<Repo>,
    /// Sign and attest pushed images; absent: no signing.
    pub signing: Option<crate::signing::Signing>,
    pub admission: AdmissionSection,
}

/// `[admission]`: what `scangate policy` asks of an image besides the
/// gate's own policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AdmissionSection {
    /// Refuse an image whose vulnerability attestation's scan finished
    /// longer ago than this (`7d`, `36h`); absent: any age.
    pub max_scan_age: Option<crate::admission::ScanAge>,
    /// The branches `workflow_dispatch` runs are started from (filter
    /// patterns); empty: the repository's default branch.
    pub dispatch_branches: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PolicySection {
    /// Severities that fail the gate.
    pub severity: SeverityList,
    /// Do not fail on vulnerabilities that have no fixed version yet.
    pub ignore_unfixed: bool,
    /// What Trivy looks for: `vuln`, `secret` (in the image), `misconfig`
    /// (in the Dockerfile).
    pub scanners: Scanners,
    /// Which packages are checked for vulnerabilities (`os`, `library`).
    /// Trivy calls it `--pkg-types` (formerly `--vuln-type`).
    #[serde(alias = "vuln-type")]
    pub pkg_types: PkgTypeList,
    /// A `.trivyignore` file, relative to the repository root.
    pub trivyignore: Option<RepoPath>,
    /// Also fail the gate on Dockerfile misconfigurations of the gate's
    /// severities.
    pub fail_on_misconfig: bool,
    /// Also fail the gate when Trivy marks the image's OS end-of-life.
    pub fail_on_eol: bool,
}

impl Default for PolicySection {
    fn default() -> Self {
        let p = Policy::default();
        PolicySection {
            severity: List(vec![Severity::Critical, Severity::High]),
            ignore_unfixed: p.ignore_unfixed,
            scanners: Scanners(List(vec![
                Scanner::Vuln,
                Scanner::Secret,
                Scanner::Misconfig,
            ])),
            pkg_types: List(vec![PkgType::Os, PkgType::Library]),
            trivyignore: None,
            fail_on_misconfig: p.fail_on_misconfig,
            fail_on_eol: p.fail_on_eol,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct TrivySection {
    /// The Trivy release the scan job installs (`vX.Y.Z`, never `latest`).
    pub version: TrivyVersion,
    /// Vulnerability DB repositories, tried in order.
    pub db_repositories: NonEmptyList,
    pub java_db_repositories: NonEmptyList,
    /// Cache the vulnerability DB between runs (`actions/cache`).
    pub cache: bool,
}

impl Default for TrivySection {
    fn default() -> Self {
        let p = Policy::default();
        let list = |s: &str| List(s.split(',').map(str::to_owned).collect());
        TrivySection {
            version: TrivyVersion(p.trivy_version.clone()),
            db_repositories: list(&p.db_repositories),
            java_db_repositories: list(&p.java_db_repositories),
            cache: p.trivy_cache,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ReportsSection {
    /// Name of the reports artifact; `{job}` is the original job's id.
    pub artifact_name: ArtifactName,
    /// Days GitHub keeps the reports artifact (1 to 90).
    pub retention_days: RetentionDays,
    /// Upload SARIF to code scanning.
    pub sarif: bool,
    /// The first part of every SARIF category.
    pub category_prefix: Word,
}

impl Default for ReportsSection {
    fn default() -> Self {
        let r = Reports::default();
        ReportsSection {
            artifact_name: ArtifactName(r.artifact_name),
            retention_days: RetentionDays(r.retention_days),
            sarif: r.sarif,
            category_prefix: Word(r.category_prefix),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LayoutSection {
    /// `jobs` (build → scan → push jobs) or `steps` (one job).
    pub mode: LayoutMode,
    /// What `jobs` does with a job it cannot split: `steps` (one job, said
    /// in the summary) or `refuse`.
    pub fallback: Fallback,
    /// Suffix of the build job's id (`jobs` layout).
    pub build_suffix: JobSuffix,
    /// Suffix of the scan job's id (`jobs` layout).
    pub scan_suffix: JobSuffix,
}

impl Default for LayoutSection {
    fn default() -> Self {
        let l = Layout::default();
        LayoutSection {
            mode: if l.single_job {
                LayoutMode::Steps
            } else {
                LayoutMode::Jobs
            },
            fallback: if l.fallback_to_one_job {
                Fallback::Steps
            } else {
                Fallback::Refuse
            },
            build_suffix: JobSuffix(l.build_suffix),
            scan_suffix: JobSuffix(l.scan_suffix),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    #[default]
    Steps,
    Refuse,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayoutMode {
    #[default]
    Jobs,
    Steps,
}

/// One `[pins."owner/action"]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinEntry {
    pub version: String,
    pub sha: Sha,
}

/// One `[[repos]]` entry: a repository `scangate pr` and `check --repo` work on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Repo {
    pub name: RepoFullName,
    /// Workflow file names under `.github/workflows/`; empty means all.
    #[serde(default)]
    pub workflows: Vec<String>,
    /// The pull request's branch (default `scangate/trivy-gate`).
    pub branch: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub reviewers: Vec<String>,
}

impl Repo {
    /// The repository as the GitHub client names it.
    pub fn repo(&self) -> Result<crate::github::RepoName, String> {
        self.name.0.parse()
    }
}

/// Declares a string newtype whose values are checked by `$check`, which
/// returns why a value is not accepted.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(pub String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&s).map(|()| $name(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_string!(
    /// `owner/action` or `owner/repo/path` (as in `uses:`, without `@ref`).
    ActionName,
    |s| {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = parts.len() >= 2 && parts.iter().all(|p| is_name(p)) && !s.contains('@');
        ok.then_some(()).ok_or_else(|| {
            format!("`{s}` is not an action name; expected `owner/action` without `@ref`")
        })
    }
);

checked_string!(
    /// A full 40-hex commit SHA.
    Sha,
    |s| {
        let ok = s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then_some(()).ok_or_else(|| {
            format!("`{s}` is not a full commit SHA; expected 40 hexadecimal digits")
        })
    }
);

checked_string!(
    /// `owner/name`.
    RepoFullName,
    |s| {
        let ok = matches!(s.split('/').collect::<Vec<_>>()[..], [o, n] if is_name(o) && is_name(n));
        ok.then_some(())
            .ok_or_else(|| format!("`{s}` is not a repository; expected `owner/name`"))
    }
);

checked_string!(
    /// A Trivy release tag.
    TrivyVersion,
    |s| {
        let digits = s.strip_prefix('v').unwrap_or_default();
        let parts: Vec<&str> = digits.split('.').collect();
        let ok = parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        ok.then_some(()).ok_or_else(|| {
            format!("`{s}` is not a Trivy release; expected `vMAJOR.MINOR.PATCH` such as `v0.70.0` (never `latest`: the gate must be reproducible)")
        })
    }
);

checked_string!(
    /// A path inside the repository.
    RepoPath,
    |s| {
        let ok = !s.is_empty()
            && !s.starts_with('/')
            && !s.split('/').any(|p| p == "..")
            && s.bytes().all(|b| b.is_ascii_graphic());
        ok.then_some(()).ok_or_else(|| {
            format!("`{s}` is not a relative path inside the repository (no `/` at the start, no `..`, no spaces)")
        })
    }
);

checked_string!(
    /// Letters, digits, `-`, `_`, `.` and `/` (names that go into YAML and
    /// shell unquoted).
    Word,
    |s| {
        let ok = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
        ok.then_some(()).ok_or_else(|| {
            format!("`{s}` may hold only letters, digits, `-`, `_`, `.` and `/`")
        })
    }
);

checked_string!(
    /// An artifact name with `{job}` in it (so that jobs do not collide).
    ArtifactName,
    |s| {
        let rest = s.replace("{job}", "");
        let ok = s.contains("{job}")
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        ok.then_some(()).ok_or_else(|| {
            format!("`{s}` must contain `{{job}}` and otherwise only letters, digits, `-`, `_` and `.`")
        })
    }
);

checked_string!(
    /// A job-id suffix: starts with `-` or `_`, then letters, digits, `-`, `_`.
    JobSuffix,
    |s| {
        let mut bytes = s.bytes();
        let ok = matches!(bytes.next(), Some(b'-' | b'_'))
            && s.len() > 1
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then_some(()).ok_or_else(|| {
            format!("`{s}` is not a job-id suffix; expected `-` or `_` then letters, digits, `-` or `_` (e.g. `-build`)")
        })
    }
);

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Days a report artifact is kept: GitHub accepts 1 to 90.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct RetentionDays(pub u32);

impl TryFrom<i64> for RetentionDays {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        u32::try_from(n)
            .ok()
            .filter(|d| (1..=90).contains(d))
            .map(RetentionDays)
            .ok_or_else(|| format!("{n} days is not accepted; expected 1 to 90"))
    }
}

/// A non-empty list without duplicates, joined with commas for Trivy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    try_from = "Vec<T>",
    bound(deserialize = "T: Deserialize<'de> + PartialEq + fmt::Display")
)]
pub struct List<T>(pub Vec<T>);

impl<T: PartialEq + fmt::Display> TryFrom<Vec<T>> for List<T> {
    type Error = String;
    fn try_from(items: Vec<T>) -> Result<Self, String> {
        if items.is_empty() {
            return Err("the list is empty; name at least one value".into());
        }
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                return Err(format!("`{item}` is listed twice"));
            }
        }
        Ok(List(items))
    }
}

impl<T: fmt::Display> List<T> {
    /// The items as Trivy takes them: `a,b,c`.
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub type SeverityList = List<Severity>;

/// The scanners, at least one of which scans the image (the gate is a scan
/// of the image; `misconfig` alone would scan only the Dockerfile).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "List<Scanner>")]
pub struct Scanners(pub List<Scanner>);

impl TryFrom<List<Scanner>> for Scanners {
    type Error = String;
    fn try_from(list: List<Scanner>) -> Result<Self, String> {
        if list
            .0
            .iter()
            .any(|s| matches!(s, Scanner::Vuln | Scanner::Secret))
        {
            Ok(Scanners(list))
        } else {
            Err(
                "the gate scans the image: list `vuln` or `secret` (or both) besides `misconfig`"
                    .into(),
            )
        }
    }
}

pub type PkgTypeList = List<PkgType>;
/// A list of strings with at least one entry.
pub type NonEmptyList = List<String>;

/// Declares a `Deserialize` enum whose error lists the accepted spellings,
/// and whose `Display` is that spelling.
macro_rules! spelled_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),*
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($name::$variant => $text),* })
            }
        }
    };
}

spelled_enum!(
    /// Trivy's severity levels.
    Severity {
        Unknown = "UNKNOWN",
        Low = "LOW",
        Medium = "MEDIUM",
        High = "HIGH",
        Critical = "CRITICAL",
    }
);
spelled_enum!(Scanner {
    Vuln = "vuln",
    Secret = "secret",
    Misconfig = "misconfig",
});
spelled_enum!(PkgType {
    Os = "os",
    Library = "library",
});

impl Config {
    /// Parses `text`, read from `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let error = |span: Option<std::ops::Range<usize>>, key: Option<String>, message: String| {
            ConfigError {
                path: path.to_owned(),
                at: location(text, span.map_or(0, |s| s.start)),
                key,
                message,
            }
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| error(e.span(), None, e.message().to_owned()))?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            let key = (key != ".").then_some(key);
            error(inner.span(), key, inner.message().to_owned())
        })?;
        config.check_repos().map_err(|(i, message)| {
            // The i-th `[[repos]]` header: serde has no span for a
            // cross-entry check.
            let at = text.match_indices("[[repos]]").nth(i).map(|(at, _)| at..at);
            error(
                at,
                Some(format!("repos[{i}].name")),
                message + " (each repository once)",
            )
        })?;
        Ok(config)
    }

    /// Reads the config at `path`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(path, &text).map_err(|e| Error::Config(Box::new(e)))
    }

    /// `--config PATH`, else `scangate.toml` in `root` if there is one, else
    /// the defaults. Returns the file that was read, if any.
    pub fn discover(
        explicit: Option<&Path>,
        root: &Path,
    ) -> Result<(Config, Option<PathBuf>), Error> {
        let path = match explicit {
            Some(p) => p.to_owned(),
            None => {
                let found = root.join(FILE_NAME);
                if !found.is_file() {
                    return Ok((Config::default(), None));
                }
                found
            }
        };
        Ok((Config::load(&path)?, Some(path)))
    }

    fn check_repos(&self) -> Result<(), (usize, String)> {
        for (i, repo) in self.repos.iter().enumerate() {
            if self.repos[..i].iter().any(|r| r.name == repo.name) {
                return Err((i, format!("`{}` is listed twice", repo.name)));
            }
        }
        Ok(())
    }

    /// The policy the generated jobs and `check` follow.
    pub fn policy(&self) -> Policy {
        let p = &self.policy;
        let has = |s: Scanner| p.scanners.0.0.contains(&s);
        Policy {
            severity: p.severity.joined(),
            ignore_unfixed: p.ignore_unfixed,
            scanners: policy::Scanners {
                vuln: has(Scanner::Vuln),
                secret: has(Scanner::Secret),
                misconfig: has(Scanner::Misconfig),
            },
            pkg_types: p.pkg_types.joined(),
            trivyignore: p.trivyignore.as_ref().map(|t| t.0.clone()),
            fail_on_misconfig: p.fail_on_misconfig,
            fail_on_eol: p.fail_on_eol,
            trivy_version: self.trivy.version.0.clone(),
            db_repositories: self.trivy.db_repositories.joined(),
            java_db_repositories: self.trivy.java_db_repositories.joined(),
            trivy_cache: self.trivy.cache,
            reports: Reports {
                artifact_name: self.reports.artifact_name.0.clone(),
                retention_days: self.reports.retention_days.0,
                sarif: self.reports.sarif,
                category_prefix: self.reports.category_prefix.0.clone(),
            },
            layout: Layout {
                single_job: self.layout.mode == LayoutMode::Steps,
                fallback_to_one_job: self.layout.fallback == Fallback::Steps,
                build_suffix: self.layout.build_suffix.0.clone(),
                scan_suffix: self.layout.scan_suffix.0.clone(),
                runner_labels: Vec::new(),
            },
            signing: self.signing.clone(),
        }
    }

    /// The embedded pins with the config's `[pins]` laid over them.
    pub fn pins(&self) -> Pins {
        let mut pins = Pins::embedded();
        for (action, entry) in &self.pins {
            pins.insert(Pin {
                action: action.0.clone(),
                version: entry.version.clone(),
                sha: entry.sha.0.clone(),
            });
        }
        pins
    }

    /// The `templates` folder, resolved against the config file's folder.
    pub fn templates_dir(&self, config_path: Option<&Path>) -> Option<PathBuf> {
        let dir = self.templates.as_ref()?;
        Some(match config_path.and_then(Path::parent) {
            Some(base) if dir.is_relative() => base.join(dir),
            _ => dir.clone(),
        })
    }
}

/// What a command runs with: the config (if any), its policy and pins, and
/// the templates that replace built-in ones.
#[derive(Debug)]
pub struct Settings {
    /// The config file that was read, if any.
    pub path: Option<PathBuf>,
    pub config: Config,
    pub policy: Policy,
    pub pins: Pins,
    pub templates: Overrides,
}

impl Settings {
    /// Reads `--config PATH` or `ROOT/scangate.toml`, and the templates of
    /// `--templates DIR` or of the config's `templates`.
    pub fn load(
        explicit: Option<&Path>,
        templates: Option<&Path>,
        root: &Path,
    ) -> Result<Settings, Error> {
        let (config, path) = Config::discover(explicit, root)?;
        let dir = templates
            .map(Path::to_path_buf)
            .or_else(|| config.templates_dir(path.as_deref()));
        let templates = match dir {
            Some(dir) => crate::files::templates(&dir)?,
            None => Overrides::default(),
        };
        Ok(Settings {
            policy: config.policy(),
            pins: config.pins(),
            path,
            config,
            templates,
        })
    }

    pub fn migrator(&self) -> Result<Migrator, Error> {
        Migrator::with_templates(
            self.pins.clone(),
            self.policy.clone(),
            self.templates.clone(),
        )
    }
}

/// The 1-based line and column of byte `offset` in `text`.
fn location(text: &str, offset: usize) -> Location {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("scangate.toml"), text)
    }

    #[test]
    fn fail_on_eol_is_read_from_the_config() {
        let config: Config = toml::from_str("[policy]\nfail-on-eol = true\n").unwrap();
        assert!(config.policy.fail_on_eol);
        let config: Config = toml::from_str("").unwrap();
        assert!(!config.policy.fail_on_eol);
    }

    #[test]
    fn an_empty_file_and_the_commented_default_are_the_defaults() {
        assert_eq!(parse("").unwrap().policy(), Policy::default());
        let written = parse(DEFAULT_TEXT).unwrap();
        assert_eq!(written.policy(), Policy::default());
        assert!(written.pins.is_empty() && written.repos.is_empty());
    }

    #[test]
    fn the_admission_table_is_read() {
        let c = parse(
            "[admission]\nmax-scan-age = \"7d\"\ndispatch-branches = [\"main\", \"hotfix/**\"]\n",
        )
        .unwrap();
        let age = c.admission.max_scan_age.map(|a| a.go_duration());
        assert_eq!(age.as_deref(), Some("168h"));
        assert_eq!(c.admission.dispatch_branches, ["main", "hotfix/**"]);
        assert_eq!(parse("").unwrap().admission.max_scan_age, None);
        let e = parse("[admission]\nmax-age = \"7d\"\n").unwrap_err();
        assert!(e.to_string().contains("max-scan-age"), "{e}");
    }

    #[test]
    fn every_knob_reaches_the_policy() {
        let c = parse(
            "[policy]\nseverity = [\"CRITICAL\"]\nignore-unfixed = false\nscanners = [\"vuln\"]\nvuln-type = [\"os\"]\ntrivyignore = \".github/trivyignore\"\nfail-on-misconfig = true\n[trivy]\nversion = \"v0.69.1\"\ndb-repositories = [\"ghcr.io/x/db:2\"]\ncache = true\n[reports]\nartifact-name = \"r-{job}\"\nretention-days = 7\nsarif = false\ncategory-prefix = \"sec\"\n[layout]\nmode = \"steps\"\n",
        )
        .unwrap();
        let p = c.policy();
        assert_eq!(p.severity, "CRITICAL");
        assert!(!p.ignore_unfixed && p.fail_on_misconfig && p.trivy_cache);
        assert_eq!(
            (p.scanners.vuln, p.scanners.secret, p.scanners.misconfig),
            (true, false, false)
        );
        assert_eq!(p.pkg_types, "os");
        assert_eq!(p.trivyignore.as_deref(), Some(".github/trivyignore"));
        assert_eq!(p.trivy_version, "v0.69.1");
        assert_eq!(p.db_repositories, "ghcr.io/x/db:2");
        assert_eq!(p.reports.artifact_name, "r-{job}");
        assert_eq!(p.reports.retention_days, 7);
        assert!(!p.reports.sarif);
        assert!(p.layout.single_job);
    }

    #[test]
    fn a_wrong_severity_names_line_key_and_accepted_values() {
        let e = parse("[policy]\n\nseverity = [\"CRITICAL\", \"HUGE\"]\n").unwrap_err();
        assert_eq!(
            e.at,
            Location {
                line: 3,
                column: 25
            }
        );
        assert_eq!(e.key.as_deref(), Some("policy.severity[1]"));
        assert!(e.message.contains("`HUGE`"), "{}", e.message);
        for accepted in ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] {
            assert!(e.message.contains(accepted), "{}", e.message);
        }
        assert!(
            e.to_string()
                .starts_with("scangate.toml:3:25: `policy.severity[1]`")
        );
    }

    #[test]
    fn unknown_keys_wrong_types_and_impossible_values_are_errors() {
        let cases = [
            ("[policy]\nseverities = [\"HIGH\"]\n", 2, "severities"),
            ("[polcy]\n", 1, "polcy"),
            (
                "[reports]\nretention-days = \"30\"\n",
                2,
                "invalid type: string",
            ),
            ("[reports]\nretention-days = 400\n", 2, "1 to 90"),
            ("[policy]\nseverity = []\n", 2, "empty"),
            ("[policy]\nseverity = [\"HIGH\", \"HIGH\"]\n", 2, "twice"),
            ("[trivy]\nversion = \"latest\"\n", 2, "never `latest`"),
            (
                "[layout]\nmode = \"pods\"\n",
                2,
                "expected `jobs` or `steps`",
            ),
            ("[layout]\nbuild-suffix = \"build\"\n", 2, "suffix"),
            (
                "[pins.\"actions/checkout\"]\nversion = \"v6\"\nsha = \"abc\"\n",
                3,
                "40 hexadecimal",
            ),
            ("[[repos]]\nname = \"just-a-name\"\n", 2, "owner/name"),
            ("[[repos]]\nworkflows = []\n", 1, "name"),
            (
                "[policy]\ntrivyignore = \"../x\"\n",
                2,
                "inside the repository",
            ),
            (
                "[policy]\nscanners = [\"misconfig\"]\n",
                2,
                "`vuln` or `secret`",
            ),
            ("[policy\n", 1, ""),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.at.line, line, "{text}: {e}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn a_repository_listed_twice_is_an_error() {
        let e = parse("[[repos]]\nname = \"o/a\"\n[[repos]]\nname = \"o/a\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("repos[1].name"));
        assert_eq!(e.at.line, 3);
    }

    #[test]
    fn config_pins_override_the_embedded_ones() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let c = parse(&format!(
            "[pins.\"actions/checkout\"]\nversion = \"v9.9.9\"\nsha = \"{sha}\"\n"
        ))
        .unwrap();
        assert_eq!(
            c.pins().uses("actions/checkout"),
            format!("actions/checkout@{sha} # v9.9.9")
        );
    }

    #[test]
    fn locations_count_characters() {
        assert_eq!(location("ab\ncé\nx", 7), Location { line: 3, column: 1 });
        assert_eq!(location("ab\ncé", 6), Location { line: 2, column: 3 });
        assert_eq!(location("ab\ncé", 5), Location { line: 2, column: 2 });
    }
}
