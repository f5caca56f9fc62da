//! Progress of long runs (`validate-logs`, `audit`, `mirror`), drawn by indicatif on
//! stderr and only when stderr is a terminal: captured output (files, pipes, the golden
//! tests) never holds a bar, and a run without a terminal pays nothing for it.

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cloudtrail_digest::audit::Progress;
use cloudtrail_digest::mirror::MirrorStats;
use cloudtrail_digest::{status_line, Event};
use indicatif::{BinaryBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often a spinner turns while nothing else happens.
const TICK: Duration = Duration::from_millis(120);

/// A bar drawn on stderr in `style`, or none when stderr is not a terminal.
fn on_terminal(style: ProgressStyle) -> Option<ProgressBar> {
    io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style);
        bar.enable_steady_tick(TICK);
        bar
    })
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("progress template")
        .progress_chars("=> ")
}

/// `validate-logs`: the digests and log files checked so far (their number is not known
/// ahead: the chain is walked back one digest at a time).
pub struct ValidationProgress {
    bar: Option<ProgressBar>,
    digests: u64,
    logs: u64,
}

impl ValidationProgress {
    /// A spinner on a terminal, else nothing.
    pub fn new() -> Self {
        ValidationProgress {
            bar: on_terminal(style("{spinner} [{elapsed_precise}] {msg}")),
            digests: 0,
            logs: 0,
        }
    }

    /// Counts what `event` reports as checked.
    pub fn event(&mut self, event: &Event) {
        let Some(bar) = &self.bar else { return };
        match event {
            Event::DigestValid { .. } | Event::DigestInvalid { .. } => self.digests += 1,
            Event::Log { .. } => self.logs += 1,
            _ => return,
        }
        bar.set_message(format!(
            "{} digest files and {} log files checked",
            self.digests, self.logs
        ));
    }

    /// Whether a bar is drawn.
    #[cfg(test)]
    pub fn shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Runs `write`, which reports `event`, with the bar out of the way when the report
    /// prints a line for it (problems always; valid files with `--verbose`), so that the
    /// line and the bar never mix on the terminal.
    pub fn write<R>(&self, event: &Event, verbose: bool, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if verbose || status_line(event).1 => bar.suspend(write),
            _ => write(),
        }
    }

    /// Removes the bar, before the summary or a fatal error is written.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `audit`: files done of those planned, bytes read, throughput and time left.
pub struct AuditProgress {
    bar: ProgressBar,
    bytes: Arc<AtomicU64>,
}

impl AuditProgress {
    /// A bar on a terminal, else none.
    pub fn new() -> Option<Self> {
        let bytes = Arc::new(AtomicU64::new(0));
        let (read, rate) = (Arc::clone(&bytes), Arc::clone(&bytes));
        let style = style("[{bar:24}] {pos}/{len} files  {read}  {rate}/s  ETA {eta}")
            .with_key("read", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", BinaryBytes(read.load(Ordering::Relaxed)));
            })
            .with_key("rate", move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let secs = s.elapsed().as_secs_f64().max(0.001);
                let per_sec = rate.load(Ordering::Relaxed) as f64 / secs;
                let _ = write!(w, "{}", BinaryBytes(per_sec as u64));
            });
        Some(AuditProgress {
            bar: on_terminal(style)?,
            bytes,
        })
    }

    /// Removes the bar, before the report is written.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for AuditProgress {
    fn planned(&self, files: u64) {
        self.bar.inc_length(files);
    }

    fn read(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn done(&self, files: u64) {
        self.bar.inc(files);
    }
}

/// `mirror`: digests and log files handled of those found, and the bytes written.
pub struct MirrorProgress {
    bar: Option<ProgressBar>,
}

impl MirrorProgress {
    /// A bar on a terminal, else nothing.
    pub fn new() -> Self {
        MirrorProgress {
            bar: on_terminal(style("[{bar:24}] {msg}  ETA {eta}")),
        }
    }

    /// Shows the counts so far.
    pub fn show(&self, s: &MirrorStats) {
        let Some(bar) = &self.bar else { return };
        bar.set_length((s.digests_found + s.logs_found) as u64);
        bar.set_position((s.digests_done + s.logs_done) as u64);
        bar.set_message(format!(
            "digests {}/{}  logs {}/{}  {} written",
            s.digests_done,
            s.digests_found,
            s.logs_done,
            s.logs_found,
            BinaryBytes(s.bytes)
        ));
    }

    /// Removes the bar, before the summary is written.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

// A bar left behind by an early return would stay on the terminal above the error.
impl Drop for ValidationProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Drop for AuditProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Drop for MirrorProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bar_without_a_terminal() {
        // `cargo test` captures stderr; a bar there would reach the captured output.
        if io::stderr().is_terminal() {
            return;
        }
        assert!(!ValidationProgress::new().shown());
        assert!(AuditProgress::new().is_none());
        assert!(MirrorProgress::new().bar.is_none());
    }
}
