//! Building functions from Rust without going through IL text.
//!
//! ```
//! use rvflash_backend::ir::{AbiTy, BaseTy, FunctionBuilder, Module, Value, Cond};
//! let mut m = Module::new();
//! let mut b = FunctionBuilder::new("max");
//! b.export().returns(AbiTy::W);
//! let x = b.param(AbiTy::W, "x");
//! let y = b.param(AbiTy::W, "y");
//! let start = b.new_block("start");
//! let (bx, by) = (b.new_block("x"), b.new_block("y"));
//! b.switch_to(start);
//! let c = b.ins_cmp(Cond::Sgt, BaseTy::W, x.clone(), y.clone());
//! b.jnz(c, bx, by);
//! b.switch_to(bx);
//! b.ret(Some(x));
//! b.switch_to(by);
//! b.ret(Some(y));
//! m.functions.push(b.finish());
//! assert!(rvflash_backend::ir::verify::verify_module(&m).is_ok());
//! ```
//!
//! Results get fresh temporaries named `.N` (or the name given to [`FunctionBuilder::temp`]);
//! names are made valid identifiers and unique, so printing and re-parsing gives the same
//! function (after [`Function::renumber_temps`], since the parser numbers temporaries in
//! order of first mention). Assigning a
//! temporary twice ([`FunctionBuilder::ins_to`]) is allowed: run [`super::ssa::build`]
//! afterwards, as for non-SSA text. Misuse (adding to a terminated block, unknown block ids)
//! panics: it is a bug in the calling compiler, not bad input.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;

use super::{
    AbiTy, BaseTy, Block, BlockId, Call, Cond, Function, Inst, InstKind, Jump, Linkage, Op, Param,
    Phi, Pos, Temp, Value,
};

/// Builds one [`Function`]; see the module docs.
pub struct FunctionBuilder {
    f: Function,
    cur: Option<BlockId>,
    temp_names: BTreeSet<String>,
    block_names: BTreeSet<String>,
    next: u32,
    next_block: u32,
    pos: Pos,
}

/// `name` made a valid IL identifier (other characters become `_`) and unique in `used`.
fn unique(name: &str, used: &mut BTreeSet<String>, next: &mut u32) -> String {
    let clean: String = name
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' => c,
            '$' if i > 0 => c,
            _ => '_',
        })
        .collect();
    let mut n = clean.clone();
    while n.is_empty() || used.contains(&n) {
        n = format!("{clean}.{next}");
        *next += 1;
    }
    used.insert(n.clone());
    n
}

impl FunctionBuilder {
    /// A builder for a function named `name` (without `$`), no parameters, no return value.
    pub fn new(name: impl Into<String>) -> FunctionBuilder {
        FunctionBuilder {
            f: Function::new(name),
            cur: None,
            temp_names: BTreeSet::new(),
            block_names: BTreeSet::new(),
            next: 0,
            next_block: 0,
            pos: Pos::NONE,
        }
    }

    /// Marks the function `export`.
    pub fn export(&mut self) -> &mut Self {
        self.f.linkage.export = true;
        self
    }
    /// Sets the whole linkage.
    pub fn linkage(&mut self, l: Linkage) -> &mut Self {
        self.f.linkage = l;
        self
    }
    /// Sets the return type.
    pub fn returns(&mut self, ty: AbiTy) -> &mut Self {
        self.f.ret = Some(ty);
        self
    }
    /// Makes the function variadic (`...` after the parameters).
    pub fn variadic(&mut self) -> &mut Self {
        self.f.variadic = true;
        self
    }
    /// Source position recorded on the instructions added from now on.
    pub fn set_pos(&mut self, pos: Pos) -> &mut Self {
        self.pos = pos;
        self
    }

    /// A temporary named `name` (made unique with a `.N` suffix if needed).
    pub fn temp(&mut self, name: &str) -> Temp {
        let n = unique(name, &mut self.temp_names, &mut self.next);
        self.f.add_temp(n)
    }
    /// A fresh anonymous temporary.
    pub fn new_temp(&mut self) -> Temp {
        self.temp("")
    }

    /// Adds a parameter and returns its value.
    pub fn param(&mut self, ty: AbiTy, name: &str) -> Value {
        let temp = self.temp(name);
        self.f.params.push(Param { ty, temp });
        Value::Temp(temp)
    }
    /// Adds the `env` parameter (an `l`).
    pub fn env_param(&mut self, name: &str) -> Value {
        let t = self.temp(name);
        self.f.env = Some(t);
        Value::Temp(t)
    }

    /// Appends a new empty block (the first one is the entry). Does not switch to it.
    pub fn new_block(&mut self, name: &str) -> BlockId {
        let n = unique(name, &mut self.block_names, &mut self.next_block);
        let mut b = Block::new(n);
        b.pos = self.pos;
        self.f.blocks.push(b);
        BlockId(self.f.blocks.len() as u32 - 1)
    }
    /// Makes `b` the block instructions are appended to.
    pub fn switch_to(&mut self, b: BlockId) {
        assert!(b.index() < self.f.blocks.len(), "unknown block");
        self.cur = Some(b);
    }
    /// The current block (creating an entry block `start` if there is none).
    pub fn current_block(&mut self) -> BlockId {
        if self.cur.is_none() {
            let b = self.new_block("start");
            self.cur = Some(b);
        }
        self.cur.expect("set above")
    }
    fn block_mut(&mut self) -> &mut Block {
        let b = self.current_block();
        let blk = &mut self.f.blocks[b.index()];
        assert!(
            blk.jump.is_none(),
            "block @{} is already terminated",
            blk.name
        );
        blk
    }
    fn push(&mut self, kind: InstKind) {
        let pos = self.pos;
        self.block_mut().insts.push(Inst { kind, pos });
    }

    /// `%new =ty op args`; returns the result.
    pub fn ins(&mut self, op: Op, ty: BaseTy, args: &[Value]) -> Value {
        let t = self.new_temp();
        self.ins_to(t, op, ty, args);
        Value::Temp(t)
    }
    /// `%dest =ty op args` (dest may be assigned several times: non-SSA).
    pub fn ins_to(&mut self, dest: Temp, op: Op, ty: BaseTy, args: &[Value]) {
        let args = args.to_vec();
        self.push(InstKind::Op {
            dest: Some(dest),
            ty,
            op,
            args,
        });
    }
    /// An instruction without result (`store*`, `blit`, `vastart`).
    pub fn ins_void(&mut self, op: Op, args: &[Value]) {
        let args = args.to_vec();
        self.push(InstKind::Op {
            dest: None,
            ty: BaseTy::W,
            op,
            args,
        });
    }
    /// `add`.
    pub fn ins_add(&mut self, ty: BaseTy, a: Value, b: Value) -> Value {
        self.ins(Op::Add, ty, &[a, b])
    }
    /// `sub`.
    pub fn ins_sub(&mut self, ty: BaseTy, a: Value, b: Value) -> Value {
        self.ins(Op::Sub, ty, &[a, b])
    }
    /// `mul`.
    pub fn ins_mul(&mut self, ty: BaseTy, a: Value, b: Value) -> Value {
        self.ins(Op::Mul, ty, &[a, b])
    }
    /// `copy`.
    pub fn ins_copy(&mut self, ty: BaseTy, a: Value) -> Value {
        self.ins(Op::Copy, ty, &[a])
    }
    /// `c<cond><ty> a, b` with a `w` result.
    pub fn ins_cmp(&mut self, cond: Cond, ty: BaseTy, a: Value, b: Value) -> Value {
        self.ins(Op::Cmp(cond, ty), BaseTy::W, &[a, b])
    }
    /// A load (`op` one of the `load*` ops) of type `ty` from `addr`.
    pub fn ins_load(&mut self, op: Op, ty: BaseTy, addr: Value) -> Value {
        self.ins(op, ty, &[addr])
    }
    /// A store (`op` one of the `store*` ops) of `val` to `addr`.
    pub fn ins_store(&mut self, op: Op, val: Value, addr: Value) {
        self.ins_void(op, &[val, addr]);
    }
    /// `alloc4/8/16 size`; `align` must be 4, 8 or 16.
    pub fn ins_alloc(&mut self, align: u32, size: Value) -> Value {
        let op = match align {
            4 => Op::Alloc4,
            8 => Op::Alloc8,
            16 => Op::Alloc16,
            _ => panic!("alloc alignment must be 4, 8 or 16"),
        };
        self.ins(op, BaseTy::L, &[size])
    }

    /// `call`: returns the result when `ret` is given. `args` are the fixed arguments.
    pub fn call(
        &mut self,
        ret: Option<AbiTy>,
        callee: Value,
        args: &[(AbiTy, Value)],
    ) -> Option<Value> {
        self.call_full(ret, callee, None, args, None)
    }
    /// `call` with an optional `env` argument and, for variadic calls, the number of fixed
    /// arguments before the `...` marker.
    pub fn call_full(
        &mut self,
        ret: Option<AbiTy>,
        callee: Value,
        env: Option<Value>,
        args: &[(AbiTy, Value)],
        variadic: Option<usize>,
    ) -> Option<Value> {
        let dest = ret.map(|ty| (self.new_temp(), ty));
        let call = Call {
            dest,
            callee,
            env,
            args: args.to_vec(),
            variadic,
        };
        self.push(InstKind::Call(Box::new(call)));
        dest.map(|(t, _)| Value::Temp(t))
    }
    /// `%new =ty phi @b1 v1, ...` at the current block (phis go before instructions).
    pub fn phi(&mut self, ty: BaseTy, args: &[(BlockId, Value)]) -> Value {
        let to = self.new_temp();
        let pos = self.pos;
        let args = args.to_vec();
        self.block_mut().phis.push(Phi { to, ty, args, pos });
        Value::Temp(to)
    }
    /// `dbgloc line, col`.
    pub fn dbgloc(&mut self, line: u32, col: u32) {
        self.push(InstKind::DbgLoc { line, col });
    }

    fn terminate(&mut self, j: Jump) {
        let pos = self.pos;
        let b = self.block_mut();
        b.jump = Some(j);
        b.jump_pos = pos;
    }
    /// `jmp @target`
    pub fn jmp(&mut self, target: BlockId) {
        self.terminate(Jump::Jmp(target));
    }
    /// `jnz cond, @nonzero, @zero`
    pub fn jnz(&mut self, cond: Value, nonzero: BlockId, zero: BlockId) {
        self.terminate(Jump::Jnz(cond, nonzero, zero));
    }
    /// `ret [value]`
    pub fn ret(&mut self, v: Option<Value>) {
        self.terminate(Jump::Ret(v));
    }
    /// `hlt`
    pub fn hlt(&mut self) {
        self.terminate(Jump::Hlt);
    }

    /// Read access to the function built so far.
    pub fn func(&self) -> &Function {
        &self.f
    }
    /// The finished function (not verified; see [`super::verify::verify_module`]).
    pub fn finish(self) -> Function {
        self.f
    }
}
