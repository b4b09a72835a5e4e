//! The whole pipeline on arbitrary bytes: `Source::from_bytes`, then
//! `Migrator::migrate`. Errors and refusals are fine; a panic is a bug, and
//! so is a migration that is not idempotent, whose restored bytes do not
//! parse, or that loses the file's BOM, line endings or final newline.
//!
//! With `SCANGATE_FUZZ_STRICT=1` in the environment, an internal
//! verification failure (`Error::Verification`, which scangate itself calls
//! a bug) is a crash too.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::source::LineEndings;
use scangate::{Migrator, Outcome, Source};

static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    Migrator::new(Pins::embedded(), Policy::default()).expect("the embedded templates load")
});

static STRICT: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("SCANGATE_FUZZ_STRICT").is_some_and(|v| v == "1"));

fuzz_target!(|data: &[u8]| {
    let path = Path::new(".github/workflows/fuzz.yml");
    let Ok(source) = Source::from_bytes(path, data) else {
        return;
    };
    let text = match MIGRATOR.migrate(&source) {
        Ok(Outcome::Migrated { text, .. }) => text,
        Err(e @ scangate::Error::Verification { .. }) if *STRICT => panic!("{e}"),
        _ => return,
    };
    let restored = source.restore(&text);
    // Parsed as GitHub reads it: UTF-8, a BOM dropped.
    let body = restored.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&restored);
    let body = std::str::from_utf8(body).expect("the restored migration is UTF-8");
    if let Err(e) = yaml_serde::from_str::<yaml_serde::Value>(body) {
        panic!("the restored migration does not parse: {e}");
    }
    assert_eq!(restored.starts_with(b"\xEF\xBB\xBF"), source.bom, "BOM");
    assert_eq!(
        restored.last() == Some(&b'\n'),
        source.final_newline,
        "final newline"
    );
    if source.line_endings == LineEndings::Crlf {
        let bare_lf = restored
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\n' && (i == 0 || restored[i - 1] != b'\r'));
        assert!(!bare_lf, "a CRLF file got an LF-only line");
    }
    let again = Source::from_bytes(path, &restored).expect("the restored bytes read back");
    match MIGRATOR.migrate(&again) {
        Ok(Outcome::Unchanged) => {}
        other => panic!("migrating the result again gave {other:?}, not Unchanged"),
    }
});
