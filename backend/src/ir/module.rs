//! A module: one compilation unit (one IL file) of aggregate types, data and functions.

use alloc::vec::Vec;

use super::{DataDef, Function, TypeDef, TypeId};

/// A compilation unit. Definitions keep their source order within each kind; the printer
/// writes types, then data, then functions (types must precede their uses; data and
/// functions are mutually recursive, so their relative order does not matter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Module {
    /// Aggregate types; [`TypeId`] indexes this. A type may only refer to earlier types.
    pub types: Vec<TypeDef>,
    pub data: Vec<DataDef>,
    pub functions: Vec<Function>,
}

impl Module {
    /// An empty module.
    pub fn new() -> Module {
        Module::default()
    }
    /// Appends an aggregate type and returns its id.
    pub fn add_type(&mut self, t: TypeDef) -> TypeId {
        self.types.push(t);
        TypeId(self.types.len() as u32 - 1)
    }
    /// Looks up an aggregate type by name (without `:`).
    pub fn type_by_name(&self, name: &str) -> Option<TypeId> {
        self.types
            .iter()
            .position(|t| t.name == name)
            .map(|i| TypeId(i as u32))
    }
    /// Looks up a function by name (without `$`).
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }
    /// Looks up a data definition by name (without `$`).
    pub fn data_def(&self, name: &str) -> Option<&DataDef> {
        self.data.iter().find(|d| d.name == name)
    }
    /// Sets every source position to [`Pos::NONE`](super::Pos::NONE) (to compare modules
    /// structurally, e.g. a parsed module with its printed and re-parsed copy).
    pub fn clear_positions(&mut self) {
        use super::Pos;
        for t in &mut self.types {
            t.pos = Pos::NONE;
        }
        for d in &mut self.data {
            d.pos = Pos::NONE;
        }
        for f in &mut self.functions {
            f.pos = Pos::NONE;
            for b in &mut f.blocks {
                b.pos = Pos::NONE;
                b.jump_pos = Pos::NONE;
                b.phis.iter_mut().for_each(|p| p.pos = Pos::NONE);
                b.insts.iter_mut().for_each(|i| i.pos = Pos::NONE);
            }
        }
    }
}
