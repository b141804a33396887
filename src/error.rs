//! The one error type of the library and the exit codes it maps to.
//!
//! Every module returns [`Result`]; the class of an [`Error`] decides the
//! exit code (see [`exit`]), so a truncated archive found three stages down
//! a pipe still exits 3. Errors travel through `io::Read` and `io::Write`
//! inside an `io::Error` and come out with their class, line and hint intact.
//! Printing them is the command line's business (`cli::print_error`).

use std::fmt;
use std::io;

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
    /// `pgpipe-inspect --target`: the restore into that target would fail.
    pub const NOT_READY: i32 = 4;
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
    /// Exit 4.
    NotReady,
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
    pub fn not_ready(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotReady, message)
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
    ///
    /// An error of ours carried inside the `io::Error` (a stage below the
    /// reader failed: a truncated archive, a corrupt compressed stream) comes
    /// back as itself, class, line and hint unchanged: the context would
    /// only hide the cause.
    pub fn io(context: impl fmt::Display, err: io::Error) -> Error {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Error::new(ErrorKind::BrokenPipe, "broken pipe");
        }
        if err.get_ref().is_some_and(|e| e.is::<Error>()) {
            return Error::from(err);
        }
        Error::runtime(format!("{context}: {}", io_message(&err)))
    }
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Runtime => exit::RUNTIME,
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::Integrity => exit::INTEGRITY,
            ErrorKind::NotReady => exit::NOT_READY,
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn io_context_does_not_hide_our_own_errors() {
        let inner: io::Error = Error::integrity("the archive is cut short")
            .at_line(3)
            .with_hint("fetch it again")
            .into();
        let e = Error::io("read error", inner);
        assert_eq!(e.kind, ErrorKind::Integrity);
        assert_eq!(e.exit_code(), exit::INTEGRITY);
        assert_eq!(e.to_string(), "line 3: the archive is cut short");
        assert_eq!(e.hint.as_deref(), Some("fetch it again"));
        let plain = Error::io("read error", io::Error::other("boom"));
        assert_eq!(plain.kind, ErrorKind::Runtime);
        assert_eq!(plain.to_string(), "read error: boom");
    }
}
