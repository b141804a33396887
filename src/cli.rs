//! What every pgpipe binary shares: input and output conventions, the
//! printer of errors and warnings, and the arguments the tools have in common.
//! The error type and its exit codes live in [`crate::error`], the progress
//! bar in [`crate::progress`]; both are re-exported here for the binaries.
//!
//! Conventions (the same in every binary and every man page):
//!
//! * `[FILE]` or `-` reads standard input; `-o FILE` writes to a temporary
//!   file in the same directory that is renamed over FILE only on success,
//!   so a failed run never leaves a half-written file.
//! * Errors print as `pgpipe-<tool>: error: [line N: ]<what>` with an
//!   optional `pgpipe-<tool>: hint: <fix>` line.
//! * Exit codes: see [`exit`]. A closed downstream pipe exits 141 silently.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

pub use crate::BLOCK;
pub use crate::error::{Error, ErrorKind, Result, exit, io_message};
pub use crate::progress::{Progress, ProgressReader};

/// Print an error the house way.
pub fn print_error(prog: &str, err: &Error) {
    if err.kind == ErrorKind::BrokenPipe {
        return;
    }
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{prog}: error: {err}");
    if let Some(hint) = &err.hint {
        let _ = writeln!(stderr, "{prog}: hint: {hint}");
    }
}

/// Print a warning the house way.
pub fn warn(prog: &str, message: impl fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{prog}: warning: {message}");
}

/// Run a binary's body and exit with the right code. Binaries call this from
/// `main` and nothing else.
pub fn run(prog: &str, body: impl FnOnce() -> Result<()>) -> ! {
    tune_allocator();
    let code = match body() {
        Ok(()) => exit::OK,
        Err(err) => {
            print_error(prog, &err);
            err.exit_code()
        }
    };
    std::process::exit(code)
}

/// A tool's `main`: parse its arguments (`argv`, the program's name first;
/// usage errors exit 2), run `body` with them, and exit with the code its
/// result gives.
pub fn main<A: clap::Parser>(prog: &str, argv: Vec<OsString>, body: fn(&A) -> Result<()>) -> ! {
    let args: A = parse_args(prog, argv);
    run(prog, || body(&args))
}

/// Keep every allocation below 32 MiB on glibc's heap instead of a fresh
/// mapping. The stream stages allocate and free block-sized buffers (the age
/// crate a new one per 64 KiB chunk); with glibc's default, moving threshold
/// these came back as new pages again and again: `pgpipe-age -r` took 1.15 s
/// on the 256 MiB bench dump, 0.65 s with the threshold fixed, and perf put
/// a fifth of the slow run in the copy into those buffers. Memory stays
/// bounded: the buffers are bounded, and freed ones are reused.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

/// The hidden first argument that prints a shell completion script.
pub const COMPLETIONS_FLAG: &str = "--generate-completions";

/// Parse `argv` (the program's name first) with clap; usage errors exit 2
/// with clap's message, `--help`/`--version` exit 0. The name clap shows is
/// `prog`, whatever `argv[0]` says, so `pgpipe zip` and `pgpipe-zip` print
/// the same bytes.
///
/// `PROG --generate-completions SHELL` (only as the first argument; SHELL is
/// bash, zsh, fish, elvish or powershell) prints the completion script for
/// the binary's arguments and exits 0. It is not listed in `--help`: it is
/// for `make install` and packagers, and documented in pgpipe(7).
pub fn parse_args<T: clap::Parser>(prog: &str, argv: Vec<OsString>) -> T {
    let rest = argv.get(1..).unwrap_or_default();
    if rest.first().is_some_and(|a| a == COMPLETIONS_FLAG) {
        let code = match print_completions(T::command(), &rest[1..], &mut io::stdout().lock()) {
            Ok(()) => exit::OK,
            Err(err) => {
                print_error(prog, &err);
                err.exit_code()
            }
        };
        std::process::exit(code)
    }
    let argv = std::iter::once(OsString::from(prog)).chain(rest.iter().cloned());
    match T::try_parse_from(argv) {
        Ok(args) => args,
        Err(err) => exit_with(&err),
    }
}

/// Print a clap error (or `--help`/`--version` text) and exit: 2 for a
/// usage error, 0 for text that was asked for.
pub fn exit_with(err: &clap::Error) -> ! {
    let code = if err.use_stderr() {
        exit::USAGE
    } else {
        exit::OK
    };
    let _ = err.print();
    std::process::exit(code)
}

/// Write the completion script for `cmd` in the shell named by `args` (the
/// words after [`COMPLETIONS_FLAG`]: exactly one shell name).
pub fn print_completions(
    mut cmd: clap::Command,
    args: &[OsString],
    out: &mut impl Write,
) -> Result<()> {
    use clap_complete::Shell;
    let hint = format!("usage: {} {COMPLETIONS_FLAG} bash|zsh|fish", cmd.get_name());
    let [shell] = args else {
        return Err(
            Error::usage(format!("{COMPLETIONS_FLAG} takes one shell name")).with_hint(hint),
        );
    };
    let name = shell.to_string_lossy();
    let shell = <Shell as clap::ValueEnum>::from_str(&name, true).map_err(|_| {
        Error::usage(format!("{COMPLETIONS_FLAG}: unknown shell '{name}'")).with_hint(hint)
    })?;
    let bin = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, bin, &mut script);
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("cannot write the completion script", e))
}

/// Is this path argument "standard input/output"?
pub fn is_stdio(path: Option<&Path>) -> bool {
    match path {
        None => true,
        Some(p) => p.as_os_str() == "-",
    }
}

/// Open the input: a file, or standard input for `None` and `-`.
pub fn open_input(path: Option<&Path>) -> Result<Input> {
    if is_stdio(path) {
        grow_pipe(0);
        return Ok(Input {
            inner: Box::new(RawStdin),
            len: None,
            name: "<stdin>".into(),
        });
    }
    let path = path.expect("checked by is_stdio");
    let file =
        File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    if meta.is_dir() {
        return Err(Error::usage(format!(
            "{} is a directory, not a file",
            path.display()
        )));
    }
    Ok(Input {
        inner: Box::new(file),
        len: meta.is_file().then_some(meta.len()),
        name: path.display().to_string(),
    })
}

/// Open a SQL tool's `FILE` (standard input for `None` and `-`): a
/// directory is a directory-format archive, a zip or tar file the archive
/// it holds, anything else is sniffed by
/// [`archive::input::stream`](crate::archive::input::stream).
pub fn open_sql_input(path: Option<&Path>) -> Result<crate::archive::input::SqlInput> {
    if let Some(p) = path
        && !is_stdio(Some(p))
    {
        if p.is_dir() {
            return Ok(crate::archive::input::directory(p.to_path_buf()));
        }
        if let Some(input) = crate::archive::input::container(p)? {
            return Ok(input);
        }
    }
    let input = open_input(path)?;
    let (len, name) = (input.len, input.name.clone());
    crate::archive::input::stream(input, len, name)
}

/// An opened input: a reader plus what we know about it.
pub struct Input {
    inner: Box<dyn Read + Send>,
    /// Size in bytes when it is a regular file.
    pub len: Option<u64>,
    /// A name for messages (`<stdin>` or the path).
    pub name: String,
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// Size asked of the kernel for a pipe on standard input or output.
const PIPE_SIZE: libc::c_int = 1 << 20;

/// When `fd` is a pipe, ask for a 1 MiB pipe buffer instead of the default
/// 64 KiB: the processes on either side then wake each other 16 times less
/// often, which is most of what a pipeline of fast filters spends. Refusals
/// (a smaller `/proc/sys/fs/pipe-max-size`, a per-user limit) change nothing.
pub fn grow_pipe(fd: libc::c_int) {
    // SAFETY: fstat and fcntl on a descriptor number only read or change kernel state.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) == 0
            && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO
            && libc::fcntl(fd, libc::F_GETPIPE_SZ) < PIPE_SIZE
        {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_SIZE);
        }
    }
}

/// Standard input without std's 8 KiB buffer: our readers do their own large reads.
struct RawStdin;

impl Read for RawStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: fd 0 is open for the life of the process; buf is valid for writes.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// Standard output without std's line buffering; wrap it in a `BufWriter`.
pub struct RawStdout;

impl Write for RawStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: fd 1 is open for the life of the process; buf is valid for reads.
            let n = unsafe { libc::write(1, buf.as_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The output: standard output, or a temporary file renamed over the target
/// by [`Output::commit`]. Dropping an uncommitted file output removes the
/// temporary file.
pub struct Output {
    writer: io::BufWriter<Box<dyn Write + Send>>,
    target: Option<(PathBuf, PathBuf)>,
    is_terminal: bool,
}

impl Output {
    /// `None` or `-` is standard output.
    pub fn create(path: Option<&Path>) -> Result<Output> {
        if is_stdio(path) {
            grow_pipe(1);
            return Ok(Output {
                writer: io::BufWriter::with_capacity(BLOCK, Box::new(RawStdout)),
                target: None,
                is_terminal: io::stdout().is_terminal(),
            });
        }
        let path = path.expect("checked by is_stdio");
        // A device, pipe or socket (/dev/null, /dev/stderr, a FIFO) is written
        // in place: renaming a file over it would replace it.
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
        {
            if meta.is_dir() {
                return Err(Error::usage(format!("{} is a directory", path.display())));
            }
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            return Ok(Output {
                writer: io::BufWriter::with_capacity(BLOCK, Box::new(file)),
                target: None,
                is_terminal: false,
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| Error::usage(format!("{} is not a file name", path.display())))?;
        let mut tmp = None;
        for attempt in 0..100u32 {
            let mut name = std::ffi::OsString::from(".");
            name.push(file_name);
            name.push(format!(".pgpipe-{}-{attempt}.tmp", std::process::id()));
            let candidate = dir.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&candidate)
            {
                Ok(f) => {
                    tmp = Some((candidate, f));
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Error::io(
                        format!("cannot create a file in {}", dir.display()),
                        e,
                    ));
                }
            }
        }
        let (tmp_path, file) = tmp.ok_or_else(|| {
            Error::runtime(format!(
                "cannot create a temporary file in {}",
                dir.display()
            ))
        })?;
        Ok(Output {
            writer: io::BufWriter::with_capacity(BLOCK, Box::new(file)),
            target: Some((tmp_path, path.to_path_buf())),
            is_terminal: false,
        })
    }

    /// Whether the output is a terminal (binary tools refuse to write there).
    pub fn is_terminal(&self) -> bool {
        self.is_terminal
    }

    /// Refuse to write binary `what` (compressed data, ciphertext, an
    /// archive) to a terminal, with `hint` saying how to get it elsewhere.
    pub fn refuse_terminal(&self, what: &str, hint: &str) -> Result<()> {
        if self.is_terminal {
            return Err(
                Error::usage(format!("refusing to write {what} to a terminal")).with_hint(hint),
            );
        }
        Ok(())
    }

    /// Flush, and for a file output rename the temporary file into place.
    pub fn commit(mut self) -> Result<()> {
        self.writer
            .flush()
            .map_err(|e| Error::io("write error", e))?;
        if let Some((tmp, target)) = self.target.take() {
            std::fs::rename(&tmp, &target).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::io(format!("cannot write {}", target.display()), e)
            })?;
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // Blocks of 64 KiB and more (pgpipe-sum's reads, decoded and
        // decrypted chunks) go straight out after what is buffered ahead of
        // them: a copy of every byte costs more than one more write(2).
        if buf.len() >= DIRECT_WRITE {
            self.writer.flush()?;
            return self.writer.get_mut().write_all(buf);
        }
        self.writer.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Writes at least this long bypass [`Output`]'s buffer.
const DIRECT_WRITE: usize = 64 * 1024;

impl Drop for Output {
    fn drop(&mut self) {
        if let Some((tmp, _)) = self.target.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Arguments every binary that reads one input and writes one output takes.
#[derive(clap::Args, Debug, Clone)]
pub struct IoArgs {
    /// Input file; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Write the output to FILE (atomically: a temporary file renamed on success).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

/// `--max-statement`, which every SQL tool takes.
#[derive(clap::Args, Debug, Clone)]
pub struct StatementArgs {
    /// Largest statement accepted, in bytes (0: the default).
    #[arg(long, value_name = "BYTES", default_value_t = crate::dump::DEFAULT_STATEMENT_LIMIT)]
    pub max_statement: usize,
}

/// A tool's report: `text` on standard error when asked for (`--report`,
/// `--dry-run`), and `report` as JSON to `json_to` (`--report-json FILE`).
pub fn emit_report(
    text: Option<String>,
    json_to: Option<&Path>,
    report: &impl serde::Serialize,
) -> Result<()> {
    if let Some(text) = text {
        to_stderr(&text)?;
    }
    if let Some(path) = json_to {
        write_file(Some(path), json(report).as_bytes())?;
    }
    Ok(())
}

/// A report as the tools print JSON: pretty, with a final newline.
pub fn json(report: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(report).expect("a report serializes") + "\n"
}

/// Write `bytes` to the file at `path` (atomically) or, for `None` and
/// `-`, to standard output.
pub fn write_file(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    let mut out = Output::create(path)?;
    out.write_all(bytes)
        .map_err(|e| Error::io("write error", e))?;
    out.commit()
}

/// Write a report on standard error.
pub fn to_stderr(text: &str) -> Result<()> {
    io::stderr()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("write error", e))
}

/// A SQL tool's input, opened: the dump (an archive read as SQL) counted
/// by the progress bar, the bar, and the input's name.
pub struct Dump {
    pub reader: ProgressReader<crate::archive::input::SqlInput>,
    pub progress: Progress,
    pub name: String,
}

impl IoArgs {
    /// Open `FILE` as a SQL tool does, with the progress bar asked for.
    pub fn open_dump(&self) -> Result<Dump> {
        let input = open_sql_input(self.input.as_deref())?;
        let progress = Progress::new(self.progress.enabled(), input.len);
        let name = input.name.clone();
        Ok(Dump {
            reader: progress.reader(input),
            progress,
            name,
        })
    }

    /// Create `-o FILE` (standard output without it).
    pub fn create_output(&self) -> Result<Output> {
        Output::create(self.output.as_deref())
    }
}

/// `--progress` / `--no-progress`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ProgressArgs {
    /// Show a progress bar on stderr (default: only when stderr is a terminal).
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,
    /// Never show a progress bar.
    #[arg(long, overrides_with = "progress")]
    pub no_progress: bool,
}

impl ProgressArgs {
    pub fn enabled(&self) -> bool {
        if self.no_progress {
            return false;
        }
        self.progress || io::stderr().is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_grow_and_files_are_left_alone() {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe() writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let max: libc::c_int = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        grow_pipe(fds[0]);
        // SAFETY: fds are the open pipe ends created above.
        let size = unsafe { libc::fcntl(fds[1], libc::F_GETPIPE_SZ) };
        assert_eq!(size, PIPE_SIZE.min(max));
        // SAFETY: closing the descriptors this test opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        // A regular file is not a pipe: nothing to do, and no error.
        let file = File::open("/proc/self/status").unwrap();
        grow_pipe(std::os::fd::AsRawFd::as_raw_fd(&file));
    }

    #[test]
    fn devices_are_written_in_place_not_replaced() {
        let out = Output::create(Some(Path::new("/dev/null"))).unwrap();
        out.commit().unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file(), "/dev/null must still be a device");
        assert!(Output::create(Some(Path::new("/tmp"))).is_err());
    }

    #[test]
    fn file_output_is_renamed_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.sql");
        let mut out = Output::create(Some(&target)).unwrap();
        out.write_all(b"hello").unwrap();
        drop(out);
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut out = Output::create(Some(&target)).unwrap();
        out.write_all(b"hello").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn large_writes_bypass_the_buffer_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let mut out = Output::create(Some(&target)).unwrap();
        let mut want = Vec::new();
        // Small and large writes interleaved, around DIRECT_WRITE and BLOCK.
        for (i, len) in [
            3,
            DIRECT_WRITE,
            1,
            DIRECT_WRITE - 1,
            DIRECT_WRITE + 1,
            BLOCK + 5,
            0,
            7,
        ]
        .into_iter()
        .enumerate()
        {
            let chunk: Vec<u8> = (0..len).map(|j| (i * 31 + j % 251) as u8).collect();
            out.write_all(&chunk).unwrap();
            want.extend_from_slice(&chunk);
        }
        out.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), want);
    }
}
