//! The actions scangate writes into workflows, each pinned to a full commit
//! SHA with its release as a comment. The table is embedded so that migration
//! works offline; it was read from the actions' own repositories.

pub mod update;

use std::collections::BTreeMap;

const TABLE: &str = include_str!("pins.tsv");

/// One pinned action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pin {
    pub action: String,
    pub version: String,
    pub sha: String,
}

impl Pin {
    /// The `uses:` value with its version comment: `owner/repo@<sha> # v1.2.3`.
    pub fn uses(&self) -> String {
        format!("{}@{} # {}", self.action, self.sha, self.version)
    }
}

/// The pins in force, by action name.
#[derive(Debug, Clone)]
pub struct Pins(BTreeMap<String, Pin>);

impl Pins {
    /// The embedded table. Rows that are not `action<TAB>version<TAB>40-hex…`
    /// are skipped; a test checks that none are.
    pub fn embedded() -> Self {
        Pins(
            parse(TABLE)
                .into_iter()
                .map(|p| (p.action.clone(), p))
                .collect(),
        )
    }

    /// The `uses:` value for `action`, or the action unpinned if the table
    /// lacks it (a test proves every action the templates use is present).
    pub fn uses(&self, action: &str) -> String {
        self.0
            .get(action)
            .map_or_else(|| action.to_owned(), Pin::uses)
    }

    /// Whether the table pins `action`.
    pub fn has(&self, action: &str) -> bool {
        self.0.contains_key(action)
    }

    /// The release the table pins `action` to (`v4.1.2`).
    pub fn version(&self, action: &str) -> Option<&str> {
        self.0.get(action).map(|p| p.version.as_str())
    }

    /// Adds `pin`, replacing the pin of the same action.
    pub fn insert(&mut self, pin: Pin) {
        self.0.insert(pin.action.clone(), pin);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pin> {
        self.0.values()
    }
}

fn parse(table: &str) -> Vec<Pin> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let (action, version, sha) = (cols.next()?, cols.next()?, cols.next()?);
            let is_sha = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            is_sha.then(|| Pin {
                action: action.to_owned(),
                version: version.to_owned(),
                sha: sha.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_table_is_a_pin() {
        let rows = TABLE
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count();
        assert_eq!(parse(TABLE).len(), rows);
        let uses = Pins::embedded().uses("actions/checkout");
        assert!(
            uses.starts_with("actions/checkout@") && uses.contains(" # v"),
            "{uses}"
        );
    }
}
