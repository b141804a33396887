//! pg_dump archives (custom, directory, tar) read as streams.
//!
//! [`to_sql`] turns an archive into the plain SQL script that `pg_restore -f -`
//! of the same pg_dump version prints for it, and [`list`] prints its table
//! of contents like `pg_restore -l`, without any pg_restore. The archive is
//! read once, front to back: the header ([`read`]), the TOC, then the data
//! blocks in file order ([`custom`], [`directory`], [`tar`]), decompressed
//! and streamed ([`data`]) while [`restore`] prints the statements. Only the
//! TOC is held in memory; data blocks never are.
//!
//! Truncated or corrupt archives fail with an integrity error (exit 3) that
//! names the TOC entry; the tail of a data stream is withheld until the
//! stream is known to be complete. Archive versions newer than
//! [`read::MAX_VERSION`] fail with a runtime error naming both versions.

pub mod container;
pub mod custom;
pub mod data;
pub mod directory;
pub mod input;
pub mod list;
pub mod read;
pub mod restore;
pub mod tar;
pub mod write;

use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use restore::SqlOptions;

/// The container of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Custom,
    Directory,
    Tar,
}

/// Where an archive comes from.
pub enum Source<'a> {
    /// A custom or tar archive as a byte stream (a file or a pipe).
    Stream(Box<dyn Read + 'a>),
    /// A directory-format archive: its files, in a directory or a container.
    Files(Box<dyn directory::Files + 'a>),
    /// A custom archive that is a member of a container, with a check that
    /// reads the whole member again: when the archive reader fails before
    /// the member's end (where its CRC-32 is checked), a damaged member is
    /// reported as such, not as a malformed archive.
    Member(Box<dyn Read + Send + 'a>, container::Check),
    /// A plain SQL script found in a container (gzip- or zstd-compressed or
    /// not): it is already what [`to_sql`] prints, and has no TOC.
    Script(Box<dyn Read + Send + 'a>),
}

impl<'a> Source<'a> {
    /// A path: a directory is a directory archive, a zip or tar container
    /// is searched for the archive it holds ([`container`]), anything else
    /// is opened as a stream.
    pub fn path(path: &Path) -> Result<Source<'static>> {
        if path.is_dir() {
            return Ok(Source::directory(path.to_path_buf()));
        }
        let name = path.display().to_string();
        let f =
            std::fs::File::open(path).map_err(|e| Error::io(format!("cannot open {name}"), e))?;
        match container::open_file(&f, &name)? {
            Some(found) => Ok(found.into_source()),
            None => Ok(Source::Stream(Box::new(f))),
        }
    }

    /// The directory archive in `dir`.
    pub fn directory(dir: PathBuf) -> Source<'static> {
        Source::Files(Box::new(directory::Folder::new(dir)))
    }

    pub fn reader(r: impl Read + 'a) -> Source<'a> {
        Source::Stream(Box::new(r))
    }
}

const READ_BUF: usize = 256 * 1024;

/// An archive whose header and TOC have been read, with its data still to come.
pub struct Opened<'a> {
    pub format: Format,
    pub header: read::Header,
    pub entries: Vec<read::TocEntry>,
    data: Box<dyn restore::DataSource + 'a>,
}

/// Read the header and TOC.
pub fn open<'a>(source: Source<'a>) -> Result<Opened<'a>> {
    match source {
        Source::Files(files) => {
            let (header, entries) = {
                let Some(toc) = files.open("toc.dat")? else {
                    return Err(Error::runtime(format!(
                        "{} is not a pg_dump directory archive (it has no toc.dat)",
                        files.location()
                    )));
                };
                // Read whole before it is parsed: a zip member is checked
                // at its end. The TOC is held in memory anyway.
                let mut bytes = Vec::new();
                let mut toc = toc;
                toc.read_to_end(&mut bytes).map_err(Error::from)?;
                let mut p = read::Primitives::new(bytes.as_slice());
                let header = read::read_header(&mut p)?;
                let entries = read::read_toc(&mut p, &header, read::ExtraToc::Filename)?;
                (header, entries)
            };
            Ok(Opened {
                format: Format::Directory,
                header,
                entries,
                data: Box::new(directory::DirectorySource::new(files)),
            })
        }
        Source::Script(_) => Err(Error::runtime(
            "this is a plain SQL script, not an archive: it has no table of contents",
        )),
        Source::Member(r, _) => open(Source::Stream(r)),
        Source::Stream(r) => {
            let mut r = BufReader::with_capacity(READ_BUF, r);
            let mut peek = [0u8; 512];
            let mut n = 0;
            while n < 5 {
                let got = r
                    .read(&mut peek[n..5])
                    .map_err(|e| Error::io("read error", e))?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            if n == 5 && &peek[..5] == b"PGDMP" {
                let mut p = read::Primitives::new(io::Cursor::new(peek[..5].to_vec()).chain(r));
                let header = read::read_header(&mut p)?;
                if header.format != 1 {
                    return Err(Error::runtime(format!(
                        "this is the toc.dat of a directory or tar archive (format {}), not a custom archive",
                        header.format
                    ))
                    .with_hint("pass the archive directory instead"));
                }
                let entries = read::read_toc(&mut p, &header, read::ExtraToc::Offset)?;
                let compression = header.compression;
                return Ok(Opened {
                    format: Format::Custom,
                    header,
                    entries,
                    data: Box::new(custom::CustomSource::new(p, compression)),
                });
            }
            if n == 0 {
                return Err(Error::integrity("input is empty, not a pg_dump archive"));
            }
            if n < 5 && b"PGDMP".starts_with(&peek[..n]) {
                return Err(read::truncated("the archive header".into()));
            }
            while n < 512 {
                let got = r
                    .read(&mut peek[n..])
                    .map_err(|e| Error::io("read error", e))?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            if n < 512
                && (peek[..n].starts_with(b"toc.dat\0") || b"toc.dat\0".starts_with(&peek[..n]))
            {
                return Err(read::truncated("the first tar header".into()));
            }
            if n == 512 && tar::is_tar_header(&peek) {
                let mut t = tar::TarReader::new(io::Cursor::new(peek.to_vec()).chain(r));
                match t.next_member()? {
                    Some((name, _)) if name == b"toc.dat" => {}
                    _ => {
                        return Err(Error::runtime(
                            "tar archive does not start with toc.dat; it is not a pg_dump tar archive, and a tar holding a directory archive is read in place, only from a file",
                        )
                        .with_hint(container::FROM_A_FILE));
                    }
                }
                let (header, entries) = {
                    let m = t.member("toc.dat".into());
                    let mut p = read::Primitives::new(m);
                    let header = read::read_header(&mut p)?;
                    let entries = read::read_toc(&mut p, &header, read::ExtraToc::Filename)?;
                    (header, entries)
                };
                return Ok(Opened {
                    format: Format::Tar,
                    header,
                    entries,
                    data: Box::new(tar::TarSource::new(t)),
                });
            }
            if peek[..n].starts_with(b"PK\x03\x04") {
                return Err(Error::runtime(
                    "input is a zip file; a zip file holding an archive is read in place, only from a file (its index is at its end)",
                )
                .with_hint(container::FROM_A_FILE));
            }
            if peek[..n].starts_with(b"--") || peek[..n].starts_with(b"SET ") {
                return Err(
                    Error::runtime("input appears to be a plain SQL dump, not an archive")
                        .with_hint("plain dumps need no conversion"),
                );
            }
            Err(Error::runtime(
                "input is not a pg_dump archive (neither custom format nor tar)",
            ))
        }
    }
}

/// Run `read` on `source`; a container member's damage is reported over a
/// malformed archive ([`container::or_damaged`]).
fn checked<'a, T>(source: Source<'a>, read: impl FnOnce(Source<'a>) -> Result<T>) -> Result<T> {
    match source {
        Source::Member(r, check) => container::or_damaged(read(Source::Stream(r)), check),
        other => read(other),
    }
}

/// Write the plain SQL script of an archive, as `pg_restore -f -` prints it.
pub fn to_sql(source: Source<'_>, out: &mut dyn Write, options: &SqlOptions) -> Result<()> {
    checked(source, |source| to_sql_unchecked(source, out, options))
}

fn to_sql_unchecked(source: Source<'_>, out: &mut dyn Write, options: &SqlOptions) -> Result<()> {
    if let Some(k) = &options.restrict_key
        && !restore::valid_restrict_key(k)
    {
        return Err(Error::usage(
            "invalid restrict key: it must be one or more of [A-Za-z0-9]",
        ));
    }
    let source = match source {
        Source::Script(script) => {
            if options.restrict_key.is_some() {
                return Err(Error::usage(
                    "--restrict-key applies to archives; this is a plain SQL script, printed as it is",
                ));
            }
            crate::codec::zip::decompress(script, out, true)?;
            return Ok(());
        }
        other => other,
    };
    let mut a = open(source)?;
    let mut r = restore::Renderer::new(out, &a.header);
    r.render(&a.header, &a.entries, a.data.as_mut(), options)
}

/// Print the table of contents of an archive, as `pg_restore -l` prints it.
pub fn list(source: Source<'_>, out: &mut dyn Write) -> Result<()> {
    checked(source, |source| {
        let a = open(source)?;
        list::print_list(out, &a.header, &a.entries, a.format)
    })
}
