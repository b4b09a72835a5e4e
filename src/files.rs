//! The disk edge: which files a PATH argument means, reading them, and
//! writing results so that a file is always either the old or the new one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::render::Overrides;
use crate::source::{MAX_FILE_BYTES, Source};

/// The workflow files a PATH argument stands for: the file itself; every
/// `.github/workflows/*.yml|*.yaml` below a repository root; or, for a folder
/// without `.github/workflows` (such as `.github/workflows` itself), its own
/// `*.yml|*.yaml`, as zizmor and actionlint take a folder. Sorted.
pub fn workflows(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = fs::metadata(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let nested = path.join(".github").join("workflows");
    if nested.is_dir() {
        return yaml_files(&nested);
    }
    let out = yaml_files(path)?;
    if out.is_empty() {
        return Err(Error::Usage {
            path: path.to_path_buf(),
            message: "no workflow files here (.github/workflows/*.yml or *.yml); pass a workflow file, a folder of workflows or a repository root".into(),
        });
    }
    Ok(out)
}

/// The regular `*.yml|*.yaml` files of `dir`, sorted.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    sorted_entries(dir, |p| {
        p.extension().is_some_and(|x| x == "yml" || x == "yaml")
            // Regular files (or links to them) only: reading a FIFO would block.
            && fs::metadata(p).is_ok_and(|m| m.is_file())
    })
}

/// The entries of `dir` that `keep` accepts, sorted by path.
pub fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, Error> {
    let entries = fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| keep(p))
        .collect();
    out.sort();
    Ok(out)
}

/// The template files of `dir` (`--templates`, or `templates` in the
/// config): each must be named after a built-in template.
pub fn templates(dir: &Path) -> Result<Overrides, Error> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Read { path, source }
    };
    let mut overrides = Overrides::default();
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(err(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| fs::metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = fs::read_to_string(&path).map_err(err(&path))?;
        overrides.insert(&name, path.display().to_string(), text)?;
    }
    Ok(overrides)
}

/// The actionlint config of the repository at `root`
/// (`.github/actionlint.yaml` or `.yml`; `root` may also be its
/// `.github/workflows`), if it has one.
pub fn actionlint_config(root: &Path) -> Result<Option<Source>, Error> {
    // `root/../..` when `root` is `.github/workflows` itself.
    crate::runner::ACTIONLINT_CONFIGS
        .iter()
        .flat_map(|config| [root.join(config), root.join("../..").join(config)])
        .find(|p| p.is_file())
        .map(|path| read(&path))
        .transpose()
}

/// Reads `path` into a [`Source`], refusing oversized files before reading them.
pub fn read(path: &Path) -> Result<Source, Error> {
    let err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(err)?;
    if !meta.is_file() {
        return Err(Error::Usage {
            path: path.to_path_buf(),
            message: "is not a regular file (a FIFO, device or folder); scangate reads workflow files only".into(),
        });
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: usize::try_from(meta.len()).unwrap_or(usize::MAX),
            limit: MAX_FILE_BYTES,
        });
    }
    let bytes = fs::read(path).map_err(err)?;
    Source::from_bytes(path, &bytes)
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same
/// folder, flushed to disk, given the old file's permissions, then renamed
/// over it. A symbolic link is never written through: its target may be
/// outside the repository.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(err)?;
    if meta.file_type().is_symlink() {
        return Err(Error::Usage {
            path: path.to_path_buf(),
            message: "is a symbolic link; scangate does not write through links (edit the target instead)".into(),
        });
    }
    if meta.permissions().readonly() {
        return Err(Error::Usage {
            path: path.to_path_buf(),
            message: "is read-only; scangate does not replace files it may not write (change the mode and run again)"
                .into(),
        });
    }
    let tmp = synced_temp(path, bytes).map_err(err)?;
    fs::set_permissions(tmp.path(), meta.permissions()).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// `bytes` in a temporary file beside `path`, flushed to disk, ready to be
/// renamed over it (a rename within one folder is atomic).
fn synced_temp(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Writes `bytes` to `path`: an existing file is replaced as
/// [`write_atomic`] does; a new one is created the same way (a temporary
/// file renamed into place), never over a file that appeared meanwhile.
pub fn write_new_or_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if fs::symlink_metadata(path).is_ok() {
        return write_atomic(path, bytes);
    }
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    synced_temp(path, bytes)
        .map_err(err)?
        .persist_noclobber(path)
        .map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_workflows_of_a_repository_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let wf = dir.path().join(".github/workflows");
        fs::create_dir_all(&wf).unwrap();
        for name in ["b.yaml", "a.yml", "notes.md"] {
            fs::write(wf.join(name), "on: push\n").unwrap();
        }
        let found = workflows(dir.path()).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_and_refuses_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.yml");
        fs::write(&file, "old").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&file, b"new").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let link = dir.path().join("link.yml");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(write_atomic(&link, b"x").is_err());
        assert_eq!(fs::read(&file).unwrap(), b"new");
    }
}
