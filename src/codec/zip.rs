//! gzip and zstd.
