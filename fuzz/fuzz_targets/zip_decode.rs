//! Any bytes into the gzip/zstd decoder: an error or a result, never a panic,
//! and on error the output is never the whole decoded stream.
#![no_main]

use std::io::{self, Write};

use libfuzzer_sys::fuzz_target;
use pgpipe::codec::zip;

/// Counts bytes instead of keeping them, so decompression bombs cost no memory.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut out = Count(0);
    match zip::decompress(data, &mut out, false) {
        Ok(info) => {
            assert_eq!(info.bytes_out, out.0);
            assert_eq!(info.bytes_in, data.len() as u64);
        }
        Err(err) => assert!(matches!(err.exit_code(), 1 | 3), "{err}"),
    }
});
