//! Types of the IR: base types of temporaries, extended types of memory fields, ABI types of
//! parameters/arguments/returns, and user-defined aggregate types (`type :name = ...`).
//!
//! Aggregate layout follows QBE: struct members are placed at their natural alignment (padding
//! is inserted), a union's size and alignment are the maxima over its variants, an explicit
//! `align N` can only raise the alignment, and the size is rounded up to the alignment.

use alloc::string::String;
use alloc::vec::Vec;

use super::Pos;

/// A base type: the type of every temporary (`w` 32-bit int, `l` 64-bit int, `s` f32, `d` f64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BaseTy {
    W,
    L,
    S,
    D,
}

impl BaseTy {
    /// The IL letter (`w`, `l`, `s`, `d`).
    pub fn letter(self) -> char {
        match self {
            BaseTy::W => 'w',
            BaseTy::L => 'l',
            BaseTy::S => 's',
            BaseTy::D => 'd',
        }
    }
    /// Size in bytes.
    pub fn size(self) -> u32 {
        match self {
            BaseTy::W | BaseTy::S => 4,
            BaseTy::L | BaseTy::D => 8,
        }
    }
    /// `w` or `l`.
    pub fn is_int(self) -> bool {
        matches!(self, BaseTy::W | BaseTy::L)
    }
    /// `s` or `d`.
    pub fn is_float(self) -> bool {
        !self.is_int()
    }
    /// QBE's subtyping: can a value of type `self` be used where `want` is expected?
    /// Equal types, or an `l` value in a `w` context (its low 32 bits are used).
    pub fn fits(self, want: BaseTy) -> bool {
        self == want || (self == BaseTy::L && want == BaseTy::W)
    }
}

impl core::fmt::Display for BaseTy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Write::write_char(f, self.letter())
    }
}

/// An extended type: a base type or `b` (8-bit) / `h` (16-bit); used in data and aggregates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtTy {
    B,
    H,
    W,
    L,
    S,
    D,
}

impl ExtTy {
    /// The IL letter.
    pub fn letter(self) -> char {
        match self {
            ExtTy::B => 'b',
            ExtTy::H => 'h',
            ExtTy::W => 'w',
            ExtTy::L => 'l',
            ExtTy::S => 's',
            ExtTy::D => 'd',
        }
    }
    /// Size (and natural alignment) in bytes.
    pub fn size(self) -> u32 {
        match self {
            ExtTy::B => 1,
            ExtTy::H => 2,
            ExtTy::W | ExtTy::S => 4,
            ExtTy::L | ExtTy::D => 8,
        }
    }
}

/// Index of an aggregate type in [`Module::types`](super::Module::types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

impl TypeId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The type of a function parameter, call argument, or return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbiTy {
    /// A base type.
    Base(BaseTy),
    /// Signed 8-bit (`sb`); the temporary has base type `w`.
    Sb,
    /// Unsigned 8-bit (`ub`); the temporary has base type `w`.
    Ub,
    /// Signed 16-bit (`sh`); the temporary has base type `w`.
    Sh,
    /// Unsigned 16-bit (`uh`); the temporary has base type `w`.
    Uh,
    /// An aggregate passed/returned by value; the temporary holds its address (type `l`).
    Agg(TypeId),
}

impl AbiTy {
    pub const W: AbiTy = AbiTy::Base(BaseTy::W);
    pub const L: AbiTy = AbiTy::Base(BaseTy::L);
    pub const S: AbiTy = AbiTy::Base(BaseTy::S);
    pub const D: AbiTy = AbiTy::Base(BaseTy::D);

    /// The base type of the temporary holding such a value (sub-word → `w`, aggregate → `l`).
    pub fn base(self) -> BaseTy {
        match self {
            AbiTy::Base(b) => b,
            AbiTy::Sb | AbiTy::Ub | AbiTy::Sh | AbiTy::Uh => BaseTy::W,
            AbiTy::Agg(_) => BaseTy::L,
        }
    }
}

impl From<BaseTy> for AbiTy {
    fn from(b: BaseTy) -> AbiTy {
        AbiTy::Base(b)
    }
}

/// The type of one aggregate member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldTy {
    Ext(ExtTy),
    /// A previously defined aggregate (its index must be smaller than the enclosing type's).
    Agg(TypeId),
}

/// One member of an aggregate: `ty count` (`w 100` is an array of 100 words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    pub ty: FieldTy,
    /// Number of consecutive elements (1 when no count is written; 0 is allowed).
    pub count: u64,
}

/// The body of an aggregate definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeBody {
    /// `{ f, f, ... }`
    Struct(Vec<Field>),
    /// `{ { f, ... } { f, ... } ... }`: the variants share the same memory.
    Union(Vec<Vec<Field>>),
    /// `align N { SIZE }`: only size and alignment are known.
    Opaque { size: u64 },
}

/// An aggregate type definition `type :name = [align N] body`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeDef {
    /// Name without the `:` sigil.
    pub name: String,
    /// Explicit alignment in bytes (a power of two); mandatory for opaque types.
    pub align: Option<u64>,
    pub body: TypeBody,
    pub pos: Pos,
}

/// Size and alignment of an aggregate, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub size: u64,
    pub align: u64,
}

/// Largest aggregate size the IR accepts (bytes).
pub const MAX_TYPE_SIZE: u64 = 1 << 40;

/// Computes the layout of every type in order. `Err(i)` names the first type that refers to
/// itself or a later type, has a bad alignment, or whose size exceeds [`MAX_TYPE_SIZE`].
pub fn layouts(types: &[TypeDef]) -> Result<Vec<Layout>, usize> {
    let mut out: Vec<Layout> = Vec::with_capacity(types.len());
    for (i, t) in types.iter().enumerate() {
        let l = layout_one(t, &out).ok_or(i)?;
        out.push(l);
    }
    Ok(out)
}

fn fields_layout(fields: &[Field], done: &[Layout]) -> Option<Layout> {
    let mut size: u64 = 0;
    let mut align: u64 = 1;
    for f in fields {
        let (s, a) = match f.ty {
            FieldTy::Ext(e) => (e.size() as u64, e.size() as u64),
            FieldTy::Agg(id) => {
                let l = done.get(id.index())?;
                (l.size, l.align)
            }
        };
        align = align.max(a);
        size = size.checked_add(a - 1)? & !(a - 1);
        size = size.checked_add(s.checked_mul(f.count)?)?;
        if size > MAX_TYPE_SIZE {
            return None;
        }
    }
    Some(Layout { size, align })
}

fn layout_one(t: &TypeDef, done: &[Layout]) -> Option<Layout> {
    if let Some(a) = t.align
        && (a == 0 || !a.is_power_of_two() || a > MAX_TYPE_SIZE)
    {
        return None;
    }
    let mut l = match &t.body {
        TypeBody::Opaque { size } => Layout {
            size: *size,
            align: t.align?,
        },
        TypeBody::Struct(f) => fields_layout(f, done)?,
        TypeBody::Union(vs) => {
            let mut l = Layout { size: 0, align: 1 };
            for v in vs {
                let vl = fields_layout(v, done)?;
                l.size = l.size.max(vl.size);
                l.align = l.align.max(vl.align);
            }
            l
        }
    };
    if let Some(a) = t.align {
        l.align = l.align.max(a);
    }
    l.size = l.size.checked_add(l.align - 1)? & !(l.align - 1);
    (l.size <= MAX_TYPE_SIZE).then_some(l)
}
