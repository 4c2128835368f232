//! Control-flow analyses of one function: predecessors, reverse postorder, dominators
//! (Cooper–Harvey–Kennedy), O(1) dominance queries and dominance frontiers.
//!
//! Predecessors include edges from unreachable blocks (a phi must list every block that
//! jumps to its block, reachable or not, as in QBE); dominance only concerns blocks
//! reachable from the entry. All traversals are iterative (no recursion on input size).
//! Jump targets outside the function are ignored (the verifier reports them).

use alloc::vec;
use alloc::vec::Vec;

use super::{BlockId, Function};

const NONE: u32 = u32::MAX;

/// CFG facts of one function.
#[derive(Clone, Debug)]
pub struct Cfg {
    /// Distinct successors of each block, in jump order.
    pub succs: Vec<Vec<BlockId>>,
    /// Distinct predecessors of each block (sorted), including unreachable ones.
    pub preds: Vec<Vec<BlockId>>,
    /// Blocks reachable from the entry, in reverse postorder (entry first).
    pub rpo: Vec<BlockId>,
    rpo_index: Vec<u32>,
    /// Immediate dominator; `None` for the entry and unreachable blocks.
    pub idom: Vec<Option<BlockId>>,
    /// Children in the dominator tree, in layout order.
    pub dom_children: Vec<Vec<BlockId>>,
    pre: Vec<u32>,
    post: Vec<u32>,
}

impl Cfg {
    /// Computes the CFG facts of `f`.
    pub fn new(f: &Function) -> Cfg {
        let n = f.blocks.len();
        let mut succs = vec![Vec::new(); n];
        let mut preds = vec![Vec::new(); n];
        for (i, b) in f.blocks.iter().enumerate() {
            for s in b.successors() {
                if s.index() < n && !succs[i].contains(&s) {
                    succs[i].push(s);
                    preds[s.index()].push(BlockId(i as u32));
                }
            }
        }
        for p in &mut preds {
            p.sort_unstable();
        }
        // Iterative DFS for postorder.
        let mut rpo = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        if n > 0 {
            let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
            seen[0] = true;
            while let Some(top) = stack.last_mut() {
                let (b, i) = *top;
                if let Some(&s) = succs[b].get(i) {
                    top.1 += 1;
                    if !seen[s.index()] {
                        seen[s.index()] = true;
                        stack.push((s.index(), 0));
                    }
                } else {
                    rpo.push(BlockId(b as u32));
                    stack.pop();
                }
            }
        }
        rpo.reverse();
        let mut rpo_index = vec![NONE; n];
        for (i, b) in rpo.iter().enumerate() {
            rpo_index[b.index()] = i as u32;
        }
        let idom = compute_idom(&rpo, &rpo_index, &preds);
        let mut dom_children = vec![Vec::new(); n];
        for (b, d) in idom.iter().enumerate() {
            if let Some(d) = d {
                dom_children[d.index()].push(BlockId(b as u32));
            }
        }
        let mut cfg = Cfg {
            succs,
            preds,
            rpo,
            rpo_index,
            idom,
            dom_children,
            pre: vec![NONE; n],
            post: vec![NONE; n],
        };
        cfg.number_dom_tree();
        cfg
    }

    fn number_dom_tree(&mut self) {
        if self.rpo.is_empty() {
            return;
        }
        let mut clock = 0u32;
        let mut stack: Vec<(BlockId, usize)> = vec![(self.rpo[0], 0)];
        self.pre[self.rpo[0].index()] = 0;
        while let Some(top) = stack.last_mut() {
            let (b, i) = *top;
            if let Some(&c) = self.dom_children[b.index()].get(i) {
                top.1 += 1;
                clock += 1;
                self.pre[c.index()] = clock;
                stack.push((c, 0));
            } else {
                clock += 1;
                self.post[b.index()] = clock;
                stack.pop();
            }
        }
    }

    /// Is `b` reachable from the entry?
    pub fn reachable(&self, b: BlockId) -> bool {
        self.rpo_index.get(b.index()).is_some_and(|&i| i != NONE)
    }

    /// Does `a` dominate `b` (reflexive)? `false` if either is unreachable.
    pub fn dominates(&self, a: BlockId, b: BlockId) -> bool {
        if !self.reachable(a) || !self.reachable(b) {
            return false;
        }
        let (a, b) = (a.index(), b.index());
        self.pre[a] <= self.pre[b] && self.post[b] <= self.post[a]
    }

    /// Dominance frontier of every block (empty for unreachable blocks).
    pub fn frontiers(&self) -> Vec<Vec<BlockId>> {
        let mut df: Vec<Vec<BlockId>> = vec![Vec::new(); self.preds.len()];
        for &b in &self.rpo {
            let reach: Vec<BlockId> = self.preds[b.index()]
                .iter()
                .copied()
                .filter(|&p| self.reachable(p))
                .collect();
            if reach.len() < 2 {
                continue;
            }
            let stop = self.idom[b.index()];
            for p in reach {
                let mut r = Some(p);
                while let Some(x) = r {
                    if Some(x) == stop {
                        break;
                    }
                    let d = &mut df[x.index()];
                    if d.last() == Some(&b) {
                        break;
                    }
                    d.push(b);
                    r = self.idom[x.index()];
                }
            }
        }
        df
    }
}

fn compute_idom(
    rpo: &[BlockId],
    rpo_index: &[u32],
    preds: &[Vec<BlockId>],
) -> Vec<Option<BlockId>> {
    let n = rpo_index.len();
    // Work in RPO numbers; idom[entry] = entry during the fixpoint.
    let mut doms = vec![NONE; n];
    if rpo.is_empty() {
        return vec![None; n];
    }
    let entry = rpo[0].index();
    doms[entry] = entry as u32;
    let intersect = |doms: &[u32], mut a: u32, mut b: u32| {
        while a != b {
            while rpo_index[a as usize] > rpo_index[b as usize] {
                a = doms[a as usize];
            }
            while rpo_index[b as usize] > rpo_index[a as usize] {
                b = doms[b as usize];
            }
        }
        a
    };
    let mut changed = true;
    while changed {
        changed = false;
        for &b in &rpo[1..] {
            let mut new = NONE;
            for &p in &preds[b.index()] {
                if doms[p.index()] == NONE {
                    continue;
                }
                new = if new == NONE {
                    p.0
                } else {
                    intersect(&doms, p.0, new)
                };
            }
            if new != NONE && doms[b.index()] != new {
                doms[b.index()] = new;
                changed = true;
            }
        }
    }
    (0..n)
        .map(|i| {
            if i == entry || doms[i] == NONE {
                None
            } else {
                Some(BlockId(doms[i]))
            }
        })
        .collect()
}
