//! Register allocation: runs `regalloc2` (Ion) on an [`MFunc`] and, when asked (tests and
//! debug builds by default), its symbolic checker on the result.
//!
//! The allocation (`regalloc2::Output`) is consumed by [`super::emit`]; this module must not
//! change the MIR.

use alloc::format;

use regalloc2::{Output, RegallocOptions};

use super::mir::MFunc;
use super::{Error, abi};
use crate::ir::Pos;

/// Allocates registers for `f`; `check` also runs regalloc2's checker.
pub fn allocate(f: &MFunc, check: bool, pos: Pos) -> Result<Output, Error> {
    let env = abi::machine_env(f.dyn_alloc);
    let opts = RegallocOptions {
        validate_ssa: check,
        ..RegallocOptions::default()
    };
    let out = regalloc2::run(f, &env, &opts)
        .map_err(|e| Error::new(pos, format!("register allocation failed: {e:?}")))?;
    if check {
        let mut c = regalloc2::checker::Checker::new(f, &env);
        c.prepare(&out);
        c.run()
            .map_err(|e| Error::new(pos, format!("regalloc2 checker: {e:?}")))?;
    }
    Ok(out)
}
