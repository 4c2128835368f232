//! The probe-rs target on `sim-probe-rs` — the probe-rs crate, its network Black Magic Probe
//! driver, `rvflash serve --bmp` and the simulator's Debug Module, all real: memory is read
//! and written while the program runs (System Bus Access), with the program and checks of the
//! GDB targets' (`gdb::live_tests`).

use std::time::{Duration, Instant};

use super::{ProbeOptions, new_target};
use crate::target::gdb::live_tests::{check_memory_while_running, counter_image};
use crate::target::{Target, TargetOptions};

#[test]
fn memory_is_read_and_written_while_the_program_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (board, image) = counter_image("sim-probe-rs", dir.path());
    let options = ProbeOptions {
        verify: true,
        ..ProbeOptions::default()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut target =
        new_target(&board, TargetOptions::default(), options, deadline, false).unwrap();
    target.load(&image).unwrap();
    check_memory_while_running(&mut target, "sim-probe-rs");
}
