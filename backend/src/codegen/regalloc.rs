//! Register allocation: runs `regalloc2` (Ion) on an [`MFunc`] and, when asked (tests and
//! debug builds by default), its symbolic checker on the result.
//!
//! The allocation (`regalloc2::Output`) is consumed by [`super::emit`]; this module must not
//! change the MIR.

use alloc::format;

use regalloc2::{Ctx, Output, RegallocOptions};

use super::mir::MFunc;
use super::{Error, abi};
use crate::ir::Pos;

/// Allocates registers for `f`; `check` also runs regalloc2's checker. `ctx` is regalloc2's
/// working memory, reused across a module's functions to save its set-up and allocations.
pub fn allocate(f: &MFunc, check: bool, pos: Pos, ctx: &mut Ctx) -> Result<Output, Error> {
    let env = abi::machine_env(f.dyn_alloc);
    let opts = RegallocOptions {
        validate_ssa: check,
        ..RegallocOptions::default()
    };
    regalloc2::run_with_ctx(f, &env, &opts, ctx)
        .map_err(|e| Error::new(pos, format!("register allocation failed: {e:?}")))?;
    let out = core::mem::take(&mut ctx.output);
    if check {
        let mut c = regalloc2::checker::Checker::new(f, &env);
        c.prepare(&out);
        c.run()
            .map_err(|e| Error::new(pos, format!("regalloc2 checker: {e:?}")))?;
    }
    Ok(out)
}
