//! Data definitions (`data $name = [align N] { ... }`) and linkage (`export`, `thread`,
//! `section "name" ["flags"]`), shared with functions.
//!
//! Items keep the grouping of the source (`w 1 2 3` is one [`DataItem::Typed`] with three
//! values) so that printing gives back the same text structure. Members are packed: the front
//! end emits padding (`z N`) itself. Without `align`, data gets the platform's maximum
//! alignment (8 on RV64).

use alloc::string::String;
use alloc::vec::Vec;

use super::{ExtTy, Pos};

/// A `section` linkage flag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Section {
    /// Section name (decoded string contents).
    pub name: String,
    /// Optional section flags string, passed through as written (decoded).
    pub flags: Option<String>,
}

/// Linkage of a data or function definition (il.txt "Linkage").
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Linkage {
    /// `export`: visible outside the file.
    pub export: bool,
    /// `thread`: stored in thread-local storage (data only).
    pub thread: bool,
    /// `section "name" ["flags"]`.
    pub section: Option<Section>,
}

/// One value following a type letter in a data definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataValue {
    /// An integer constant (stored in the field's width, little endian).
    Int(i64),
    /// `s_FP` (bits of an `f32`).
    Single(u32),
    /// `d_FP` (bits of an `f64`).
    Double(u64),
    /// `$name [+ offset]`: a symbol address plus a byte offset.
    Sym(String, i64),
    /// `"..."`: the decoded bytes of a string (only valid after `b`; one byte per field).
    Str(Vec<u8>),
}

/// One comma-separated item of a data definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataItem {
    /// `EXTTY DATAVALUE+`: consecutive fields of one type.
    Typed(ExtTy, Vec<DataValue>),
    /// `z N`: N zero bytes.
    Zero(u64),
}

/// A data definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DataDef {
    /// Symbol name without the `$` sigil.
    pub name: String,
    pub linkage: Linkage,
    /// Explicit alignment in bytes (a power of two).
    pub align: Option<u64>,
    pub items: Vec<DataItem>,
    pub pos: Pos,
}

impl DataDef {
    /// Total size in bytes (saturating; the verifier rejects absurd sizes).
    pub fn size(&self) -> u64 {
        let mut n: u64 = 0;
        for it in &self.items {
            let add = match it {
                DataItem::Zero(z) => *z,
                DataItem::Typed(ty, vals) => vals
                    .iter()
                    .map(|v| match v {
                        DataValue::Str(s) => s.len() as u64 * ty.size() as u64,
                        _ => ty.size() as u64,
                    })
                    .fold(0u64, u64::saturating_add),
            };
            n = n.saturating_add(add);
        }
        n
    }
}
