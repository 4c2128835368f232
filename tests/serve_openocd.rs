//! `rvflash serve` under the real OpenOCD (remote_bitbang, `riscv` target) and the real GDB
//! (`gdb-multiarch`), configured the way users configure them for spike: OpenOCD must examine
//! an RV64 hart with the right `misa`; GDB loads a program built by `rvflash build`, stops at a
//! software and a hardware breakpoint, single-steps, reads and writes integer, float and
//! control-and-status registers and memory, and lets the program run to its end, whose UART
//! output appears on serve's stdout and whose status serve exits with.
//!
//! Needs `openocd` (0.12) and `gdb-multiarch` (Debian packages of those names; .ci/run
//! installs them); without them the test says so and passes.

mod serve_support;

use std::fs;
use std::process::Command;
use std::time::Duration;

use serve_support::{
    Spawned, addr_of, build_debuggee, elf_entry, elf_symbol as symbol, free_port, have, serve,
};

/// misa of an RV64IMAFDC hart: MXL = 2, extensions A C D F I M.
const MISA: &str = "misa=0x800000000000112d";

#[test]
fn openocd_and_gdb_debug_the_simulated_board() {
    if !have("openocd") || !have("gdb-multiarch") {
        // CI installs them (.ci/run): there, missing tools are a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have openocd and gdb-multiarch"
        );
        eprintln!("skipped: needs openocd and gdb-multiarch (apt install openocd gdb-multiarch)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let elf = build_debuggee(dir.path());
    let (mut serve, addrs) = serve(&[
        "--remote-bitbang",
        "127.0.0.1:0",
        "--exit-on-finish",
        elf.to_str().unwrap(),
    ]);
    let rbb = addr_of(&addrs, "remote_bitbang");

    let gdb_port = free_port();
    let cfg = dir.path().join("sim.cfg");
    fs::write(
        &cfg,
        format!(
            "adapter driver remote_bitbang\n\
             remote_bitbang host 127.0.0.1\n\
             remote_bitbang port {}\n\
             transport select jtag\n\
             jtag newtap riscv cpu -irlen 5 -expected-id 0x10000913\n\
             target create riscv.cpu riscv -chain-position riscv.cpu\n\
             gdb_port {gdb_port}\n\
             tcl_port disabled\n\
             telnet_port disabled\n\
             init\n\
             halt\n",
            rbb.port()
        ),
    )
    .unwrap();
    let mut openocd = Command::new("openocd");
    openocd.arg("-f").arg(&cfg);
    let mut openocd = Spawned::start("openocd", openocd);
    let log = openocd.wait_for("for gdb connections", true, Duration::from_secs(60));
    assert!(
        log.contains("XLEN=64") && log.contains(MISA),
        "OpenOCD did not examine an RV64IMAFDC hart ({MISA}):\n{log}"
    );

    let script = dir.path().join("session.gdb");
    fs::write(
        &script,
        format!(
            r#"set pagination off
set confirm off
set architecture riscv:rv64
file {elf}
target extended-remote 127.0.0.1:{gdb_port}
load
printf "LOADED pc=%#lx\n", $pc
break *main
hbreak square
continue
printf "MAIN pc=%#lx\n", $pc
set {{int}}&value = 12
printf "VALUE %d\n", {{int}}&value
continue
printf "SQUARE pc=%#lx a0=%d\n", $pc, $a0
set $a0 = 9
stepi
printf "STEPPED pc=%#lx a0=%d\n", $pc, $a0
set $ft0.double = 2.5
printf "FT0 %f\n", $ft0.double
set $fa1.float = -0.75
printf "FA1 %f\n", $fa1.float
printf "MISA %#lx\n", $misa
set $mscratch = 0x5a5a1234
printf "MSCRATCH %#lx\n", $mscratch
set {{long}}0x80400000 = 0x1122334455667788
printf "MEM %#lx %#x\n", {{long}}0x80400000, {{int}}0x80400004
delete
break rv_exit
continue
printf "EXIT a0=%d\n", $a0
delete
monitor resume
detach
"#,
            elf = elf.display()
        ),
    )
    .unwrap();
    let mut gdb = Command::new("gdb-multiarch");
    gdb.args(["--batch", "-nx", "-x"]).arg(&script);
    let mut gdb = Spawned::start("gdb-multiarch", gdb);
    let gdb_status = gdb.wait(Duration::from_secs(180));
    let out = gdb.stdout();
    let context = |serve: &Spawned| format!("{}\n{}\n{}", gdb.dump(), openocd.dump(), serve.dump());
    assert!(gdb_status.success(), "gdb failed\n{}", context(&serve));

    let entry = elf_entry(&elf);
    for expected in [
        format!("LOADED pc={entry:#x}"),
        format!("MAIN pc={:#x}", symbol(&elf, "main")),
        "Breakpoint 2, 0x".to_owned(),
        "VALUE 12".to_owned(),
        format!("SQUARE pc={:#x} a0=12", symbol(&elf, "square")),
        format!("STEPPED pc={:#x} a0=81", symbol(&elf, "square") + 4),
        "FT0 2.500000".to_owned(),
        "FA1 -0.750000".to_owned(),
        "MISA 0x800000000000112d".to_owned(),
        "MSCRATCH 0x5a5a1234".to_owned(),
        "MEM 0x1122334455667788 0x11223344".to_owned(),
        "EXIT a0=81".to_owned(),
    ] {
        assert!(
            out.contains(&expected),
            "gdb printed no {expected:?}\n{}",
            context(&serve)
        );
    }

    // Resumed (OpenOCD does not resume a target GDB detaches from) the program runs to its
    // end: its UART output on serve's stdout, its status serve's (--exit-on-finish).
    let status = serve.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(81), "{}", context(&serve));
    assert!(
        serve.stdout().contains("value 12, square 81"),
        "{}",
        context(&serve)
    );
}
