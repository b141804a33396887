//! The dump reader and the statement analysis on arbitrary bytes: segments
//! must concatenate to the input, and analysis must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgpipe::dump::{Kind, Reader};
use pgpipe::sql::analysis;

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::with_limit(data, 1 << 20);
    let mut joined = Vec::with_capacity(data.len());
    while let Ok(Some(seg)) = reader.next_segment() {
        joined.extend_from_slice(seg.bytes);
        if seg.kind == Kind::Statement && analysis::may_reference_roles(seg.bytes) {
            let _ = analysis::analyze(seg.bytes, seg.encoding);
        }
    }
    assert!(data.starts_with(&joined));
});
