//! Tests of the test harness itself.
mod support;

use support::{Server, Version};

#[test]
fn smoke() {
    for v in Version::ALL {
        let s = Server::shared(v);
        assert_eq!(s.server_version_num() / 10000, v.major());
    }
}
