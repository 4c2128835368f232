//! `rvflash serve` under the real probe-rs crate, reached as a network Black Magic Probe
//! (selector `1d50:6018:127.0.0.1:PORT`) with the chip description boards/rvflash-sim.yaml:
//! attach, halt, read and write registers (integer, float, CSRs) and memory, download an ELF
//! built by `rvflash build` into RAM (segments written and read back, pc set), run to a hardware breakpoint,
//! single-step, resume and see the program finish (serve `--exit-on-finish` exits with its
//! status; its UART output is on serve's stdout).
#![cfg(feature = "probe-rs")] // the probe-rs crate and target: `--features probe-rs`

mod serve_support;

use std::net::SocketAddr;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use object::{Object, ObjectSegment};
use probe_rs::config::Registry;
use probe_rs::probe::list::Lister;
use probe_rs::probe::{DebugProbeSelector, WireProtocol};
use probe_rs::{CoreStatus, HaltReason, MemoryInterface, Permissions, RegisterId};

use serve_support::{addr_of, build_debuggee, elf_entry, elf_symbol, root, serve};

/// probe-rs register numbers are the debug spec's abstract register numbers.
const X: u16 = 0x1000;
const F: u16 = 0x1020;
const A0: u16 = X + 10;
const A1: u16 = X + 11;
const MISA: u16 = 0x301;
const MSCRATCH: u16 = 0x340;
/// A RAM address the debuggee does not use.
const SCRATCH: u64 = 0x8040_0000;

#[test]
fn probe_rs_debugs_the_simulated_board() {
    let dir = tempfile::tempdir().unwrap();
    let elf = build_debuggee(dir.path());
    // No FILE: the board starts empty, halted at the RAM base; probe-rs downloads the program.
    let (mut serve, addrs) = serve(&["--bmp", "127.0.0.1:0", "--exit-on-finish"]);
    let bmp = addr_of(&addrs, "bmp");

    // probe-rs blocks on its socket: run it on a thread and give up (killing serve, which
    // ends the thread) if it takes too long.
    let session = thread::spawn(move || debug_session(bmp, &elf));
    let deadline = Instant::now() + Duration::from_secs(300);
    while !session.is_finished() {
        if Instant::now() >= deadline {
            panic!(
                "the probe-rs session did not finish in time\n{}",
                serve.dump()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
    if let Err(panic) = session.join() {
        eprintln!("{}", serve.dump());
        std::panic::resume_unwind(panic);
    }

    let status = serve.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(36), "{}", serve.dump());
    assert!(
        serve.stdout().contains("value 5, square 36"),
        "{}",
        serve.dump()
    );
}

fn debug_session(bmp: SocketAddr, elf: &Path) {
    let selector: DebugProbeSelector = format!("1d50:6018:{bmp}").parse().unwrap();
    let mut probe = Lister::new().open(selector).expect("open the BMP");
    probe.select_protocol(WireProtocol::Jtag).unwrap();
    let mut registry = Registry::new();
    let yaml = std::fs::read_to_string(root().join("boards/rvflash-sim.yaml")).unwrap();
    registry.add_target_family_from_yaml(&yaml).unwrap();
    let mut session = probe
        .attach_with_registry("rvflash-sim", Permissions::default(), &registry)
        .expect("attach");
    let mut core = session.core(0).unwrap();
    core.halt(Duration::from_secs(2)).expect("halt");
    assert!(core.core_halted().unwrap());
    assert!(core.is_64_bit());
    let misa: u64 = core.read_core_reg(RegisterId(MISA)).unwrap();
    assert_eq!(misa, 0x8000_0000_0000_112d, "misa: RV64IMAFDC");

    // Registers and memory.
    core.write_core_reg(RegisterId(A1), 0x1234_5678_9abc_def0u64)
        .unwrap();
    let a1: u64 = core.read_core_reg(RegisterId(A1)).unwrap();
    assert_eq!(a1, 0x1234_5678_9abc_def0);
    core.write_core_reg(RegisterId(MSCRATCH), 0x5a5a_1234u64)
        .unwrap();
    let mscratch: u64 = core.read_core_reg(RegisterId(MSCRATCH)).unwrap();
    assert_eq!(mscratch, 0x5a5a_1234);
    core.write_word_64(SCRATCH, 0x1122_3344_5566_7788).unwrap();
    assert_eq!(core.read_word_32(SCRATCH + 4).unwrap(), 0x1122_3344);
    let bytes: Vec<u8> = (0..=255).collect();
    core.write_8(SCRATCH + 3, &bytes).unwrap();
    let mut back = vec![0u8; bytes.len()];
    core.read_8(SCRATCH + 3, &mut back).unwrap();
    assert_eq!(back, bytes);

    // Download: the ELF's segments' file contents into RAM (the startup code zeroes .bss),
    // then pc at its entry.
    let data = std::fs::read(elf).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let started = Instant::now();
    let mut bytes = 0;
    for segment in file.segments() {
        let (addr, image) = (segment.address(), segment.data().unwrap());
        core.write(addr, image).unwrap();
        bytes += image.len();
    }
    let took = started.elapsed();
    eprintln!(
        "downloaded {bytes} bytes in {took:.2?} ({:.1} KiB/s)",
        bytes as f64 / 1024.0 / took.as_secs_f64()
    );
    // Read back by words (probe-rs's byte reads over a BMP cost one round trip per bit).
    for segment in file.segments() {
        let (addr, image) = (segment.address(), segment.data().unwrap());
        assert!(addr % 4 == 0 && image.len() % 4 == 0, "word-sized segments");
        let mut words = vec![0u32; image.len() / 4];
        core.read_32(addr, &mut words).unwrap();
        let check: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(check, image, "segment at {addr:#x} reads back");
    }
    let pc = core.program_counter();
    core.write_core_reg(pc, elf_entry(elf)).unwrap();

    // The program reads `value`: make it 5.
    core.write_word_32(elf_symbol(elf, "value"), 5).unwrap();

    // Run to a hardware breakpoint on `square`, single-step its multiply.
    let square = elf_symbol(elf, "square");
    assert!(core.available_breakpoint_units().unwrap() >= 1);
    core.set_hw_breakpoint(square).unwrap();
    core.run().unwrap();
    core.wait_for_core_halted(Duration::from_secs(10))
        .expect("stop at the breakpoint");
    assert!(
        matches!(
            core.status().unwrap(),
            CoreStatus::Halted(HaltReason::Breakpoint(_))
        ),
        "{:?}",
        core.status()
    );
    let at: u64 = core.read_core_reg(pc).unwrap();
    assert_eq!(at, square);
    let a0: u64 = core.read_core_reg(RegisterId(A0)).unwrap();
    assert_eq!(a0, 5);
    core.write_core_reg(RegisterId(A0), 6u64).unwrap();
    let info = core.step().unwrap();
    assert_eq!(info.pc, square + 4);
    let a0: u64 = core.read_core_reg(RegisterId(A0)).unwrap();
    assert_eq!(a0, 36);

    // Float registers (the program's startup turned the FPU on).
    let bits = 2.5f64.to_bits();
    core.write_core_reg(RegisterId(F + 11), bits).unwrap();
    let fa1: u64 = core.read_core_reg(RegisterId(F + 11)).unwrap();
    assert_eq!(fa1, bits);

    // Resume: the program prints and exits through the finisher; serve exits with 36.
    core.clear_all_hw_breakpoints().unwrap();
    core.run().unwrap();
}
