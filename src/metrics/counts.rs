//! Vulnerabilities counted the way the report defines them: once per
//! (class, place, vulnerability, package, installed version) over all the
//! reports of one release, all platforms together.
//!
//! The place of an `os-pkgs` result is the OS ("Family Name"), because its
//! `Target` names the scanned folder, which differs per platform: the same
//! unfixed `bash` in the amd64 and arm64 builds is one finding, not two. The
//! place of any other result (a `lang-pkgs` lock file) is its `Target`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::trivy::TrivyReport;

/// Trivy's severities, most severe first (the order of every table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Unknown,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    /// Trivy's name; anything it does not know is `UNKNOWN`, as in Trivy.
    pub fn parse(s: &str) -> Severity {
        match s.trim().to_ascii_uppercase().as_str() {
            "CRITICAL" => Severity::Critical,
            "HIGH" => Severity::High,
            "MEDIUM" => Severity::Medium,
            "LOW" => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Counts by severity, and how many of them have a fixed version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    #[serde(rename = "CRITICAL")]
    pub critical: u64,
    #[serde(rename = "HIGH")]
    pub high: u64,
    #[serde(rename = "MEDIUM")]
    pub medium: u64,
    #[serde(rename = "LOW")]
    pub low: u64,
    #[serde(rename = "UNKNOWN")]
    pub unknown: u64,
    /// `None` (`null`) when some finding's fixed version is not known:
    /// code scanning may not say it, and a guessed 0 would read as "none".
    pub fixable: Option<u64>,
}

impl Default for Counts {
    /// No findings: none of them fixable, which is known.
    fn default() -> Self {
        Counts {
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
            unknown: 0,
            fixable: Some(0),
        }
    }
}

impl Counts {
    pub fn get(&self, s: Severity) -> u64 {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Unknown => self.unknown,
        }
    }

    fn slot(&mut self, s: Severity) -> &mut u64 {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Unknown => &mut self.unknown,
        }
    }

    /// All severities together.
    pub fn total(&self) -> u64 {
        Severity::ALL.iter().map(|&s| self.get(s)).sum()
    }

    pub fn add(&mut self, other: &Counts) {
        for s in Severity::ALL {
            *self.slot(s) += other.get(s);
        }
        self.fixable = self.fixable.zip(other.fixable).map(|(a, b)| a + b);
    }
}

/// `last - first` per severity: negative is the reduction the proposal asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(rename = "CRITICAL")]
    pub critical: i64,
    #[serde(rename = "HIGH")]
    pub high: i64,
    #[serde(rename = "MEDIUM")]
    pub medium: i64,
    #[serde(rename = "LOW")]
    pub low: i64,
    #[serde(rename = "UNKNOWN")]
    pub unknown: i64,
    /// `None` when either side's fixable count is unknown.
    pub fixable: Option<i64>,
}

impl Change {
    pub fn between(first: &Counts, last: &Counts) -> Change {
        // Counts of one report set stay far below i64::MAX.
        let d = |a: u64, b: u64| {
            i64::try_from(b).unwrap_or(i64::MAX) - i64::try_from(a).unwrap_or(i64::MAX)
        };
        Change {
            critical: d(first.critical, last.critical),
            high: d(first.high, last.high),
            medium: d(first.medium, last.medium),
            low: d(first.low, last.low),
            unknown: d(first.unknown, last.unknown),
            fixable: first.fixable.zip(last.fixable).map(|(a, b)| d(a, b)),
        }
    }
}

/// What makes two findings the same finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    class: String,
    place: String,
    id: String,
    package: String,
    installed: String,
}

/// What is known of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    severity: Severity,
    /// `None`: the source does not say whether a fixed version exists.
    fixable: Option<bool>,
}

/// One vulnerability as code scanning keeps it (a result of the SARIF the
/// scan job uploaded): the same identity as a Trivy finding, without the
/// place, which the SARIF only gives as the scanned folder of each platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vuln {
    pub id: String,
    pub package: String,
    pub installed: String,
    pub severity: Severity,
    /// `None` when the result does not say.
    pub fixable: Option<bool>,
}

/// The distinct findings of a set of reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    seen: BTreeMap<Key, Seen>,
}

impl Findings {
    /// Adds the vulnerabilities of `report`. A finding seen twice keeps the
    /// higher severity and is fixable if either says so (reports of the
    /// same release scanned with one DB agree; this only makes the result
    /// independent of the order the reports were read in).
    pub fn add(&mut self, report: &TrivyReport) {
        let os = report.metadata.os.as_ref().map(super::trivy::Os::label);
        for result in &report.results {
            let place = match (&os, result.class.as_str()) {
                (Some(os), "os-pkgs") => os.clone(),
                _ => result.target.clone(),
            };
            for v in result.vulnerabilities.iter().flatten() {
                let key = Key {
                    class: result.class.clone(),
                    place: place.clone(),
                    id: v.vulnerability_id.clone(),
                    package: v.pkg_name.clone(),
                    installed: v.installed_version.clone(),
                };
                let now = Seen {
                    severity: Severity::parse(&v.severity),
                    fixable: Some(
                        v.fixed_version
                            .as_deref()
                            .is_some_and(|f| !f.trim().is_empty()),
                    ),
                };
                self.insert(key, now);
            }
        }
    }

    /// Adds one vulnerability read from code scanning. Its place is left
    /// empty, so the same package found on two platforms is one finding, as
    /// with the Trivy reports.
    pub fn add_vuln(&mut self, v: &Vuln) {
        let key = Key {
            class: "code-scanning".into(),
            place: String::new(),
            id: v.id.clone(),
            package: v.package.clone(),
            installed: v.installed.clone(),
        };
        self.insert(
            key,
            Seen {
                severity: v.severity,
                fixable: v.fixable,
            },
        );
    }

    fn insert(&mut self, key: Key, now: Seen) {
        self.seen
            .entry(key)
            .and_modify(|s| {
                s.severity = s.severity.min(now.severity);
                s.fixable = match (s.fixable, now.fixable) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                };
            })
            .or_insert(now);
    }

    /// Whether every finding says if a fixed version exists.
    pub fn fixable_known(&self) -> bool {
        self.seen.values().all(|s| s.fixable.is_some())
    }

    /// Every finding, counted.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in self.seen.values() {
            *c.slot(s.severity) += 1;
            c.fixable = c.fixable.zip(s.fixable).map(|(n, f)| n + u64::from(f));
        }
        c
    }

    /// The findings the gate policy fails on: one of `severities`, and
    /// fixable when `fixable_only` (a finding of unknown fixability is then
    /// not counted: see [`Findings::fixable_known`]).
    pub fn gated(&self, severities: &[Severity], fixable_only: bool) -> Counts {
        let mut c = Counts::default();
        for s in self.seen.values() {
            let fixable = s.fixable == Some(true);
            if severities.contains(&s.severity) && (fixable || !fixable_only) {
                *c.slot(s.severity) += 1;
                c.fixable = c.fixable.zip(s.fixable).map(|(n, f)| n + u64::from(f));
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vuln(id: &str, severity: Severity, fixable: Option<bool>) -> Vuln {
        Vuln {
            id: id.into(),
            package: "openssl".into(),
            installed: "1.1".into(),
            severity,
            fixable,
        }
    }

    #[test]
    fn an_unknown_fixability_makes_the_fixable_count_unknown_not_zero() {
        let mut f = Findings::default();
        f.add_vuln(&vuln("CVE-1", Severity::High, Some(true)));
        f.add_vuln(&vuln("CVE-2", Severity::Critical, None));
        // The same finding from a second platform is one finding.
        f.add_vuln(&vuln("CVE-2", Severity::Critical, None));
        let c = f.counts();
        assert_eq!((c.critical, c.high, c.total()), (1, 1, 2));
        assert_eq!(c.fixable, None);
        assert!(!f.fixable_known());
        let mut sum = Counts::default();
        sum.add(&c);
        assert_eq!(sum.fixable, None);
        assert_eq!(Change::between(&Counts::default(), &c).fixable, None);
        assert_eq!(Counts::default().fixable, Some(0));
    }
}
