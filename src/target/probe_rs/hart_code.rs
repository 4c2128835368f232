//! Code the target runs on the halted hart itself, through the debug module:
//!
//! - [`fence_i`]: `fence.i` in the program buffer, after memory was written and before the
//!   hart runs it, so a hart with an instruction cache fetches what was loaded (probe-rs 0.32
//!   never does this itself);
//! - [`Hasher`]: a fast verify. Reading an image back costs one bus access per word over the
//!   probe, which over probe-rs's Black Magic Probe driver (a packet per captured bit) is
//!   about 2 KiB/s; instead a seven-instruction routine (FNV-1a over 32-bit words, RV64IM)
//!   written at the top of the board's RAM hashes each segment on the hart, and only the hash
//!   is read back — as OpenOCD's `verify_image` runs a CRC on the target in its work area.
//!   The work area is the top 32 bytes of the board's first memory region, where the stack
//!   starts (never initialised data) and no segment's file contents lie; the routine runs
//!   before the program starts, from reset state, so no register needs saving. Any failure
//!   or mismatch sends the caller back to reading the image (which then says where it
//!   differs).
//!
//! This file must not decide what to verify (`load` does).

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use probe_rs::architecture::riscv::communication_interface::RiscvCommunicationInterface;
use probe_rs::{MemoryInterface, MemoryMappedRegister, RegisterId, Session};

/// The routine: a0 = start, a1 = end (words), a2 = hash, a3 = FNV prime; ends in `ebreak`.
///
/// ```text
/// 0:  bgeu a0, a1, 24      # done
/// 4:  lwu  t0, 0(a0)
/// 8:  xor  a2, a2, t0
/// 12: mul  a2, a2, a3
/// 16: addi a0, a0, 4
/// 20: j    0
/// 24: ebreak
/// ```
pub const ROUTINE: [u32; 7] = [
    0x00b5_7c63,
    0x0005_6283,
    0x0056_4633,
    0x02d6_0633,
    0x0045_0513,
    0xfedf_f06f,
    0x0010_0073,
];
/// Where the routine's `ebreak` is, from its start.
const DONE: u64 = 24;
/// Bytes the work area needs.
pub const WORK_AREA: u64 = 32;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const FENCE_I: u32 = 0x0000_100f;
const EBREAK: u32 = 0x0010_0073;
/// Abstract register numbers.
const A0: u16 = 0x1000 + 10;
const A1: u16 = 0x1000 + 11;
const A2: u16 = 0x1000 + 12;
const A3: u16 = 0x1000 + 13;
const DCSR: u16 = 0x7b0;
const DPC: u16 = 0x7b1;

/// A debug-module register at DMI address `$addr`, for probe-rs's typed DM accessors.
macro_rules! dm_register {
    ($name:ident, $addr:expr) => {
        #[derive(Debug, Clone, Copy)]
        struct $name(u32);
        impl From<u32> for $name {
            fn from(v: u32) -> Self {
                $name(v)
            }
        }
        impl From<$name> for u32 {
            fn from(r: $name) -> u32 {
                r.0
            }
        }
        impl MemoryMappedRegister<u32> for $name {
            const ADDRESS_OFFSET: u64 = $addr;
            const NAME: &'static str = stringify!($name);
        }
    };
}

dm_register!(Abstractcs, 0x16);
dm_register!(Command, 0x17);
dm_register!(Progbuf0, 0x20);
dm_register!(Progbuf1, 0x21);

/// `abstractcs.busy` and `cmderr`.
const BUSY: u32 = 1 << 12;
/// An Access Register command that only executes the program buffer (`postexec`).
const POSTEXEC: u32 = 1 << 18;

/// Runs `fence.i` on the halted hart (program buffer, then `ebreak`).
pub fn fence_i(riscv: &mut RiscvCommunicationInterface<'_>) -> Result<()> {
    let run = |riscv: &mut RiscvCommunicationInterface<'_>| -> Result<()> {
        riscv.write_dm_register(Progbuf0(FENCE_I))?;
        riscv.write_dm_register(Progbuf1(EBREAK))?;
        riscv.write_dm_register(Command(POSTEXEC))?;
        let until = Instant::now() + Duration::from_secs(1);
        loop {
            let cs: Abstractcs = riscv.read_dm_register()?;
            if cs.0 & BUSY == 0 {
                let cmderr = (cs.0 >> 8) & 7;
                if cmderr != 0 {
                    bail!("the program buffer failed (cmderr {cmderr})");
                }
                return Ok(());
            }
            if Instant::now() >= until {
                bail!("the program buffer did not finish");
            }
        }
    };
    let result = run(riscv);
    // Clears cmderr and makes probe-rs rewrite the program buffer it caches before its next use.
    riscv.clear_abstractauto();
    result
}

/// The hash the routine computes over `data` (whole 32-bit words, little-endian).
pub fn hash(data: &[u8]) -> u64 {
    data.chunks_exact(4).fold(FNV_OFFSET, |h, w| {
        (h ^ u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))).wrapping_mul(FNV_PRIME)
    })
}

/// The verify routine, written into a work area.
pub struct Hasher {
    at: u64,
}

impl Hasher {
    /// Writes the routine at `at` and makes it fetchable.
    pub fn install(session: &mut Session, core: usize, at: u64) -> Result<Hasher> {
        let words: Vec<u8> = ROUTINE.iter().flat_map(|w| w.to_le_bytes()).collect();
        session.core(core)?.write(at, &words)?;
        fence_i(&mut session.get_riscv_interface(core)?)?;
        Ok(Hasher { at })
    }

    /// The hash of the words in `[start, start + len)` (both multiples of 4), computed on the
    /// hart.
    pub fn run(&self, session: &mut Session, core: usize, start: u64, len: u64) -> Result<u64> {
        {
            let mut c = session.core(core)?;
            c.write_core_reg(RegisterId(A0), start)?;
            c.write_core_reg(RegisterId(A1), start + len)?;
            c.write_core_reg(RegisterId(A2), FNV_OFFSET)?;
            c.write_core_reg(RegisterId(A3), FNV_PRIME)?;
            c.write_core_reg(RegisterId(DPC), self.at)?;
        }
        let mut riscv = session.get_riscv_interface(core)?;
        riscv.resume_core()?;
        // Five instructions a word: a generous bound even for a slow hart.
        let until = Instant::now() + Duration::from_secs(1) + Duration::from_micros(len);
        while !riscv.core_halted()? {
            if Instant::now() >= until {
                riscv.halt(Duration::from_secs(1)).ok();
                bail!("the verify routine did not finish");
            }
        }
        drop(riscv);
        let mut c = session.core(core)?;
        let pc: u64 = c.read_core_reg(RegisterId(DPC))?;
        let dcsr: u64 = c.read_core_reg(RegisterId(DCSR))?;
        if pc != self.at + DONE || (dcsr >> 6) & 7 != 1 {
            return Err(anyhow!(
                "the verify routine stopped at {pc:#x} (dcsr {dcsr:#x}), not at its ebreak"
            ));
        }
        Ok(c.read_core_reg(RegisterId(A2))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvflash_backend::isa::{Inst, Op, encode};

    fn word(inst: Inst) -> u32 {
        encode(&inst).unwrap().word()
    }

    #[test]
    fn the_routine_is_what_its_listing_says() {
        let (a0, a1, a2, a3, t0) = (10, 11, 12, 13, 5);
        let listing = [
            word(Inst::s(Op::Bgeu, a0, a1, 24)),
            word(Inst::i(Op::Lwu, t0, a0, 0)),
            word(Inst::r(Op::Xor, a2, a2, t0)),
            word(Inst::r(Op::Mul, a2, a2, a3)),
            word(Inst::i(Op::Addi, a0, a0, 4)),
            word(Inst::u(Op::Jal, 0, -20)),
            EBREAK,
        ];
        assert_eq!(ROUTINE, listing);
        assert_eq!(ROUTINE[DONE as usize / 4], EBREAK);
    }

    #[test]
    fn the_hash_is_fnv1a_over_words() {
        assert_eq!(hash(&[]), FNV_OFFSET);
        let one = (FNV_OFFSET ^ 0x0403_0201).wrapping_mul(FNV_PRIME);
        assert_eq!(hash(&[1, 2, 3, 4]), one);
        assert_ne!(
            hash(&[1, 2, 3, 4, 5, 6, 7, 8]),
            hash(&[5, 6, 7, 8, 1, 2, 3, 4])
        );
    }
}
