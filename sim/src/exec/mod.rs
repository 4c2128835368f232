//! Instruction semantics, one file per family. Each executes an already-decoded, expanded
//! [`Inst`](rvflash_backend::isa::Inst) against the hart and bus and returns the next `pc`
//! or a [`Trap`](crate::trap::Trap); none of them fetches, decodes, or enters traps.
//!
//! - `int`: RV64I and M (the hot path; it dispatches the rest);
//! - `system`: fences, `ecall`/`ebreak` (semihosting detection), `mret`, `wfi`, Zicsr;
//! - `atomic`: LR/SC and AMOs;
//! - `float`: F and D.

mod atomic;
mod float;
mod int;
mod system;
