//! Exports as they are downloaded: a pg_dump archive inside a `.zip` or an
//! uncompressed `.tar`, read in place.
//!
//! A container is recognized by its magic ([`detect`]), never by its name,
//! and only in a file: its index is at the end (zip) or spread over the
//! whole file (tar), so it is read by seeking. [`zip`] and [`tar`] index
//! the members; [`Container::find`] then looks for exactly one archive in
//! them: a directory archive (a `toc.dat` at the top or under one folder,
//! with its data files beside it), or one member that is a custom archive
//! or a `.sql`/`.sql.gz` script. Members are read with positioned reads on
//! one shared file, so a directory archive's large-object list and the
//! large objects it names are open at the same time, and nothing is
//! extracted. A zip member is checked against its CRC-32 and length as its
//! last byte is delivered; a read past the end of the file is a truncated
//! container. Both fail with an integrity error (exit 3) naming the member.

mod tar;
mod zip;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::Source;
use super::directory::Files;
use crate::error::{Error, Result};

/// The kinds of container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip file",
            Kind::Tar => "tar file",
        }
    }
}

/// The hint for a container given on standard input or a pipe.
pub const FROM_A_FILE: &str = "give the file's name as FILE instead of standard input or a pipe";

/// How many bytes [`detect`] needs: a tar header and the archive header of
/// the member after it.
pub const DETECT_LEN: usize = 1024;

/// Is `head` (the first [`DETECT_LEN`] bytes of an input, fewer when it is
/// shorter) the start of a container? A tar whose first member is `toc.dat`
/// in a POSIX ustar header is what `pg_dump -Ft` writes, and is read as a
/// stream like any tar archive; other tars (a folder first, or written by
/// GNU tar's default format) are containers. A zip file is also known by
/// its end ([`open_file`] looks there too).
pub fn detect(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    // A tar header: a valid checksum, or (a damaged header) the ustar magic
    // with at most one byte wrong.
    if head.len() >= 263 {
        let valid = head.len() >= 512 && super::tar::is_tar_header(head);
        let magic = head[257..262]
            .iter()
            .zip(b"ustar")
            .filter(|(a, b)| a == b)
            .count();
        if valid || magic >= 4 {
            let pg_dump_tar =
                valid && head.starts_with(b"toc.dat\0") && &head[257..263] == b"ustar\0";
            return (!pg_dump_tar).then_some(Kind::Tar);
        }
    }
    None
}

/// One member of a container, as its index records it.
#[derive(Debug, Clone)]
pub struct Member {
    /// The name with any leading `./` removed; folders end with `/`.
    pub name: String,
    /// Uncompressed size.
    pub size: u64,
    pub kind: MemberKind,
    /// Where the member's bytes are and how they are stored.
    at: Stored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    File,
    Folder,
    /// A link or a device: listed, never read.
    Other,
}

#[derive(Debug, Clone, Copy)]
enum Stored {
    /// `len` bytes at `offset`, as they are (a tar member).
    Plain { offset: u64 },
    /// A zip member: `compressed` bytes at `offset`, stored or deflated,
    /// whose uncompressed bytes have this CRC-32.
    Zip {
        offset: u64,
        compressed: u64,
        deflated: bool,
        crc: u32,
    },
}

/// An opened container: the file and its index.
pub struct Container {
    file: Arc<File>,
    /// The path, for messages.
    name: String,
    kind: Kind,
    members: Vec<Member>,
}

/// The archive in `file` (called `name` in messages) when the file is a
/// container, `None` when it is not one (or cannot be read at an offset,
/// like a pipe: then it is read as a stream).
pub fn open_file(file: &File, name: &str) -> Result<Option<Found>> {
    let Ok(meta) = file.metadata() else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Ok(None);
    }
    let mut head = vec![0u8; DETECT_LEN];
    let n = read_at_most(file, &mut head, 0)?;
    let kind = match detect(&head[..n]) {
        Some(kind) => kind,
        None if zip::ends_like_zip(file, meta.len())? => Kind::Zip,
        None => return Ok(None),
    };
    let file = file
        .try_clone()
        .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    Container::open(file, name.to_string(), kind)?
        .find()
        .map(Some)
}

/// Fill `buf` from `offset` as far as the file goes; the count read.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(got) => n += got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("cannot read the input", e)),
        }
    }
    Ok(n)
}

/// The archive a container holds.
pub enum Found {
    /// A directory archive: its files, with `toc.dat` among them.
    Directory(ContainerFiles),
    /// A custom-format archive, and a second reading of it that checks the
    /// whole member (see [`Source::Member`]).
    Custom(Box<dyn Read + Send>, Check),
    /// A plain SQL script (`.sql`), or a compressed one (`.sql.gz`) that
    /// the reader decompresses.
    Plain(Box<dyn Read + Send>),
}

impl Found {
    pub fn into_source(self) -> Source<'static> {
        match self {
            Found::Directory(files) => Source::Files(Box::new(files)),
            Found::Custom(r, check) => Source::Member(r, check),
            Found::Plain(r) => Source::Script(r),
        }
    }

    /// Whether it is an archive (not a plain script).
    pub fn is_archive(&self) -> bool {
        !matches!(self, Found::Plain(_))
    }
}

impl Container {
    /// Index the container `file` (of the given kind), called `name` in
    /// messages.
    pub fn open(file: File, name: String, kind: Kind) -> Result<Container> {
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot read {name}"), e))?
            .len();
        let file = Arc::new(file);
        let members = match kind {
            Kind::Zip => zip::index(&file, &name)?,
            Kind::Tar => tar::index(&file, len, &name)?,
        };
        Ok(Container {
            file,
            name,
            kind,
            members,
        })
    }

    /// Read member `i` (a file), checked as it is read.
    pub fn read(&self, i: usize) -> Result<Box<dyn Read + Send>> {
        read_member(&self.file, &self.name, &self.members[i])
    }

    /// The one archive this container holds, or an error that lists what it
    /// holds instead.
    pub fn find(self) -> Result<Found> {
        let mut found: Vec<(String, Candidate)> = Vec::new();
        // Directory archives: a toc.dat at the top or one folder down.
        let mut folders: Vec<String> = Vec::new();
        for m in self.members.iter().filter(|m| m.kind == MemberKind::File) {
            if let Some(folder) = m.name.strip_suffix("toc.dat")
                && (folder.is_empty()
                    || (folder.ends_with('/') && folder.matches('/').count() == 1))
            {
                folders.push(folder.to_string());
                found.push((
                    if folder.is_empty() {
                        "toc.dat".into()
                    } else {
                        folder.to_string()
                    },
                    Candidate::Directory(folder.to_string()),
                ));
            }
        }
        // Single members outside those folders: custom archives by their
        // magic, scripts by their name.
        let mut sniffed = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            if m.kind != MemberKind::File
                || folders
                    .iter()
                    .any(|f| !f.is_empty() && m.name.starts_with(f.as_str()))
                || (folders.iter().any(String::is_empty) && !m.name.contains('/'))
            {
                continue;
            }
            let lower = m.name.to_ascii_lowercase();
            if lower.ends_with(".sql") || lower.ends_with(".sql.gz") {
                found.push((m.name.clone(), Candidate::Plain(i)));
                continue;
            }
            sniffed.push(i);
            if self.custom_magic(i)? {
                found.push((m.name.clone(), Candidate::Custom(i)));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        if found.len() != 1 {
            // What was sniffed by content must be what the zip recorded
            // before it is reported as not an archive.
            for &i in &sniffed {
                io::copy(&mut self.read(i)?, &mut io::sink()).map_err(Error::from)?;
            }
        }
        match found.len() {
            1 => {}
            0 => {
                return Err(Error::runtime(format!(
                    "{} is a {} that holds no pg_dump archive; it holds {}",
                    self.name,
                    self.kind.name(),
                    self.listing()
                ))
                .with_hint(
                    "a container is read when it holds one directory archive (toc.dat and its data files, at the top or in one folder), one custom archive, or one .sql or .sql.gz file",
                ));
            }
            n => {
                let names: Vec<String> = found
                    .iter()
                    .map(|(name, c)| format!("{name} ({})", c.describe()))
                    .collect();
                return Err(Error::runtime(format!(
                    "{} is a {} that holds {n} pg_dump archives: {}; it holds {}",
                    self.name,
                    self.kind.name(),
                    names.join(", "),
                    self.listing()
                ))
                .with_hint("put one archive in each container, or extract the one to read"));
            }
        }
        let (_, candidate) = found.pop().expect("one candidate");
        Ok(match candidate {
            Candidate::Directory(prefix) => Found::Directory(ContainerFiles::new(self, prefix)),
            Candidate::Custom(i) => {
                let (file, name, member) = (
                    Arc::clone(&self.file),
                    self.name.clone(),
                    self.members[i].clone(),
                );
                let check: Check = Box::new(move || {
                    let mut r = read_member(&file, &name, &member)?;
                    io::copy(&mut r, &mut io::sink()).map_err(Error::from)?;
                    Ok(())
                });
                Found::Custom(self.read(i)?, check)
            }
            Candidate::Plain(i) => Found::Plain(self.read(i)?),
        })
    }

    /// Does member `i` start like a custom-format archive (`PGDMP`, then a
    /// header whose format byte is 1)?
    fn custom_magic(&self, i: usize) -> Result<bool> {
        if self.members[i].size < 11 {
            return Ok(false);
        }
        let mut head = [0u8; 11];
        let mut r = self.read(i)?;
        r.read_exact(&mut head).map_err(Error::from)?;
        Ok(head.starts_with(b"PGDMP") && head[10] == 1)
    }

    /// What the container holds, for an error message: the first members by
    /// name and size, and how many more there are.
    fn listing(&self) -> String {
        const SHOWN: usize = 20;
        if self.members.is_empty() {
            return "no members".into();
        }
        let mut parts: Vec<String> = self
            .members
            .iter()
            .take(SHOWN)
            .map(|m| match m.kind {
                MemberKind::Folder => m.name.clone(),
                MemberKind::File => format!("{} ({} bytes)", m.name, m.size),
                MemberKind::Other => format!("{} (not a file)", m.name),
            })
            .collect();
        if self.members.len() > SHOWN {
            parts.push(format!("and {} more", self.members.len() - SHOWN));
        }
        let count = match self.members.len() {
            1 => "1 member".to_string(),
            n => format!("{n} members"),
        };
        format!("{count}: {}", parts.join(", "))
    }
}

enum Candidate {
    /// The folder holding `toc.dat` (empty at the top, else ending in `/`).
    Directory(String),
    Custom(usize),
    Plain(usize),
}

impl Candidate {
    fn describe(&self) -> &'static str {
        match self {
            Candidate::Directory(_) => "directory archive",
            Candidate::Custom(_) => "custom archive",
            Candidate::Plain(_) => "SQL script",
        }
    }
}

/// A whole reading of a member, to tell a damaged member from a damaged
/// archive when the archive reader fails before the member's end.
pub type Check = Box<dyn FnOnce() -> Result<()> + Send>;

/// `result`, unless it is a runtime error (a malformed archive) and `check`
/// finds the member damaged: then the member's error (exit 3).
pub fn or_damaged<T>(result: Result<T>, check: Check) -> Result<T> {
    match result {
        Err(e) if e.kind == crate::error::ErrorKind::Runtime => check().and(Err(e)),
        other => other,
    }
}

/// The bytes of `m`, a file of the container `file` called `name`.
fn read_member(file: &Arc<File>, name: &str, m: &Member) -> Result<Box<dyn Read + Send>> {
    let what = format!("the member {} of {name}", m.name);
    match m.at {
        Stored::Plain { offset } => Ok(Box::new(Slice::new(file, offset, m.size, what))),
        Stored::Zip {
            offset,
            compressed,
            deflated,
            crc,
        } => zip::member(
            Slice::new(file, offset, compressed, what.clone()),
            deflated,
            m.size,
            crc,
            what,
        ),
    }
}

/// The files of a directory archive inside a container.
pub struct ContainerFiles {
    container: Container,
    /// Member index by the name relative to the archive's folder.
    by_name: HashMap<String, usize>,
    location: String,
}

impl ContainerFiles {
    fn new(container: Container, prefix: String) -> ContainerFiles {
        let by_name = container
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.kind == MemberKind::File)
            .filter_map(|(i, m)| {
                let rest = m.name.strip_prefix(prefix.as_str())?;
                (!rest.contains('/')).then(|| (rest.to_string(), i))
            })
            .collect();
        let location = if prefix.is_empty() {
            container.name.clone()
        } else {
            format!("{} ({})", container.name, prefix)
        };
        ContainerFiles {
            container,
            by_name,
            location,
        }
    }
}

impl Files for ContainerFiles {
    fn open(&self, name: &str) -> Result<Option<Box<dyn Read + Send + '_>>> {
        match self.by_name.get(name) {
            Some(&i) => Ok(Some(self.container.read(i)?)),
            None => Ok(None),
        }
    }

    fn location(&self) -> &str {
        &self.location
    }
}

/// `len` bytes of the shared file from `offset`, read with positioned
/// reads; the file ending first is a truncated container.
pub(super) struct Slice {
    file: Arc<File>,
    pos: u64,
    end: u64,
    what: String,
}

impl Slice {
    fn new(file: &Arc<File>, offset: u64, len: u64, what: String) -> Slice {
        Slice {
            file: Arc::clone(file),
            pos: offset,
            end: offset.saturating_add(len),
            what,
        }
    }
}

impl Read for Slice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = loop {
            match self.file.read_at(&mut buf[..want], self.pos) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Err(truncated(&self.what).into());
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// The error for a container that ends inside `what`.
fn truncated(what: &str) -> Error {
    Error::integrity(format!(
        "container is truncated: the file ends inside {what}"
    ))
}

/// The error for a container whose index or member is damaged.
fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::integrity(format!("container is corrupt: {what}"))
}

/// A member name as the archive reader sees it: without the `./` that
/// `tar -C DIR .` puts in front, or a leading `/`.
fn normalize(name: &str) -> String {
    let mut rest = name;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('/') {
            rest = r;
        } else {
            break;
        }
    }
    if rest == "." {
        return String::new();
    }
    rest.to_string()
}
