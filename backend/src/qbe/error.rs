//! Front-end errors: `file:line:col: message`, the quoted source line, and a caret.

use alloc::string::String;
use core::fmt;

use crate::ir::{Pos, VerifyError};

/// An error in an IL file (syntax, name resolution, type or SSA error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// File name as given to [`parse`](super::parse).
    pub file: String,
    /// 1-based line (0 when unknown, e.g. for a module built without positions).
    pub line: u32,
    /// 1-based column in characters (0 when unknown).
    pub col: u32,
    /// What went wrong, e.g. `expected ',' or newline after argument`.
    pub msg: String,
    /// The source line the error is on (without its newline), empty when unknown.
    pub source_line: String,
}

impl Error {
    /// An error at byte offset `off` of `src`.
    pub fn at_offset(file: &str, src: &str, off: usize, msg: impl Into<String>) -> Error {
        let off = floor_char_boundary(src, off.min(src.len()));
        let line_start = src[..off].rfind('\n').map_or(0, |i| i + 1);
        let line = src[..line_start].bytes().filter(|&b| b == b'\n').count() + 1;
        let col = src[line_start..off].chars().count() + 1;
        Error::at_pos(file, src, Pos::new(clamp(line), clamp(col)), msg)
    }

    /// An error at a line/column of `src` (unknown positions give no source excerpt).
    pub fn at_pos(file: &str, src: &str, pos: Pos, msg: impl Into<String>) -> Error {
        let source_line = if pos.is_known() {
            src.split('\n')
                .nth(pos.line as usize - 1)
                .unwrap_or("")
                .trim_end_matches('\r')
                .into()
        } else {
            String::new()
        };
        Error {
            file: file.into(),
            line: pos.line,
            col: pos.col,
            msg: msg.into(),
            source_line,
        }
    }

    /// Converts a verifier error, quoting the source line its position points at.
    /// Without a position, the message names the function instead.
    pub fn from_verify(file: &str, src: &str, e: VerifyError) -> Error {
        match e.func {
            Some(f) if !e.pos.is_known() => {
                Error::at_pos(file, src, e.pos, alloc::format!("in ${f}: {}", e.msg))
            }
            _ => Error::at_pos(file, src, e.pos, e.msg),
        }
    }
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.msg);
        }
        writeln!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.msg)?;
        let num = alloc::format!("{}", self.line);
        let pad: String = num.chars().map(|_| ' ').collect();
        writeln!(f, "{num} | {}", self.source_line)?;
        // Caret under the column; copy tabs so it lines up with the quoted line.
        let mut caret = String::new();
        for c in self
            .source_line
            .chars()
            .take(self.col.saturating_sub(1) as usize)
        {
            caret.push(if c == '\t' { '\t' } else { ' ' });
        }
        write!(f, "{pad} | {caret}^")
    }
}

impl core::error::Error for Error {}
