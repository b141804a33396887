//! `pgpipe-sum`: pass a stream through unchanged while computing, checking,
//! adding or removing its digest.

use clap::Parser;
use std::io::Write;
use std::path::PathBuf;

use crate::cli::{self, Output, ProgressArgs};
use crate::codec::digest::{self, Algorithm};
use crate::error::{Error, Result};

/// Copy a stream unchanged and compute its digest (sha256sum/b3sum format),
/// verify it (-c), or add and verify an end-of-stream seal line.
#[derive(Parser)]
#[command(name = "pgpipe-sum", version)]
pub struct Args {
    /// Input file; `-` or nothing reads standard input. The data always goes to standard output.
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    /// Digest algorithm.
    #[arg(short = 'a', long = "algorithm", value_enum, default_value = "sha256")]
    algorithm: Algorithm,
    /// Write the digest line to FILE (atomically) instead of standard error.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Name written after the digest (default: the input file name, or `-`).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Verify against a hex digest or a sha256sum/b3sum file; withhold the last 64 KiB on mismatch.
    #[arg(short = 'c', long = "check", value_name = "FILE|HEX", conflicts_with_all = ["seal", "unseal"])]
    check: Option<String>,
    /// Append a `-- pgpipe-seal v1 ...` comment line carrying digest and byte count.
    #[arg(long, conflicts_with = "unseal")]
    seal: bool,
    /// Verify and remove the seal line; withhold the last 64 KiB if it is missing or wrong.
    #[arg(long)]
    unseal: bool,
    #[command(flatten)]
    progress: ProgressArgs,
}

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>("pgpipe-sum", argv, run)
}

fn run(args: &Args) -> Result<()> {
    let input = cli::open_input(args.input.as_deref())?;
    let progress = cli::Progress::new(args.progress.enabled(), input.len);
    let reader = progress.reader(input);
    let mut out = Output::create(None)?;
    let algo = args.algorithm;
    if let Some(check) = &args.check {
        let expected = digest::expected_digest(check, args.name.as_deref())?;
        digest::check(reader, &mut out, algo, &expected)?;
    } else if args.seal {
        digest::seal(reader, &mut out, algo)?;
    } else if args.unseal {
        digest::unseal(reader, &mut out, algo)?;
    } else {
        let d = digest::sum(reader, &mut out, algo)?;
        out.flush().map_err(|e| Error::io("write error", e))?;
        let name = args.name.clone().unwrap_or_else(|| match &args.input {
            Some(p) if p.as_os_str() != "-" => p.display().to_string(),
            _ => "-".to_string(),
        });
        let line = format!("{}  {}\n", d.hex, name);
        match &args.output {
            Some(path) => {
                let mut f = Output::create(Some(path))?;
                f.write_all(line.as_bytes())
                    .map_err(|e| Error::io("write error", e))?;
                f.commit()?;
            }
            None => eprint!("{line}"),
        }
    }
    progress.finish();
    out.commit()
}
