//! The dump reader, the statement analysis and pgpipe-roles' rewriting on
//! arbitrary bytes: segments must concatenate to the input, and nothing may
//! panic, whatever the statements, role-typed table data (aclitem,
//! regrole) or pgpipe's own DO blocks look like.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgpipe::dump::{Kind, Reader};
use pgpipe::sql::analysis;
use pgpipe::transform::roles;

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
    // A rename, a drop and a check: every rewriting path, data included.
    let opts = roles::Options {
        map: vec![("alice".into(), "Bob Smith".into()), ("a".into(), "alice".into())],
        drop: vec!["rdsadmin".into()],
        only_roles: Some(vec!["Bob Smith".into(), "alice".into()]),
        ..roles::Options::default()
    };
    let mut out = Vec::new();
    let _ = roles::rewrite(data, Some(&mut out), &opts, &Default::default());
});
