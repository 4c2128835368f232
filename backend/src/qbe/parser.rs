//! The parser: tokens → [`Module`]. This file holds the token plumbing and the module-level
//! definitions (linkage, `type`, `data`, `dbgfile`); function bodies are in `body`.
//!
//! The parser checks syntax and resolves names (aggregate types, blocks); types of operands,
//! phi/predecessor agreement and the like are the verifier's job. It never recurses on input
//! structure (aggregates nest one level at most), and every loop consumes a token, so bad
//! input cannot make it overflow the stack or spin.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use super::Error;
use super::error::OperandOffsets;
use super::lexer::{Lexer, Tok, Token};
use crate::ir::{
    DataDef, DataItem, DataValue, ExtTy, Field, FieldTy, Linkage, Module, Pos, Section, TypeBody,
    TypeDef, TypeId,
};

/// Largest alignment accepted for types and data (bytes).
pub const MAX_ALIGN: i64 = 1 << 30;

/// Parser state shared by module-level and function-body parsing.
pub(crate) struct Parser<'a> {
    pub(crate) file: &'a str,
    pub(crate) src: &'a str,
    lex: Lexer<'a>,
    peeked: Option<Token<'a>>,
    pub(crate) module: Module,
    pub(crate) type_names: BTreeMap<&'a str, TypeId>,
    pub(crate) dbgfile: Option<String>,
    /// Where each operand of each instruction, phi and jump starts.
    pub(crate) operands: OperandOffsets,
}

pub(crate) type PResult<T> = Result<T, Error>;

impl<'a> Parser<'a> {
    pub(crate) fn new(file: &'a str, src: &'a str) -> Parser<'a> {
        Parser {
            file,
            src,
            lex: Lexer::new(src),
            peeked: None,
            module: Module::new(),
            type_names: BTreeMap::new(),
            dbgfile: None,
            operands: OperandOffsets::default(),
        }
    }

    // ---- token plumbing ----

    pub(crate) fn peek(&mut self) -> PResult<&Token<'a>> {
        if self.peeked.is_none() {
            let t = self
                .lex
                .next_token()
                .map_err(|e| self.err_off(e.off, e.msg))?;
            self.peeked = Some(t);
        }
        Ok(self.peeked.as_ref().expect("just filled"))
    }

    pub(crate) fn next(&mut self) -> PResult<Token<'a>> {
        self.peek()?;
        Ok(self.peeked.take().expect("peeked"))
    }

    /// Skips newlines, then returns the next token.
    pub(crate) fn next_nl(&mut self) -> PResult<Token<'a>> {
        loop {
            let t = self.next()?;
            if t.tok != Tok::Newline {
                return Ok(t);
            }
        }
    }

    pub(crate) fn err_off(&self, off: usize, msg: impl Into<String>) -> Error {
        Error::at_offset(self.file, self.src, off, msg)
    }

    /// "expected X, found Y" at token `t`.
    pub(crate) fn unexpected(&self, t: &Token<'a>, expected: &str) -> Error {
        self.err_off(
            t.off,
            format!("expected {expected}, found {}", t.tok.describe()),
        )
    }

    /// The line/column of a byte offset.
    pub(crate) fn pos(&self, off: usize, line: u32) -> Pos {
        let line_start = self.src[..off].rfind('\n').map_or(0, |i| i + 1);
        let col = if self.src.as_bytes()[line_start..off].is_ascii() {
            off - line_start
        } else {
            self.src[line_start..off].chars().count()
        };
        Pos::new(line, u32::try_from(col + 1).unwrap_or(u32::MAX))
    }

    pub(crate) fn expect(&mut self, want: Tok<'static>, what: &str) -> PResult<Token<'a>> {
        let t = self.next()?;
        if t.tok == want {
            Ok(t)
        } else {
            Err(self.unexpected(&t, what))
        }
    }

    /// A non-negative integer (newlines skipped before it).
    pub(crate) fn number_nl(&mut self, what: &str) -> PResult<(u64, Token<'a>)> {
        let t = self.next_nl()?;
        match t.tok {
            Tok::Int(n) if n >= 0 => Ok((n as u64, t)),
            Tok::Int(_) => Err(self.err_off(t.off, format!("{what} must not be negative"))),
            _ => Err(self.unexpected(&t, what)),
        }
    }

    fn align_nl(&mut self) -> PResult<u64> {
        let (n, t) = self.number_nl("alignment")?;
        if n == 0 || !n.is_power_of_two() || n > MAX_ALIGN as u64 {
            return Err(self.err_off(t.off, "alignment must be a power of two up to 2^30"));
        }
        Ok(n)
    }

    // ---- module level ----

    /// The module, and where its operands are (for errors; see [`OperandOffsets`]).
    pub(crate) fn parse_module(mut self) -> PResult<(Module, OperandOffsets)> {
        loop {
            let t = self.next_nl()?;
            let start = t.clone();
            let (linkage, t) = self.linkage(t)?;
            let has_linkage = linkage != Linkage::default();
            let pos = self.pos(start.off, start.line);
            match t.tok {
                Tok::Eof if !has_linkage => return Ok((self.module, self.operands)),
                Tok::Word("function") => {
                    if linkage.thread {
                        return Err(self.err_off(start.off, "only data may have thread linkage"));
                    }
                    let f = self.parse_function(linkage, pos)?;
                    self.module.functions.push(f);
                }
                Tok::Word("data") => {
                    let d = self.parse_data(linkage, pos)?;
                    self.module.data.push(d);
                }
                Tok::Word("type") | Tok::Word("dbgfile") if has_linkage => {
                    return Err(
                        self.err_off(t.off, "only data and function definitions have linkage")
                    );
                }
                Tok::Word("type") => self.parse_type(pos)?,
                Tok::Word("dbgfile") => {
                    let s = self.next()?;
                    let Tok::Str(bytes) = s.tok else {
                        return Err(self.unexpected(&s, "file name string after dbgfile"));
                    };
                    self.dbgfile = Some(self.utf8(bytes, s.off)?);
                    self.end_of_line("dbgfile")?;
                }
                _ if has_linkage => return Err(self.unexpected(&t, "'data' or 'function'")),
                _ => {
                    return Err(self.unexpected(&t, "'function', 'data', 'type' or linkage"));
                }
            }
        }
    }

    pub(crate) fn utf8(&self, bytes: alloc::vec::Vec<u8>, off: usize) -> PResult<String> {
        String::from_utf8(bytes).map_err(|_| self.err_off(off, "string is not valid UTF-8"))
    }

    /// Expects a newline or end of file after a construct.
    pub(crate) fn end_of_line(&mut self, after: &str) -> PResult<()> {
        let t = self.peek()?;
        match t.tok {
            Tok::Newline => {
                self.next()?;
                Ok(())
            }
            Tok::Eof => Ok(()),
            _ => {
                let t = t.clone();
                Err(self.unexpected(&t, &format!("newline after {after}")))
            }
        }
    }

    /// Parses linkage flags starting at `t`; returns them and the first token after them.
    fn linkage(&mut self, mut t: Token<'a>) -> PResult<(Linkage, Token<'a>)> {
        let mut l = Linkage::default();
        loop {
            match t.tok {
                Tok::Word("export") => l.export = true,
                Tok::Word("thread") => l.thread = true,
                Tok::Word("section") => {
                    if l.section.is_some() {
                        return Err(self.err_off(t.off, "only one section allowed"));
                    }
                    let n = self.next()?;
                    let Tok::Str(name) = n.tok else {
                        return Err(self.unexpected(&n, "section name string"));
                    };
                    let name = self.utf8(name, n.off)?;
                    let mut flags = None;
                    if let Tok::Str(_) = self.peek()?.tok {
                        let f = self.next()?;
                        if let Tok::Str(b) = f.tok {
                            flags = Some(self.utf8(b, f.off)?);
                        }
                    }
                    l.section = Some(Section { name, flags });
                }
                _ => return Ok((l, t)),
            }
            t = self.next_nl()?;
        }
    }

    /// `type :name = [align N] { ... }` (after `type`).
    fn parse_type(&mut self, pos: Pos) -> PResult<()> {
        let t = self.next_nl()?;
        let Tok::TypeName(name) = t.tok else {
            return Err(self.unexpected(&t, "type name (:name)"));
        };
        if self.type_names.contains_key(name) {
            return Err(self.err_off(t.off, format!("type :{name} defined twice")));
        }
        let eq = self.next_nl()?;
        if eq.tok != Tok::Eq {
            return Err(self.unexpected(&eq, "'='"));
        }
        let mut t = self.next_nl()?;
        let mut align = None;
        if t.tok == Tok::Word("align") {
            align = Some(self.align_nl()?);
            t = self.next_nl()?;
        }
        if t.tok != Tok::LBrace {
            return Err(self.unexpected(&t, "'{' to start the type body"));
        }
        let t = self.next_nl()?;
        let body = match t.tok {
            Tok::Int(n) => {
                if n < 0 {
                    return Err(self.err_off(t.off, "opaque type size must not be negative"));
                }
                if align.is_none() {
                    return Err(self.err_off(t.off, "opaque type needs an explicit alignment"));
                }
                let c = self.next_nl()?;
                if c.tok != Tok::RBrace {
                    return Err(self.unexpected(&c, "'}' after opaque type size"));
                }
                TypeBody::Opaque { size: n as u64 }
            }
            Tok::LBrace => {
                let mut variants = alloc::vec::Vec::new();
                let mut t = t;
                loop {
                    match t.tok {
                        Tok::LBrace => {
                            let first = self.next_nl()?;
                            variants.push(self.fields(first)?);
                        }
                        Tok::RBrace => break,
                        _ => return Err(self.unexpected(&t, "'{' or '}' in union type")),
                    }
                    t = self.next_nl()?;
                }
                TypeBody::Union(variants)
            }
            _ => TypeBody::Struct(self.fields(t)?),
        };
        let id = self.module.add_type(TypeDef {
            name: name.into(),
            align,
            body,
            pos,
        });
        self.type_names.insert(name, id);
        Ok(())
    }

    /// Fields of a struct body starting at token `t`, through the closing `}`.
    fn fields(&mut self, mut t: Token<'a>) -> PResult<alloc::vec::Vec<Field>> {
        let mut out = alloc::vec::Vec::new();
        loop {
            let ty = match t.tok {
                Tok::RBrace => return Ok(out),
                Tok::Word(w) => match ext_ty(w) {
                    Some(e) => FieldTy::Ext(e),
                    None => return Err(self.unexpected(&t, "member type")),
                },
                Tok::TypeName(n) => FieldTy::Agg(self.lookup_type(n, t.off)?),
                _ => return Err(self.unexpected(&t, "member type or '}'")),
            };
            let mut count = 1;
            t = self.next_nl()?;
            if let Tok::Int(n) = t.tok {
                if n < 0 {
                    return Err(self.err_off(t.off, "member count must not be negative"));
                }
                count = n as u64;
                t = self.next_nl()?;
            }
            out.push(Field { ty, count });
            match t.tok {
                Tok::Comma => t = self.next_nl()?,
                Tok::RBrace => return Ok(out),
                _ => return Err(self.unexpected(&t, "',' or '}' after member")),
            }
        }
    }

    pub(crate) fn lookup_type(&self, name: &str, off: usize) -> PResult<TypeId> {
        self.type_names
            .get(name)
            .copied()
            .ok_or_else(|| self.err_off(off, format!("undefined type :{name}")))
    }

    /// `data $name = [align N] { ... }` (after `data`).
    fn parse_data(&mut self, linkage: Linkage, pos: Pos) -> PResult<DataDef> {
        let t = self.next_nl()?;
        let Tok::Global(name) = t.tok else {
            return Err(self.unexpected(&t, "data name ($name)"));
        };
        let eq = self.next_nl()?;
        if eq.tok != Tok::Eq {
            return Err(self.unexpected(&eq, "'='"));
        }
        let mut t = self.next_nl()?;
        let mut align = None;
        if t.tok == Tok::Word("align") {
            align = Some(self.align_nl()?);
            t = self.next_nl()?;
        }
        if t.tok != Tok::LBrace {
            return Err(self.unexpected(&t, "'{' to start the data contents"));
        }
        let mut items = alloc::vec::Vec::new();
        let mut t = self.next_nl()?;
        loop {
            match t.tok {
                Tok::RBrace => break,
                Tok::Word("z") => {
                    let (n, _) = self.number_nl("size after z")?;
                    items.push(DataItem::Zero(n));
                    t = self.next_nl()?;
                }
                Tok::Word(w) if ext_ty(w).is_some() => {
                    let ty = ext_ty(w).expect("checked");
                    let mut vals = alloc::vec::Vec::new();
                    t = self.next_nl()?;
                    while let Some(v) = self.data_value(&t)? {
                        vals.push(v);
                        t = self.next_nl()?;
                    }
                    if vals.is_empty() {
                        return Err(self.unexpected(&t, &format!("data value after '{w}'")));
                    }
                    items.push(DataItem::Typed(ty, vals));
                }
                _ => return Err(self.unexpected(&t, "data item type (b h w l s d z) or '}'")),
            }
            match t.tok {
                Tok::Comma => t = self.next_nl()?,
                Tok::RBrace => break,
                _ => return Err(self.unexpected(&t, "',' or '}' in data")),
            }
        }
        Ok(DataDef {
            name: name.into_owned(),
            linkage,
            align,
            items,
            pos,
        })
    }

    /// A data value starting at `t`, or `None` if `t` does not start one.
    fn data_value(&mut self, t: &Token<'a>) -> PResult<Option<DataValue>> {
        Ok(Some(match &t.tok {
            Tok::Int(n) => DataValue::Int(*n),
            Tok::Single(b) => DataValue::Single(*b),
            Tok::Double(b) => DataValue::Double(*b),
            Tok::Str(s) => DataValue::Str(s.clone()),
            Tok::Global(g) => {
                let mut off = 0;
                if self.peek()?.tok == Tok::Plus {
                    self.next()?;
                    let n = self.next_nl()?;
                    let Tok::Int(o) = n.tok else {
                        return Err(self.unexpected(&n, "offset after '+'"));
                    };
                    off = o;
                }
                DataValue::Sym(g.clone().into_owned(), off)
            }
            _ => return Ok(None),
        }))
    }
}

/// `b h w l s d` → extended type.
pub(crate) fn ext_ty(w: &str) -> Option<ExtTy> {
    Some(match w {
        "b" => ExtTy::B,
        "h" => ExtTy::H,
        "w" => ExtTy::W,
        "l" => ExtTy::L,
        "s" => ExtTy::S,
        "d" => ExtTy::D,
        _ => return None,
    })
}
