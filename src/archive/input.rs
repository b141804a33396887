//! Archives everywhere: the SQL tools take a pg_dump archive where they take
//! a plain dump.
//!
//! `cli::open_sql_input` opens the tools' `FILE` argument and hands it here:
//! a directory goes to [`directory`] and is read as a directory-format
//! archive; a zip or tar file goes to [`container`], which reads the archive
//! or script it holds in place; an opened file or standard input goes to
//! [`stream`], which looks at its first bytes ([`sniff`]): the `PGDMP` magic
//! or a pg_dump tar header is an archive, anything else is passed through as
//! plain SQL (the bytes peeked at included). An archive is turned into the SQL `pgpipe-sql`
//! prints for it by a thread writing into a pipe, so it streams in one pass
//! with bounded memory like the plain input.
//!
//! When the conversion fails (a truncated or corrupt archive), the SQL stops
//! where it failed and the read after it returns the conversion's own error
//! inside the `io::Error`, so the tool fails with the archive's message and
//! exit status (3 for a truncated archive).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// What a SQL tool reads: plain SQL, or an archive converted on the fly.
pub struct SqlInput {
    inner: Box<dyn Read + Send>,
    worker: Option<JoinHandle<Result<()>>>,
    /// Size in bytes, when it is a plain regular file (for progress).
    pub len: Option<u64>,
    /// A name for messages.
    pub name: String,
    /// Whether the input is an archive.
    pub archive: bool,
}

impl Read for SqlInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0
            && !buf.is_empty()
            && let Some(w) = self.worker.take()
        {
            let result = w
                .join()
                .unwrap_or_else(|_| Err(Error::runtime("the archive reader stopped unexpectedly")));
            if let Err(e) = result {
                return Err(e.into());
            }
        }
        Ok(n)
    }
}

/// A directory-format archive at `dir`, read as SQL.
pub fn directory(dir: PathBuf) -> SqlInput {
    let name = dir.display().to_string();
    convert(name, true, move || super::Source::directory(dir))
}

/// The archive or script in the zip or tar file at `path`, read as SQL;
/// `None` when `path` is not a container (or cannot be opened: the caller
/// reports that).
pub fn container(path: &Path) -> Result<Option<SqlInput>> {
    let Ok(file) = File::open(path) else {
        return Ok(None);
    };
    let name = path.display().to_string();
    Ok(super::container::open_file(&file, &name)?.map(|found| {
        let archive = found.is_archive();
        convert(name, archive, move || found.into_source())
    }))
}

/// An opened file or standard input (`len` its size when it is a regular
/// file, `name` for messages): plain SQL, or an archive read as SQL.
pub fn stream(
    mut input: impl Read + Send + 'static,
    len: Option<u64>,
    name: String,
) -> Result<SqlInput> {
    // Enough for a tar header (512 bytes), which is the longest signature.
    let mut head = Vec::with_capacity(PEEK);
    let mut b = [0u8; PEEK];
    while head.len() < PEEK {
        let want = PEEK - head.len();
        let n = match input.read(&mut b[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("cannot read {name}"), e)),
        };
        if n == 0 {
            break;
        }
        head.extend_from_slice(&b[..n]);
    }
    let kind = sniff(&head);
    let chained: Box<dyn Read + Send> = Box::new(io::Cursor::new(head).chain(input));
    match kind {
        Sniffed::Plain => Ok(SqlInput {
            inner: chained,
            worker: None,
            len,
            name,
            archive: false,
        }),
        Sniffed::Archive => Ok(convert(name, true, move || super::Source::Stream(chained))),
        Sniffed::Other { what, hint } => Err(Error::runtime(format!(
            "{name} is not a SQL dump: it looks like {what}"
        ))
        .with_hint(hint)),
    }
}

/// How many bytes [`stream`] looks at before deciding what the input is.
const PEEK: usize = 512;

/// What the first bytes of an input say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// Plain SQL (or anything else: the reader decides).
    Plain,
    /// A pg_dump custom or tar archive, read through the archive reader.
    Archive,
    /// Something a SQL tool cannot read, with the command that can.
    Other {
        what: &'static str,
        hint: &'static str,
    },
}

/// Classify the first bytes of an input (up to 512; fewer at a short input).
pub fn sniff(head: &[u8]) -> Sniffed {
    let other = |what, hint| Sniffed::Other { what, hint };
    if head.starts_with(b"PGDMP") {
        return Sniffed::Archive;
    }
    if head.len() >= 512 && super::tar::is_tar_header(head) {
        if head.starts_with(b"toc.dat\0") {
            return Sniffed::Archive;
        }
        return other(
            "a tar file that is not a pg_dump tar archive (its first member is not toc.dat); a tar holding an archive is read in place, only from a file",
            super::container::FROM_A_FILE,
        );
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return other(
            "gzip-compressed data",
            "decompress it first: pgpipe-zip -d FILE | TOOL (or gzip -dc FILE | TOOL)",
        );
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return other(
            "zstd-compressed data",
            "decompress it first: pgpipe-zip -d FILE | TOOL (or zstd -dc FILE | TOOL)",
        );
    }
    if head.starts_with(b"age-encryption.org/")
        || head.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
    {
        return other(
            "an age-encrypted file",
            "decrypt it first: pgpipe-age -d -i KEY FILE | TOOL",
        );
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return other(
            "xz-compressed data",
            "decompress it first: xz -dc FILE | TOOL",
        );
    }
    if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        return other(
            "bzip2-compressed data",
            "decompress it first: bzip2 -dc FILE | TOOL",
        );
    }
    if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        return other(
            "lz4-compressed data",
            "decompress it first: lz4 -dc FILE | TOOL",
        );
    }
    if head.starts_with(b"PK\x03\x04") {
        return other(
            "a zip file; a zip file holding an archive is read in place, only from a file (its index is at its end)",
            super::container::FROM_A_FILE,
        );
    }
    Sniffed::Plain
}

fn convert(
    name: String,
    archive: bool,
    source: impl FnOnce() -> super::Source<'static> + Send + 'static,
) -> SqlInput {
    let (reader, mut writer) = match io::pipe() {
        Ok(p) => p,
        Err(e) => {
            return failed(name, Error::io("cannot create a pipe", e));
        }
    };
    let worker = std::thread::spawn(move || {
        let options = super::SqlOptions { restrict_key: None };
        let r = super::to_sql(source(), &mut writer, &options);
        match r {
            // The reading side stopped early (its own error): not ours.
            Err(e) if e.exit_code() == crate::error::exit::BROKEN_PIPE => Ok(()),
            other => other,
        }
    });
    SqlInput {
        inner: Box::new(reader),
        worker: Some(worker),
        len: None,
        name,
        archive,
    }
}

fn failed(name: String, e: Error) -> SqlInput {
    SqlInput {
        inner: Box::new(ErrReader(Some(e))),
        worker: None,
        len: None,
        name,
        archive: true,
    }
}

/// A reader whose first read fails with the error it holds.
struct ErrReader(Option<Error>);

impl Read for ErrReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(match self.0.take() {
            Some(e) => e.into(),
            None => io::Error::other("the archive could not be read"),
        })
    }
}
