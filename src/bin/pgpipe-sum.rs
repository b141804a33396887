//! pgpipe-sum: pass a stream through unchanged while computing, checking,
//! adding or removing its digest.
//!
//! The tool is [`pgpipe::tool::sum`].

fn main() {
    pgpipe::tool::sum::main()
}
