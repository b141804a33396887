//! The one loop over a dump's segments that every SQL stage runs.
//!
//! `pgpipe-inspect`, `-roles`, `-filter` and `-guard` each see the same
//! stream the same way: [`drive`] builds the [`Reader`] (with the one
//! statement limit), hands every segment to a [`Stage`] in order, shows the
//! TOC entry being read on the progress bar, and returns a [`Summary`] of
//! how the input ended. What a stage does at a cut-off input is its own
//! choice: [`Summary::refuse_cut`] is the error the rewriting stages give.

use std::io::Read;

use super::header;
use super::reader::{Cut, Kind, Reader, Segment};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// What a stage does with the segments of a dump.
pub trait Stage {
    /// One segment, in input order. The last one may be
    /// [`Kind::Incomplete`]: the bytes an input cut short ended with.
    fn segment(&mut self, seg: &Segment<'_>) -> Result<()>;

    /// The reader failed (bytes psql cannot send, a statement over the
    /// limit, an upstream stage's error). The stage may add to the failure
    /// (the guard ends its output with a failing statement); by default the
    /// error is returned as it is.
    fn read_error(&mut self, err: Error) -> Result<()> {
        Err(err)
    }
}

/// How the input ended.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Bytes read.
    pub bytes: u64,
    /// Lines read (see [`Reader::lines`]).
    pub lines: u64,
    /// Lines outside COPY rows that ended in `\r\n`.
    pub crlf_lines: u64,
    /// Where the input was cut, when it did not end between statements.
    pub cut: Option<Cut>,
    /// Line of the [`Kind::Incomplete`] segment, when there was one.
    pub incomplete_line: Option<u64>,
}

impl Summary {
    /// The error of a stage that refuses a cut-off input (exit 3): what
    /// the input was cut inside, and that the tail was not written.
    pub fn refuse_cut(&self) -> Result<()> {
        let Some(line) = self.incomplete_line else {
            return Ok(());
        };
        let what = match &self.cut {
            Some(Cut::Statement { inside, .. }) => {
                format!("the input ends inside a statement ({inside})")
            }
            Some(Cut::Copy { rows, .. }) => {
                format!("the input ends inside COPY data after {rows} complete rows")
            }
            None => "the input is cut short".to_string(),
        };
        Err(
            Error::integrity(format!("{what}; the cut-off tail was not written"))
                .at_line(line)
                .with_hint("the dump is truncated: make it again, or check how it was transferred"),
        )
    }
}

/// Read `input` to its end, handing every segment to `stage`.
///
/// `max_statement` is the longest statement accepted, in bytes (0 means
/// [`DEFAULT_STATEMENT_LIMIT`](super::DEFAULT_STATEMENT_LIMIT)). The progress
/// bar shows the TOC entry being read and is cleared at the end, also when
/// the stage fails.
pub fn drive<R: Read>(
    input: R,
    max_statement: usize,
    progress: &Progress,
    stage: &mut impl Stage,
) -> Result<Summary> {
    let result = run(input, max_statement, progress, stage);
    progress.finish();
    result
}

fn run<R: Read>(
    input: R,
    max_statement: usize,
    progress: &Progress,
    stage: &mut impl Stage,
) -> Result<Summary> {
    let mut reader = Reader::with_limit(input, max_statement);
    let mut incomplete_line = None;
    loop {
        let seg = match reader.next_segment() {
            Ok(Some(seg)) => seg,
            Ok(None) => break,
            Err(e) => {
                stage.read_error(e)?;
                break;
            }
        };
        if seg.kind == Kind::Comment
            && progress.is_enabled()
            && let Some(h) = header::parse(seg.bytes)
        {
            match h.schema {
                Some(schema) => progress.set_message(&[schema, b".", h.name].concat()),
                None => progress.set_message(h.name),
            }
        }
        if seg.kind == Kind::Incomplete {
            incomplete_line = Some(seg.line);
        }
        stage.segment(&seg)?;
    }
    Ok(Summary {
        bytes: reader.offset(),
        lines: reader.lines(),
        crlf_lines: reader.crlf_lines(),
        cut: reader.cut().cloned(),
        incomplete_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<(Kind, Vec<u8>)>);

    impl Stage for Collect {
        fn segment(&mut self, seg: &Segment<'_>) -> Result<()> {
            self.0.push((seg.kind, seg.bytes.to_vec()));
            Ok(())
        }
    }

    #[test]
    fn every_segment_in_order_and_the_cut() {
        let input = b"SET a = 1;\nCOPY t FROM stdin;\n1\n2";
        let mut c = Collect::default();
        let s = drive(&input[..], 0, &Progress::default(), &mut c).unwrap();
        let joined: Vec<u8> = c.0.iter().flat_map(|(_, b)| b.clone()).collect();
        assert_eq!(joined, input);
        assert_eq!(c.0.last().unwrap().0, Kind::Incomplete);
        assert_eq!(s.bytes, input.len() as u64);
        assert_eq!(s.incomplete_line, Some(4));
        let err = s.refuse_cut().unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::INTEGRITY);
        assert_eq!(
            err.to_string(),
            "line 4: the input ends inside COPY data after 1 complete rows; the cut-off tail was not written"
        );
    }

    #[test]
    fn a_limit_of_zero_is_the_default_limit() {
        // Zero means "the default" for every stage, never a 1-byte limit.
        let input = b"SELECT 'a fairly long statement';\n";
        let mut c = Collect::default();
        let s = drive(&input[..], 0, &Progress::default(), &mut c).unwrap();
        assert!(s.refuse_cut().is_ok());
        assert_eq!(c.0[0], (Kind::Statement, input.to_vec()));
        let err = drive(&input[..], 8, &Progress::default(), &mut Collect::default());
        assert!(err.is_err(), "an 8-byte limit refuses a longer statement");
    }

    #[test]
    fn a_stage_sees_read_errors() {
        struct Swallow(bool);
        impl Stage for Swallow {
            fn segment(&mut self, _: &Segment<'_>) -> Result<()> {
                Ok(())
            }
            fn read_error(&mut self, _: Error) -> Result<()> {
                self.0 = true;
                Ok(())
            }
        }
        let mut s = Swallow(false);
        drive(&b"SELECT 1;\0\n"[..], 0, &Progress::default(), &mut s).unwrap();
        assert!(s.0);
    }
}
