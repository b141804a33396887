//! pgpipe-age: age encryption in the pipe; decryption releases only
//! authenticated plaintext and withholds the last 64 KiB until the end verifies.
//!
//! The tool is [`pgpipe::tool::age`].

fn main() {
    pgpipe::tool::age::main()
}
