//! `pgpipe-zip`: compress with zstd or gzip on all cores; decompress with the
//! last 64 KiB withheld until every trailer and checksum verifies.

use clap::Parser;

use crate::cli::{self, IoArgs, Output};
use crate::codec::zip::{self, Format};
use crate::error::Result;

/// Compress (zstd or gzip, all cores) or decompress (-d, fail-closed) a stream.
#[derive(Parser)]
#[command(name = "pgpipe-zip", version)]
pub struct Args {
    #[command(flatten)]
    io: IoArgs,
    /// Decompress gzip or zstd (detected by magic bytes).
    #[arg(short = 'd', long = "decompress")]
    decompress: bool,
    /// With -d, pass input that is neither gzip nor zstd through unchanged.
    #[arg(long, requires = "decompress")]
    allow_plain: bool,
    /// Compressed format.
    #[arg(short = 'F', long = "format", value_enum, default_value = "zstd")]
    format: Format,
    /// Compression level (zstd 1-22, default 3; gzip 0-9, default 6).
    #[arg(short = 'l', long = "level", value_name = "LEVEL")]
    level: Option<i32>,
    /// Compression threads (default: available cores).
    #[arg(short = 'T', long = "threads", value_name = "THREADS")]
    threads: Option<usize>,
    /// Write compressed output to a terminal anyway.
    #[arg(short = 'f', long)]
    force: bool,
}

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>("pgpipe-zip", argv, run)
}

fn run(args: &Args) -> Result<()> {
    let input = cli::open_input(args.io.input.as_deref())?;
    let progress = cli::Progress::new(args.io.progress.enabled(), input.len);
    let mut out = Output::create(args.io.output.as_deref())?;
    if args.decompress {
        zip::decompress(progress.reader(input), &mut out, args.allow_plain)?;
    } else {
        if !args.force {
            out.refuse_terminal(
                "compressed data",
                "redirect the output, use -o FILE, or pass --force",
            )?;
        }
        let level = args.level.unwrap_or(args.format.default_level());
        let threads = args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        zip::compress(
            progress.reader(input),
            &mut out,
            args.format,
            level,
            threads,
        )?;
    }
    progress.finish();
    out.commit()
}
