//! pgpipe-inspect: report what a dump contains, which roles it needs, and
//! whether it is complete.
//!
//! The tool is [`pgpipe::tool::inspect`].

fn main() {
    pgpipe::tool::inspect::main()
}
