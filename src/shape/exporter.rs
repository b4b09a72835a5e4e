//! An exporter (or cache) spec as buildx reads it: one CSV record of
//! `key=value` fields (`type=image,"name=a,b",push=true`), quotes and all,
//! and which of an image exporter's attributes shape the pushed bytes
//! (and so must reach the OCI export the scan reads).

use std::fmt;

/// A spec buildx rejects: a quote inside a field that does not start with
/// one, or a quoted field that does not end at a comma.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

/// The `key=value` fields of `spec`, keys and values trimmed, quotes
/// removed as Go's `encoding/csv` (which buildx uses) removes them.
/// Commas inside `${{ … }}` do not split: they are the expression's own
/// (`format('{0},{1}', …)`), gone once GitHub has evaluated it.
/// Fields without `=` are left out.
pub fn attributes(spec: &str) -> Result<Vec<(String, String)>, Malformed> {
    Ok(fields(spec)?
        .into_iter()
        .filter_map(|f| {
            let (k, v) = f.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect())
}

/// The fields of one CSV record.
fn fields(spec: &str) -> Result<Vec<String>, Malformed> {
    let mut out = Vec::new();
    let mut rest = spec;
    loop {
        let (field, after) = match rest.strip_prefix('"') {
            Some(quoted) => quoted_field(quoted)?,
            None => plain_field(rest)?,
        };
        out.push(field);
        match after {
            Some(next) => rest = next,
            None => return Ok(out),
        }
    }
}

/// A quoted field (after its opening quote): its text, and what follows
/// the comma after it (`None` at the end).
fn quoted_field(s: &str) -> Result<(String, Option<&str>), Malformed> {
    let mut text = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '"' {
            text.push(c);
            continue;
        }
        if chars.peek().is_some_and(|&(_, next)| next == '"') {
            chars.next();
            text.push('"');
            continue;
        }
        let after = &s[at + 1..];
        return match after.strip_prefix(',') {
            Some(next) => Ok((text, Some(next))),
            None if after.trim().is_empty() => Ok((text, None)),
            None => Err(Malformed),
        };
    }
    Err(Malformed)
}

/// An unquoted field: up to the first comma outside `${{ … }}`.
fn plain_field(s: &str) -> Result<(String, Option<&str>), Malformed> {
    let mut in_expression = false;
    for (at, c) in s.char_indices() {
        if s[at..].starts_with("${{") {
            in_expression = true;
        } else if s[at..].starts_with("}}") {
            in_expression = false;
        } else if c == ',' && !in_expression {
            return checked(&s[..at]).map(|f| (f, Some(&s[at + 1..])));
        }
    }
    checked(s).map(|f| (f, None))
}

/// A bare quote is an error to Go's CSV reader, except inside an
/// expression (GitHub's string literals use single quotes; a double one
/// there is left to GitHub).
fn checked(field: &str) -> Result<String, Malformed> {
    let outside: String = field
        .split("${{")
        .map(|part| part.split_once("}}").map_or(part, |(_, after)| after))
        .collect();
    if outside.contains('"') {
        return Err(Malformed);
    }
    Ok(field.to_owned())
}

/// What an image exporter's attribute is to the export for the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Where and whether to push, or how to name it there: the push job's
    /// business, not the export's.
    Push,
    /// It changes the image's bytes; the OCI exporter takes it too, so the
    /// export (and the push of it) carries it.
    Bytes,
    /// Not known to scangate: it might change the bytes.
    Unknown,
}

/// The role of an image exporter's attribute, after BuildKit's image and
/// OCI exporters (docs.docker.com/build/exporters): the OCI exporter
/// takes every attribute that changes the bytes.
pub fn role(key: &str) -> Role {
    match key {
        "type"
        | "name"
        | "push"
        | "push-by-digest"
        | "name-canonical"
        | "insecure"
        | "registry.insecure"
        | "unpack"
        | "store"
        | "dangling-name-prefix" => Role::Push,
        "compression" | "compression-level" | "force-compression" | "oci-mediatypes"
        | "oci-artifact" | "rewrite-timestamp" => Role::Bytes,
        k if k == "annotation" || k.starts_with("annotation.") || k.starts_with("annotation-") => {
            Role::Bytes
        }
        _ => Role::Unknown,
    }
}

/// One `key=value` field, written back as a CSV field: quoted when it holds
/// a comma or a quote.
pub struct Field<'a>(pub &'a str, pub &'a str);

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{}={}", self.0, self.1);
        if text.contains([',', '"']) {
            write!(f, "\"{}\"", text.replace('"', "\"\""))
        } else {
            f.write_str(&text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(spec: &str) -> Vec<(String, String)> {
        attributes(spec).unwrap()
    }

    #[test]
    fn quoted_fields_are_read_as_buildx_reads_them() {
        assert_eq!(
            pairs(r#"type=image,"name=${{ env.A }}",push=true"#),
            [
                ("type", "image"),
                ("name", "${{ env.A }}"),
                ("push", "true")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(pairs(r#""name=a,b",push=true"#)[0].1, "a,b");
        assert_eq!(pairs(r#""annotation.x=say ""hi""""#)[0].1, r#"say "hi""#);
        assert_eq!(
            pairs("type=image,name=${{ format('{0},{1}', a, b) }},push=true").len(),
            3
        );
        assert_eq!(attributes(r#"type=image,name="a""#), Err(Malformed));
        assert_eq!(attributes(r#""name=a"x,push=true"#), Err(Malformed));
        assert_eq!(attributes(r#""name=a"#), Err(Malformed));
    }

    #[test]
    fn a_field_is_written_back_so_it_reads_the_same() {
        for (k, v) in [("rewrite-timestamp", "true"), ("annotation.x", "a,\"b\"")] {
            let spec = format!("type=oci,{}", Field(k, v));
            assert_eq!(pairs(&spec)[1], (k.to_owned(), v.to_owned()), "{spec}");
        }
        assert_eq!(Field("compression", "zstd").to_string(), "compression=zstd");
    }

    #[test]
    fn attributes_that_change_the_bytes_are_told_from_push_settings() {
        assert_eq!(role("rewrite-timestamp"), Role::Bytes);
        assert_eq!(
            role("annotation-index.org.opencontainers.image.title"),
            Role::Bytes
        );
        assert_eq!(role("name-canonical"), Role::Push);
        assert_eq!(role("buildinfo"), Role::Unknown);
    }
}
