//! defmt logs: decodes the frames a program writes to RTT up-channel 0 with the defmt
//! project's own `defmt-decoder` (defmt 1.x wire format), and lays them out like probe-rs does
//! (`LEVEL message`, the timestamp when the firmware has one, `└─ module @ file:line` from the
//! ELF's DWARF), or as `--log-format` says. The built-in layouts are written here: the
//! decoder's own formatter compiles regular expressions for every frame, which made it the
//! bottleneck of a log stream; it lays out custom format strings only.
//!
//! A program is a defmt program when its ELF has a `.defmt` section. A firmware built with a
//! defmt whose wire format this decoder does not know is a clear error before the run. Frames
//! that do not decode are reported and skipped when the encoding can find the next frame
//! (rzcobs, the default); with the raw encoding nothing after them can be trusted, so decoding
//! stops there. This module only turns bytes into reports; where the bytes come from is
//! `crate::rtt`'s business.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use defmt_decoder::log::format::{Formatter, FormatterConfig, FormatterFormat};
use defmt_decoder::{DecodeError, Locations, StreamDecoder, Table};

use crate::run::events::Event;
use crate::run::report::Reporter;

/// How frames are laid out for people.
#[derive(Debug, Clone, Default)]
pub struct LayoutOptions {
    /// `--log-format`: `default`, `oneline`, or a custom defmt format string.
    pub log_format: Option<String>,
    /// `--no-location`: leave out the `file:line` of the built-in layouts.
    pub no_location: bool,
}

/// How frames are laid out for people.
enum Layout {
    /// probe-rs's default: `TIMESTAMP LEVEL message`, then `└─ module @ file:line`.
    Default { location: bool },
    /// One line: `TIMESTAMP [LEVEL] message (file:line)`.
    OneLine { location: bool },
    /// A defmt format string, laid out by defmt-decoder's formatter (which compiles regular
    /// expressions per frame: several times slower than the built-in layouts).
    Custom(Formatter),
}

/// The defmt table of one program and a decoder for its stream.
pub struct DefmtLog {
    table: &'static Table,
    locations: Locations,
    layout: Layout,
    /// Colour the level (stdout is a terminal and `NO_COLOR` is unset).
    colour: bool,
    decoder: Box<dyn StreamDecoder + Send + Sync + 'static>,
    /// Decoding stopped for good (a raw stream lost its framing).
    broken: bool,
}

impl DefmtLog {
    /// The decoder for the program in `elf` (`None` when it has no `.defmt` section).
    pub fn from_elf(elf: &[u8], path: &str, layout: &LayoutOptions) -> Result<Option<DefmtLog>> {
        let Some(table) =
            Table::parse(elf).with_context(|| format!("{path}: cannot read its defmt table"))?
        else {
            return Ok(None);
        };
        // One table per program per rvflash process: leaked, so the stream decoder (which
        // borrows it) can live next to it.
        let table: &'static Table = Box::leak(Box::new(table));
        let locations = table.get_locations(elf).unwrap_or_default();
        let location = !layout.no_location && !locations.is_empty();
        let layout = match layout.log_format.as_deref() {
            None | Some("default") => Layout::Default { location },
            Some("oneline") => Layout::OneLine { location },
            Some(custom) => Layout::Custom(Formatter::new(FormatterConfig {
                format: FormatterFormat::Custom(leak(custom)),
                is_timestamp_available: table.has_timestamp(),
            })),
        };
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Ok(Some(DefmtLog {
            table,
            locations,
            layout,
            colour,
            decoder: table.new_stream_decoder(),
            broken: false,
        }))
    }

    /// Forgets partial frames: the program starts again (the test runner's next test).
    pub fn restart(&mut self) {
        self.decoder = self.table.new_stream_decoder();
        self.broken = false;
    }

    /// Decodes what arrived and reports every whole frame.
    pub fn received(&mut self, bytes: &[u8], reporter: &mut Reporter) {
        if self.broken {
            return;
        }
        self.decoder.received(bytes);
        loop {
            match self.decoder.decode() {
                Ok(frame) => {
                    let location = self.locations.get(&frame.index());
                    let file = location.map(|l| l.file.display().to_string());
                    let event = Event::Log {
                        level: frame.level().map(|l| l.as_str().to_owned()),
                        message: frame.display_message().to_string(),
                        timestamp: frame.display_timestamp().map(|t| t.to_string()),
                        file: file.clone(),
                        line: location.map(|l| l.line),
                        module: location.map(|l| l.module.clone()),
                    };
                    let human = match &self.layout {
                        Layout::Custom(formatter) => formatter.format_frame(
                            frame,
                            file.as_deref(),
                            location.and_then(|l| u32::try_from(l.line).ok()),
                            location.map(|l| l.module.as_str()),
                        ),
                        Layout::Default { location: shown }
                        | Layout::OneLine { location: shown } => {
                            let Event::Log {
                                level,
                                message,
                                timestamp,
                                ..
                            } = &event
                            else {
                                unreachable!("a log event")
                            };
                            let one_line = matches!(self.layout, Layout::OneLine { .. });
                            let mut line = String::new();
                            if let Some(t) = timestamp {
                                line.push_str(t);
                                line.push(' ');
                            }
                            if let Some(level) = level.as_deref() {
                                let name = format!("{:<5}", level.to_uppercase());
                                let name = if one_line { format!("[{name}]") } else { name };
                                line.push_str(&paint(&name, level, self.colour));
                                line.push(' ');
                            }
                            line.push_str(message);
                            if let (true, Some(l)) = (*shown, location) {
                                let file = l.file.display();
                                if one_line {
                                    line.push_str(&format!(" ({file}:{})", l.line));
                                } else {
                                    line.push_str(&format!(
                                        "\n└─ {} @ {file}:{}",
                                        l.module, l.line
                                    ));
                                }
                            }
                            line
                        }
                    };
                    reporter.log(event, &human);
                }
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) if self.table.encoding().can_recover() => {
                    reporter.warning("a malformed defmt frame was skipped");
                }
                Err(DecodeError::Malformed) => {
                    reporter.warning(
                        "a malformed defmt frame: the raw encoding cannot find the next frame, \
                         so the rest of the log is not decoded",
                    );
                    self.broken = true;
                    break;
                }
            }
        }
    }
}

/// A level name in its colour (probe-rs's), when colour is on.
fn paint(text: &str, level: &str, colour: bool) -> String {
    let code = match level {
        "trace" => "2",
        "debug" => "37",
        "info" => "32",
        "warn" => "33",
        "error" => "31",
        _ => return text.to_owned(),
    };
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// A custom `--log-format` string lives as long as the formatter, i.e. the process.
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}
