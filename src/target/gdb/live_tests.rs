//! Memory access while the program runs (RTT polling: [`Target::read_memory_running`]) on the
//! real thing: `qemu-virt` (QEMU's RAM shared with rvflash; its gdbstub, halting, outside RAM)
//! and `sim-openocd` (OpenOCD on `rvflash serve`, through System Bus Access). The probe-rs
//! target's test (`sim-probe-rs`) uses the same program and checks.
//!
//! The program ([`counter_elf`]) counts in RAM and copies word A to word B, forever; it ends
//! QEMU or the simulated board through the SiFive test finisher with status 7 when A is
//! [`EXIT_MAGIC`]. While it runs, the test reads the counter twice, a sleep apart (it must
//! have moved on: the program runs during the reads), writes A (B must follow), reads 1 KiB a
//! few times (the time per read is printed: `--nocapture`), then checks that the program still
//! runs and that the reads work on a stopped program too. `wait`'s contract around halting
//! accesses — a stop that comes meanwhile is reported, never lost — is tested against the
//! scripted server (`tests`).
//!
//! QEMU and OpenOCD are required: without them these tests fail and name the Debian package.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::board::Board;
use crate::image::Image;
use crate::target::gdb_server;
use crate::target::qemu::QemuTarget;
use crate::target::{Stop, Target, TargetOptions};

/// Where the program is loaded (RAM of every board here).
pub(crate) const BASE: u64 = 0x8000_0000;
/// The counter the program increments.
pub(crate) const COUNTER: u64 = BASE + 0x40;
/// Word A, which the program copies to word B.
pub(crate) const WORD_A: u64 = BASE + 0x48;
pub(crate) const WORD_B: u64 = BASE + 0x50;
/// A value of A that makes the program exit (SiFive test finisher, status 7).
pub(crate) const EXIT_MAGIC: u64 = 0x3e5;

/// The program (see the module docs): position-independent code, its data at +0x40.
pub(crate) fn counter_code() -> Vec<u8> {
    let words: [u32; 14] = [
        0x0000_0297, // auipc t0, 0
        0x0402_8293, // addi t0, t0, 64          (t0 = &counter)
        0x3e50_0e13, // li t3, EXIT_MAGIC
        0x0002_b303, // loop: ld t1, 0(t0)
        0x0013_0313, // addi t1, t1, 1
        0x0062_b023, // sd t1, 0(t0)            (counter += 1)
        0x0082_b383, // ld t2, 8(t0)
        0x0072_b823, // sd t2, 16(t0)           (B = A)
        0xffc3_96e3, // bne t2, t3, loop
        0x0010_0eb7, // lui t4, 0x100           (the SiFive test finisher)
        0x0007_3f37, // lui t5, 0x73
        0x333f_0f13, // addi t5, t5, 0x333      (0x73333: fail, status 7)
        0x01ee_a023, // sw t5, 0(t4)
        0x0000_006f, // j .
    ];
    let mut code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    while code.len() < 0x40 {
        code.extend_from_slice(&0x0000_0013u32.to_le_bytes()); // nop
    }
    code.extend_from_slice(&[0; 24]); // counter, A, B
    code
}

/// The program as an ELF executable (one RWX segment at [`BASE`]).
pub(crate) fn counter_elf() -> Vec<u8> {
    crate::target::sim_vs_qemu_tests::elf(BASE, &counter_code())
}

/// The built-in board `name` and the program, as an image for it (its file in `dir`).
pub(crate) fn counter_image(name: &str, dir: &Path) -> (Board, Image) {
    let board = crate::board::select(Some(name), &[]).expect("a built-in board");
    let path = dir.join("counter.elf");
    std::fs::write(&path, counter_elf()).expect("write the test program");
    let image = Image::from_file(&path, &board).expect("the test program is an image");
    (board, image)
}

fn read_u64(target: &mut dyn Target, addr: u64) -> u64 {
    let mut word = [0u8; 8];
    target
        .read_memory_running(addr, &mut word)
        .unwrap_or_else(|e| panic!("read_memory_running at {addr:#x}: {e:#}"));
    u64::from_le_bytes(word)
}

/// Polls `addr` until it holds `value` (the program copies it there within a few loops).
fn wait_for(target: &mut dyn Target, addr: u64, value: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = read_u64(target, addr);
        if now == value {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {addr:#x} holds {now:#x}, not {value:#x}: the program did not see the write"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The checks of the module docs on a loaded `target`, which is left stopped (interrupted).
pub(crate) fn check_memory_while_running(target: &mut dyn Target, what: &str) {
    target.resume().unwrap();
    let stop = target
        .wait(Instant::now() + Duration::from_millis(200))
        .unwrap();
    assert_eq!(stop, Stop::Running, "{what}: the program should run on");
    let first = read_u64(target, COUNTER);
    std::thread::sleep(Duration::from_millis(100));
    let second = read_u64(target, COUNTER);
    assert!(
        second > first,
        "{what}: the counter went from {first} to {second}: the program does not run during \
         the reads"
    );
    let magic = 0x1234_5678_9abc_def0u64;
    target
        .write_memory_running(WORD_A, &magic.to_le_bytes())
        .unwrap();
    wait_for(target, WORD_B, magic, what);
    // Up to 20 reads, or as many as fit in a second (probe-rs's are slow).
    let mut kib = [0u8; 1024];
    let started = Instant::now();
    let mut runs = 0u32;
    while runs < 20 && (runs == 0 || started.elapsed() < Duration::from_secs(1)) {
        target.read_memory_running(BASE, &mut kib).unwrap();
        runs += 1;
    }
    let each = started.elapsed() / runs;
    let mut header = [0u8; 24];
    let small = Instant::now();
    for _ in 0..10 {
        target.read_memory_running(COUNTER, &mut header).unwrap();
    }
    eprintln!(
        "{what}: read_memory_running while the program runs: 1 KiB {each:.2?}, 24 bytes {:.2?}",
        small.elapsed() / 10
    );
    assert_eq!(
        &kib[..0x40],
        &counter_code()[..0x40],
        "{what}: the code, read back"
    );
    let third = read_u64(target, COUNTER);
    assert!(third > second, "{what}: the program stopped counting");
    // No stop appeared from the accesses.
    let stop = target
        .wait(Instant::now() + Duration::from_millis(50))
        .unwrap();
    assert_eq!(stop, Stop::Running, "{what}: still running");
    // Stopped, the same calls work, and the counter holds still.
    target.interrupt().unwrap();
    let stop = target
        .wait(Instant::now() + Duration::from_secs(10))
        .unwrap();
    assert_eq!(stop, Stop::Interrupted, "{what}");
    let held = read_u64(target, COUNTER);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        read_u64(target, COUNTER),
        held,
        "{what}: stopped, yet counting"
    );
    target
        .write_memory_running(WORD_A, &7u64.to_le_bytes())
        .unwrap();
    assert_eq!(read_u64(target, WORD_A), 7, "{what}: a write while stopped");
}

fn require(program: &str, package: &str) {
    let found = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "this test needs `{program}` (Debian/Ubuntu: apt install {package})"
    );
}

#[test]
fn qemu_memory_is_read_and_written_while_the_program_runs() {
    require("qemu-system-riscv64", "qemu-system-misc");
    let dir = tempfile::tempdir().unwrap();
    let (board, image) = counter_image("qemu-virt", dir.path());
    let mut target = QemuTarget::new(TargetOptions::default(), board.ram().length);
    target.load(&image).unwrap();
    check_memory_while_running(&mut target, "qemu-virt");

    // Outside RAM (the boot ROM at 0x1000) the gdbstub is used, halting QEMU for the access;
    // the program goes on afterwards.
    target.resume().unwrap();
    let stop = target
        .wait(Instant::now() + Duration::from_millis(100))
        .unwrap();
    assert_eq!(stop, Stop::Running);
    let mut rom = [0u8; 1024];
    let started = Instant::now();
    for _ in 0..5 {
        target.read_memory_running(0x1000, &mut rom).unwrap();
    }
    eprintln!(
        "qemu-virt: read_memory_running of 1 KiB outside RAM (halting QEMU): {:.2?}",
        started.elapsed() / 5
    );
    assert_ne!(rom, [0u8; 1024], "QEMU's boot ROM holds the reset code");
    let before = read_u64(&mut target, COUNTER);
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        read_u64(&mut target, COUNTER) > before,
        "resumed after the access"
    );
    let stop = target
        .wait(Instant::now() + Duration::from_millis(50))
        .unwrap();
    assert_eq!(stop, Stop::Running);

    // The program's exit ends QEMU; its RAM is still there to read.
    let counted = read_u64(&mut target, COUNTER);
    target
        .write_memory_running(WORD_A, &EXIT_MAGIC.to_le_bytes())
        .unwrap();
    let stop = target
        .wait(Instant::now() + Duration::from_secs(10))
        .unwrap();
    assert_eq!(stop, Stop::Exited(7));
    let last = read_u64(&mut target, COUNTER);
    assert!(last >= counted, "the counter after the exit: {last}");
    assert_eq!(read_u64(&mut target, WORD_B), EXIT_MAGIC);
    drop(target);
    let left: Vec<_> = std::fs::read_dir("/dev/shm")
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !left.iter().any(|n| n.to_string_lossy().contains("rvflash")),
        "left in /dev/shm: {left:?}"
    );
}

#[test]
fn openocd_memory_is_read_and_written_while_the_program_runs() {
    require("openocd", "openocd");
    let dir = tempfile::tempdir().unwrap();
    let (board, image) = counter_image("sim-openocd", dir.path());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut target =
        gdb_server::new_target(&board, TargetOptions::default(), deadline, false).unwrap();
    target.load(&image).unwrap();
    check_memory_while_running(&mut target, "sim-openocd");
}
