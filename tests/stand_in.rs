#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The `podman push` / `buildah push` stand-in that migrated build jobs put
//! on the PATH, run for real with bash against a fake `podman` that keeps
//! its names in a file (no podman here, and no registry): what it records
//! is what the push job will push, so its parsing of the push commands must
//! match podman's.

use std::path::Path;
use std::process::Command;

use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::{Migrator, Outcome, Source};
use yaml_serde::Value;

/// The stand-in script as the migrated podman fixture writes it.
fn stand_in() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/shapes/.github/workflows/podman.yml");
    let source = Source::from_bytes(&path, &std::fs::read(&path).unwrap()).unwrap();
    let migrator = Migrator::new(Pins::embedded(), Policy::default()).unwrap();
    let Outcome::Migrated { text, .. } = migrator.migrate(&source).unwrap() else {
        panic!("the podman fixture migrates");
    };
    let doc: Value = yaml_serde::from_str(&text).unwrap();
    let steps = doc["jobs"]["app-build"]["steps"].as_sequence().unwrap();
    let run = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("scangate-record-push"))
        .unwrap();
    let start = run.find("<<'SCANGATE_EOF'\n").unwrap() + "<<'SCANGATE_EOF'\n".len();
    let end = run[start..].find("SCANGATE_EOF\n").unwrap() + start;
    run[start..end].to_owned()
}

/// A fake `podman`: `tag SRC DEST` names SRC's image (a name, or
/// `sha256:ID`) DEST; `image inspect` prints the image id (without
/// `sha256:`, as podman does) of a known name; `container exists` fails
/// for a container it has not created (`create --name NAME IMAGE …`).
const FAKE_PODMAN: &str = r#"#!/usr/bin/env bash
set -euo pipefail
dir="$(dirname "$0")"
names="$dir/names"
case "$1" in
  tag)
    case "$2" in
      sha256:*) id="${2#sha256:}" ;;
      *) id="$(grep -F "$2 " "$names" | cut -d' ' -f2 | grep .)" ;;
    esac
    echo "$3 $id" >> "$names" ;;
  image) ref="${@: -1}"; grep -F "$ref " "$names" | cut -d' ' -f2 | grep . ;;
  container) [ "$2" = exists ] && grep -qxF "$3" "$dir/containers" 2>/dev/null ;;
  create) [ "$2" = --name ] && echo "$3" >> "$dir/containers" ;;
  *) exit 9 ;;
esac
"#;

/// Runs the stand-in with `args`; returns (success, pushes.txt, stderr+stdout).
fn record(args: &[&str]) -> (bool, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(tmp.path().join("scangate/app")).unwrap();
    std::fs::write(bin.join("names"), "app:local 0123abcd\n").unwrap();
    std::fs::write(bin.join("podman"), FAKE_PODMAN).unwrap();
    std::fs::write(bin.join("scangate-record-push"), stand_in()).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("chmod")
        .arg("+x")
        .arg(bin.join("podman"))
        .status()
        .unwrap();
    let out = Command::new("bash")
        .arg(bin.join("scangate-record-push"))
        .args(args)
        .env("PATH", path)
        .env("RUNNER_TEMP", tmp.path())
        .output()
        .unwrap();
    let pushes =
        std::fs::read_to_string(tmp.path().join("scangate/app/pushes.txt")).unwrap_or_default();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), pushes, said)
}

#[test]
fn records_the_destination_with_the_source_image() {
    let (ok, pushes, said) = record(&["app:local", "docker://ghcr.io/acme/app:v1"]);
    assert!(ok, "{said}");
    assert_eq!(pushes, "ghcr.io/acme/app:v1 sha256:0123abcd\n");

    let (ok, pushes, said) = record(&["--tls-verify=true", "app:local", "ghcr.io/acme/app:latest"]);
    assert!(ok, "{said}");
    assert_eq!(pushes, "ghcr.io/acme/app:latest sha256:0123abcd\n");
}

#[test]
fn records_a_local_name_pushed_as_it_is() {
    let (ok, pushes, said) = record(&["app:local"]);
    assert!(ok, "{said}");
    assert_eq!(pushes, "app:local sha256:0123abcd\n");
}

#[test]
fn refuses_what_the_push_job_could_not_repeat() {
    for args in [
        &["--creds", "u:p", "app:local"][..],
        &["app:local", "oci-archive:/tmp/app.tar"],
        &["app:local", "dir:/tmp/app"],
        &["a", "b", "c"],
        &["missing:tag"],
    ] {
        let (ok, pushes, said) = record(args);
        assert!(!ok, "{args:?} was accepted: {said}");
        assert_eq!(pushes, "", "{args:?} recorded something");
    }
}
