//! pgpipe-guard: make a restore all-or-nothing.
//!
//! The tool is [`pgpipe::tool::guard`].

fn main() {
    pgpipe::tool::guard::main()
}
