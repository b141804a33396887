//! The report of `pgpipe-inspect`.
