//! Memory-mapped devices of the `virt` board. Each device sees offsets inside its own
//! window and an access size; it answers with a value or [`Fault`](crate::bus::Fault) and
//! never touches RAM or the hart. The [`Bus`](crate::bus::Bus) routes addresses to them.

pub(crate) mod clint;
pub(crate) mod finisher;
pub(crate) mod uart;
