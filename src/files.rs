//! Reading input with a size cap and writing output atomically: every file fsim reads
//! (scenarios, tapes, corpus entries, shard results) and writes (corpus entries,
//! regression files, JSON, JUnit, diagrams) goes through here.
//!
//! A write goes to a temporary file in the same directory, is flushed to disk, then
//! renamed over the target: a failed or interrupted write leaves the old file whole, never
//! a truncated one.

use std::io::{Read, Write};
use std::path::Path;

/// The largest input file fsim reads (16 MiB): a scenario, a tape or a corpus entry is
/// far smaller; a path to `/dev/zero` or a runaway file is refused, not read forever.
pub const READ_MAX_BYTES: u64 = 16 << 20;

/// Where `serde_path_to_error` found the value an error is about, as a field path
/// (`tape[3]`, `explore.seeds`, `client[2].draws`); empty at the document's top. The
/// keys `toml::Spanned` deserializes through (`$__serde_spanned_private_...`) are no
/// field of the file and are left out.
pub(crate) fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if key.starts_with("$__serde_spanned_private") {
                    continue;
                }
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// A JSON document of type `T` (a corpus entry, shard results), or where and why not:
/// `(line, column, what)`, where `what` names the field (`field `tape[3]`: invalid
/// type: ...`) when the error is inside one.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, (usize, usize, String)> {
    let json = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(json).map_err(|e| {
        let field = match field_path(e.path()) {
            p if p.is_empty() => p,
            p => format!("field `{p}`: "),
        };
        let (line, column) = (e.inner().line(), e.inner().column());
        // Without serde_json's own "at line .. column ..": callers say where first.
        let message = e.inner().to_string();
        let message = message.trim_end_matches(&format!(" at line {line} column {column}"));
        (line, column, format!("{field}{message}"))
    })
}

/// Reads a UTF-8 file of at most [`READ_MAX_BYTES`].
pub fn read_capped(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(READ_MAX_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > READ_MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            READ_MAX_BYTES >> 20
        )));
    }
    Ok(text)
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, `fsync`, rename.
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.fsim-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes.as_ref())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
