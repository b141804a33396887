//! Which PostgreSQL major version a dump's settings arrived in: what an
//! older server rejects (`pgpipe-filter --target-version`, `pgpipe-inspect
//! --target`).

/// Which major version a header setting arrived in.
pub fn setting_since(name: &str) -> Option<u32> {
    Some(match name {
        "transaction_timeout" => 17,
        "default_toast_compression" => 14,
        "default_table_access_method" => 12,
        _ => return None,
    })
}
