//! pgpipe-zip: compress with zstd or gzip on all cores; decompress with the
//! last 64 KiB withheld until every trailer and checksum verifies.
//!
//! The tool is [`pgpipe::tool::zip`].

fn main() {
    pgpipe::tool::zip::main()
}
