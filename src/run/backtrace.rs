//! Symbolised backtraces of a stopped target.
//!
//! Unwinding uses the program's DWARF call-frame information (`.debug_frame`, then
//! `.eh_frame`) through `gimli`: each frame's CFA and saved registers (`ra`, `s0`, ...) are
//! recovered from target memory. Where a function has no CFI, its prologue is read instead
//! (frame size and where `ra` and `s0` are saved), and a leaf's caller is in `ra`. A return
//! address pointing back into the same function without having been saved is a stale `ra`
//! (a function that never returns need not keep it): unwinding stops there rather than list
//! the frame twice. Addresses become
//! `function at file:line:col` (inlined calls included) through `addr2line`, or the ELF
//! symbol table when there is no line information. Unwinding stops at 64 frames, at a return
//! address outside the program's loadable segments, or when it makes no progress.

use std::borrow::Cow;
use std::io::Write;
use std::rc::Rc;

use gimli::{
    self, BaseAddresses, CfaRule, DebugFrame, EhFrame, EndianRcSlice, LittleEndian, Register,
    RegisterRule, UnwindContext, UnwindSection, UnwindTableRow,
};
use object::read::elf::{FileHeader as _, SectionHeader as _};
use object::{LittleEndian as LE, elf};

use crate::image::Image;
use crate::target::{Reg, Target, read_u64};
use rvflash_backend::isa::{self, Op};

type R = EndianRcSlice<LittleEndian>;

/// Most frames printed.
const MAX_FRAMES: usize = 64;

/// One frame of a backtrace.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The frame's pc (the return address for callers).
    pub pc: u64,
    /// Function names, innermost inlined call first, each with `file:line:col` if known.
    pub functions: Vec<(String, Option<String>)>,
}

/// Debug information of one program: symbolisation and unwinding tables.
pub struct Symbols<'a> {
    image: &'a Image,
    lines: Option<addr2line::Context<R>>,
    debug_frame: Option<DebugFrame<R>>,
    eh_frame: Option<(EhFrame<R>, BaseAddresses)>,
}

impl<'a> Symbols<'a> {
    /// Reads what debug information `image` has (none is fine).
    pub fn new(image: &'a Image) -> Symbols<'a> {
        let mut symbols = Symbols {
            image,
            lines: None,
            debug_frame: None,
            eh_frame: None,
        };
        let data = &image.bytes[..];
        let Some(sections) = elf::FileHeader64::<LE>::parse(data)
            .and_then(|h| h.sections(LE, data))
            .ok()
        else {
            return symbols;
        };
        let section = |name: &str| -> Option<(u64, R)> {
            let (_, sh) = sections.section_by_name(LE, name.as_bytes())?;
            if sh.sh_type(LE) == elf::SHT_NOBITS {
                return None;
            }
            let bytes = sh.data(LE, data).ok()?;
            Some((
                sh.sh_addr(LE),
                EndianRcSlice::new(Rc::from(bytes), LittleEndian),
            ))
        };
        let dwarf = gimli::Dwarf::load(|id| -> Result<R, gimli::Error> {
            Ok(section(id.name())
                .map(|(_, r)| r)
                .unwrap_or_else(|| EndianRcSlice::new(Rc::from(&[][..]), LittleEndian)))
        });
        if let Ok(dwarf) = dwarf {
            symbols.lines = addr2line::Context::from_dwarf(dwarf).ok();
        }
        if let Some((_, data)) = section(".debug_frame") {
            let mut frame = DebugFrame::from(data);
            frame.set_address_size(8);
            symbols.debug_frame = Some(frame);
        }
        if let Some((addr, data)) = section(".eh_frame") {
            let mut frame = EhFrame::from(data);
            frame.set_address_size(8);
            let bases = BaseAddresses::default().set_eh_frame(addr);
            symbols.eh_frame = Some((frame, bases));
        }
        symbols
    }

    /// The functions (inlined ones first) and source locations at `addr`.
    pub fn describe(&self, addr: u64) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        if let Some(ctx) = &self.lines
            && let Ok(mut frames) = ctx.find_frames(addr).skip_all_loads()
        {
            while let Ok(Some(frame)) = frames.next() {
                let name = frame
                    .function
                    .as_ref()
                    .and_then(|f| f.raw_name().ok())
                    .map(|n| demangle(&n));
                let location = frame.location.as_ref().and_then(|loc| {
                    let file: &str = loc.file?;
                    Some(match (loc.line, loc.column) {
                        (Some(l), Some(c)) if c > 0 => format!("{file}:{l}:{c}"),
                        (Some(l), _) => format!("{file}:{l}"),
                        _ => file.to_owned(),
                    })
                });
                let name = name.or_else(|| self.symbol_name(addr));
                out.push((name.unwrap_or_else(|| "??".into()), location));
            }
        }
        if out.is_empty() {
            out.push((self.symbol_name(addr).unwrap_or_else(|| "??".into()), None));
        }
        out
    }

    fn symbol_name(&self, addr: u64) -> Option<String> {
        self.image.symbol_at(addr).map(|(name, _)| demangle(name))
    }

    /// Unwinds the target's stack from `pc` (with the target's current registers).
    pub fn backtrace(&self, target: &mut dyn Target, pc: u64) -> Vec<Frame> {
        let mut regs = [0u64; 32];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = target.register(Reg::X(i as u8)).unwrap_or(0);
        }
        let mut pc = pc;
        let mut frames = Vec::new();
        let mut ctx: Box<UnwindContext<usize>> = Box::new(UnwindContext::new());
        for depth in 0..MAX_FRAMES {
            // A caller's pc is a return address: look up the call instruction instead.
            let probe = if depth == 0 { pc } else { pc.wrapping_sub(1) };
            frames.push(Frame {
                pc,
                functions: self.describe(probe),
            });
            let next = match self.cfi_step(&mut ctx, target, probe, &mut regs) {
                Some(next) => next,
                None => match self.prologue_step(target, pc, &mut regs) {
                    Some(next) => next,
                    None => break,
                },
            };
            if next == 0 || next == pc && depth > 0 || !self.in_program(next) {
                break;
            }
            pc = next;
        }
        frames
    }

    fn in_program(&self, addr: u64) -> bool {
        self.image
            .segments
            .iter()
            .any(|s| addr >= s.addr && addr < s.addr + s.data.len() as u64)
    }

    /// One CFI unwinding step: updates `regs` to the caller's, returns the caller's pc.
    fn cfi_step(
        &self,
        ctx: &mut UnwindContext<usize>,
        target: &mut dyn Target,
        probe: u64,
        regs: &mut [u64; 32],
    ) -> Option<u64> {
        if let Some(section) = &self.debug_frame {
            let bases = BaseAddresses::default();
            let found = section
                .unwind_info_for_address(&bases, ctx, probe, DebugFrame::cie_from_offset)
                .ok()
                .cloned();
            if let Some(row) = found {
                return self.apply_row(&row, target, probe, regs);
            }
        }
        if let Some((section, bases)) = &self.eh_frame {
            let found = section
                .unwind_info_for_address(bases, ctx, probe, EhFrame::cie_from_offset)
                .ok()
                .cloned();
            if let Some(row) = found {
                return self.apply_row(&row, target, probe, regs);
            }
        }
        None
    }

    /// Applies one CFI row; returns the caller's pc (0: the outermost frame).
    fn apply_row(
        &self,
        row: &UnwindTableRow<usize>,
        target: &mut dyn Target,
        probe: u64,
        regs: &mut [u64; 32],
    ) -> Option<u64> {
        let cfa = match row.cfa() {
            CfaRule::RegisterAndOffset { register, offset } => {
                regs.get(register.0 as usize)?.wrapping_add(*offset as u64)
            }
            CfaRule::Expression(_) => return None,
        };
        let old = *regs;
        let mut ra_saved = false;
        for (reg, rule) in row.registers() {
            let Register(n) = *reg;
            let Some(slot) = regs.get_mut(n as usize) else {
                continue;
            };
            match rule {
                RegisterRule::Offset(off) => {
                    *slot = read_u64(target, cfa.wrapping_add(*off as u64)).ok()?;
                    ra_saved |= n == 1;
                }
                RegisterRule::ValOffset(off) => *slot = cfa.wrapping_add(*off as u64),
                RegisterRule::Register(Register(r)) => *slot = *old.get(*r as usize)?,
                RegisterRule::Undefined if n == 1 => return Some(0),
                _ => {}
            }
        }
        if !ra_saved && self.same_function(regs[1], probe) {
            // `ra` was never saved here and points into this very function: it is left over
            // from an earlier call (a function that never returns need not keep it), not the
            // caller's return address.
            return Some(0);
        }
        regs[2] = cfa;
        Some(regs[1])
    }

    /// Unwinding without CFI, by reading the function's prologue from its symbol up to `pc`:
    /// `addi sp, sp, -N` gives the frame size, `sd ra/s0, OFF(sp)` where they are saved (the
    /// backend's and most compilers' prologue). A function that did not save `ra` is a leaf
    /// whose caller's pc is in `ra`, unless `ra` points back into the function itself (left
    /// over from an earlier call), where unwinding stops rather than list a frame twice.
    fn prologue_step(&self, target: &mut dyn Target, pc: u64, regs: &mut [u64; 32]) -> Option<u64> {
        let (_, offset) = self.image.symbol_at(pc)?;
        let start = pc - offset;
        let (mut frame, mut ra_at, mut s0_at) = (0u64, None, None);
        let mut at = start;
        while at < pc && at < start + 256 {
            let mut bytes = [0u8; 4];
            target.read_memory(at, &mut bytes).ok()?;
            let raw = isa::decode(&bytes).ok()?;
            let inst = raw.expand();
            match inst.op {
                Op::Addi if inst.rd == 2 && inst.rs1 == 2 && inst.imm < 0 => {
                    frame = inst.imm.unsigned_abs().into();
                }
                Op::Sd if inst.rs1 == 2 && inst.rs2 == 1 => ra_at = Some(inst.imm),
                Op::Sd if inst.rs1 == 2 && inst.rs2 == 8 => s0_at = Some(inst.imm),
                Op::Jal
                | Op::Jalr
                | Op::Beq
                | Op::Bne
                | Op::Blt
                | Op::Bge
                | Op::Bltu
                | Op::Bgeu => break,
                _ => {}
            }
            at += raw.len() as u64;
        }
        let sp = regs[2];
        let slot = |off: i32| sp.wrapping_add(off as i64 as u64);
        let ra = match ra_at {
            Some(off) => read_u64(target, slot(off)).ok()?,
            None if self.same_function(regs[1], pc) => return None,
            None => regs[1],
        };
        if let Some(off) = s0_at {
            regs[8] = read_u64(target, slot(off)).ok()?;
        }
        regs[1] = ra;
        regs[2] = sp.wrapping_add(frame);
        Some(ra)
    }

    /// Whether two addresses lie in the same function (by the symbol table).
    fn same_function(&self, a: u64, b: u64) -> bool {
        match (self.image.symbol_at(a), self.image.symbol_at(b)) {
            (Some((_, oa)), Some((_, ob))) => a.wrapping_sub(oa) == b.wrapping_sub(ob),
            _ => false,
        }
    }
}

/// Demangles a Rust symbol without its hash; other names are returned unchanged.
pub fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(d) => format!("{d:#}"),
        Err(_) => name.to_owned(),
    }
}

/// Prints a backtrace, one frame per line, inlined calls indented under their frame.
pub fn print(out: &mut dyn Write, frames: &[Frame]) {
    for (i, frame) in frames.iter().enumerate() {
        for (j, (name, location)) in frame.functions.iter().enumerate() {
            let prefix: Cow<'_, str> = if j == 0 {
                format!("{i:4}: {:#018x} - ", frame.pc).into()
            } else {
                "                             (inlined) ".into()
            };
            match location {
                Some(loc) => writeln!(out, "{prefix}{name}\n{:27}at {loc}", ""),
                None => writeln!(out, "{prefix}{name}"),
            }
            .ok();
        }
    }
}
