//! Custom-format (`pg_dump -Fc`) data blocks, read forward in one pass: each
//! entry's block is found by scanning block headers and skipping blocks
//! nobody asked for, as pg_restore does on a pipe. Offsets in the TOC are not
//! needed, so archives written to a pipe and the 16+ files with a second TOC
//! after the data read the same way.

use std::collections::HashSet;
use std::io::{self, Read};

use super::data::{Chunks, decoder, pump};
use super::read::{Compression, DataPos, Primitives, TocEntry, corrupt};
use super::restore::DataSource;
use crate::error::{Error, Result};

pub const BLK_DATA: u8 = 1;
pub const BLK_BLOBS: u8 = 3;

/// The next data block's header: its type and dump id, or `None` at a clean
/// end of input. Archives before 1.3 have no type byte: every block of
/// theirs is table data.
pub fn block_header<R: Read>(
    p: &mut Primitives<R>,
    what: &dyn Fn() -> String,
) -> Result<Option<(u8, i64)>> {
    if p.layout.vmin < 3 {
        return Ok(p.int_or_eof(what)?.map(|id| (BLK_DATA, id)));
    }
    let Some(kind) = p.byte_or_eof(what)? else {
        return Ok(None);
    };
    Ok(Some((kind, p.int(what)?)))
}

/// The data area of a custom archive, positioned right after the TOC.
pub struct CustomSource<R> {
    p: Primitives<R>,
    compression: Compression,
    skipped: HashSet<i32>,
}

impl<R: Read> CustomSource<R> {
    pub fn new(p: Primitives<R>, compression: Compression) -> CustomSource<R> {
        CustomSource {
            p,
            compression,
            skipped: HashSet::new(),
        }
    }

    /// Advance to the block of `te`; `None` when the entry has no block.
    fn find_block(&mut self, te: &TocEntry) -> Result<Option<u8>> {
        if te.data_pos == Some(DataPos::NoData) {
            return Ok(None);
        }
        if self.skipped.contains(&te.dump_id) {
            return Err(Error::runtime(format!(
                "the data block of {} comes before blocks restored earlier; this archive's data is out of TOC order",
                te.describe()
            )));
        }
        let what = te.describe();
        loop {
            let Some((kind, id)) = block_header(&mut self.p, &|| {
                format!("a data block header (looking for {what})")
            })?
            else {
                return Err(Error::integrity(format!(
                    "archive is truncated: the data block of {what} is missing"
                )));
            };
            if id == te.dump_id as i64 {
                return Ok(Some(kind));
            }
            self.skipped.insert(id as i32);
            let block = format!("the data block of dump id {id}");
            match kind {
                BLK_DATA => Chunks::new(&mut self.p, block).finish()?,
                BLK_BLOBS => loop {
                    let oid = self.p.int(&|| block.clone())?;
                    if oid == 0 {
                        break;
                    }
                    Chunks::new(&mut self.p, format!("large object {oid} in {block}")).finish()?;
                },
                _ => {
                    return Err(corrupt(format!(
                        "unrecognized data block type {kind} while looking for {what}"
                    )));
                }
            }
        }
    }
}

impl<R: Read> DataSource for CustomSource<R> {
    /// Read to the end of the input: bytes after the last data block (the
    /// second TOC of pg_dump 16 and later redirected to a file) are not
    /// printed, but a container checks its member only at the end.
    fn finish(&mut self) -> Result<()> {
        io::copy(self.p.inner_mut(), &mut io::sink()).map_err(Error::from)?;
        Ok(())
    }

    fn table_data(
        &mut self,
        te: &TocEntry,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        match self.find_block(te)? {
            None => Ok(()),
            Some(BLK_DATA) => {
                let what = te.describe();
                let mut chunks = Chunks::new(&mut self.p, what.clone());
                {
                    let mut dec = decoder(self.compression, Box::new(&mut chunks), false, what)?;
                    pump(&mut dec, sink)?;
                }
                chunks.finish()
            }
            Some(kind) => Err(corrupt(format!(
                "data block type {kind} for {}, expected table data",
                te.describe()
            ))),
        }
    }

    fn blobs(
        &mut self,
        te: &TocEntry,
        each: &mut dyn FnMut(u32, &mut dyn Read) -> Result<()>,
    ) -> Result<()> {
        match self.find_block(te)? {
            None => Ok(()),
            Some(BLK_BLOBS) => {
                let what = te.describe();
                loop {
                    let oid = self.p.int(&|| format!("the large objects of {what}"))?;
                    if oid == 0 {
                        return Ok(());
                    }
                    if oid < 0 {
                        return Err(corrupt(format!("large object OID {oid} in {what}")));
                    }
                    let lo = format!("large object {oid} of {what}");
                    let mut chunks = Chunks::new(&mut self.p, lo.clone());
                    {
                        let mut dec = decoder(self.compression, Box::new(&mut chunks), false, lo)?;
                        each(oid as u32, &mut dec)?;
                    }
                    chunks.finish()?;
                }
            }
            Some(kind) => Err(corrupt(format!(
                "data block type {kind} for {}, expected large objects",
                te.describe()
            ))),
        }
    }
}
