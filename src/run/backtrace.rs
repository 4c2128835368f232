//! Symbolised backtraces of a stopped target.
//!
//! Unwinding uses the program's DWARF call-frame information (`.debug_frame`, then
//! `.eh_frame`) through `gimli`: each frame's CFA and saved registers (`ra`, `s0`, ...) are
//! recovered from target memory. Where a function has no CFI, it falls back to the RISC-V
//! frame-pointer convention (`ra` at `s0 - 8`, the caller's `s0` at `s0 - 16`) and, for the
//! innermost frame, to the `ra` register (a leaf function). Addresses become
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
use goblin::elf::Elf;

use crate::image::Image;
use crate::target::{Reg, Target, read_u64};

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
        let Ok(elf) = Elf::parse(&image.bytes) else {
            return symbols;
        };
        let section = |name: &str| -> Option<(u64, R)> {
            let sh = elf.section_headers.iter().find(|sh| {
                elf.shdr_strtab.get_at(sh.sh_name) == Some(name)
                    && sh.sh_type != goblin::elf::section_header::SHT_NOBITS
            })?;
            let start = usize::try_from(sh.sh_offset).ok()?;
            let len = usize::try_from(sh.sh_size).ok()?;
            let bytes = image.bytes.get(start..start.checked_add(len)?)?;
            Some((
                sh.sh_addr,
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
                None => match fallback_step(target, depth, &mut regs) {
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
                return apply_row(&row, target, regs);
            }
        }
        if let Some((section, bases)) = &self.eh_frame {
            let found = section
                .unwind_info_for_address(bases, ctx, probe, EhFrame::cie_from_offset)
                .ok()
                .cloned();
            if let Some(row) = found {
                return apply_row(&row, target, regs);
            }
        }
        None
    }
}

fn apply_row(
    row: &UnwindTableRow<usize>,
    target: &mut dyn Target,
    regs: &mut [u64; 32],
) -> Option<u64> {
    let cfa = match row.cfa() {
        CfaRule::RegisterAndOffset { register, offset } => {
            regs.get(register.0 as usize)?.wrapping_add(*offset as u64)
        }
        CfaRule::Expression(_) => return None,
    };
    let old = *regs;
    let mut ra_undefined = false;
    for (reg, rule) in row.registers() {
        let Register(n) = *reg;
        let Some(slot) = regs.get_mut(n as usize) else {
            continue;
        };
        match rule {
            RegisterRule::Offset(off) => {
                *slot = read_u64(target, cfa.wrapping_add(*off as u64)).ok()?;
            }
            RegisterRule::ValOffset(off) => *slot = cfa.wrapping_add(*off as u64),
            RegisterRule::Register(Register(r)) => *slot = *old.get(*r as usize)?,
            RegisterRule::Undefined if n == 1 => ra_undefined = true,
            _ => {}
        }
    }
    if ra_undefined {
        return Some(0);
    }
    regs[2] = cfa;
    Some(regs[1])
}

/// Unwinding without CFI: `ra` for the innermost frame, the frame-pointer chain otherwise.
fn fallback_step(target: &mut dyn Target, depth: usize, regs: &mut [u64; 32]) -> Option<u64> {
    if depth == 0 {
        return Some(regs[1]);
    }
    let fp = regs[8];
    if fp == 0 || !fp.is_multiple_of(8) {
        return None;
    }
    let ra = read_u64(target, fp.wrapping_sub(8)).ok()?;
    let prev_fp = read_u64(target, fp.wrapping_sub(16)).ok()?;
    regs[2] = fp;
    regs[8] = prev_fp;
    regs[1] = ra;
    Some(ra)
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
