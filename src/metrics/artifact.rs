//! A reports artifact, as GitHub serves it: a zip file of the scan job's
//! `reports/` folder (`SLUG.json`, `SLUG.sarif`, … per scanned target).
//!
//! The zip is read in memory and never written to disk. Everything read is
//! capped: an artifact is someone else's data, and a zip's declared sizes
//! can lie (a bomb inflates far past them), so each entry is read through a
//! limit and an entry over it is skipped with a note, not buffered.

use std::io::{Cursor, Read};

use super::inventory::Inventory;
use super::model::{ImageReport, Reports};
use super::trivy::TrivyReport;
use super::wire::{Artifact, ArtifactsPage};

/// The most bytes of one artifact download (the zip itself).
pub const MAX_ARTIFACT_BYTES: u64 = 64 * 1024 * 1024;
/// The most bytes one report may inflate to.
pub const MAX_REPORT_BYTES: u64 = 32 * 1024 * 1024;
/// The most entries read from one zip.
pub const MAX_ENTRIES: usize = 1024;

/// The reports artifacts of a run of `workflow` that are still there to
/// download (GitHub keeps an expired artifact in the list, without content).
pub fn wanted<'a>(
    inventory: &Inventory,
    workflow: &str,
    list: &'a ArtifactsPage,
) -> Vec<&'a Artifact> {
    list.artifacts
        .iter()
        .filter(|a| !a.expired && inventory.is_reports_artifact(workflow, &a.name))
        .collect()
}

/// A run's reports from its artifacts `list` and the downloads of the
/// [`wanted`] ones (`zip` gives an artifact's bytes, or why not), with notes
/// on what was skipped.
pub fn run_reports(
    inventory: &Inventory,
    workflow: &str,
    list: &ArtifactsPage,
    mut zip: impl FnMut(&Artifact) -> Result<Vec<u8>, String>,
) -> (Reports, Vec<String>) {
    let ours: Vec<&Artifact> = list
        .artifacts
        .iter()
        .filter(|a| inventory.is_reports_artifact(workflow, &a.name))
        .collect();
    if ours.is_empty() {
        return (Reports::Missing("no reports artifact".into()), Vec::new());
    }
    let live = wanted(inventory, workflow, list);
    if live.is_empty() {
        return (Reports::Expired, Vec::new());
    }
    let mut notes = Vec::new();
    if live.len() < ours.len() {
        notes.push(format!(
            "{} of the {} reports artifacts of this run expired; counted from the rest",
            ours.len() - live.len(),
            ours.len()
        ));
    }
    let mut found = Vec::new();
    let mut read = 0;
    for a in live {
        if a.size_in_bytes > MAX_ARTIFACT_BYTES {
            notes.push(format!(
                "artifact {}: {} bytes, over the {}-MiB limit; skipped",
                a.name,
                a.size_in_bytes,
                MAX_ARTIFACT_BYTES / (1024 * 1024)
            ));
            continue;
        }
        match zip(a) {
            Ok(bytes) => {
                let (reports, more) = image_reports(inventory, workflow, &a.name, &bytes);
                notes.extend(more);
                if let Some(reports) = reports {
                    read += 1;
                    found.extend(reports);
                }
            }
            Err(why) => notes.push(format!("artifact {}: {why}; skipped", a.name)),
        }
    }
    if read == 0 {
        return (
            Reports::Missing("no reports artifact could be read".into()),
            notes,
        );
    }
    (Reports::Found(found), notes)
}

/// The image reports of one reports artifact of a run of `workflow`, and
/// notes on what was skipped (named by `artifact`). An artifact that is not
/// a zip gives `None` and a note.
pub fn image_reports(
    inventory: &Inventory,
    workflow: &str,
    artifact: &str,
    zip: &[u8],
) -> (Option<Vec<ImageReport>>, Vec<String>) {
    let mut notes = Vec::new();
    let mut out = Vec::new();
    let mut archive = match zip::ZipArchive::new(Cursor::new(zip)) {
        Ok(a) => a,
        Err(e) => {
            return (
                None,
                vec![format!(
                    "artifact {artifact}: not a readable zip ({e}); skipped"
                )],
            );
        }
    };
    if archive.len() > MAX_ENTRIES {
        notes.push(format!(
            "artifact {artifact}: {} files, more than {MAX_ENTRIES}; only the first {MAX_ENTRIES} were read",
            archive.len()
        ));
    }
    for i in 0..archive.len().min(MAX_ENTRIES) {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                notes.push(format!("artifact {artifact}: entry {i}: {e}; skipped"));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                notes.push(format!("artifact {artifact}: entry {i}: {e}; skipped"));
                continue;
            }
        };
        let Some(stem) = report_stem(&name) else {
            continue;
        };
        let mut bytes = Vec::new();
        let read = (&mut entry)
            .take(MAX_REPORT_BYTES + 1)
            .read_to_end(&mut bytes);
        if let Err(e) = read {
            notes.push(format!("artifact {artifact}: {name}: {e}; skipped"));
            continue;
        }
        if bytes.len() as u64 > MAX_REPORT_BYTES {
            notes.push(format!(
                "artifact {artifact}: {name} inflates past {} MiB; skipped",
                MAX_REPORT_BYTES / (1024 * 1024)
            ));
            continue;
        }
        let report = match TrivyReport::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => {
                notes.push(format!(
                    "artifact {artifact}: {name}: not a Trivy JSON report ({e}); skipped"
                ));
                continue;
            }
        };
        if !report.is_image() {
            continue;
        }
        let (images, platform) = inventory.attribute(workflow, artifact, stem);
        if images.is_empty() {
            notes.push(format!(
                "artifact {artifact}: {name}: no image of {workflow} at the default branch matches it; not counted"
            ));
        }
        for image in images {
            out.push(ImageReport {
                image,
                platform: platform.clone(),
                report: report.clone(),
            });
        }
    }
    (Some(out), notes)
}

/// `SLUG` of a top-level `SLUG.json`; `None` for the other files (SARIF,
/// `SLUG.cosign-vuln.json`, `SLUG.cdx.json`) and anything in a folder.
fn report_stem(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".json")?;
    (!stem.is_empty() && !stem.contains(['/', '\\', '.'])).then_some(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_json_reports_are_read() {
        assert_eq!(report_stem("linux-amd64.json"), Some("linux-amd64"));
        assert_eq!(report_stem("image.sarif"), None);
        assert_eq!(report_stem("image.cosign-vuln.json"), None);
        assert_eq!(report_stem("../image.json"), None);
        assert_eq!(report_stem(".json"), None);
    }
}
