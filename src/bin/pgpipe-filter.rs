//! pgpipe-filter: choose what a restore contains, and make it restore where it goes.
//!
//! The tool is [`pgpipe::tool::filter`].

fn main() {
    pgpipe::tool::filter::main()
}
