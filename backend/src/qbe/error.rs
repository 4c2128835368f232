//! Front-end errors: `file:line:col: message`, the quoted source line, and a caret.

use alloc::string::String;
use alloc::vec::Vec;
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
        Error::at_pos(file, src, pos_at(src, off), msg)
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

/// Where each operand starts in the source, recorded by the parser, so that verifier errors
/// about an operand ([`VerifyError::operand`]) put the caret under it rather than at the start
/// of its instruction. A side table rather than positions in the IR, so the IR stays what
/// Rust users build; looked up only when there is an error. Items are keyed by their
/// position, which is unique (one instruction, phi or jump per line).
#[derive(Debug, Default)]
pub(crate) struct OperandOffsets(Vec<OperandOffset>);

#[derive(Debug)]
struct OperandOffset {
    /// The instruction, phi or jump.
    item: Pos,
    /// The operand's index in it (see [`VerifyError::operand`]).
    operand: usize,
    /// Byte offset of the operand in the source.
    off: usize,
}

impl OperandOffsets {
    /// Records that operand `operand` of the item at `item` starts at byte `off`.
    pub(crate) fn push(&mut self, item: Pos, operand: usize, off: usize) {
        self.0.push(OperandOffset { item, operand, off });
    }

    /// A verifier error on `src` as an [`Error`], at its operand when it is about one.
    pub(crate) fn error(&self, file: &str, src: &str, mut e: VerifyError) -> Error {
        if let Some(k) = e.operand
            && let Some(o) = self.0.iter().find(|o| o.item == e.pos && o.operand == k)
        {
            e.pos = pos_at(src, o.off);
        }
        Error::from_verify(file, src, e)
    }
}

/// The line and column of byte offset `off` of `src`.
fn pos_at(src: &str, off: usize) -> Pos {
    let off = floor_char_boundary(src, off.min(src.len()));
    let line_start = src[..off].rfind('\n').map_or(0, |i| i + 1);
    let line = src[..line_start].bytes().filter(|&b| b == b'\n').count() + 1;
    let col = src[line_start..off].chars().count() + 1;
    Pos::new(clamp(line), clamp(col))
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
