//! What every pgpipe binary shares: input and output conventions, the error
//! type and its printer, exit codes, and the progress bar.
//!
//! Conventions (the same in every binary and every man page):
//!
//! * `[FILE]` or `-` reads standard input; `-o FILE` writes to a temporary
//!   file in the same directory that is renamed over FILE only on success,
//!   so a failed run never leaves a half-written file.
//! * Errors print as `pgpipe-<tool>: error: [line N: ]<what>` with an
//!   optional `pgpipe-<tool>: hint: <fix>` line.
//! * Exit codes: see [`exit`]. A closed downstream pipe exits 141 silently.

use std::fmt;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

/// Exit codes shared by every binary.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Runtime or I/O error.
    pub const RUNTIME: i32 = 1;
    /// Usage error (bad arguments).
    pub const USAGE: i32 = 2;
    /// Integrity failure: truncated, corrupted, unauthenticated or incomplete input.
    pub const INTEGRITY: i32 = 3;
    /// The downstream pipe was closed (128 + SIGPIPE).
    pub const BROKEN_PIPE: i32 = 141;
}

/// The class of an error, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Exit 1.
    Runtime,
    /// Exit 2.
    Usage,
    /// Exit 3.
    Integrity,
    /// Exit 141, printed as nothing.
    BrokenPipe,
}

/// The one error type of the library. `Display` has no program name; the
/// binary's [`run`] adds it.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// 1-based input line number the error is about, where there is one.
    pub line: Option<u64>,
    pub hint: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            line: None,
            hint: None,
        }
    }
    pub fn runtime(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Runtime, message)
    }
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }
    pub fn integrity(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Integrity, message)
    }
    /// Attach the input line number.
    pub fn at_line(mut self, line: u64) -> Error {
        self.line = Some(line);
        self
    }
    /// Attach a hint that says how to fix it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }
    /// An I/O error with what we were doing when it happened.
    pub fn io(context: impl fmt::Display, err: io::Error) -> Error {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Error::new(ErrorKind::BrokenPipe, "broken pipe");
        }
        Error::runtime(format!("{context}: {}", io_message(&err)))
    }
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Runtime => exit::RUNTIME,
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::Integrity => exit::INTEGRITY,
            ErrorKind::BrokenPipe => exit::BROKEN_PIPE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Error::new(ErrorKind::BrokenPipe, "broken pipe");
        }
        // Errors we raised ourselves inside an io::Error keep their class.
        if err.get_ref().is_some_and(|e| e.is::<Error>()) {
            let inner = err.into_inner().expect("checked above");
            return *inner.downcast::<Error>().expect("checked above");
        }
        Error::runtime(io_message(&err))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        if err.kind == ErrorKind::BrokenPipe {
            return io::Error::new(io::ErrorKind::BrokenPipe, err);
        }
        io::Error::other(err)
    }
}

/// An io::Error's text without the `(os error N)` noise.
pub fn io_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

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

/// Parse arguments with clap; usage errors exit 2 with clap's message,
/// `--help`/`--version` exit 0.
///
/// `PROG --generate-completions SHELL` (only as the first argument; SHELL is
/// bash, zsh, fish, elvish or powershell) prints the completion script for
/// the binary's arguments and exits 0. It is not listed in `--help`: it is
/// for `make install` and packagers, and documented in pgpipe(7).
pub fn parse_args<T: clap::Parser>() -> T {
    let mut argv = std::env::args_os().skip(1);
    if argv.next().is_some_and(|a| a == COMPLETIONS_FLAG) {
        let rest: Vec<_> = argv.collect();
        let code = match print_completions(T::command(), &rest, &mut io::stdout().lock()) {
            Ok(()) => exit::OK,
            Err(err) => {
                let cmd = T::command();
                print_error(cmd.get_name(), &err);
                err.exit_code()
            }
        };
        std::process::exit(code)
    }
    match T::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = err.print();
            std::process::exit(code)
        }
    }
}

/// Write the completion script for `cmd` in the shell named by `args` (the
/// words after [`COMPLETIONS_FLAG`]: exactly one shell name).
pub fn print_completions(
    mut cmd: clap::Command,
    args: &[std::ffi::OsString],
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

/// Size of the I/O blocks the tools read and write.
pub const BLOCK: usize = 256 * 1024;

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

/// A progress bar on stderr: bytes, throughput and a message (the current
/// table). Cheap to clone; a disabled one does nothing.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last_message: Arc<Mutex<Vec<u8>>>,
}

impl Progress {
    pub fn new(enabled: bool, total: Option<u64>) -> Progress {
        if !enabled {
            return Progress::default();
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {wide_msg}",
                )
                .expect("valid template"),
            ),
            None => indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {bytes} {binary_bytes_per_sec} {elapsed} {wide_msg}",
                )
                .expect("valid template"),
            ),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        Progress {
            bar: Some(bar),
            last_message: Arc::default(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.bar.is_some()
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Show a message (a table name from the dump, raw bytes shown lossily).
    pub fn set_message(&self, msg: &[u8]) {
        if let Some(bar) = &self.bar {
            let mut last = self.last_message.lock().expect("not poisoned");
            if last.as_slice() != msg {
                last.clear();
                last.extend_from_slice(msg);
                bar.set_message(String::from_utf8_lossy(msg).into_owned());
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Wrap a reader so every byte read moves the bar.
    pub fn reader<R: Read>(&self, inner: R) -> ProgressReader<R> {
        ProgressReader {
            inner,
            progress: self.clone(),
        }
    }
}

/// A reader that reports the bytes it reads to a [`Progress`].
pub struct ProgressReader<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
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
    fn io_errors_lose_os_error_noise() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(io_message(&e), "No such file or directory");
    }

    #[test]
    fn broken_pipe_maps_to_141() {
        let e: Error = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert_eq!(e.exit_code(), 141);
    }

    #[test]
    fn our_errors_survive_a_trip_through_io_error() {
        let io_err: io::Error = Error::integrity("cut").at_line(7).into();
        let back: Error = io_err.into();
        assert_eq!(back.kind, ErrorKind::Integrity);
        assert_eq!(back.to_string(), "line 7: cut");
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
