//! Directory-format (`pg_dump -Fd`) data: one file per entry next to
//! `toc.dat`, `NNNN.dat` compressed as a whole file (`.gz`, `.lz4`, `.zst`),
//! and large objects listed in `blobs_NNNN.toc` (`blobs.toc` before 17).
//!
//! The files come from [`Files`]: a directory on disk ([`Folder`]), or the
//! members of a zip or tar file ([`super::container`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use super::data::{decoder, pump};
use super::read::{Compression, TocEntry, corrupt};
use super::restore::DataSource;
use crate::error::{Error, Result};

/// Where the files of a directory archive are.
pub trait Files: Send {
    /// The file `name` (no `/` in it), or `None` when there is none.
    fn open(&self, name: &str) -> Result<Option<Box<dyn Read + Send + '_>>>;
    /// Where the files are, for messages.
    fn location(&self) -> &str;
}

/// A directory archive's own directory.
pub struct Folder {
    dir: PathBuf,
    location: String,
}

impl Folder {
    pub fn new(dir: PathBuf) -> Folder {
        let location = dir.display().to_string();
        Folder { dir, location }
    }
}

impl Files for Folder {
    fn open(&self, name: &str) -> Result<Option<Box<dyn Read + Send + '_>>> {
        let path = self.dir.join(name);
        match File::open(&path) {
            Ok(f) => Ok(Some(Box::new(f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("cannot open {}", path.display()), e)),
        }
    }

    fn location(&self) -> &str {
        &self.location
    }
}

pub struct DirectorySource<'a> {
    files: Box<dyn Files + 'a>,
}

impl<'a> DirectorySource<'a> {
    pub fn new(files: Box<dyn Files + 'a>) -> DirectorySource<'a> {
        DirectorySource { files }
    }

    /// Open `name` as pg_restore does: the name itself uncompressed, else
    /// the first of `.gz`, `.lz4`, `.zst` that exists.
    fn open(&self, name: &[u8], what: &str) -> Result<Box<dyn Read + '_>> {
        let name = std::str::from_utf8(name)
            .map_err(|_| corrupt(format!("file name of {what} is not UTF-8")))?;
        if name.contains('/') || name == ".." {
            return Err(corrupt(format!("file name {name:?} of {what}")));
        }
        let candidates = [
            (String::new(), Compression::None),
            (".gz".to_string(), Compression::Gzip),
            (".lz4".to_string(), Compression::Lz4),
            (".zst".to_string(), Compression::Zstd),
        ];
        for (suffix, c) in candidates {
            if let Some(f) = self.files.open(&format!("{name}{suffix}"))? {
                let raw: Box<dyn Read + '_> = Box::new(BufReader::with_capacity(256 * 1024, f));
                return decoder(c, raw, true, what.to_string());
            }
        }
        Err(Error::integrity(format!(
            "archive is incomplete: the data file {name} of {what} is missing from {}",
            self.files.location()
        )))
    }
}

impl DataSource for DirectorySource<'_> {
    fn table_data(
        &mut self,
        te: &TocEntry,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let Some(name) = te.filename.as_deref().filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let mut r = self.open(name, &te.describe())?;
        pump(&mut r, sink)
    }

    fn blobs(
        &mut self,
        te: &TocEntry,
        each: &mut dyn FnMut(u32, &mut dyn Read) -> Result<()>,
    ) -> Result<()> {
        let Some(name) = te.filename.as_deref().filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let what = te.describe();
        let list = BufReader::new(self.open(name, &what)?);
        for line in list.split(b'\n') {
            let line = line.map_err(Error::from)?;
            let text = String::from_utf8_lossy(&line);
            let mut fields = text.split_whitespace();
            let (Some(oid), Some(file)) = (fields.next(), fields.next()) else {
                return Err(corrupt(format!(
                    "invalid line in the large-object list of {what}: {text:?}"
                )));
            };
            let oid: u32 = oid.parse().map_err(|_| {
                corrupt(format!(
                    "invalid line in the large-object list of {what}: {text:?}"
                ))
            })?;
            let lo = format!("large object {oid} of {what}");
            let mut data = self.open(file.as_bytes(), &lo)?;
            each(oid, &mut data)?;
        }
        Ok(())
    }
}
