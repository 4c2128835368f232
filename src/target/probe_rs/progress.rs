//! A one-line progress bar on stderr for downloads and verification, drawn only when stderr is
//! a terminal (and `NO_COLOR`-agnostic: it uses no colour); elsewhere it says nothing, so logs
//! and CI output stay clean.
//!
//! This file must not know what is being transferred or how.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);
/// Width of the bar in characters.
const WIDTH: usize = 30;

/// A progress bar for one operation (`loading`, `verifying`, `erasing` ...).
pub struct Bar {
    label: String,
    total: u64,
    done: u64,
    started: Instant,
    drawn: Option<Instant>,
    visible: bool,
}

impl Bar {
    /// A bar for `total` bytes, visible when stderr is a terminal.
    pub fn new(label: &str, total: u64) -> Bar {
        Bar::with_visibility(label, total, std::io::stderr().is_terminal())
    }

    fn with_visibility(label: &str, total: u64, visible: bool) -> Bar {
        Bar {
            label: label.to_owned(),
            total,
            done: 0,
            started: Instant::now(),
            drawn: None,
            visible,
        }
    }

    /// Grows the total (flash algorithms announce their work in parts).
    pub fn add_total(&mut self, more: u64) {
        self.total += more;
    }

    /// `bytes` more are done.
    pub fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        if self.drawn.is_none_or(|t| t.elapsed() >= REDRAW) {
            self.draw(false);
        }
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self) {
        self.draw(true);
    }

    fn draw(&mut self, last: bool) {
        self.drawn = Some(Instant::now());
        if !self.visible {
            return;
        }
        let line = self.line();
        let mut err = std::io::stderr().lock();
        write!(err, "\r{line}\x1b[K{}", if last { "\n" } else { "" }).ok();
        err.flush().ok();
    }

    fn line(&self) -> String {
        let fraction = if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        };
        let filled = ((fraction * WIDTH as f64) as usize).min(WIDTH);
        let secs = self.started.elapsed().as_secs_f64().max(1e-6);
        format!(
            "rvflash: {:<9} [{}{}] {:>7.1}/{:.1} KiB {:>7.1} KiB/s",
            self.label,
            "#".repeat(filled),
            ".".repeat(WIDTH - filled),
            self.done as f64 / 1024.0,
            self.total as f64 / 1024.0,
            self.done as f64 / 1024.0 / secs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_fraction_done() {
        let mut bar = Bar::with_visibility("loading", 4096, false);
        bar.advance(1024);
        let line = bar.line();
        assert!(line.starts_with("rvflash: loading   [#######."), "{line}");
        assert!(line.contains("1.0/4.0 KiB"), "{line}");
        bar.add_total(4096);
        bar.advance(7168);
        assert!(bar.line().contains(&format!("[{}]", "#".repeat(WIDTH))));
    }
}
