//! Where everything a run reports goes: the program's console output, defmt frames, panics,
//! traps, timeouts, errors and the exit. One [`Reporter`] per run renders them as human text
//! (the default: device output on stdout, rvflash's messages on stderr) or as the JSON events
//! of [`super::events`] (one per line on stdout), and, for the test runner, captures the human
//! text of one test instead of printing it.
//!
//! The reporter decides only how things look; what happened is decided by the run loop. It is
//! shared ([`Shared`]) because console output reaches it from the semihosting service and from
//! the simulator's UART through [`Console`] writers.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use super::backtrace;
use super::events::{self, Event, hex};

/// How a run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Text for people: device output on stdout, rvflash's messages on stderr.
    Human,
    /// One JSON event per line on stdout (schema in the README).
    Json,
}

/// A reporter shared by the run loop and the console writers.
pub type Shared = Rc<RefCell<Reporter>>;

/// A console stream: its name and, for RTT, the up-channel.
type StreamKey = (&'static str, Option<u32>);

/// Renders a run's reports.
pub struct Reporter {
    format: MessageFormat,
    /// Human text of the current test, when capturing.
    capture: Option<String>,
    /// JSON: console text not yet ended by a newline, per (stream, channel).
    pending: Vec<(StreamKey, Vec<u8>)>,
}

impl Reporter {
    /// A reporter in `format`.
    pub fn new(format: MessageFormat) -> Shared {
        Rc::new(RefCell::new(Reporter {
            format,
            capture: None,
            pending: Vec::new(),
        }))
    }

    /// The format.
    pub fn format(&self) -> MessageFormat {
        self.format
    }

    /// Starts capturing human output (a test's), instead of printing it.
    pub fn start_capture(&mut self) {
        self.capture = Some(String::new());
    }

    /// Stops capturing and returns what was captured.
    pub fn take_capture(&mut self) -> String {
        self.flush_console();
        self.capture.take().unwrap_or_default()
    }

    /// Program output on `stream` (`stdout`, `stderr`, `uart`, `rtt`).
    pub fn console(&mut self, stream: &'static str, channel: Option<u32>, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(capture) = &mut self.capture {
            capture.push_str(&String::from_utf8_lossy(bytes));
            return;
        }
        match self.format {
            MessageFormat::Human => {
                if stream == "stderr" {
                    let mut err = std::io::stderr().lock();
                    err.write_all(bytes).ok();
                    err.flush().ok();
                } else {
                    let mut out = std::io::stdout().lock();
                    out.write_all(bytes).ok();
                    out.flush().ok();
                }
            }
            MessageFormat::Json => {
                let key = (stream, channel);
                let index = match self.pending.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        self.pending.push((key, Vec::new()));
                        self.pending.len() - 1
                    }
                };
                let buf = &mut self.pending[index].1;
                buf.extend_from_slice(bytes);
                // Whole lines go out at once; the rest waits for its newline or a flush.
                if let Some(end) = buf.iter().rposition(|&b| b == b'\n') {
                    let lines: Vec<u8> = buf.drain(..=end).collect();
                    emit_console(key, &lines);
                }
            }
        }
    }

    /// Sends console text still waiting for a newline (JSON), so that it comes before what
    /// rvflash reports next.
    pub fn flush_console(&mut self) {
        for (key, buf) in &mut self.pending {
            if !buf.is_empty() {
                emit_console(*key, buf);
                buf.clear();
            }
        }
        std::io::stdout().flush().ok();
    }

    /// A decoded defmt frame: `human` is its text as `--log-format` lays it out.
    pub fn log(&mut self, event: Event, human: &str) {
        self.flush_console();
        match (&mut self.capture, self.format) {
            (Some(capture), _) => {
                capture.push_str(human);
                capture.push('\n');
            }
            (None, MessageFormat::Human) => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{human}").ok();
                out.flush().ok();
            }
            (None, MessageFormat::Json) => emit(&event),
        }
    }

    /// One of rvflash's own messages (`rvflash: LABEL: text` on stderr) and its event.
    fn message(&mut self, label: &str, colour: &str, text: &str, event: Event) {
        self.flush_console();
        match (&mut self.capture, self.format) {
            (Some(capture), _) => capture.push_str(&format!("rvflash: {label}: {text}\n")),
            (None, MessageFormat::Human) => crate::diag::message(label, colour, text),
            (None, MessageFormat::Json) => emit(&event),
        }
    }

    /// A warning that does not end the run.
    pub fn warning(&mut self, text: &str) {
        let event = Event::Warning {
            message: text.to_owned(),
        };
        self.message("warning", "1;33", text, event);
    }

    /// rvflash failed.
    pub fn error(&mut self, text: &str) {
        let event = Event::Error {
            message: text.to_owned(),
        };
        self.message("error", "1;31", text, event);
    }

    /// A run event with no human text (start, load, exit).
    pub fn event(&mut self, event: Event) {
        if self.format == MessageFormat::Json && self.capture.is_none() {
            self.flush_console();
            emit(&event);
        }
    }

    /// The program timed out after `seconds`.
    pub fn timeout(&mut self, seconds: f64) {
        let text = format!("timed out after {seconds} s (--timeout / RVFLASH_TIMEOUT)");
        self.message("error", "1;31", &text, Event::Timeout { seconds });
    }

    /// The program panicked; `frames` is its backtrace.
    pub fn panic(&mut self, message: Option<&str>, frames: &[backtrace::Frame]) {
        let text = format!("{}; backtrace:", message.unwrap_or("the program panicked"));
        let event = Event::Panic {
            message: message.map(str::to_owned),
            backtrace: event_frames(frames),
        };
        self.message("panic", "1;33", &text, event);
        self.human_block(|out| backtrace::print(out, frames));
    }

    /// A panicked program halted instead of exiting (status 101).
    pub fn panic_halted(&mut self, message: Option<&str>) {
        let what = match message {
            Some(text) => format!("the program panicked ({text}) and halted"),
            None => "the program panicked and halted".to_owned(),
        };
        // The panic event came at the panic; the exit event says how it ended.
        self.flush_console();
        match (&mut self.capture, self.format) {
            (Some(capture), _) => capture.push_str(&format!("rvflash: panic: {what}\n")),
            (None, MessageFormat::Human) => crate::diag::message("panic", "1;33", &what),
            (None, MessageFormat::Json) => {}
        }
    }

    /// The program trapped: its registers (x0..x31) and backtrace.
    pub fn trap(
        &mut self,
        cause: u64,
        pc: u64,
        tval: u64,
        registers: &[u64; 32],
        frames: &[backtrace::Frame],
    ) {
        let name = super::cause_name(cause);
        let text = format!("{name} (mcause={cause}) at pc={pc:#x}, mtval={tval:#x}");
        let event = Event::Trap {
            cause: name.to_owned(),
            mcause: hex(cause),
            pc: hex(pc),
            tval: hex(tval),
            registers: crate::target::ABI_NAMES
                .iter()
                .zip(registers)
                .map(|(name, value)| events::Register {
                    name: (*name).to_owned(),
                    value: hex(*value),
                })
                .collect(),
            backtrace: event_frames(frames),
        };
        self.message("trap", "1;31", &text, event);
        self.human_block(|out| {
            writeln!(out, "registers:").ok();
            let mut line = String::new();
            for (i, name) in crate::target::ABI_NAMES.iter().enumerate() {
                line.push_str(&format!("  {:>4}/x{i:<2} {:#018x}", name, registers[i]));
                if i % 4 == 3 {
                    writeln!(out, "{line}").ok();
                    line.clear();
                }
            }
            writeln!(out, "backtrace:").ok();
            backtrace::print(out, frames);
        });
    }

    /// Human text that follows a message (registers, backtraces): stderr, or the capture.
    fn human_block(&mut self, write: impl FnOnce(&mut dyn Write)) {
        match (&mut self.capture, self.format) {
            (Some(capture), _) => {
                let mut buf = Vec::new();
                write(&mut buf);
                capture.push_str(&String::from_utf8_lossy(&buf));
            }
            (None, MessageFormat::Human) => write(&mut std::io::stderr().lock()),
            (None, MessageFormat::Json) => {}
        }
    }
}

/// Writes one event as a line of JSON on stdout.
fn emit(event: &Event) {
    let mut out = std::io::stdout().lock();
    if let Ok(line) = serde_json::to_string(event) {
        writeln!(out, "{line}").ok();
    }
    out.flush().ok();
}

fn emit_console((stream, channel): StreamKey, bytes: &[u8]) {
    emit(&Event::Console {
        stream: stream.to_owned(),
        channel,
        text: String::from_utf8_lossy(bytes).into_owned(),
    });
}

/// A backtrace as events: one entry per function, inlined calls first.
fn event_frames(frames: &[backtrace::Frame]) -> Vec<events::Frame> {
    let mut out = Vec::new();
    for frame in frames {
        let last = frame.functions.len().saturating_sub(1);
        for (j, (function, location)) in frame.functions.iter().enumerate() {
            let (file, line) = match location.as_deref().map(split_location) {
                Some((file, line)) => (Some(file), line),
                None => (None, None),
            };
            out.push(events::Frame {
                pc: hex(frame.pc),
                function: function.clone(),
                file,
                line,
                inlined: j < last,
            });
        }
    }
    out
}

/// `file:line:col` (or `file:line`, or `file`) → (file, line).
fn split_location(location: &str) -> (String, Option<u64>) {
    let mut parts = location.rsplitn(3, ':');
    let last = parts.next().unwrap_or_default();
    let middle = parts.next();
    let rest = parts.next();
    match (rest, middle) {
        (Some(file), Some(line)) if line.parse::<u64>().is_ok() && last.parse::<u64>().is_ok() => {
            (file.to_owned(), line.parse().ok())
        }
        (_, Some(file)) if last.parse::<u64>().is_ok() => {
            let file = match rest {
                Some(r) => format!("{r}:{file}"),
                None => file.to_owned(),
            };
            (file, last.parse().ok())
        }
        _ => (location.to_owned(), None),
    }
}

/// An `io::Write` for one console stream of the program, into a shared [`Reporter`].
pub struct Console {
    reporter: Shared,
    stream: &'static str,
}

impl Console {
    /// A writer for `stream`.
    pub fn new(reporter: &Shared, stream: &'static str) -> Console {
        Console {
            reporter: reporter.clone(),
            stream,
        }
    }
}

impl Write for Console {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.reporter.borrow_mut().console(self.stream, None, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_into_file_and_line() {
        assert_eq!(
            split_location("src/main.rs:12:5"),
            ("src/main.rs".into(), Some(12))
        );
        assert_eq!(
            split_location("src/main.rs:12"),
            ("src/main.rs".into(), Some(12))
        );
        assert_eq!(split_location("C:/x.rs:3:1"), ("C:/x.rs".into(), Some(3)));
        assert_eq!(split_location("weird"), ("weird".into(), None));
    }
}
