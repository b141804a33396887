//! Directory-format (`pg_dump -Fd`) data: one file per entry next to
//! `toc.dat`, `NNNN.dat` compressed as a whole file (`.gz`, `.lz4`, `.zst`),
//! and large objects listed in `blobs_NNNN.toc` (`blobs.toc` before 17).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::data::{decoder, pump};
use super::read::{Compression, TocEntry, corrupt};
use super::restore::DataSource;
use crate::error::{Error, Result};

pub struct DirectorySource {
    dir: PathBuf,
}

impl DirectorySource {
    pub fn new(dir: &Path) -> DirectorySource {
        DirectorySource {
            dir: dir.to_path_buf(),
        }
    }

    /// Open `name` as pg_restore does: the name itself uncompressed, else
    /// the first of `.gz`, `.lz4`, `.zst` that exists.
    fn open(&self, name: &[u8], what: &str) -> Result<Box<dyn Read>> {
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
            let path = self.dir.join(format!("{name}{suffix}"));
            match File::open(&path) {
                Ok(f) => {
                    let raw: Box<dyn Read> = Box::new(BufReader::with_capacity(256 * 1024, f));
                    return decoder(c, raw, true, what.to_string());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(format!("cannot open {}", path.display()), e)),
            }
        }
        Err(Error::integrity(format!(
            "archive is incomplete: the data file {name} of {what} is missing from {}",
            self.dir.display()
        )))
    }
}

impl DataSource for DirectorySource {
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
