//! The JSON events of `rvflash run --message-format json`: one object per line on stdout, the
//! documented schema (README, "Machine-readable output"). Every event has a `type`; the first is
//! always `start`, carrying [`SCHEMA_VERSION`], and the last of a plain run is always `exit`.
//!
//! This file holds only the types (serde), so that tests and other tools can read the events
//! with the very definitions rvflash writes them with. It must not depend on anything else in
//! rvflash. Test runs of embedded-test binaries add libtest's own JSON lines (`"type":
//! "suite"` and `"type": "test"`, see `crate::test_runner`), which are not listed here.
//!
//! Addresses and register values are strings of hexadecimal (`"0x80000000"`): JSON numbers lose
//! 64-bit precision in many consumers.

use serde::{Deserialize, Serialize};

/// The schema version in the `start` event; bumped when a field changes meaning or goes away
/// (new events and new fields do not bump it).
pub const SCHEMA_VERSION: u32 = 1;

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The run begins.
    Start {
        /// [`SCHEMA_VERSION`].
        schema_version: u32,
        /// The board's name.
        board: String,
        /// The program file as given.
        program: String,
    },
    /// Loading the program onto the board: `phase` is `started`, then `finished`.
    Load {
        /// `started` or `finished`.
        phase: String,
        /// Bytes of loadable segments.
        bytes: u64,
        /// Seconds the load took (`finished` only).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "optional_seconds"
        )]
        seconds: Option<f64>,
    },
    /// Output of the program on a console stream.
    Console {
        /// `stdout` / `stderr` (semihosting), `uart` (the board's UART), `rtt` (a plain-text RTT
        /// up-channel).
        stream: String,
        /// The RTT up-channel number (`rtt` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<u32>,
        /// The text: whole lines (with their `\n`) where the program wrote whole lines; invalid
        /// UTF-8 is replaced by U+FFFD.
        text: String,
    },
    /// A defmt log frame.
    Log {
        /// `trace`, `debug`, `info`, `warn`, `error`; absent for `println!`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
        /// The formatted message.
        message: String,
        /// The firmware's timestamp, formatted, when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp: Option<String>,
        /// Source file of the log statement (from DWARF), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        /// Its line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
        /// Its module path.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        module: Option<String>,
    },
    /// Something rvflash warns about without ending the run (a malformed defmt frame, an RTT
    /// control block it cannot read).
    Warning {
        /// The message.
        message: String,
    },
    /// The program panicked (Rust `rust_begin_unwind`).
    Panic {
        /// The panic message with its location, when rvflash could read it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// Innermost frame first.
        backtrace: Vec<Frame>,
    },
    /// The program took an exception.
    Trap {
        /// The cause's name (`illegal instruction`, ...).
        cause: String,
        /// `mcause`, hexadecimal.
        mcause: String,
        /// The trapping instruction's address, hexadecimal.
        pc: String,
        /// `mtval`, hexadecimal.
        tval: String,
        /// x0..x31 by ABI name (`zero`, `ra`, `sp`, ...), hexadecimal.
        registers: Vec<Register>,
        /// Innermost frame first.
        backtrace: Vec<Frame>,
    },
    /// The run timed out (`--timeout`).
    Timeout {
        /// The timeout in seconds.
        #[serde(deserialize_with = "seconds")]
        seconds: f64,
    },
    /// rvflash itself failed (exit status 125).
    Error {
        /// The message.
        message: String,
    },
    /// The run ended; rvflash exits with `status`.
    Exit {
        /// rvflash's exit status.
        status: u8,
        /// `exited` (the program's own status), `panicked` (101 after a halted panic),
        /// `trapped` (134), `timeout` (124), `error` (125), `tests` (an embedded-test binary:
        /// libtest's 0, or 101 when a test failed).
        reason: String,
    },
}

/// A backtrace frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    /// The frame's pc (a return address for callers), hexadecimal.
    pub pc: String,
    /// The function (demangled), innermost inlined call first when several share the frame.
    pub function: String,
    /// Source file, when the debug information has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Source line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Whether this function was inlined into the next entry's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inlined: bool,
}

/// A register and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// ABI name.
    pub name: String,
    /// Hexadecimal value.
    pub value: String,
}

/// `0x…` for an address or register value.
pub fn hex(value: u64) -> String {
    format!("{value:#x}")
}

// Fractional numbers inside an internally tagged enum reach serde as whatever the JSON
// library buffered; with serde_json's `arbitrary_precision` (which a dependency of rvflash
// turns on) that is not a plain f64. Going through `serde_json::Value` reads both.
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    value
        .as_f64()
        .ok_or_else(|| serde::de::Error::custom(format!("expected seconds, found {value}")))
}

fn optional_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    seconds(d).map(Some)
}
