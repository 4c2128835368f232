//! Differential test: the `sim` target and QEMU (`qemu-system-riscv64 -machine virt`, driven
//! through our GDB client) must end random instruction sequences in the same state.
//!
//! [`seqgen`] builds [`CASES`] sequences from a fixed seed (integer, M, A, F/D, CSR and
//! compressed ops; see its docs) into one image, written as a tiny ELF and loaded into both
//! targets through the [`Target`] seam. For each case the test sets `pc` to the case's start,
//! runs both to the shared end address (a breakpoint), and compares x1..x31, f0..f31, `fcsr`,
//! `mstatus`' FS/SD/MIE/MPIE bits and the case's 3.5 KiB scratch memory. A case that reaches
//! the trap vector instead fails with `mcause`/`mepc`/`mtval` (the generator never traps on
//! purpose). Failures list the case's instructions and every differing register.
//!
//! All cases share one QEMU process and one simulator: 400 cases take a few seconds.
//! `RVFLASH_DIFF_SEED=N cargo test --bin rvflash sim_and_qemu` explores other sequences.
//!
//! This is a unit test of the binary crate because the GDB client and the QEMU target live
//! there. QEMU is required: without it the test fails and names the Debian package.

mod seqgen;

use std::time::{Duration, Instant};

use rvflash_backend::isa::Op;
use rvflash_backend::isa::disasm::Disasm;

use super::qemu::QemuTarget;
use super::sim::SimTarget;
use super::{Image, Reg, Stop, Target, TargetOptions, csr};
use crate::image::Segment;
use seqgen::{END, Program, SCRATCH, SCRATCH_LEN, TRAP_VEC};

/// How many sequences are compared.
const CASES: usize = 400;
/// The generator's seed (fixed, so a failure reproduces).
const SEED: u64 = 0x5157_0e51_9e3c_0ffe;
/// RAM of the machines (QEMU `virt`'s default).
const RAM_SIZE: u64 = 128 << 20;
/// `mstatus` bits compared: SD, FS, MPIE, MIE.
const MSTATUS_MASK: u64 = 1 << 63 | 3 << 13 | 1 << 7 | 1 << 3;

/// The state a case leaves behind.
#[derive(Debug, PartialEq, Eq)]
struct State {
    /// `None` at the end address; `Some((mcause, mepc, mtval))` at the trap vector.
    trap: Option<(u64, u64, u64)>,
    x: [u64; 32],
    f: [u64; 32],
    fcsr: u64,
    mstatus: u64,
    scratch: Vec<u8>,
}

fn run_case(target: &mut dyn Target, case: &seqgen::Case) -> anyhow::Result<State> {
    target.set_register(Reg::Pc, case.start)?;
    target.resume()?;
    let stop = target.wait(Instant::now() + Duration::from_secs(10))?;
    let trap = match stop {
        Stop::Breakpoint(END) => None,
        Stop::Breakpoint(TRAP_VEC) => Some((
            target.register(Reg::Csr(csr::MCAUSE))?,
            target.register(Reg::Csr(csr::MEPC))?,
            target.register(Reg::Csr(csr::MTVAL))?,
        )),
        other => anyhow::bail!("unexpected stop {other:?}"),
    };
    let mut x = [0; 32];
    for (n, v) in x.iter_mut().enumerate().skip(1) {
        *v = target.register(Reg::X(n as u8))?;
    }
    let mut f = [0; 32];
    for (n, v) in f.iter_mut().enumerate() {
        *v = target.register(Reg::F(n as u8))?;
    }
    let fcsr = target.register(Reg::Csr(0x003))? & 0xff;
    let mstatus = target.register(Reg::Csr(0x300))? & MSTATUS_MASK;
    let mut scratch = vec![0; SCRATCH_LEN as usize];
    target.read_memory(case.data + SCRATCH, &mut scratch)?;
    Ok(State {
        trap,
        x,
        f,
        fcsr,
        mstatus,
        scratch,
    })
}

/// A readable account of how two states differ.
fn differences(sim: &State, qemu: &State) -> String {
    let mut out = String::new();
    if sim.trap != qemu.trap {
        out.push_str(&format!(
            "  trap (mcause, mepc, mtval): sim {:x?}  qemu {:x?}\n",
            sim.trap, qemu.trap
        ));
    }
    let mut regs: Vec<(String, u64, u64)> = Vec::new();
    for n in 1..32 {
        let name = format!("x{n}/{}", super::ABI_NAMES[n]);
        regs.push((name, sim.x[n], qemu.x[n]));
    }
    for n in 0..32 {
        regs.push((format!("f{n}"), sim.f[n], qemu.f[n]));
    }
    regs.push(("fcsr".into(), sim.fcsr, qemu.fcsr));
    regs.push(("mstatus".into(), sim.mstatus, qemu.mstatus));
    for (name, s, q) in regs {
        if s != q {
            out.push_str(&format!("  {name:>8}: sim {s:#018x}  qemu {q:#018x}\n"));
        }
    }
    for (i, (s, q)) in sim.scratch.iter().zip(&qemu.scratch).enumerate() {
        if s != q {
            out.push_str(&format!(
                "  memory at scratch+{i:#x}: sim {s:#04x} qemu {q:#04x}\n"
            ));
        }
    }
    out
}

fn listing(case: &seqgen::Case) -> String {
    case.listing
        .iter()
        .map(|(pc, inst)| {
            let text = Disasm {
                inst,
                pc: *pc,
                symbols: None,
                comment: None,
            };
            format!("  {pc:x}: {text}\n")
        })
        .collect()
}

/// An ELF64 RV64 executable with one `PT_LOAD` segment holding `data` at `addr` (also the
/// live-memory tests' program).
pub(crate) fn elf(addr: u64, data: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes()); // entry
    f.extend_from_slice(&64u64.to_le_bytes()); // phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // shoff
    f.extend_from_slice(&0x5u32.to_le_bytes()); // EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE
    for v in [64u16, 56, 1, 64, 0, 0] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    let offset = 0x1000u64;
    f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f.extend_from_slice(&7u32.to_le_bytes()); // RWX
    f.extend_from_slice(&offset.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes());
    f.extend_from_slice(&(data.len() as u64).to_le_bytes());
    f.extend_from_slice(&(data.len() as u64).to_le_bytes());
    f.extend_from_slice(&0x1000u64.to_le_bytes());
    f.resize(offset as usize, 0);
    f.extend_from_slice(data);
    f
}

fn require_qemu() {
    let program = std::env::var_os("RVFLASH_QEMU").unwrap_or("qemu-system-riscv64".into());
    let found = std::process::Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the sim-vs-QEMU differential test needs `{}` (Debian/Ubuntu: apt install \
         qemu-system-misc; or set RVFLASH_QEMU to its path)",
        program.to_string_lossy()
    );
}

#[test]
fn generated_cases_are_deterministic_and_fit() {
    let a = Program::generate(SEED, 20);
    let b = Program::generate(SEED, 20);
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.cases.len(), 20);
    assert_ne!(Program::generate(SEED + 1, 20).bytes, a.bytes);
}

#[test]
fn generated_cases_cover_every_op() {
    let program = Program::generate(SEED, CASES);
    let used: std::collections::HashSet<Op> = program
        .cases
        .iter()
        .flat_map(|c| c.listing.iter().map(|(_, inst)| inst.op))
        .collect();
    let missing: Vec<&Op> = Op::ALL
        .iter()
        .filter(|&&op| seqgen::is_generated(op) && !used.contains(&op))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    assert!(
        Op::ALL
            .iter()
            .filter(|&&op| seqgen::is_generated(op))
            .count()
            > 180
    );
}

#[test]
fn sim_and_qemu_agree_on_random_instruction_sequences() {
    require_qemu();
    let started = Instant::now();
    // `RVFLASH_DIFF_SEED=N` explores other sequences; the default seed is what CI runs.
    let seed = std::env::var("RVFLASH_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let program = Program::generate(seed, CASES);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("sim-vs-qemu.elf");
    let bytes = elf(seqgen::BASE, &program.bytes);
    std::fs::write(&path, &bytes).expect("write the test ELF");
    let image = Image {
        path,
        entry: seqgen::BASE,
        segments: vec![Segment {
            addr: seqgen::BASE,
            mem_size: program.bytes.len() as u64,
            data: program.bytes.clone(),
        }],
        symbols: Vec::new(),
        bytes,
    };
    let mut sim = SimTarget::new(
        TargetOptions::default(),
        seqgen::BASE,
        RAM_SIZE,
        Box::new(std::io::sink()),
    );
    let mut qemu = QemuTarget::new(TargetOptions::default(), RAM_SIZE);
    for target in [&mut sim as &mut dyn Target, &mut qemu] {
        target.load(&image).expect("load the test program");
        target.set_breakpoint(END).expect("breakpoint");
        target.set_breakpoint(TRAP_VEC).expect("breakpoint");
    }
    let mut failures = Vec::new();
    for (i, case) in program.cases.iter().enumerate() {
        let s = run_case(&mut sim, case).unwrap_or_else(|e| panic!("case {i} on sim: {e:#}"));
        let q = run_case(&mut qemu, case).unwrap_or_else(|e| panic!("case {i} on QEMU: {e:#}"));
        if s != q || s.trap.is_some() {
            failures.push(format!(
                "case {i} (start {:#x}):\n{}differences:\n{}",
                case.start,
                listing(case),
                differences(&s, &q)
            ));
        }
    }
    eprintln!(
        "sim vs QEMU: {} cases, {} differ, {:.2} s",
        CASES,
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {CASES} cases (seed {seed:#x}) differ or trapped; the first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}
