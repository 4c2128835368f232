//! The execution engine: an explicit stack of frames (no host recursion, so deep IL
//! recursion cannot overflow the host stack), phis, jumps, memory instructions, calls with
//! their ABI (sub-word extension, aggregates by copy, `env`, variadic slots) and returns.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::eval::{binary, compare, mask, unary};
use super::image::{Callee, Image};
use super::libc::{self, Outcome};
use super::memory::Memory;
use super::{Config, Error, Location};
use crate::ir::{
    AbiTy, BaseTy, Block, Call, Const, Function, InstKind, Jump, Module, Op, Temp, Value,
};

/// One active call.
struct Frame {
    func: usize,
    regs: Vec<u64>,
    block: usize,
    /// Next instruction in `block`.
    inst: usize,
    /// Stack pointer at entry (restored on return, freeing `alloc`s).
    saved_sp: u64,
    /// Address of the first variadic slot (for `vastart`).
    va: u64,
    /// Where the caller wants the result.
    dest: Option<(Temp, AbiTy)>,
}

/// The interpreter state.
pub struct Machine<'a> {
    m: &'a Module,
    img: Image,
    out: &'a mut dyn std::io::Write,
    cfg: &'a Config,
    frames: Vec<Frame>,
    fuel: u64,
    /// Scratch space for phi values (reused to avoid an allocation per jump).
    phi_buf: Vec<(Temp, u64)>,
}

/// What an executed step asks the main loop to do next.
enum Step {
    Continue,
    Exit(i32),
}

impl<'a> Machine<'a> {
    pub fn new(
        m: &'a Module,
        img: Image,
        out: &'a mut dyn std::io::Write,
        cfg: &'a Config,
    ) -> Machine<'a> {
        Machine {
            m,
            img,
            out,
            cfg,
            frames: Vec::new(),
            fuel: cfg.fuel,
            phi_buf: Vec::new(),
        }
    }

    /// Flushes program output.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.out
            .flush()
            .map_err(|e| Error::new(format!("writing program output: {e}")))
    }

    /// Runs `entry` to completion.
    pub fn run(&mut self, entry: &str, args: &[&str]) -> Result<i32, Error> {
        let fi = self
            .m
            .functions
            .iter()
            .position(|f| f.name == entry)
            .ok_or_else(|| Error::new(format!("no function ${entry} in the module")))?;
        let f = &self.m.functions[fi];
        let mut vals: Vec<(AbiTy, u64)> = Vec::new();
        match f.params.len() {
            0 => {}
            2 => {
                let argv = self.build_argv(args)?;
                vals.push((AbiTy::W, args.len() as u64));
                vals.push((AbiTy::L, argv));
            }
            n => {
                return Err(Error::new(format!(
                    "entry ${entry} takes {n} parameters; expected none or (w argc, l argv)"
                )));
            }
        }
        self.enter(fi, &vals, None, None)?;
        loop {
            match self.step() {
                Ok(Step::Continue) => {}
                Ok(Step::Exit(code)) => return Ok(code),
                Err(mut e) => {
                    if e.at.is_none() {
                        e.at = self.location();
                    }
                    return Err(e);
                }
            }
        }
    }

    fn build_argv(&mut self, args: &[&str]) -> Result<u64, Error> {
        let argv = self.img.mem.stack_alloc(8 * (args.len() as u64 + 1), 16)?;
        for (i, a) in args.iter().enumerate() {
            let p = self.img.mem.stack_alloc(a.len() as u64 + 1, 1)?;
            self.img.mem.write(p, a.as_bytes())?;
            self.img.mem.store(argv + 8 * i as u64, 8, p)?;
        }
        Ok(argv)
    }

    /// The current function/block/instruction, for error messages.
    fn location(&self) -> Option<Location> {
        let fr = self.frames.last()?;
        let f = &self.m.functions[fr.func];
        let b = f.blocks.get(fr.block)?;
        let (inst, pos) = match b.insts.get(fr.inst) {
            Some(i) => (inst_name(&i.kind), i.pos),
            None => (jump_name(b.jump.as_ref()), b.jump_pos),
        };
        Some(Location {
            func: f.name.clone(),
            block: b.name.clone(),
            inst,
            pos,
        })
    }

    fn burn(&mut self) -> Result<(), Error> {
        if self.fuel == 0 {
            return Err(Error::new(format!(
                "step limit of {} exhausted (infinite loop?)",
                self.cfg.fuel
            )));
        }
        self.fuel -= 1;
        Ok(())
    }

    fn value(&self, v: &Value) -> Result<u64, Error> {
        Ok(match v {
            Value::Temp(t) => {
                let regs = &self.frames.last().ok_or("no frame")?.regs;
                *regs.get(t.index()).ok_or("bad temporary")?
            }
            Value::Const(c) => match c {
                Const::Addr(s) | Const::ThreadAddr(s) => *self
                    .img
                    .symbols
                    .get(s.as_str())
                    .ok_or_else(|| format!("unknown symbol ${s}"))?,
                c => c.bits().unwrap_or(0),
            },
        })
    }

    fn set(&mut self, t: Temp, v: u64) -> Result<(), Error> {
        let regs = &mut self.frames.last_mut().ok_or("no frame")?.regs;
        *regs.get_mut(t.index()).ok_or("bad temporary")? = v;
        Ok(())
    }

    fn agg_size(&self, ty: AbiTy) -> Option<(u64, u64)> {
        match ty {
            AbiTy::Agg(id) => self.img.layouts.get(id.index()).map(|l| (l.size, l.align)),
            _ => None,
        }
    }

    /// Pushes a frame for function `fi` with argument values (already evaluated).
    fn enter(
        &mut self,
        fi: usize,
        args: &[(AbiTy, u64)],
        env: Option<u64>,
        dest: Option<(Temp, AbiTy)>,
    ) -> Result<(), Error> {
        let f = &self.m.functions[fi];
        if self.frames.len() >= self.cfg.max_depth {
            return Err(Error::new(format!(
                "call depth limit of {} exceeded calling ${} (runaway recursion?)",
                self.cfg.max_depth, f.name
            )));
        }
        if args.len() < f.params.len() || (!f.variadic && args.len() > f.params.len()) {
            return Err(Error::new(format!(
                "${} takes {} argument(s), called with {}",
                f.name,
                f.params.len(),
                args.len()
            )));
        }
        if f.blocks.is_empty() {
            return Err(Error::new(format!("${} has no blocks", f.name)));
        }
        let saved_sp = self.img.mem.sp;
        let mut regs = vec![0u64; f.temps.len()];
        // Variadic slots first (so the va area sits right below the caller's frame).
        let extra = &args[f.params.len()..];
        let va = self.push_var_args(extra)?;
        for (p, &(_, v)) in f.params.iter().zip(args) {
            let v = match p.ty {
                AbiTy::Agg(_) => {
                    let (size, align) = self.agg_size(p.ty).ok_or("bad aggregate type")?;
                    let copy = self.img.mem.stack_alloc(size, align.max(8))?;
                    self.img.mem.copy(copy, v, size)?;
                    copy
                }
                ty => extend_abi(ty, v),
            };
            *regs.get_mut(p.temp.index()).ok_or("bad parameter")? = v;
        }
        if let Some(e) = f.env {
            *regs.get_mut(e.index()).ok_or("bad env parameter")? = env.unwrap_or(0);
        }
        self.frames.push(Frame {
            func: fi,
            regs,
            block: 0,
            inst: 0,
            saved_sp,
            va,
            dest,
        });
        Ok(())
    }

    /// Lays out variadic arguments as 8-byte slots (RV64 LP64D) on the stack.
    fn push_var_args(&mut self, extra: &[(AbiTy, u64)]) -> Result<u64, Error> {
        let mut slots: Vec<u64> = Vec::new();
        for &(ty, v) in extra {
            match self.agg_size(ty) {
                Some((size, _)) if size <= 16 => {
                    let mut buf = self.img.mem.read(v, size)?.to_vec();
                    buf.resize(size.div_ceil(8) as usize * 8, 0);
                    for c in buf.chunks(8) {
                        slots.push(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
                    }
                }
                Some((size, align)) => {
                    let copy = self.img.mem.stack_alloc(size, align.max(8))?;
                    self.img.mem.copy(copy, v, size)?;
                    slots.push(copy);
                }
                // RV64 keeps 32-bit integers sign-extended in 64-bit registers and slots.
                None if ty.base() == BaseTy::W => {
                    slots.push(extend_abi(ty, v) as u32 as i32 as i64 as u64)
                }
                None => slots.push(extend_abi(ty, v)),
            }
        }
        let area = self.img.mem.stack_alloc(8 * slots.len() as u64, 16)?;
        for (i, s) in slots.iter().enumerate() {
            self.img.mem.store(area + 8 * i as u64, 8, *s)?;
        }
        Ok(area)
    }

    fn step(&mut self) -> Result<Step, Error> {
        self.burn()?;
        let m = self.m;
        let fr = self.frames.last().ok_or("no frame")?;
        let f = &m.functions[fr.func];
        let b = f.blocks.get(fr.block).ok_or("bad block")?;
        let Some(inst) = b.insts.get(fr.inst) else {
            return self.jump(f, b);
        };
        match &inst.kind {
            InstKind::DbgLoc { .. } => {}
            InstKind::Op { dest, ty, op, args } => self.op(*dest, *ty, *op, args)?,
            InstKind::Call(c) => {
                self.frames.last_mut().ok_or("no frame")?.inst += 1;
                let r = self.call(c);
                if r.is_err() {
                    // Point the error at the call (no frame was pushed).
                    self.frames.last_mut().ok_or("no frame")?.inst -= 1;
                }
                return r;
            }
        }
        self.frames.last_mut().ok_or("no frame")?.inst += 1;
        Ok(Step::Continue)
    }

    fn op(&mut self, dest: Option<Temp>, ty: BaseTy, op: Op, args: &[Value]) -> Result<(), Error> {
        if args.len() != op.arity() {
            return Err(Error::new(format!(
                "`{op}` takes {} operand(s)",
                op.arity()
            )));
        }
        let mut vals = [0u64; 3];
        for (slot, v) in vals.iter_mut().zip(args) {
            *slot = self.value(v)?;
        }
        let mem = &mut self.img.mem;
        let r = match op {
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Udiv | Op::Rem | Op::Urem => {
                binary(op, ty, vals[0], vals[1])?
            }
            Op::Or | Op::Xor | Op::And | Op::Sar | Op::Shr | Op::Shl => {
                binary(op, ty, vals[0], vals[1])?
            }
            Op::Cmp(c, t) => compare(c, t, vals[0], vals[1]),
            Op::Stored | Op::Storel => {
                let (v, p) = (vals[0], vals[1]);
                return Ok(mem.store(p, 8, v)?);
            }
            Op::Stores | Op::Storew => {
                let (v, p) = (vals[0], vals[1]);
                return Ok(mem.store(p, 4, v)?);
            }
            Op::Storeh => {
                let (v, p) = (vals[0], vals[1]);
                return Ok(mem.store(p, 2, v)?);
            }
            Op::Storeb => {
                let (v, p) = (vals[0], vals[1]);
                return Ok(mem.store(p, 1, v)?);
            }
            Op::Loadd | Op::Loadl => mem_load(mem, vals[0], 8)?,
            Op::Loads | Op::Loaduw => mem_load(mem, vals[0], 4)?,
            Op::Loadsw => mem_load(mem, vals[0], 4)? as u32 as i32 as i64 as u64,
            Op::Loadsh => mem_load(mem, vals[0], 2)? as u16 as i16 as i64 as u64,
            Op::Loaduh => mem_load(mem, vals[0], 2)?,
            Op::Loadsb => mem_load(mem, vals[0], 1)? as u8 as i8 as i64 as u64,
            Op::Loadub => mem_load(mem, vals[0], 1)?,
            Op::Blit => {
                let (src, dst, n) = (vals[0], vals[1], vals[2]);
                let n = n as u32 as i32;
                if n < 0 {
                    return Err(Error::new(format!("blit of negative size {n}")));
                }
                return Ok(mem.copy(dst, src, n as u64)?);
            }
            Op::Alloc4 | Op::Alloc8 | Op::Alloc16 => {
                let align = match op {
                    Op::Alloc4 => 4,
                    Op::Alloc8 => 8,
                    _ => 16,
                };
                let n = vals[0];
                mem.stack_alloc(n, align)?
            }
            Op::Vastart => {
                let fr = self.frames.last().ok_or("no frame")?;
                if !self.m.functions[fr.func].variadic {
                    return Err(Error::new("vastart in a function that is not variadic"));
                }
                return Ok(mem.store(vals[0], 8, fr.va)?);
            }
            Op::Vaarg => {
                let ap = vals[0];
                let p = mem.load(ap, 8)?;
                let v = mem.load(p, ty.size() as u64)?;
                mem.store(ap, 8, p.wrapping_add(8))?;
                v
            }
            _ => unary(op, ty, vals[0])?,
        };
        if let Some(d) = dest {
            self.set(d, mask(ty, r))?;
        }
        Ok(())
    }

    fn jump(&mut self, f: &Function, b: &Block) -> Result<Step, Error> {
        let target = match b.jump.as_ref().ok_or("block without a jump")? {
            Jump::Jmp(t) => *t,
            Jump::Jnz(v, t, e) => {
                if self.value(v)? as u32 != 0 {
                    *t
                } else {
                    *e
                }
            }
            Jump::Hlt => return Err(Error::new("hlt reached")),
            Jump::Ret(v) => {
                let v = match v {
                    Some(v) => Some(self.value(v)?),
                    None => None,
                };
                return self.ret(v);
            }
        };
        let from = self.frames.last().ok_or("no frame")?.block;
        let tb = f.blocks.get(target.index()).ok_or("bad jump target")?;
        // Phis read their operands simultaneously, before any of them is written.
        let mut vals = core::mem::take(&mut self.phi_buf);
        vals.clear();
        for p in &tb.phis {
            self.burn()?;
            let (_, v) = p
                .args
                .iter()
                .find(|(pb, _)| pb.index() == from)
                .ok_or_else(|| {
                    Error::new(format!(
                        "phi %{} has no value for predecessor @{}",
                        f.temp_name(p.to),
                        b.name
                    ))
                })?;
            vals.push((p.to, mask(p.ty, self.value(v)?)));
        }
        for &(t, v) in &vals {
            self.set(t, v)?;
        }
        self.phi_buf = vals;
        let fr = self.frames.last_mut().ok_or("no frame")?;
        fr.block = target.index();
        fr.inst = 0;
        Ok(Step::Continue)
    }

    fn ret(&mut self, v: Option<u64>) -> Result<Step, Error> {
        let fr = self.frames.last().ok_or("no frame")?;
        let f = &self.m.functions[fr.func];
        // The returned value as the caller sees it (aggregates: the bytes).
        let mut bytes = None;
        let v = match (f.ret, v) {
            (Some(ty @ AbiTy::Agg(_)), Some(p)) => {
                let (size, align) = self.agg_size(ty).ok_or("bad aggregate type")?;
                bytes = Some((self.img.mem.read(p, size)?.to_vec(), align));
                0
            }
            (Some(ty), Some(v)) => extend_abi(ty, v),
            (None, _) => 0,
            (Some(_), None) => {
                return Err(Error::new(format!("${} returns without a value", f.name)));
            }
        };
        let fr = self.frames.pop().ok_or("no frame")?;
        self.img.mem.sp = fr.saved_sp;
        if self.frames.is_empty() {
            return Ok(Step::Exit(v as u32 as i32));
        }
        if let Some((t, ty)) = fr.dest {
            if f.ret.is_none() {
                return Err(Error::new(format!("${} returns no value", f.name)));
            }
            let v = match bytes {
                Some((b, align)) => {
                    let p = self.img.mem.stack_alloc(b.len() as u64, align.max(8))?;
                    self.img.mem.write(p, &b)?;
                    p
                }
                None => mask(ty.base(), v),
            };
            self.set(t, v)?;
        }
        Ok(Step::Continue)
    }

    fn call(&mut self, c: &Call) -> Result<Step, Error> {
        let addr = self.value(&c.callee)?;
        let callee = self.img.callee(addr).cloned().ok_or_else(|| {
            Error::new(format!(
                "call to {addr:#x}, which is not a function address"
            ))
        })?;
        let mut args = Vec::with_capacity(c.args.len());
        for (ty, v) in &c.args {
            args.push((*ty, self.value(v)?));
        }
        let env = match &c.env {
            Some(v) => Some(self.value(v)?),
            None => None,
        };
        match callee {
            Callee::Func(fi) => {
                self.enter(fi, &args, env, c.dest)?;
                Ok(Step::Continue)
            }
            Callee::Extern(name) => {
                let r = libc::call(&name, &args, &mut self.img.mem, self.out).map_err(|e| {
                    if e.starts_with("unknown external") {
                        Error::new(e)
                    } else {
                        Error::new(format!("{name}: {e}"))
                    }
                })?;
                match r {
                    Outcome::Return(v) => {
                        if let Some((t, ty)) = c.dest {
                            self.set(t, mask(ty.base(), extend_abi(ty, v)))?;
                        }
                        Ok(Step::Continue)
                    }
                    Outcome::Exit(code) => Ok(Step::Exit(code)),
                }
            }
        }
    }
}

fn mem_load(mem: &Memory, addr: u64, size: u64) -> Result<u64, Error> {
    Ok(mem.load(addr, size)?)
}

/// Extends/truncates a value to what an ABI type holds (sub-word types are extended).
fn extend_abi(ty: AbiTy, v: u64) -> u64 {
    match ty {
        AbiTy::Base(b) => mask(b, v),
        AbiTy::Sb => v as u8 as i8 as i32 as u32 as u64,
        AbiTy::Ub => v as u8 as u64,
        AbiTy::Sh => v as u16 as i16 as i32 as u32 as u64,
        AbiTy::Uh => v as u16 as u64,
        AbiTy::Agg(_) => v,
    }
}

fn inst_name(k: &InstKind) -> String {
    match k {
        InstKind::Op { op, .. } => op.to_string(),
        InstKind::Call(c) => match &c.callee {
            Value::Const(Const::Addr(s)) => format!("call ${s}"),
            Value::Temp(_) => "call (indirect)".to_string(),
            _ => "call".to_string(),
        },
        InstKind::DbgLoc { .. } => "dbgloc".to_string(),
    }
}

fn jump_name(j: Option<&Jump>) -> String {
    match j {
        Some(Jump::Jmp(_)) => "jmp",
        Some(Jump::Jnz(..)) => "jnz",
        Some(Jump::Ret(_)) => "ret",
        Some(Jump::Hlt) => "hlt",
        None => "end of block",
    }
    .to_string()
}
