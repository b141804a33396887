//! The progress bar every tool can show on stderr: bytes read, throughput,
//! and the table being read. The library's stages feed it; the command line
//! decides whether it is drawn (`--progress`, `--no-progress`).

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// A progress bar on stderr: bytes, throughput and a message (the current
/// table). Cheap to clone; a disabled one does nothing.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last_message: Arc<Mutex<Vec<u8>>>,
}

impl Progress {
    pub fn new(enabled: bool, total: Option<u64>) -> Progress {
        if !enabled {
            return Progress::default();
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {wide_msg}",
                )
                .expect("valid template"),
            ),
            None => indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {bytes} {binary_bytes_per_sec} {elapsed} {wide_msg}",
                )
                .expect("valid template"),
            ),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        Progress {
            bar: Some(bar),
            last_message: Arc::default(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.bar.is_some()
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Show a message (a table name from the dump, raw bytes shown lossily).
    pub fn set_message(&self, msg: &[u8]) {
        if let Some(bar) = &self.bar {
            let mut last = self.last_message.lock().expect("not poisoned");
            if last.as_slice() != msg {
                last.clear();
                last.extend_from_slice(msg);
                bar.set_message(String::from_utf8_lossy(msg).into_owned());
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Wrap a reader so every byte read moves the bar.
    pub fn reader<R: Read>(&self, inner: R) -> ProgressReader<R> {
        ProgressReader {
            inner,
            progress: self.clone(),
        }
    }
}

/// A reader that reports the bytes it reads to a [`Progress`].
pub struct ProgressReader<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}
