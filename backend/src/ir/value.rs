//! Operands: temporaries and constants.
//!
//! Constants are untyped 64-bit blobs (il.txt "Constants and Vals"): the instruction using a
//! constant decides how many of its bits matter. [`Const::bits`] gives that blob; a `s_`
//! constant is the `f32` bit pattern in the low 32 bits with zeros above.

use alloc::string::String;

/// A function-scope temporary: index into [`Function::temps`](super::Function::temps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Temp(pub u32);

impl Temp {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A constant (`CONST`/`DYNCONST` of il.txt).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Const {
    /// A decimal integer, as its 64-bit two's-complement bits.
    Int(i64),
    /// `s_FP`: the bits of an `f32`.
    Single(u32),
    /// `d_FP`: the bits of an `f64`.
    Double(u64),
    /// `$name`: the address of a global symbol (name without the sigil).
    Addr(String),
    /// `thread $name`: the address of a thread-local symbol in the running thread.
    ThreadAddr(String),
}

impl Const {
    /// `s_` constant from a float.
    pub fn single(f: f32) -> Const {
        Const::Single(f.to_bits())
    }
    /// `d_` constant from a float.
    pub fn double(f: f64) -> Const {
        Const::Double(f.to_bits())
    }
    /// The 64-bit blob of a numeric constant (`None` for symbol addresses).
    pub fn bits(&self) -> Option<u64> {
        match *self {
            Const::Int(i) => Some(i as u64),
            Const::Single(b) => Some(b as u64),
            Const::Double(b) => Some(b),
            Const::Addr(_) | Const::ThreadAddr(_) => None,
        }
    }
}

/// An instruction operand (`VAL` of il.txt).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Temp(Temp),
    Const(Const),
}

impl Value {
    /// An integer constant.
    pub fn int(i: i64) -> Value {
        Value::Const(Const::Int(i))
    }
    /// A `$name` address constant.
    pub fn sym(name: &str) -> Value {
        Value::Const(Const::Addr(name.into()))
    }
    /// The temporary, if this is one.
    pub fn as_temp(&self) -> Option<Temp> {
        match self {
            Value::Temp(t) => Some(*t),
            Value::Const(_) => None,
        }
    }
}

impl From<Temp> for Value {
    fn from(t: Temp) -> Value {
        Value::Temp(t)
    }
}

impl From<Const> for Value {
    fn from(c: Const) -> Value {
        Value::Const(c)
    }
}
