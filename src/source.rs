//! The *read* stage: a workflow's bytes as text, with everything needed to give
//! the same bytes back (byte-order mark, line endings, final newline).
//!
//! The rest of the pipeline works on [`Source::text`], which always uses `\n`
//! and always ends with one, so that the line-based stages never have to care
//! about the file's conventions. [`Source::restore`] puts them back.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Files larger than this are refused before parsing: no workflow is this big,
/// and a parser fed hundreds of megabytes is how a CI job hangs.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// How lines end in the original file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEndings {
    /// Every line ends with `\n`.
    Lf,
    /// Every line ends with `\r\n`.
    Crlf,
    /// Both appear: the file can be read and checked, but an edit could not
    /// match "the file's" line ending, so migration refuses it.
    Mixed,
}

/// A workflow file as read from disk (or from the GitHub API).
#[derive(Debug, Clone)]
pub struct Source {
    /// Where the bytes came from, as the user should see it in messages.
    pub path: PathBuf,
    /// The text without BOM, with `\n` line endings and a final newline.
    pub text: String,
    pub bom: bool,
    pub line_endings: LineEndings,
    pub final_newline: bool,
}

impl Source {
    /// Decodes `bytes`; non-UTF-8 input is an error that names the first bad byte.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                size: bytes.len(),
                limit: MAX_FILE_BYTES,
            });
        }
        let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        let text = std::str::from_utf8(body).map_err(|e| Error::NotUtf8 {
            path: path.to_path_buf(),
            offset: e.valid_up_to() + if bom { 3 } else { 0 },
        })?;
        if let Some(offset) = text.find('\0') {
            return Err(Error::NulByte {
                path: path.to_path_buf(),
                offset: offset + if bom { 3 } else { 0 },
            });
        }
        let crlf = text.matches("\r\n").count();
        let lf = text.matches('\n').count();
        let line_endings = match (crlf, lf) {
            (0, _) => LineEndings::Lf,
            (c, l) if c == l => LineEndings::Crlf,
            _ => LineEndings::Mixed,
        };
        let mut normalised = match line_endings {
            LineEndings::Crlf => text.replace("\r\n", "\n"),
            _ => text.to_owned(),
        };
        let final_newline = normalised.is_empty() || normalised.ends_with('\n');
        if !final_newline {
            normalised.push('\n');
        }
        Ok(Source {
            path: path.to_path_buf(),
            text: normalised,
            bom,
            line_endings,
            final_newline,
        })
    }

    /// Turns pipeline text back into bytes in the file's own conventions.
    pub fn restore(&self, text: &str) -> Vec<u8> {
        let mut body = text;
        if !self.final_newline {
            body = body.strip_suffix('\n').unwrap_or(body);
        }
        let body = match self.line_endings {
            LineEndings::Crlf => body.replace('\n', "\r\n"),
            _ => body.to_owned(),
        };
        let mut out = Vec::with_capacity(body.len() + 3);
        if self.bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        out.extend_from_slice(body.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bytes: &[u8]) {
        let s = Source::from_bytes(Path::new("w.yml"), bytes).unwrap();
        assert!(s.text.is_empty() || s.text.ends_with('\n'));
        assert!(!s.text.contains('\r') || s.line_endings == LineEndings::Mixed);
        assert_eq!(s.restore(&s.text), bytes);
    }

    #[test]
    fn conventions_survive_a_round_trip() {
        round_trip(b"on: push\njobs: {}\n");
        round_trip(b"on: push\r\njobs: {}\r\n");
        round_trip(b"\xEF\xBB\xBFon: push\njobs: {}");
        round_trip(b"on: push\r\njobs: {}");
        round_trip(b"a: 1\r\nb: 2\n");
        round_trip(b"");
    }

    #[test]
    fn latin1_is_an_error_with_an_offset() {
        let err = Source::from_bytes(Path::new("w.yml"), b"name: caf\xe9\n").unwrap_err();
        assert!(err.to_string().contains("byte 9"), "{err}");
    }
}
