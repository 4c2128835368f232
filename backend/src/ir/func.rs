//! Functions: parameters, temporaries, blocks, phis, instructions and jumps.
//!
//! A function is a list of blocks in layout order; the first block is the entry and must not
//! be the target of a jump. Each block has phis, then instructions, then one [`Jump`]
//! (`None` only while a builder is still filling it; the parser turns an implicit
//! fall-through into an explicit `jmp`). Temporaries are numbered per function
//! ([`Temp`] indexes [`Function::temps`]) and keep their source name for printing and errors.
//!
//! Input may be non-SSA (a temporary assigned several times); [`super::ssa`] rewrites such
//! temporaries into SSA form. Every instruction, phi and jump keeps its source [`Pos`].

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::{AbiTy, BaseTy, Linkage, Op, Temp, Value};

/// A source position: 1-based line and column (in characters). `0:0` means unknown (e.g.
/// built with the builder API).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    /// The unknown position.
    pub const NONE: Pos = Pos { line: 0, col: 0 };
    pub fn new(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }
    pub fn is_known(self) -> bool {
        self.line != 0
    }
}

/// Index of a block in [`Function::blocks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

impl BlockId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What the function knows about one temporary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TempData {
    /// Name without the `%` sigil (unique within the function).
    pub name: String,
}

/// A regular (non-`env`) parameter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub ty: AbiTy,
    pub temp: Temp,
}

/// `%to =ty phi @b1 v1, @b2 v2, ...`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phi {
    pub to: Temp,
    pub ty: BaseTy,
    /// One `(predecessor, value)` pair per predecessor.
    pub args: Vec<(BlockId, Value)>,
    pub pos: Pos,
}

/// A call instruction: `[%to =ABITY] call VAL(args)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Call {
    /// Result temporary and its ABI type (sub-word results define a `w` temporary,
    /// aggregate results an `l` temporary holding the address of the returned value).
    pub dest: Option<(Temp, AbiTy)>,
    /// The function called (a global or a temporary holding an address).
    pub callee: Value,
    /// `env VAL` (always first).
    pub env: Option<Value>,
    /// Regular arguments with their ABI types.
    pub args: Vec<(AbiTy, Value)>,
    /// `Some(n)` when a `...` marker follows the first `n` arguments (a variadic call).
    pub variadic: Option<usize>,
}

/// An instruction's operation and operands.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstKind {
    /// A regular instruction: `%dest =ty op args` or, for ops without result (stores, `blit`,
    /// `vastart`), `op args` with `dest == None` (and `ty` = `w`, ignored).
    Op {
        dest: Option<Temp>,
        ty: BaseTy,
        op: Op,
        args: Vec<Value>,
    },
    /// `call`.
    Call(Box<Call>),
    /// `dbgloc LINE[, COL]`: source location of the following instructions (QBE extension
    /// used for debug info; `col` is 0 when not given).
    DbgLoc { line: u32, col: u32 },
}

/// An instruction with its source position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Inst {
    pub kind: InstKind,
    pub pos: Pos,
}

impl Inst {
    /// The temporary this instruction defines, if any.
    pub fn dest(&self) -> Option<Temp> {
        match &self.kind {
            InstKind::Op { dest, .. } => *dest,
            InstKind::Call(c) => c.dest.map(|d| d.0),
            InstKind::DbgLoc { .. } => None,
        }
    }
    /// The base type of the defined temporary, if any.
    pub fn dest_ty(&self) -> Option<BaseTy> {
        match &self.kind {
            InstKind::Op { dest, ty, .. } => dest.map(|_| *ty),
            InstKind::Call(c) => c.dest.map(|d| d.1.base()),
            InstKind::DbgLoc { .. } => None,
        }
    }
    /// Calls `f` on every operand (including a call's callee and env).
    pub fn for_each_arg(&self, mut f: impl FnMut(&Value)) {
        match &self.kind {
            InstKind::Op { args, .. } => args.iter().for_each(f),
            InstKind::Call(c) => {
                f(&c.callee);
                if let Some(e) = &c.env {
                    f(e);
                }
                c.args.iter().for_each(|(_, v)| f(v));
            }
            InstKind::DbgLoc { .. } => {}
        }
    }
    /// Calls `f` on every operand, mutably.
    pub fn for_each_arg_mut(&mut self, mut f: impl FnMut(&mut Value)) {
        match &mut self.kind {
            InstKind::Op { args, .. } => args.iter_mut().for_each(f),
            InstKind::Call(c) => {
                f(&mut c.callee);
                if let Some(e) = &mut c.env {
                    f(e);
                }
                c.args.iter_mut().for_each(|(_, v)| f(v));
            }
            InstKind::DbgLoc { .. } => {}
        }
    }
    /// Mutable access to the defined temporary, if any.
    pub fn dest_mut(&mut self) -> Option<&mut Temp> {
        match &mut self.kind {
            InstKind::Op { dest, .. } => dest.as_mut(),
            InstKind::Call(c) => c.dest.as_mut().map(|d| &mut d.0),
            InstKind::DbgLoc { .. } => None,
        }
    }
}

/// The jump ending a block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Jump {
    /// `jmp @target`
    Jmp(BlockId),
    /// `jnz VAL, @nonzero, @zero` (the low 32 bits of the value are tested).
    Jnz(Value, BlockId, BlockId),
    /// `ret [VAL]`
    Ret(Option<Value>),
    /// `hlt`: abort the program (target-dependent trap).
    Hlt,
}

impl Jump {
    /// Successor blocks, in order (both targets of a `jnz`, even when equal).
    pub fn successors(&self) -> impl Iterator<Item = BlockId> + '_ {
        let (a, b) = match *self {
            Jump::Jmp(t) => (Some(t), None),
            Jump::Jnz(_, t, f) => (Some(t), Some(f)),
            Jump::Ret(_) | Jump::Hlt => (None, None),
        };
        a.into_iter().chain(b)
    }
    /// The value operand, if any.
    pub fn arg(&self) -> Option<&Value> {
        match self {
            Jump::Jnz(v, ..) | Jump::Ret(Some(v)) => Some(v),
            _ => None,
        }
    }
    /// The value operand, mutably.
    pub fn arg_mut(&mut self) -> Option<&mut Value> {
        match self {
            Jump::Jnz(v, ..) | Jump::Ret(Some(v)) => Some(v),
            _ => None,
        }
    }
}

/// A basic block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Block {
    /// Label without the `@` sigil (unique within the function).
    pub name: String,
    pub phis: Vec<Phi>,
    pub insts: Vec<Inst>,
    /// The terminator; `None` only for a block under construction (the verifier rejects it).
    pub jump: Option<Jump>,
    /// Position of the label.
    pub pos: Pos,
    /// Position of the jump (of the next label for an implicit fall-through).
    pub jump_pos: Pos,
}

impl Block {
    /// A new empty, unterminated block.
    pub fn new(name: impl Into<String>) -> Block {
        Block {
            name: name.into(),
            phis: Vec::new(),
            insts: Vec::new(),
            jump: None,
            pos: Pos::NONE,
            jump_pos: Pos::NONE,
        }
    }
    /// Successor blocks of the terminator (empty when unterminated).
    pub fn successors(&self) -> impl Iterator<Item = BlockId> + '_ {
        self.jump.iter().flat_map(|j| j.successors())
    }
}

/// A function definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Function {
    /// Symbol name without the `$` sigil.
    pub name: String,
    pub linkage: Linkage,
    /// Return type; `None` if the function returns no value.
    pub ret: Option<AbiTy>,
    /// `env %e` parameter (an `l` temporary), always first.
    pub env: Option<Temp>,
    pub params: Vec<Param>,
    /// The parameter list ends with `...`.
    pub variadic: bool,
    /// All temporaries; [`Temp`] indexes this.
    pub temps: Vec<TempData>,
    /// Blocks in layout order; the first is the entry.
    pub blocks: Vec<Block>,
    /// The `dbgfile` in effect when the function was defined.
    pub dbgfile: Option<String>,
    /// Position of the `function` keyword (or of the first linkage flag).
    pub pos: Pos,
}

impl Function {
    /// A function without parameters, temporaries or blocks.
    pub fn new(name: impl Into<String>) -> Function {
        Function {
            name: name.into(),
            linkage: Linkage::default(),
            ret: None,
            env: None,
            params: Vec::new(),
            variadic: false,
            temps: Vec::new(),
            blocks: Vec::new(),
            dbgfile: None,
            pos: Pos::NONE,
        }
    }
    /// The name of a temporary (without `%`).
    pub fn temp_name(&self, t: Temp) -> &str {
        self.temps.get(t.index()).map_or("?", |d| d.name.as_str())
    }
    /// A block by id.
    pub fn block(&self, b: BlockId) -> &Block {
        &self.blocks[b.index()]
    }
    /// Block ids in layout order.
    pub fn block_ids(&self) -> impl Iterator<Item = BlockId> + use<> {
        (0..self.blocks.len() as u32).map(BlockId)
    }
    /// Renumbers temporaries in order of first mention in printed order — the numbering the
    /// parser gives — and drops unused ones. Out-of-range temporaries are left as they are.
    pub fn renumber_temps(&mut self) {
        const NEW: u32 = u32::MAX;
        let n = self.temps.len();
        let mut map = alloc::vec![NEW; n];
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut see = |t: Temp, map: &mut Vec<u32>| {
            if let Some(m) = map.get_mut(t.index())
                && *m == NEW
            {
                *m = order.len() as u32;
                order.push(t.0);
            }
        };
        for t in self.env.iter().chain(self.params.iter().map(|p| &p.temp)) {
            see(*t, &mut map);
        }
        for b in &self.blocks {
            for p in &b.phis {
                see(p.to, &mut map);
                p.args
                    .iter()
                    .filter_map(|a| a.1.as_temp())
                    .for_each(|t| see(t, &mut map));
            }
            for i in &b.insts {
                if let Some(d) = i.dest() {
                    see(d, &mut map);
                }
                i.for_each_arg(|v| {
                    if let Value::Temp(t) = v {
                        see(*t, &mut map);
                    }
                });
            }
            if let Some(Value::Temp(t)) = b.jump.as_ref().and_then(|j| j.arg()) {
                see(*t, &mut map);
            }
        }
        let fix = |t: &mut Temp| {
            if let Some(&m) = map.get(t.index()) {
                *t = Temp(m);
            }
        };
        let fixv = |v: &mut Value| {
            if let Value::Temp(t) = v {
                fix(t);
            }
        };
        if let Some(e) = &mut self.env {
            fix(e);
        }
        self.params.iter_mut().for_each(|p| fix(&mut p.temp));
        for b in &mut self.blocks {
            for p in &mut b.phis {
                fix(&mut p.to);
                p.args.iter_mut().for_each(|a| fixv(&mut a.1));
            }
            for i in &mut b.insts {
                if let Some(d) = i.dest_mut() {
                    fix(d);
                }
                i.for_each_arg_mut(fixv);
            }
            if let Some(v) = b.jump.as_mut().and_then(|j| j.arg_mut()) {
                fixv(v);
            }
        }
        let old = core::mem::take(&mut self.temps);
        self.temps = order.iter().map(|&o| old[o as usize].clone()).collect();
    }

    /// Adds a temporary with the given name (the caller keeps names unique).
    pub fn add_temp(&mut self, name: impl Into<String>) -> Temp {
        self.temps.push(TempData { name: name.into() });
        Temp(self.temps.len() as u32 - 1)
    }
}
