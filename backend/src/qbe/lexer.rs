//! Tokens of QBE IL.
//!
//! Spacing is spaces, tabs (and `\r`); `#` starts a comment to the end of the line; newlines
//! are tokens (they end instructions). Identifiers after a sigil (`% @ $ :`) start with a
//! letter, digit, `.` or `_` and continue with letters, digits, `$`, `.`, `_` (QBE itself
//! does not accept a leading digit; we do, as the sigil already disambiguates). `$"..."`
//! is a quoted global name. Bare words are keywords and instruction names.
//!
//! Numbers: `[-]DIGITS` fitting in 64 bits (non-negative up to `u64::MAX`, negative down to
//! `i64::MIN`; larger is an error, not a silent wrap). Floats: `s_` / `d_` followed by
//! decimal scientific notation, `inf` or `nan`, rounded directly to the target precision.
//! Strings: `"..."` on one line with C escapes `\n \t \r \a \b \f \v \\ \" \' \? \0`-`\777`
//! (1-3 octal digits) and `\xH[H]` (1-2 hex digits); any other escape is an error.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// Longest float literal accepted after `s_`/`d_`, in bytes.
const MAX_FLOAT_LEN: usize = 100;

/// A token kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok<'a> {
    /// A bare word: keyword, type letter, or instruction name (also `...`).
    Word(&'a str),
    /// `%name`
    Temp(&'a str),
    /// `@name`
    Label(&'a str),
    /// `$name` or `$"quoted name"`
    Global(Cow<'a, str>),
    /// `:name`
    TypeName(&'a str),
    Int(i64),
    /// `s_...` as `f32` bits.
    Single(u32),
    /// `d_...` as `f64` bits.
    Double(u64),
    /// A string literal's decoded bytes.
    Str(Vec<u8>),
    Plus,
    Eq,
    Comma,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Newline,
    Eof,
}

impl Tok<'_> {
    /// A short description for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        use alloc::format;
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Temp(n) => format!("temporary %{n}"),
            Tok::Label(n) => format!("label @{n}"),
            Tok::Global(n) => format!("global ${n}"),
            Tok::TypeName(n) => format!("type :{n}"),
            Tok::Int(_) | Tok::Single(_) | Tok::Double(_) => "number".into(),
            Tok::Str(_) => "string".into(),
            Tok::Plus => "'+'".into(),
            Tok::Eq => "'='".into(),
            Tok::Comma => "','".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::Newline => "newline".into(),
            Tok::Eof => "end of file".into(),
        }
    }
}

/// A token and where it starts.
#[derive(Clone, Debug)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    /// Byte offset of the first character.
    pub off: usize,
    /// 1-based line number.
    pub line: u32,
}

/// A lexical error at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub off: usize,
    pub line: u32,
    pub msg: String,
}

/// The lexer: an iterator of tokens over the source text.
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
}

fn is_ident_cont(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'$' || c == b'.' || c == b'_'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            line: 1,
        }
    }

    fn peek_byte(&self, k: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + k).copied()
    }

    fn err<T>(&self, off: usize, msg: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            off,
            line: self.line,
            msg: msg.into(),
        })
    }

    /// The next token.
    pub fn next_token(&mut self) -> Result<Token<'a>, LexError> {
        let b = self.src.as_bytes();
        loop {
            match b.get(self.pos) {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'#') => {
                    while let Some(&c) = b.get(self.pos) {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let off = self.pos;
        let line = self.line;
        let tok = self.lex_at(off)?;
        Ok(Token { tok, off, line })
    }

    fn lex_at(&mut self, off: usize) -> Result<Tok<'a>, LexError> {
        let b = self.src.as_bytes();
        let Some(&c) = b.get(off) else {
            return Ok(Tok::Eof);
        };
        self.pos += 1;
        let t = match c {
            b'\n' => {
                self.line = self.line.saturating_add(1);
                Tok::Newline
            }
            b',' => Tok::Comma,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'{' => Tok::LBrace,
            b'}' => Tok::RBrace,
            b'=' => Tok::Eq,
            b'+' => Tok::Plus,
            b'%' => Tok::Temp(self.sigil_ident(off, "temporary")?),
            b'@' => Tok::Label(self.sigil_ident(off, "label")?),
            b':' => Tok::TypeName(self.sigil_ident(off, "type")?),
            b'$' => {
                if self.peek_byte(0) == Some(b'"') {
                    self.pos += 1;
                    let bytes = self.string_body(off)?;
                    match String::from_utf8(bytes) {
                        Ok(s) => Tok::Global(Cow::Owned(s)),
                        Err(_) => return self.err(off, "quoted symbol name is not valid UTF-8"),
                    }
                } else {
                    Tok::Global(Cow::Borrowed(self.sigil_ident(off, "global")?))
                }
            }
            b'"' => Tok::Str(self.string_body(off)?),
            b'-' | b'0'..=b'9' => self.number(off)?,
            c if is_ident_start(c) => {
                if (c == b's' || c == b'd') && self.peek_byte(0) == Some(b'_') {
                    self.pos += 1;
                    return self.float(off, c == b's');
                }
                while self.peek_byte(0).is_some_and(is_ident_cont) {
                    self.pos += 1;
                }
                Tok::Word(&self.src[off..self.pos])
            }
            _ => {
                let ch = self.src[off..].chars().next().unwrap_or('?');
                self.pos = off + ch.len_utf8();
                return self.err(off, alloc::format!("invalid character {ch:?}"));
            }
        };
        Ok(t)
    }

    fn sigil_ident(&mut self, off: usize, what: &str) -> Result<&'a str, LexError> {
        let start = self.pos;
        if !self.peek_byte(0).is_some_and(is_ident_start) {
            return self.err(off, alloc::format!("expected {what} name after sigil"));
        }
        while self.peek_byte(0).is_some_and(is_ident_cont) {
            self.pos += 1;
        }
        Ok(&self.src[start..self.pos])
    }

    fn number(&mut self, off: usize) -> Result<Tok<'a>, LexError> {
        let b = self.src.as_bytes();
        let neg = b[off] == b'-';
        let digits_start = if neg { off + 1 } else { off };
        self.pos = digits_start;
        let mut mag: u64 = 0;
        let mut overflow = false;
        while let Some(&d) = b.get(self.pos) {
            if !d.is_ascii_digit() {
                break;
            }
            match mag
                .checked_mul(10)
                .and_then(|m| m.checked_add((d - b'0') as u64))
            {
                Some(m) => mag = m,
                None => overflow = true,
            }
            self.pos += 1;
        }
        if self.pos == digits_start {
            return self.err(off, "expected digits after '-'");
        }
        if self.peek_byte(0).is_some_and(is_ident_cont) {
            while self.peek_byte(0).is_some_and(is_ident_cont) {
                self.pos += 1;
            }
            return self.err(off, "invalid number");
        }
        if overflow || (neg && mag > 1 << 63) {
            return self.err(off, "integer literal does not fit in 64 bits");
        }
        Ok(Tok::Int(if neg {
            (mag as i64).wrapping_neg()
        } else {
            mag as i64
        }))
    }

    fn float(&mut self, off: usize, single: bool) -> Result<Tok<'a>, LexError> {
        let b = self.src.as_bytes();
        let start = self.pos;
        if matches!(b.get(self.pos), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        while let Some(&c) = b.get(self.pos) {
            let exp_sign = (c == b'-' || c == b'+') && matches!(b[self.pos - 1], b'e' | b'E');
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exp_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..self.pos];
        if text.len() > MAX_FLOAT_LEN {
            return self.err(off, "floating-point literal too long");
        }
        let is_hex = text.contains(['x', 'X']);
        let ok = !text.is_empty() && !is_hex;
        let t = if single {
            text.parse::<f32>()
                .ok()
                .filter(|_| ok)
                .map(|f| Tok::Single(f.to_bits()))
        } else {
            text.parse::<f64>()
                .ok()
                .filter(|_| ok)
                .map(|f| Tok::Double(f.to_bits()))
        };
        match t {
            Some(t) => Ok(t),
            None => self.err(off, "invalid floating-point literal"),
        }
    }

    /// Lexes a string body after the opening quote; returns the decoded bytes.
    fn string_body(&mut self, off: usize) -> Result<Vec<u8>, LexError> {
        let b = self.src.as_bytes();
        let mut out = Vec::new();
        loop {
            let Some(&c) = b.get(self.pos) else {
                return self.err(off, "unterminated string");
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\n' => return self.err(off, "unterminated string (newline in string)"),
                b'\\' => {
                    let esc_off = self.pos;
                    self.pos += 1;
                    out.push(self.escape(esc_off)?);
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn escape(&mut self, esc_off: usize) -> Result<u8, LexError> {
        let b = self.src.as_bytes();
        let Some(&c) = b.get(self.pos) else {
            return self.err(esc_off, "unterminated string");
        };
        self.pos += 1;
        let v = match c {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'v' => 11,
            b'\\' | b'"' | b'\'' | b'?' => c,
            b'0'..=b'7' => {
                let mut v: u32 = (c - b'0') as u32;
                for _ in 0..2 {
                    match b.get(self.pos) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                if v > 255 {
                    return self.err(esc_off, "octal escape out of range");
                }
                v as u8
            }
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 {
                    match b.get(self.pos).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            self.pos += 1;
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n == 0 {
                    return self.err(esc_off, "expected hex digits after '\\x'");
                }
                v as u8
            }
            _ => {
                let ch = self.src[self.pos - 1..].chars().next().unwrap_or('?');
                if ch == '\n' {
                    return self.err(esc_off, "unterminated string (newline in string)");
                }
                return self.err(esc_off, alloc::format!("invalid escape sequence '\\{ch}'"));
            }
        };
        Ok(v)
    }
}
