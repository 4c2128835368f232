//! Spec-level tests of the debug module (RISC-V External Debug Support 0.13.2): the TAP and
//! DTM, Debug Module registers, abstract commands, the program buffer, System Bus Access,
//! run control and resets, triggers, and a fuzz test of the whole interface. Expected values
//! come from the spec's register descriptions, not from running the simulator.

mod common;

mod abstract_cmd;
mod dm_regs;
mod fuzz;
mod progbuf;
mod run_control;
mod sba;
mod tap;
mod triggers;
