//! The backend's intermediate representation: QBE IL as Rust data.
//!
//! One [`Module`] holds aggregate [`TypeDef`]s, [`DataDef`]s and [`Function`]s, mirroring the
//! definitions of QBE's `doc/il.txt`. Functions are control-flow graphs of [`Block`]s holding
//! [`Phi`]s, [`Inst`]s and a [`Jump`]; operands are [`Value`]s (temporaries or constants);
//! every temporary has one [`BaseTy`] (`w l s d`).
//!
//! - [`types`]: base/extended/ABI types and aggregate layout;
//! - [`value`]: temporaries and constants;
//! - [`op`]: the regular instructions and their type strings;
//! - [`data`]: data definitions and linkage;
//! - [`func`]: functions, blocks, instructions, jumps, source positions;
//! - [`module`]: the compilation unit;
//! - [`builder`]: building functions from Rust without going through text;
//! - [`print`]: `Display` back to IL text (re-parses to the same module);
//! - [`mod@cfg`]: predecessors, reverse postorder, dominators, dominance frontiers;
//! - [`verify`]: type and structure checks, and the SSA dominance check;
//! - [`ssa`]: SSA construction for temporaries assigned more than once.
//!
//! The usual pipeline is `qbe::parse` (which runs `verify`, `ssa` and the SSA check), or,
//! for modules built in Rust: [`verify::verify_module`], [`ssa::build_module`],
//! [`verify::verify_ssa_module`].

pub mod builder;
pub mod cfg;
pub mod data;
pub mod func;
pub mod module;
pub mod op;
pub mod print;
pub mod ssa;
pub mod types;
pub mod value;
pub mod verify;

pub use builder::FunctionBuilder;
pub use data::{DataDef, DataItem, DataValue, Linkage, Section};
pub use func::{Block, BlockId, Call, Function, Inst, InstKind, Jump, Param, Phi, Pos, TempData};
pub use module::Module;
pub use op::{Cond, Op};
pub use types::{AbiTy, BaseTy, ExtTy, Field, FieldTy, Layout, TypeBody, TypeDef, TypeId};
pub use value::{Const, Temp, Value};
pub use verify::VerifyError;
