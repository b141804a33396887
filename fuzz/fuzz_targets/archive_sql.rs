//! Any bytes into the archive reader and SQL printer (custom or tar, as on a
//! pipe) and into the TOC lister: an error or a result, never a panic; a
//! failure is a runtime or integrity error, and a failed run never ends
//! with the footer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgpipe::archive::{self, Source, SqlOptions};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let opts = SqlOptions {
        restrict_key: Some("K".into()),
    };
    if let Err(err) = archive::to_sql(Source::reader(data), &mut out, &opts) {
        assert!(matches!(err.exit_code(), 1 | 3), "{err}");
        // The footer pgpipe-sql ends with, released: an archive may hold
        // the same text in its own entries, so only a footer at the end
        // that the input did not already hold counts.
        let footer: &[u8] = b"-- PostgreSQL database dump complete\n--\n\n\\unrestrict K\n\n";
        let count = |b: &[u8]| b.windows(footer.len()).filter(|w| *w == footer).count();
        assert!(
            !(out.ends_with(footer) && count(&out) > count(data)),
            "footer printed on error: {err}"
        );
    }
    let mut listing = Vec::new();
    if let Err(err) = archive::list(Source::reader(data), &mut listing) {
        assert!(matches!(err.exit_code(), 1 | 3), "{err}");
    }
});
