//! A progress bar on stderr for work that lasts longer than about a second, shown only when
//! stderr is a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Delay before a bar appears, so quick commands print nothing extra.
const SHOW_AFTER: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);

/// Runs `work` on `capture` with a progress bar labelled `verb <capture>` (shown only on a
/// terminal, after about a second), handing it the counter of file bytes read.
pub fn with_progress<T>(
    verb: &str,
    capture: &std::path::Path,
    work: impl FnOnce(Arc<AtomicU64>) -> T,
) -> T {
    let size = std::fs::metadata(capture).map(|m| m.len()).unwrap_or(0);
    let counter = Arc::new(AtomicU64::new(0));
    let progress = Progress::start(
        format!("{verb} {}", capture.display()),
        size,
        counter.clone(),
    );
    let result = work(counter);
    progress.finish();
    result
}

/// A running progress display; dropping it (or calling `finish`) removes the bar.
pub struct Progress {
    done: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// Watches `counter` (bytes of the file read) against `total`.
    pub fn start(label: String, total: u64, counter: Arc<AtomicU64>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Progress { done, handle: None };
        }
        let flag = done.clone();
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < SHOW_AFTER {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(TICK);
            }
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label);
            while !flag.load(Ordering::Relaxed) {
                bar.set_position(counter.load(Ordering::Relaxed));
                std::thread::sleep(TICK);
            }
            bar.finish_and_clear();
        });
        Progress {
            done,
            handle: Some(handle),
        }
    }

    /// Stops and clears the bar.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}
