//! SSA construction for temporaries assigned more than once (QBE accepts non-SSA input).
//!
//! Cytron et al.: phis are placed on the iterated dominance frontier of the defining blocks,
//! pruned by liveness (only where the temporary is live-in), then uses are renamed by a walk
//! of the dominator tree. The first definition keeps the temporary's name; later ones get
//! `name.N`; temporaries are then renumbered in printed order ([`Function::renumber_temps`]),
//! so printing and re-parsing gives back the same function. Temporaries with a single definition are left alone (as in QBE); the verifier's
//! [`verify_ssa`](super::verify::verify_ssa) then checks their uses are dominated.
//!
//! Pruned SSA can still need (re-assigned temporaries × merge blocks) phis; past
//! [`MAX_PHI_ARGS`] the function is rejected with an error rather than exhausting memory.
//!
//! A read of a re-assigned temporary on a path where it has no definition yields zero (QBE
//! does the same). Unreachable blocks are renamed as roots of their own, so their uses see
//! only their own definitions. Run on a verified function; on malformed input it leaves the
//! function unchanged or partially renamed, but never panics.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::cfg::Cfg;
use super::verify::{VerifyError, temp_types};
use super::{BaseTy, BlockId, Const, Function, Module, Phi, Temp, Value};

const NONE: u32 = u32::MAX;

/// Builds SSA form in every function of `m`.
pub fn build_module(m: &mut Module) -> Result<(), VerifyError> {
    m.functions.iter_mut().try_for_each(build)
}

/// Most phi arguments SSA construction may create in one function. Pruned SSA can need
/// (re-assigned temporaries × merge blocks) phis; past this budget (~100 MiB) the function
/// is rejected instead of exhausting memory.
pub const MAX_PHI_ARGS: usize = 1 << 22;

/// Per-candidate facts gathered in one pass over the function.
struct Scan {
    /// Blocks defining each candidate (all, and reachable only).
    defs_all: Vec<Vec<u32>>,
    defs_in: Vec<Vec<u32>>,
    /// Blocks using each candidate before defining it in the block (upward-exposed uses).
    gens: Vec<Vec<u32>>,
    /// Last block that defined / used-before-defining each candidate (dedup markers).
    killed_in: Vec<u32>,
    gen_in: Vec<u32>,
}

impl Scan {
    fn def(&mut self, c: u32, b: u32, reachable: bool) {
        let c = c as usize;
        if self.killed_in[c] != b {
            self.killed_in[c] = b;
            self.defs_all[c].push(b);
            if reachable {
                self.defs_in[c].push(b);
            }
        }
    }
    fn use_(&mut self, c: u32, b: u32) {
        let c = c as usize;
        if self.killed_in[c] != b && self.gen_in[c] != b {
            self.gen_in[c] = b;
            self.gens[c].push(b);
        }
    }
}

/// Builds SSA form for the temporaries of `f` that are assigned more than once.
pub fn build(f: &mut Function) -> Result<(), VerifyError> {
    let n = f.temps.len();
    let mut ndef = vec![0u32; n];
    let mut count = |t: Temp| {
        if let Some(c) = ndef.get_mut(t.index()) {
            *c = c.saturating_add(1);
        }
    };
    f.env
        .iter()
        .chain(f.params.iter().map(|p| &p.temp))
        .for_each(|t| count(*t));
    for b in &f.blocks {
        b.phis.iter().for_each(|p| count(p.to));
        b.insts.iter().filter_map(|i| i.dest()).for_each(&mut count);
    }
    let cands: Vec<Temp> = (0..n as u32)
        .map(Temp)
        .filter(|t| ndef[t.index()] > 1)
        .collect();
    if cands.is_empty() {
        return Ok(());
    }
    let Ok(tys) = temp_types(f) else {
        return Ok(());
    };
    let mut cidx = vec![NONE; n];
    for (c, t) in cands.iter().enumerate() {
        cidx[t.index()] = c as u32;
    }
    let cand = |v: &Value| match v {
        Value::Temp(t) => cidx.get(t.index()).copied().filter(|&c| c != NONE),
        Value::Const(_) => None,
    };
    let cfg = Cfg::new(f);
    let nb = f.blocks.len();
    let nc = cands.len();

    // Uses of phi arguments happen at the end of the predecessor: (pred, succ, phi, arg).
    let mut phi_uses: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); nb];
    for (si, b) in f.blocks.iter().enumerate() {
        for (pi, p) in b.phis.iter().enumerate() {
            for (ai, (pb, _)) in p.args.iter().enumerate() {
                if let Some(u) = phi_uses.get_mut(pb.index()) {
                    u.push((si as u32, pi as u32, ai as u32));
                }
            }
        }
    }

    // Per candidate: blocks defining it (all / reachable) and blocks using it before any
    // definition in the block (upward-exposed uses). Markers hold `c + 1` to avoid clearing.
    let mut sc = Scan {
        defs_all: vec![Vec::new(); nc],
        defs_in: vec![Vec::new(); nc],
        gens: vec![Vec::new(); nc],
        killed_in: vec![NONE; nc],
        gen_in: vec![NONE; nc],
    };
    for (bi, b) in f.blocks.iter().enumerate() {
        let bu = bi as u32;
        let reach = cfg.reachable(BlockId(bu));
        if bi == 0 {
            for t in f.env.iter().chain(f.params.iter().map(|p| &p.temp)) {
                if let Some(c) = cand(&Value::Temp(*t)) {
                    sc.def(c, bu, reach);
                }
            }
        }
        for p in &b.phis {
            if let Some(c) = cand(&Value::Temp(p.to)) {
                sc.def(c, bu, reach);
            }
        }
        for i in &b.insts {
            i.for_each_arg(|v| {
                if let Some(c) = cand(v) {
                    sc.use_(c, bu);
                }
            });
            if let Some(c) = i.dest().and_then(|d| cand(&Value::Temp(d))) {
                sc.def(c, bu, reach);
            }
        }
        if let Some(c) = b.jump.as_ref().and_then(|j| j.arg()).and_then(cand) {
            sc.use_(c, bu);
        }
        for &(si, pi, ai) in &phi_uses[bi] {
            let v = &f.blocks[si as usize].phis[pi as usize].args[ai as usize].1;
            if let Some(c) = cand(v) {
                sc.use_(c, bu);
            }
        }
    }
    let Scan {
        defs_all,
        defs_in,
        gens,
        ..
    } = sc;

    // Per candidate: live-in blocks (backward from the upward-exposed uses), then phis on
    // the iterated dominance frontier of the definitions where it is live-in (pruned SSA).
    // Memory stays O(blocks + candidates) whatever their product.
    let df = cfg.frontiers();
    let mut kill_mark = vec![0u32; nb];
    let mut live_mark = vec![0u32; nb];
    let mut phi_mark = vec![0u32; nb];
    let mut queued_mark = vec![0u32; nb];
    let mut new_phis: Vec<Vec<u32>> = vec![Vec::new(); nb];
    let mut work: Vec<u32> = Vec::new();
    let mut budget = 0usize;
    for c in 0..nc {
        let epoch = c as u32 + 1;
        for &b in &defs_all[c] {
            kill_mark[b as usize] = epoch;
        }
        work.clear();
        for &b in &gens[c] {
            live_mark[b as usize] = epoch;
            work.push(b);
        }
        while let Some(b) = work.pop() {
            for p in &cfg.preds[b as usize] {
                let p = p.index();
                if kill_mark[p] != epoch && live_mark[p] != epoch {
                    live_mark[p] = epoch;
                    work.push(p as u32);
                }
            }
        }
        work.clear();
        for &d in &defs_in[c] {
            queued_mark[d as usize] = epoch;
            work.push(d);
        }
        while let Some(d) = work.pop() {
            for y in &df[d as usize] {
                let y = y.index();
                if phi_mark[y] != epoch && live_mark[y] == epoch {
                    phi_mark[y] = epoch;
                    new_phis[y].push(epoch - 1);
                    budget = budget.saturating_add(cfg.preds[y].len());
                    if budget > MAX_PHI_ARGS {
                        return Err(VerifyError {
                            pos: f.pos,
                            operand: None,
                            func: Some(f.name.clone()),
                            msg: format!(
                                "function ${} is too large for SSA construction \
                                 (more than {MAX_PHI_ARGS} phi arguments)",
                                f.name
                            ),
                        });
                    }
                    if queued_mark[y] != epoch {
                        queued_mark[y] = epoch;
                        work.push(y as u32);
                    }
                }
            }
        }
    }
    let class = |c: usize| {
        tys.get(cands[c].index())
            .copied()
            .flatten()
            .unwrap_or(BaseTy::W)
    };
    let mut first_new = vec![0usize; nb];
    for (bi, b) in f.blocks.iter_mut().enumerate() {
        first_new[bi] = b.phis.len();
        for &c in &new_phis[bi] {
            let (to, ty, pos) = (cands[c as usize], class(c as usize), b.pos);
            b.phis.push(Phi {
                to,
                ty,
                args: Vec::new(),
                pos,
            });
        }
    }

    // Renaming.
    let mut r = Renamer {
        cands: &cands,
        cidx: &cidx,
        stacks: vec![Vec::new(); nc],
        used_orig: vec![false; nc],
        counter: vec![1; nc],
        // Only names with a '.' can clash with the generated `name.N`.
        names: f
            .temps
            .iter()
            .filter(|t| t.name.contains('.'))
            .map(|t| t.name.clone())
            .collect(),
        log: Vec::new(),
        zero: (0..nc).map(|c| zero(class(c))).collect(),
    };
    let params: Vec<Temp> = f
        .env
        .iter()
        .chain(f.params.iter().map(|p| &p.temp))
        .copied()
        .collect();
    for &t in &params {
        if let Some(c) = cand(&Value::Temp(t)) {
            r.used_orig[c as usize] = true;
        }
    }
    let roots = (0..nb).filter(|&b| b == 0 || !cfg.reachable(BlockId(b as u32)));
    enum Step {
        Enter(usize),
        Exit(usize),
    }
    for root in roots {
        let base = r.log.len();
        for &t in &params {
            if let Some(c) = cand(&Value::Temp(t)) {
                r.stacks[c as usize].push(t);
                r.log.push(c);
            }
        }
        let mut stack = vec![Step::Enter(root)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(b) => {
                    stack.push(Step::Exit(r.log.len()));
                    r.block(f, &cfg, b, &first_new, &new_phis, &phi_uses);
                    for c in cfg.dom_children[b].iter().rev() {
                        stack.push(Step::Enter(c.index()));
                    }
                }
                Step::Exit(len) => r.unwind(len),
            }
        }
        r.unwind(base);
    }
    f.renumber_temps();
    Ok(())
}

fn zero(ty: BaseTy) -> Value {
    Value::Const(match ty {
        BaseTy::W | BaseTy::L => Const::Int(0),
        BaseTy::S => Const::Single(0),
        BaseTy::D => Const::Double(0),
    })
}

struct Renamer<'a> {
    cands: &'a [Temp],
    cidx: &'a [u32],
    stacks: Vec<Vec<Temp>>,
    used_orig: Vec<bool>,
    counter: Vec<u32>,
    names: BTreeSet<String>,
    /// Candidates pushed, in order (popped back on leaving a dominator subtree).
    log: Vec<u32>,
    zero: Vec<Value>,
}

impl Renamer<'_> {
    fn cand_of(&self, v: &Value) -> Option<usize> {
        match v {
            Value::Temp(t) => self
                .cidx
                .get(t.index())
                .filter(|&&c| c != NONE)
                .map(|&c| c as usize),
            Value::Const(_) => None,
        }
    }

    fn current(&self, c: usize) -> Value {
        self.stacks[c]
            .last()
            .map_or_else(|| self.zero[c].clone(), |t| Value::Temp(*t))
    }

    fn rename_use(&self, v: &mut Value) {
        if let Some(c) = self.cand_of(v) {
            *v = self.current(c);
        }
    }

    fn define(&mut self, f: &mut Function, c: usize) -> Temp {
        let t = if !self.used_orig[c] {
            self.used_orig[c] = true;
            self.cands[c]
        } else {
            let base: String = f.temp_name(self.cands[c]).into();
            let name = loop {
                let name: String = format!("{base}.{}", self.counter[c]);
                self.counter[c] += 1;
                if !self.names.contains(&name) {
                    break name;
                }
            };
            f.add_temp(name)
        };
        self.stacks[c].push(t);
        self.log.push(c as u32);
        t
    }

    fn unwind(&mut self, len: usize) {
        while self.log.len() > len {
            let c = self.log.pop().expect("len checked");
            self.stacks[c as usize].pop();
        }
    }

    fn block(
        &mut self,
        f: &mut Function,
        cfg: &Cfg,
        b: usize,
        first_new: &[usize],
        new: &[Vec<u32>],
        phi_uses: &[Vec<(u32, u32, u32)>],
    ) {
        for k in 0..f.blocks[b].phis.len() {
            let c = if k >= first_new[b] {
                Some(new[b][k - first_new[b]] as usize)
            } else {
                self.cand_of(&Value::Temp(f.blocks[b].phis[k].to))
            };
            if let Some(c) = c {
                let t = self.define(f, c);
                f.blocks[b].phis[k].to = t;
            }
        }
        for k in 0..f.blocks[b].insts.len() {
            f.blocks[b].insts[k].for_each_arg_mut(|v| self.rename_use(v));
            let dest = f.blocks[b].insts[k].dest();
            if let Some(c) = dest.and_then(|d| self.cand_of(&Value::Temp(d))) {
                let t = self.define(f, c);
                if let Some(d) = f.blocks[b].insts[k].dest_mut() {
                    *d = t;
                }
            }
        }
        if let Some(v) = f.blocks[b].jump.as_mut().and_then(|j| j.arg_mut()) {
            self.rename_use(v);
        }
        for s in &cfg.succs[b] {
            let s = s.index();
            for k in first_new[s]..f.blocks[s].phis.len() {
                let v = self.current(new[s][k - first_new[s]] as usize);
                f.blocks[s].phis[k].args.push((BlockId(b as u32), v));
            }
        }
        for &(si, pi, ai) in &phi_uses[b] {
            let arg = &mut f.blocks[si as usize].phis[pi as usize].args[ai as usize];
            self.rename_use(&mut arg.1);
        }
    }
}
