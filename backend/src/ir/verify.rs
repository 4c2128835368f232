//! The verifier: structure and types of a module ([`verify_module`], valid on non-SSA
//! input) and SSA form with dominance ([`verify_ssa_module`], after [`super::ssa`]).
//!
//! Rules (il.txt, plus QBE's checks in `parse.c`/`ssa.c`):
//! - every temporary has one base type, taken from its definitions (parameters, phis,
//!   instructions, call results). As in QBE, a temporary assigned both `w` and `l` is a `w`;
//!   other mixes are errors. A temporary used but never defined is an error;
//! - operand types follow each instruction's type string ([`Op::arg_types`]); subtyping lets
//!   an `l` value be used where a `w` is expected, never the reverse. Constants are untyped
//!   64-bit blobs and fit every context; `blit`'s size must be a non-negative constant;
//! - call arguments match their ABI types (sub-word → `w`, aggregate → `l` address, `env` → `l`),
//!   callees are `l`; `vastart` only in variadic functions;
//! - every block ends in a jump to an existing block other than the entry; the entry has no
//!   phis; a phi has exactly one argument per predecessor (reachable or not) and nothing else;
//! - `ret` carries a value of the return type (it may omit the value, as in QBE) and none in
//!   a function without return type;
//! - types only refer to earlier types, have power-of-two alignment and a sane size; symbol,
//!   block and temporary names are unique identifiers; strings in data only follow `b`.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use super::cfg::Cfg;
use super::print::is_ident;
use super::types::{MAX_TYPE_SIZE, layouts};
use super::{
    AbiTy, BaseTy, DataItem, DataValue, FieldTy, Function, InstKind, Jump, Module, Op, Pos, Temp,
    TypeBody, Value,
};

/// A verification error: where, in which function, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The definition, instruction, phi or jump the error is in.
    pub pos: Pos,
    /// When the error is about one operand of the instruction, phi or jump at `pos`: its
    /// index (instruction operands in [`Inst::for_each_arg`](super::Inst::for_each_arg)
    /// order: a call's callee, its `env`, then its arguments; a phi's argument index; 0 for
    /// a jump's value). The IL front end uses it to point at the operand in the source.
    pub operand: Option<usize>,
    /// The function (name without `$`), if the error is inside one.
    pub func: Option<String>,
    pub msg: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.is_known() {
            write!(f, "{}:{}: ", self.pos.line, self.pos.col)?;
        }
        if let Some(func) = &self.func {
            write!(f, "in ${func}: ")?;
        }
        f.write_str(&self.msg)
    }
}

impl core::error::Error for VerifyError {}

pub type VResult = Result<(), VerifyError>;

fn err(pos: Pos, func: Option<&Function>, msg: impl Into<String>) -> VerifyError {
    VerifyError {
        pos,
        operand: None,
        func: func.map(|f| f.name.clone()),
        msg: msg.into(),
    }
}

/// An error about operand `operand` of the instruction, phi or jump at `pos`.
fn operand_err(pos: Pos, operand: usize, f: &Function, msg: impl Into<String>) -> VerifyError {
    VerifyError {
        operand: Some(operand),
        ..err(pos, Some(f), msg)
    }
}

/// Checks the structure and types of every definition (non-SSA input is fine).
pub fn verify_module(m: &Module) -> VResult {
    verify_types(m)?;
    let mut names = BTreeSet::new();
    for d in &m.data {
        if !names.insert(d.name.as_str()) {
            return Err(err(
                d.pos,
                None,
                format!("symbol ${} defined twice", d.name),
            ));
        }
        for it in &d.items {
            if let DataItem::Typed(ty, vals) = it
                && *ty != super::ExtTy::B
                && vals.iter().any(|v| matches!(v, DataValue::Str(_)))
            {
                let msg = format!("in data ${}: strings are only allowed after 'b'", d.name);
                return Err(err(d.pos, None, msg));
            }
        }
        if d.size() > MAX_TYPE_SIZE {
            return Err(err(d.pos, None, format!("data ${} is too large", d.name)));
        }
        if d.align.is_some_and(|a| a == 0 || !a.is_power_of_two()) {
            let msg = format!("data ${}: alignment must be a power of two", d.name);
            return Err(err(d.pos, None, msg));
        }
    }
    for f in &m.functions {
        if !names.insert(f.name.as_str()) {
            return Err(err(
                f.pos,
                None,
                format!("symbol ${} defined twice", f.name),
            ));
        }
        if f.linkage.thread {
            return Err(err(f.pos, Some(f), "only data may have thread linkage"));
        }
        verify_function(m, f)?;
    }
    Ok(())
}

fn verify_types(m: &Module) -> VResult {
    let mut names = BTreeSet::new();
    for (i, t) in m.types.iter().enumerate() {
        let e = |msg: String| Err(err(t.pos, None, format!("type :{}: {msg}", t.name)));
        if !names.insert(t.name.as_str()) {
            return e("defined twice".into());
        }
        if !is_ident(&t.name) {
            return e("name is not a valid identifier".into());
        }
        if t.align.is_some_and(|a| a == 0 || !a.is_power_of_two()) {
            return e("alignment must be a power of two".into());
        }
        if matches!(&t.body, TypeBody::Union(v) if v.is_empty()) {
            return e("union type without variants".into());
        }
        let fields: Vec<&super::Field> = match &t.body {
            TypeBody::Struct(f) => f.iter().collect(),
            TypeBody::Union(v) => v.iter().flatten().collect(),
            TypeBody::Opaque { .. } if t.align.is_none() => {
                return e("opaque type needs an explicit alignment".into());
            }
            TypeBody::Opaque { .. } => Vec::new(),
        };
        if fields
            .iter()
            .any(|f| matches!(f.ty, FieldTy::Agg(id) if id.index() >= i))
        {
            return e("refers to itself or to a type defined later".into());
        }
    }
    if let Err(i) = layouts(&m.types) {
        let t = &m.types[i];
        return Err(err(t.pos, None, format!("type :{} is too large", t.name)));
    }
    Ok(())
}

/// Computes each temporary's base type from its definitions (`None` if never defined).
pub fn temp_types(f: &Function) -> Result<Vec<Option<BaseTy>>, VerifyError> {
    let n = f.temps.len();
    let mut tys: Vec<Option<BaseTy>> = vec![None; n];
    let mut def = |t: Temp, ty: BaseTy, pos: Pos| -> VResult {
        let Some(slot) = tys.get_mut(t.index()) else {
            return Err(err(pos, Some(f), "temporary index out of range"));
        };
        *slot = Some(match *slot {
            None => ty,
            Some(old) if old == ty => ty,
            Some(old) if old.is_int() && ty.is_int() => BaseTy::W,
            Some(old) => {
                let msg = format!(
                    "temporary %{} is assigned with multiple types ({} and {})",
                    f.temp_name(t),
                    old.letter(),
                    ty.letter()
                );
                return Err(err(pos, Some(f), msg));
            }
        });
        Ok(())
    };
    if let Some(e) = f.env {
        def(e, BaseTy::L, f.pos)?;
    }
    for p in &f.params {
        def(p.temp, p.ty.base(), f.pos)?;
    }
    for b in &f.blocks {
        for p in &b.phis {
            def(p.to, p.ty, p.pos)?;
        }
        for i in &b.insts {
            if let (Some(d), Some(ty)) = (i.dest(), i.dest_ty()) {
                def(d, ty, i.pos)?;
            }
        }
    }
    Ok(tys)
}

const ORD: [&str; 3] = ["first", "second", "third"];

struct Ctx<'a> {
    m: &'a Module,
    f: &'a Function,
    tys: Vec<Option<BaseTy>>,
}

impl Ctx<'_> {
    fn e(&self, pos: Pos, msg: impl Into<String>) -> VerifyError {
        err(pos, Some(self.f), msg)
    }

    /// An error about operand `k` of the instruction, phi or jump at `pos`.
    fn operand_e(&self, pos: Pos, k: usize, msg: impl Into<String>) -> VerifyError {
        operand_err(pos, k, self.f, msg)
    }

    /// Checks that `v`, operand `k` of the instruction, phi or jump at `pos`, can be used
    /// where `want` is expected; `what` names the use.
    fn use_val(
        &self,
        v: &Value,
        want: BaseTy,
        (pos, k): (Pos, usize),
        what: &dyn Fn() -> String,
    ) -> VResult {
        let Value::Temp(t) = v else { return Ok(()) };
        let name = self.f.temp_name(*t);
        let e = |msg: String| Err(self.operand_e(pos, k, msg));
        match self.tys.get(t.index()) {
            None => e("temporary index out of range".into()),
            Some(None) => e(format!("temporary %{name} is used but never defined")),
            Some(Some(ty)) if ty.fits(want) => Ok(()),
            Some(Some(ty)) => e(format!(
                "{} %{name} has type {}, expected {}",
                what(),
                ty.letter(),
                want.letter()
            )),
        }
    }

    /// Checks an ABI type; `operand` is the operand it types, if any.
    fn abi(&self, t: AbiTy, pos: Pos, operand: Option<usize>) -> VResult {
        match t {
            AbiTy::Agg(id) if id.index() >= self.m.types.len() => Err(VerifyError {
                operand,
                ..self.e(pos, "reference to an undefined aggregate type")
            }),
            _ => Ok(()),
        }
    }
}

fn verify_function(m: &Module, f: &Function) -> VResult {
    let fe = |pos: Pos, msg: String| err(pos, Some(f), msg);
    if f.blocks.is_empty() {
        return Err(fe(f.pos, format!("function ${} has no blocks", f.name)));
    }
    let mut tnames = BTreeSet::new();
    for t in &f.temps {
        if !tnames.insert(t.name.as_str()) {
            return Err(fe(f.pos, format!("temporary name %{} used twice", t.name)));
        }
        if !is_ident(&t.name) {
            let msg = format!("temporary name {:?} is not a valid identifier", t.name);
            return Err(fe(f.pos, msg));
        }
    }
    let mut bnames = BTreeSet::new();
    for b in &f.blocks {
        if !bnames.insert(b.name.as_str()) {
            return Err(fe(b.pos, format!("block name @{} used twice", b.name)));
        }
        if !is_ident(&b.name) {
            let msg = format!("block name {:?} is not a valid identifier", b.name);
            return Err(fe(b.pos, msg));
        }
    }
    let tys = temp_types(f)?;
    let cx = Ctx { m, f, tys };
    if let Some(r) = f.ret {
        cx.abi(r, f.pos, None)?;
    }
    let mut seen = BTreeSet::new();
    for p in f.env.iter().chain(f.params.iter().map(|p| &p.temp)) {
        if !seen.insert(*p) {
            let msg = format!("parameter %{} listed twice", f.temp_name(*p));
            return Err(fe(f.pos, msg));
        }
    }
    for p in &f.params {
        cx.abi(p.ty, f.pos, None)?;
    }
    let nblocks = f.blocks.len();
    for b in &f.blocks {
        let Some(j) = &b.jump else {
            return Err(fe(
                b.pos,
                format!("block @{} does not end with a jump", b.name),
            ));
        };
        for s in j.successors() {
            if s.index() >= nblocks {
                return Err(fe(b.jump_pos, "jump to a block that does not exist".into()));
            }
            if s.index() == 0 {
                let msg = format!("jump to the entry block @{}", f.blocks[0].name);
                return Err(fe(b.jump_pos, msg));
            }
        }
    }
    let cfg = Cfg::new(f);
    for (bi, b) in f.blocks.iter().enumerate() {
        if bi == 0 && !b.phis.is_empty() {
            return Err(fe(b.phis[0].pos, "phi in the entry block".into()));
        }
        for p in &b.phis {
            verify_phi(&cx, &cfg, bi, p)?;
        }
        for i in &b.insts {
            verify_inst(&cx, i)?;
        }
        let pos = b.jump_pos;
        match b.jump.as_ref().expect("checked above") {
            Jump::Jnz(v, ..) => cx.use_val(v, BaseTy::W, (pos, 0), &|| "jnz condition".into())?,
            Jump::Ret(Some(v)) => match f.ret {
                None => {
                    let msg = format!(
                        "function ${} has no return type but returns a value",
                        f.name
                    );
                    return Err(cx.operand_e(pos, 0, msg));
                }
                Some(r) => cx.use_val(v, r.base(), (pos, 0), &|| "return value".into())?,
            },
            _ => {}
        }
    }
    Ok(())
}

fn verify_phi(cx: &Ctx, cfg: &Cfg, bi: usize, p: &super::Phi) -> VResult {
    let f = cx.f;
    let name = f.temp_name(p.to);
    for (k, (pb, v)) in p.args.iter().enumerate() {
        if pb.index() >= f.blocks.len() {
            return Err(cx.operand_e(
                p.pos,
                k,
                format!("phi %{name} names a block that does not exist"),
            ));
        }
        cx.use_val(v, p.ty, (p.pos, k), &|| format!("phi %{name} argument"))?;
    }
    // Sort to compare with the (sorted) predecessors in O(n log n).
    let mut blocks: Vec<super::BlockId> = p.args.iter().map(|a| a.0).collect();
    blocks.sort_unstable();
    if let Some(w) = blocks.windows(2).find(|w| w[0] == w[1]) {
        let msg = format!("phi %{name} has two arguments for @{}", f.block(w[0]).name);
        return Err(cx.e(p.pos, msg));
    }
    let preds = &cfg.preds[bi];
    if let Some(b) = blocks.iter().find(|b| preds.binary_search(b).is_err()) {
        let msg = format!(
            "phi %{name}: @{} is not a predecessor of @{}",
            f.block(*b).name,
            f.blocks[bi].name
        );
        return Err(cx.e(p.pos, msg));
    }
    if let Some(b) = preds.iter().find(|b| blocks.binary_search(b).is_err()) {
        let msg = format!(
            "phi %{name} has no argument for predecessor @{}",
            f.block(*b).name
        );
        return Err(cx.e(p.pos, msg));
    }
    Ok(())
}

fn verify_inst(cx: &Ctx, i: &super::Inst) -> VResult {
    let pos = i.pos;
    match &i.kind {
        InstKind::DbgLoc { .. } => Ok(()),
        InstKind::Op { dest, ty, op, args } => {
            if dest.is_some() != op.has_result() {
                let msg = if dest.is_some() {
                    format!("'{op}' has no result")
                } else {
                    format!("'{op}' needs a destination")
                };
                return Err(cx.e(pos, msg));
            }
            if args.len() != op.arity() {
                let msg = format!(
                    "'{op}' takes {} argument{}, found {}",
                    op.arity(),
                    if op.arity() == 1 { "" } else { "s" },
                    args.len()
                );
                return Err(cx.e(pos, msg));
            }
            let Some(want) = op.arg_types(*ty) else {
                return Err(cx.e(pos, format!("'{op}' cannot produce type {}", ty.letter())));
            };
            for (k, (a, w)) in args.iter().zip(want).enumerate() {
                cx.use_val(a, *w, (pos, k), &|| format!("{} operand of '{op}'", ORD[k]))?;
            }
            if *op == Op::Blit {
                let ok = matches!(&args[2], Value::Const(super::Const::Int(n)) if (0..=i32::MAX as i64).contains(n));
                if !ok {
                    let msg = "blit size must be a non-negative integer constant";
                    return Err(cx.operand_e(pos, 2, msg));
                }
            }
            if *op == Op::Vastart && !cx.f.variadic {
                return Err(cx.e(pos, "vastart in a function that is not variadic"));
            }
            Ok(())
        }
        InstKind::Call(c) => {
            if let Some((_, t)) = c.dest {
                cx.abi(t, pos, None)?;
            }
            cx.use_val(&c.callee, BaseTy::L, (pos, 0), &|| "called function".into())?;
            if let Some(e) = &c.env {
                cx.use_val(e, BaseTy::L, (pos, 1), &|| "env argument".into())?;
            }
            if c.variadic.is_some_and(|n| n > c.args.len()) {
                return Err(cx.e(pos, "variadic marker after the last argument"));
            }
            // Operand numbers follow `Inst::for_each_arg`: callee, env, arguments.
            let first = 1 + usize::from(c.env.is_some());
            for (k, (t, v)) in c.args.iter().enumerate() {
                cx.abi(*t, pos, Some(first + k))?;
                let what = || format!("call argument {}", k + 1);
                cx.use_val(v, t.base(), (pos, first + k), &what)?;
            }
            Ok(())
        }
    }
}

/// Checks SSA form: each temporary defined once, every use dominated by its definition
/// (uses in unreachable blocks are not checked). Run after [`super::ssa::build`].
pub fn verify_ssa(f: &Function) -> VResult {
    let cfg = Cfg::new(f);
    // Definition site: (block, index) with index 0 for params/phis, 1 + i for instruction i.
    let mut site: Vec<Option<(u32, u32)>> = vec![None; f.temps.len()];
    let mut define = |t: Temp, b: usize, k: usize, pos: Pos| -> VResult {
        let Some(s) = site.get_mut(t.index()) else {
            return Err(err(pos, Some(f), "temporary index out of range"));
        };
        if s.is_some() {
            let msg = format!("temporary %{} is assigned more than once", f.temp_name(t));
            return Err(err(pos, Some(f), msg));
        }
        *s = Some((b as u32, k as u32));
        Ok(())
    };
    for t in f.env.iter().chain(f.params.iter().map(|p| &p.temp)) {
        define(*t, 0, 0, f.pos)?;
    }
    for (bi, b) in f.blocks.iter().enumerate() {
        for p in &b.phis {
            define(p.to, bi, 0, p.pos)?;
        }
        for (k, i) in b.insts.iter().enumerate() {
            if let Some(d) = i.dest() {
                define(d, bi, k + 1, i.pos)?;
            }
        }
    }
    // Operand `k` of the item at `pos`, used at (block, index); index u32::MAX = end of block.
    let check = |v: &Value, ub: usize, uk: u32, (pos, k): (Pos, usize)| -> VResult {
        let Value::Temp(t) = v else { return Ok(()) };
        let ub_id = super::BlockId(ub as u32);
        if !cfg.reachable(ub_id) {
            return Ok(());
        }
        let ok = match site.get(t.index()).copied().flatten() {
            None => false,
            Some((db, dk)) if db as usize == ub => dk < uk,
            Some((db, _)) => cfg.dominates(super::BlockId(db), ub_id),
        };
        if ok {
            Ok(())
        } else {
            let msg = format!(
                "temporary %{} is not defined on every path to this use",
                f.temp_name(*t)
            );
            Err(operand_err(pos, k, f, msg))
        }
    };
    for (bi, b) in f.blocks.iter().enumerate() {
        for p in &b.phis {
            for (k, (pb, v)) in p.args.iter().enumerate() {
                check(v, pb.index(), u32::MAX, (p.pos, k))?;
            }
        }
        for (ik, i) in b.insts.iter().enumerate() {
            let (mut r, mut k) = (Ok(()), 0);
            i.for_each_arg(|v| {
                if r.is_ok() {
                    r = check(v, bi, ik as u32 + 1, (i.pos, k));
                }
                k += 1;
            });
            r?;
        }
        if let Some(v) = b.jump.as_ref().and_then(|j| j.arg()) {
            check(v, bi, u32::MAX, (b.jump_pos, 0))?;
        }
    }
    Ok(())
}

/// [`verify_ssa`] on every function.
pub fn verify_ssa_module(m: &Module) -> VResult {
    m.functions.iter().try_for_each(verify_ssa)
}
