//! The regular instructions of QBE IL (everything except `call`, `phi`, jumps and `dbgloc`)
//! and their type strings (il.txt "Instructions").
//!
//! [`Op::arg_types`] gives, for a result type, the type of each argument — the verifier's
//! table. `loadw` is accepted by the parser as sugar for `loadsw` and so has no variant.

use super::BaseTy;

/// A comparison condition (`eq`, `slt`, `uo`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Eq,
    Ne,
    /// Signed (integers only).
    Sle,
    Slt,
    Sge,
    Sgt,
    /// Unsigned (integers only).
    Ule,
    Ult,
    Uge,
    Ugt,
    /// Floating point only.
    Le,
    Lt,
    Ge,
    Gt,
    /// Ordered: neither operand is NaN (floating point only).
    O,
    /// Unordered: at least one operand is NaN (floating point only).
    Uo,
}

impl Cond {
    /// All conditions, in name order of il.txt.
    pub const ALL: [Cond; 16] = [
        Cond::Eq,
        Cond::Ne,
        Cond::Sle,
        Cond::Slt,
        Cond::Sge,
        Cond::Sgt,
        Cond::Ule,
        Cond::Ult,
        Cond::Uge,
        Cond::Ugt,
        Cond::Le,
        Cond::Lt,
        Cond::Ge,
        Cond::Gt,
        Cond::O,
        Cond::Uo,
    ];

    /// The name part between `c` and the type suffix.
    pub fn name(self) -> &'static str {
        match self {
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Sle => "sle",
            Cond::Slt => "slt",
            Cond::Sge => "sge",
            Cond::Sgt => "sgt",
            Cond::Ule => "ule",
            Cond::Ult => "ult",
            Cond::Uge => "uge",
            Cond::Ugt => "ugt",
            Cond::Le => "le",
            Cond::Lt => "lt",
            Cond::Ge => "ge",
            Cond::Gt => "gt",
            Cond::O => "o",
            Cond::Uo => "uo",
        }
    }

    /// Is this condition available for operands of type `ty`?
    pub fn valid_for(self, ty: BaseTy) -> bool {
        match self {
            Cond::Eq | Cond::Ne => true,
            Cond::Sle | Cond::Slt | Cond::Sge | Cond::Sgt => ty.is_int(),
            Cond::Ule | Cond::Ult | Cond::Uge | Cond::Ugt => ty.is_int(),
            Cond::Le | Cond::Lt | Cond::Ge | Cond::Gt | Cond::O | Cond::Uo => ty.is_float(),
        }
    }
}

/// A regular instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    // Arithmetic and bits.
    Add,
    Sub,
    Div,
    Mul,
    Neg,
    Udiv,
    Rem,
    Urem,
    Or,
    Xor,
    And,
    Sar,
    Shr,
    Shl,
    // Memory.
    Stored,
    Stores,
    Storel,
    Storew,
    Storeh,
    Storeb,
    Loadd,
    Loads,
    Loadl,
    Loadsw,
    Loaduw,
    Loadsh,
    Loaduh,
    Loadsb,
    Loadub,
    /// `blit src, dst, N`: copy N bytes (N a non-negative integer constant).
    Blit,
    Alloc4,
    Alloc8,
    Alloc16,
    /// `c<cond><ty>`: compare two values of type `ty`; the result is 1 or 0.
    Cmp(Cond, BaseTy),
    // Conversions.
    Extsw,
    Extuw,
    Extsh,
    Extuh,
    Extsb,
    Extub,
    Exts,
    Truncd,
    Stosi,
    Stoui,
    Dtosi,
    Dtoui,
    Swtof,
    Uwtof,
    Sltof,
    Ultof,
    // Cast and copy.
    Cast,
    Copy,
    // Variadic.
    Vastart,
    Vaarg,
}

use BaseTy::{D, L, S, W};

const SIMPLE: &[(Op, &str)] = &[
    (Op::Add, "add"),
    (Op::Sub, "sub"),
    (Op::Div, "div"),
    (Op::Mul, "mul"),
    (Op::Neg, "neg"),
    (Op::Udiv, "udiv"),
    (Op::Rem, "rem"),
    (Op::Urem, "urem"),
    (Op::Or, "or"),
    (Op::Xor, "xor"),
    (Op::And, "and"),
    (Op::Sar, "sar"),
    (Op::Shr, "shr"),
    (Op::Shl, "shl"),
    (Op::Stored, "stored"),
    (Op::Stores, "stores"),
    (Op::Storel, "storel"),
    (Op::Storew, "storew"),
    (Op::Storeh, "storeh"),
    (Op::Storeb, "storeb"),
    (Op::Loadd, "loadd"),
    (Op::Loads, "loads"),
    (Op::Loadl, "loadl"),
    (Op::Loadsw, "loadsw"),
    (Op::Loaduw, "loaduw"),
    (Op::Loadsh, "loadsh"),
    (Op::Loaduh, "loaduh"),
    (Op::Loadsb, "loadsb"),
    (Op::Loadub, "loadub"),
    (Op::Blit, "blit"),
    (Op::Alloc4, "alloc4"),
    (Op::Alloc8, "alloc8"),
    (Op::Alloc16, "alloc16"),
    (Op::Extsw, "extsw"),
    (Op::Extuw, "extuw"),
    (Op::Extsh, "extsh"),
    (Op::Extuh, "extuh"),
    (Op::Extsb, "extsb"),
    (Op::Extub, "extub"),
    (Op::Exts, "exts"),
    (Op::Truncd, "truncd"),
    (Op::Stosi, "stosi"),
    (Op::Stoui, "stoui"),
    (Op::Dtosi, "dtosi"),
    (Op::Dtoui, "dtoui"),
    (Op::Swtof, "swtof"),
    (Op::Uwtof, "uwtof"),
    (Op::Sltof, "sltof"),
    (Op::Ultof, "ultof"),
    (Op::Cast, "cast"),
    (Op::Copy, "copy"),
    (Op::Vastart, "vastart"),
    (Op::Vaarg, "vaarg"),
];

impl Op {
    /// Every operation except comparisons, in il.txt order (comparisons: [`Cond::ALL`]).
    pub fn all_simple() -> impl Iterator<Item = Op> {
        SIMPLE.iter().map(|&(op, _)| op)
    }

    /// The name of a non-comparison op (`None` for [`Op::Cmp`]; use `Display` for all ops).
    pub fn simple_name(self) -> Option<&'static str> {
        SIMPLE.iter().find(|(o, _)| *o == self).map(|(_, n)| *n)
    }

    /// Parses an instruction name. `loadw` maps to [`Op::Loadsw`] (il.txt: syntactic sugar).
    /// Unknown names, and comparisons whose condition is not valid for their type, give `None`.
    pub fn from_name(name: &str) -> Option<Op> {
        if name == "loadw" {
            return Some(Op::Loadsw);
        }
        if let Some(&(op, _)) = SIMPLE.iter().find(|(_, n)| *n == name) {
            return Some(op);
        }
        let rest = name.strip_prefix('c')?;
        let (cond, ty) = rest.split_at(rest.len().checked_sub(1)?);
        let ty = match ty {
            "w" => W,
            "l" => L,
            "s" => S,
            "d" => D,
            _ => return None,
        };
        let cond = *Cond::ALL.iter().find(|c| c.name() == cond)?;
        cond.valid_for(ty).then_some(Op::Cmp(cond, ty))
    }

    /// Does the instruction define a temporary? (`false` for stores, `blit`, `vastart`.)
    pub fn has_result(self) -> bool {
        !matches!(
            self,
            Op::Stored
                | Op::Stores
                | Op::Storel
                | Op::Storew
                | Op::Storeh
                | Op::Storeb
                | Op::Blit
                | Op::Vastart
        )
    }

    /// Number of arguments.
    pub fn arity(self) -> usize {
        match self {
            Op::Neg | Op::Alloc4 | Op::Alloc8 | Op::Alloc16 | Op::Vastart | Op::Vaarg => 1,
            Op::Loadd | Op::Loads | Op::Loadl | Op::Loadsw | Op::Loaduw => 1,
            Op::Loadsh | Op::Loaduh | Op::Loadsb | Op::Loadub => 1,
            Op::Extsw | Op::Extuw | Op::Extsh | Op::Extuh | Op::Extsb | Op::Extub => 1,
            Op::Exts | Op::Truncd | Op::Stosi | Op::Stoui | Op::Dtosi | Op::Dtoui => 1,
            Op::Swtof | Op::Uwtof | Op::Sltof | Op::Ultof | Op::Cast | Op::Copy => 1,
            Op::Blit => 3,
            _ => 2,
        }
    }

    /// Argument types when the result has type `ret` (ignored for ops without result), or
    /// `None` if `ret` is not a valid result type for this op. Pointers (`m`) are `l`.
    pub fn arg_types(self, ret: BaseTy) -> Option<&'static [BaseTy]> {
        let int = ret.is_int();
        let flt = ret.is_float();
        let same: &'static [BaseTy] = match ret {
            W => &[W, W],
            L => &[L, L],
            S => &[S, S],
            D => &[D, D],
        };
        Some(match self {
            Op::Add | Op::Sub | Op::Div | Op::Mul => same,
            Op::Neg | Op::Copy => &same[..1],
            Op::Udiv | Op::Rem | Op::Urem | Op::Or | Op::Xor | Op::And if int => same,
            Op::Sar | Op::Shr | Op::Shl if int => {
                if ret == W {
                    &[W, W]
                } else {
                    &[L, W]
                }
            }
            Op::Stored => &[D, L],
            Op::Stores => &[S, L],
            Op::Storel => &[L, L],
            Op::Storew | Op::Storeh | Op::Storeb => &[W, L],
            Op::Loadd if ret == D => &[L],
            Op::Loads if ret == S => &[L],
            Op::Loadl if ret == L => &[L],
            Op::Loadsw | Op::Loaduw | Op::Loadsh | Op::Loaduh | Op::Loadsb | Op::Loadub if int => {
                &[L]
            }
            Op::Blit => &[L, L, W],
            Op::Alloc4 | Op::Alloc8 | Op::Alloc16 if ret == L => &[L],
            Op::Cmp(c, ty) if int && c.valid_for(ty) => match ty {
                W => &[W, W],
                L => &[L, L],
                S => &[S, S],
                D => &[D, D],
            },
            Op::Extsw | Op::Extuw if ret == L => &[W],
            Op::Extsh | Op::Extuh | Op::Extsb | Op::Extub if int => &[W],
            Op::Exts if ret == D => &[S],
            Op::Truncd if ret == S => &[D],
            Op::Stosi | Op::Stoui if int => &[S],
            Op::Dtosi | Op::Dtoui if int => &[D],
            Op::Swtof | Op::Uwtof if flt => &[W],
            Op::Sltof | Op::Ultof if flt => &[L],
            Op::Cast => match ret {
                W => &[S],
                L => &[D],
                S => &[W],
                D => &[L],
            },
            Op::Vastart => &[L],
            Op::Vaarg => &[L],
            _ => return None,
        })
    }
}

impl core::fmt::Display for Op {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Op::Cmp(c, t) => write!(f, "c{}{}", c.name(), t.letter()),
            op => f.write_str(op.simple_name().unwrap_or("?")),
        }
    }
}
