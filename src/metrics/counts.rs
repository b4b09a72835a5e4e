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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
    pub fixable: u64,
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
        self.fixable += other.fixable;
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
    pub fixable: i64,
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
            fixable: d(first.fixable, last.fixable),
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
    fixable: bool,
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
                    fixable: v
                        .fixed_version
                        .as_deref()
                        .is_some_and(|f| !f.trim().is_empty()),
                };
                self.seen
                    .entry(key)
                    .and_modify(|s| {
                        s.severity = s.severity.min(now.severity);
                        s.fixable |= now.fixable;
                    })
                    .or_insert(now);
            }
        }
    }

    /// Every finding, counted.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in self.seen.values() {
            *c.slot(s.severity) += 1;
            c.fixable += u64::from(s.fixable);
        }
        c
    }

    /// The findings the gate policy fails on: one of `severities`, and
    /// fixable when `fixable_only`.
    pub fn gated(&self, severities: &[Severity], fixable_only: bool) -> Counts {
        let mut c = Counts::default();
        for s in self.seen.values() {
            if severities.contains(&s.severity) && (s.fixable || !fixable_only) {
                *c.slot(s.severity) += 1;
                c.fixable += u64::from(s.fixable);
            }
        }
        c
    }
}
