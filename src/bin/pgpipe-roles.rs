//! pgpipe-roles: map and drop roles and owners in a plain dump stream or a
//! custom-format archive.
//!
//! The tool is [`pgpipe::tool::roles`].

fn main() {
    pgpipe::tool::roles::main()
}
