//! Printing the IR back to QBE IL text.
//!
//! `format!("{module}")` gives IL that [`crate::qbe::parse_raw`] reads back into an equal
//! module (up to source positions): types first, then data, then functions, with a
//! `dbgfile` line before each function whose file differs from the previous one. Implicit
//! fall-through is printed as an explicit `jmp`. Symbol names that are not plain identifiers
//! are quoted (`$"a b"`); strings use C escapes (octal for non-printable bytes); floats use
//! the shortest decimal that rounds back to the same bits (`s_nan` loses a NaN's payload).

use core::fmt::{self, Display, Formatter, Write};

use super::{
    AbiTy, Block, Const, DataDef, DataItem, DataValue, Field, FieldTy, Function, InstKind, Jump,
    Linkage, Module, TypeBody, TypeDef, Value,
};

impl Display for Module {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for t in &self.types {
            write_type(self, t, f)?;
        }
        for d in &self.data {
            write_data(d, f)?;
        }
        let mut file: Option<&str> = None;
        for func in &self.functions {
            if let Some(df) = func.dbgfile.as_deref()
                && file != Some(df)
            {
                f.write_str("dbgfile ")?;
                write_str_lit(df.as_bytes(), f)?;
                f.write_char('\n')?;
                file = Some(df);
            }
            write_function(self, func, f)?;
        }
        Ok(())
    }
}

/// Displays one function; aggregate type names are looked up in `module`.
pub struct FunctionDisplay<'a> {
    pub module: &'a Module,
    pub func: &'a Function,
}

impl Display for FunctionDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_function(self.module, self.func, f)
    }
}

impl Function {
    /// A `Display` of this function as IL (aggregate type names come from `module`).
    pub fn display<'a>(&'a self, module: &'a Module) -> FunctionDisplay<'a> {
        FunctionDisplay { module, func: self }
    }
}

/// Is `s` a name that can follow a sigil without quoting (`[A-Za-z0-9._][A-Za-z0-9._$]*`)?
pub fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'$' | b'.' | b'_'))
        && s.as_bytes()[0] != b'$'
}

fn write_sym(name: &str, f: &mut dyn Write) -> fmt::Result {
    f.write_char('$')?;
    if is_ident(name) {
        f.write_str(name)
    } else {
        write_str_lit(name.as_bytes(), f)
    }
}

/// Writes a double-quoted string literal with C escapes.
pub fn write_str_lit(bytes: &[u8], f: &mut dyn Write) -> fmt::Result {
    f.write_char('"')?;
    for &b in bytes {
        match b {
            b'"' => f.write_str("\\\"")?,
            b'\\' => f.write_str("\\\\")?,
            b'\n' => f.write_str("\\n")?,
            b'\t' => f.write_str("\\t")?,
            0x20..=0x7e => f.write_char(b as char)?,
            _ => write!(f, "\\{:03o}", b)?,
        }
    }
    f.write_char('"')
}

fn write_single(bits: u32, f: &mut dyn Write) -> fmt::Result {
    let x = f32::from_bits(bits);
    match (x.is_nan(), x.is_sign_negative()) {
        (true, false) => f.write_str("s_nan"),
        (true, true) => f.write_str("s_-nan"),
        _ => write!(f, "s_{x:?}"),
    }
}

fn write_double(bits: u64, f: &mut dyn Write) -> fmt::Result {
    let x = f64::from_bits(bits);
    match (x.is_nan(), x.is_sign_negative()) {
        (true, false) => f.write_str("d_nan"),
        (true, true) => f.write_str("d_-nan"),
        _ => write!(f, "d_{x:?}"),
    }
}

fn write_const(c: &Const, f: &mut dyn Write) -> fmt::Result {
    match c {
        Const::Int(i) => write!(f, "{i}"),
        Const::Single(b) => write_single(*b, f),
        Const::Double(b) => write_double(*b, f),
        Const::Addr(s) => write_sym(s, f),
        Const::ThreadAddr(s) => {
            f.write_str("thread ")?;
            write_sym(s, f)
        }
    }
}

fn write_value(func: &Function, v: &Value, f: &mut dyn Write) -> fmt::Result {
    match v {
        Value::Temp(t) => write!(f, "%{}", func.temp_name(*t)),
        Value::Const(c) => write_const(c, f),
    }
}

fn type_name(m: &Module, id: super::TypeId) -> &str {
    m.types.get(id.index()).map_or("?", |t| t.name.as_str())
}

fn write_abi(m: &Module, t: AbiTy, f: &mut dyn Write) -> fmt::Result {
    match t {
        AbiTy::Base(b) => f.write_char(b.letter()),
        AbiTy::Sb => f.write_str("sb"),
        AbiTy::Ub => f.write_str("ub"),
        AbiTy::Sh => f.write_str("sh"),
        AbiTy::Uh => f.write_str("uh"),
        AbiTy::Agg(id) => write!(f, ":{}", type_name(m, id)),
    }
}

fn write_fields(m: &Module, fields: &[Field], f: &mut dyn Write) -> fmt::Result {
    f.write_str("{ ")?;
    for (i, fl) in fields.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match fl.ty {
            FieldTy::Ext(e) => f.write_char(e.letter())?,
            FieldTy::Agg(id) => write!(f, ":{}", type_name(m, id))?,
        }
        if fl.count != 1 {
            write!(f, " {}", fl.count)?;
        }
    }
    f.write_str(" }")
}

fn write_type(m: &Module, t: &TypeDef, f: &mut dyn Write) -> fmt::Result {
    write!(f, "type :{} = ", t.name)?;
    if let Some(a) = t.align {
        write!(f, "align {a} ")?;
    }
    match &t.body {
        TypeBody::Opaque { size } => write!(f, "{{ {size} }}")?,
        TypeBody::Struct(fields) => write_fields(m, fields, f)?,
        TypeBody::Union(vs) => {
            f.write_str("{ ")?;
            for v in vs {
                write_fields(m, v, f)?;
                f.write_char(' ')?;
            }
            f.write_char('}')?;
        }
    }
    f.write_char('\n')
}

fn write_linkage(l: &Linkage, f: &mut dyn Write) -> fmt::Result {
    if l.export {
        f.write_str("export ")?;
    }
    if l.thread {
        f.write_str("thread ")?;
    }
    if let Some(s) = &l.section {
        f.write_str("section ")?;
        write_str_lit(s.name.as_bytes(), f)?;
        f.write_char(' ')?;
        if let Some(fl) = &s.flags {
            write_str_lit(fl.as_bytes(), f)?;
            f.write_char(' ')?;
        }
    }
    Ok(())
}

fn write_data(d: &DataDef, f: &mut dyn Write) -> fmt::Result {
    write_linkage(&d.linkage, f)?;
    f.write_str("data ")?;
    write_sym(&d.name, f)?;
    f.write_str(" = ")?;
    if let Some(a) = d.align {
        write!(f, "align {a} ")?;
    }
    f.write_char('{')?;
    for (i, it) in d.items.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        match it {
            DataItem::Zero(n) => write!(f, "z {n}")?,
            DataItem::Typed(ty, vals) => {
                f.write_char(ty.letter())?;
                for v in vals {
                    f.write_char(' ')?;
                    match v {
                        DataValue::Int(i) => write!(f, "{i}")?,
                        DataValue::Single(b) => write_single(*b, f)?,
                        DataValue::Double(b) => write_double(*b, f)?,
                        DataValue::Str(s) => write_str_lit(s, f)?,
                        DataValue::Sym(s, off) => {
                            write_sym(s, f)?;
                            if *off != 0 {
                                write!(f, " + {off}")?;
                            }
                        }
                    }
                }
            }
        }
    }
    f.write_str(" }\n")
}

fn write_function(m: &Module, func: &Function, f: &mut dyn Write) -> fmt::Result {
    write_linkage(&func.linkage, f)?;
    f.write_str("function ")?;
    if let Some(r) = func.ret {
        write_abi(m, r, f)?;
        f.write_char(' ')?;
    }
    write_sym(&func.name, f)?;
    f.write_char('(')?;
    let mut sep = "";
    if let Some(e) = func.env {
        write!(f, "env %{}", func.temp_name(e))?;
        sep = ", ";
    }
    for p in &func.params {
        f.write_str(sep)?;
        write_abi(m, p.ty, f)?;
        write!(f, " %{}", func.temp_name(p.temp))?;
        sep = ", ";
    }
    if func.variadic {
        write!(f, "{sep}...")?;
    }
    f.write_str(") {\n")?;
    for b in &func.blocks {
        write_block(m, func, b, f)?;
    }
    f.write_str("}\n\n")
}

fn write_block(m: &Module, func: &Function, b: &Block, f: &mut dyn Write) -> fmt::Result {
    writeln!(f, "@{}", b.name)?;
    for p in &b.phis {
        write!(f, "\t%{} ={} phi ", func.temp_name(p.to), p.ty.letter())?;
        for (i, (pb, v)) in p.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "@{} ", block_name(func, *pb))?;
            write_value(func, v, f)?;
        }
        f.write_char('\n')?;
    }
    for inst in &b.insts {
        f.write_char('\t')?;
        match &inst.kind {
            InstKind::Op { dest, ty, op, args } => {
                if let Some(d) = dest {
                    write!(f, "%{} ={} ", func.temp_name(*d), ty.letter())?;
                }
                write!(f, "{op}")?;
                for (i, a) in args.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    write_value(func, a, f)?;
                }
            }
            InstKind::Call(c) => {
                if let Some((d, ty)) = c.dest {
                    write!(f, "%{} =", func.temp_name(d))?;
                    write_abi(m, ty, f)?;
                    f.write_char(' ')?;
                }
                f.write_str("call ")?;
                write_value(func, &c.callee, f)?;
                f.write_char('(')?;
                let mut sep = "";
                if let Some(e) = &c.env {
                    f.write_str("env ")?;
                    write_value(func, e, f)?;
                    sep = ", ";
                }
                for (i, (ty, v)) in c.args.iter().enumerate() {
                    if c.variadic == Some(i) {
                        write!(f, "{sep}...")?;
                        sep = ", ";
                    }
                    f.write_str(sep)?;
                    write_abi(m, *ty, f)?;
                    f.write_char(' ')?;
                    write_value(func, v, f)?;
                    sep = ", ";
                }
                if c.variadic.is_some_and(|n| n >= c.args.len()) {
                    write!(f, "{sep}...")?;
                }
                f.write_char(')')?;
            }
            InstKind::DbgLoc { line, col } => {
                write!(f, "dbgloc {line}")?;
                if *col != 0 {
                    write!(f, ", {col}")?;
                }
            }
        }
        f.write_char('\n')?;
    }
    match &b.jump {
        None => Ok(()),
        Some(Jump::Jmp(t)) => writeln!(f, "\tjmp @{}", block_name(func, *t)),
        Some(Jump::Jnz(v, t, e)) => {
            f.write_str("\tjnz ")?;
            write_value(func, v, f)?;
            writeln!(f, ", @{}, @{}", block_name(func, *t), block_name(func, *e))
        }
        Some(Jump::Ret(v)) => {
            f.write_str("\tret")?;
            if let Some(v) = v {
                f.write_char(' ')?;
                write_value(func, v, f)?;
            }
            f.write_char('\n')
        }
        Some(Jump::Hlt) => f.write_str("\thlt\n"),
    }
}

fn block_name(func: &Function, b: super::BlockId) -> &str {
    func.blocks.get(b.index()).map_or("?", |b| b.name.as_str())
}
