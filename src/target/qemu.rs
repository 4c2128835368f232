//! The `qemu` target: `qemu-system-riscv64 -machine virt`, started by rvflash and driven over
//! its gdbstub by the generic GDB target ([`GdbTarget`]).
//!
//! QEMU is started as `qemu-system-riscv64 -machine virt -bios none -nographic -m SIZE
//! -kernel ELF -S -gdb tcp:127.0.0.1:PORT` (`RVFLASH_QEMU` overrides the program): QEMU loads
//! the ELF, its UART is QEMU's stdout (forwarded to rvflash's), and the SiFive test finisher
//! ends QEMU with the program's status, which passes through. `SIZE` is twice the board's RAM:
//! QEMU puts its device tree at the top of RAM, and an ELF whose segments (a `NOLOAD` stack)
//! reach the end of the board's RAM would overlap it.
//!
//! Semihosting is rvflash's own, as on every board, not QEMU's (no `-semihosting-config`):
//! QEMU then takes a semihosting `ebreak` for an ordinary exception, so [`GdbTarget`] puts a
//! breakpoint on every semihosting `ebreak` of the image and services the call above the
//! seam (files only below `--semihosting-dir`, 64-bit parameter blocks, the program's
//! arguments).
//!
//! Everything after the start — pc set to the ELF entry, breakpoints, trap catching, stops —
//! is [`GdbTarget`]'s. QEMU never outlives rvflash (a [`Helper`]: its own process group,
//! killed on drop, from signal handlers and by `PR_SET_PDEATHSIG`).
//!
//! This file must not speak the GDB protocol beyond connecting (`gdb` does).

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::child::{Helper, Spawn, Stderr, Stdout};
use super::gdb::{GdbClient, GdbTarget, Settings, Start, Started};
use super::{Image, TargetOptions};

/// How long QEMU may take to open its GDB port.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The `qemu` target: [`QemuTarget::new`] builds a [`GdbTarget`] that starts QEMU.
pub struct QemuTarget;

impl QemuTarget {
    /// A target for a board with `ram_size` bytes of RAM.
    #[allow(clippy::new_ret_no_self)] // the QEMU target *is* a GDB target with this start
    pub fn new(options: TargetOptions, ram_size: u64) -> GdbTarget {
        let settings = Settings {
            reset: None,
            // QEMU loaded the ELF itself (`-kernel`).
            verify: false,
            semihosting: true,
            ..Settings::default()
        };
        let start = QemuStart { ram_size };
        GdbTarget::new(options, settings, Box::new(start))
    }
}

/// Starts QEMU with the image and connects to its gdbstub.
struct QemuStart {
    ram_size: u64,
}

impl Start for QemuStart {
    fn start(&mut self, image: &Image, deadline: Instant) -> Result<Started> {
        let program = std::env::var_os("RVFLASH_QEMU").unwrap_or("qemu-system-riscv64".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("cannot find a free TCP port for QEMU's GDB server")?
            .port();
        let elf = std::path::absolute(&image.path).unwrap_or_else(|_| image.path.clone());
        let mem_mib = (self.ram_size.saturating_mul(2) >> 20).max(16);
        let mut cmd = Command::new(&program);
        cmd.args(["-machine", "virt", "-bios", "none", "-nographic"])
            .arg("-m")
            .arg(format!("{mem_mib}M"))
            .arg("-kernel")
            .arg(&elf)
            .arg("-S")
            .arg("-gdb")
            .arg(format!("tcp:127.0.0.1:{port}"));
        let mut qemu = Helper::spawn(
            cmd,
            Spawn {
                name: "QEMU",
                missing: "Debian/Ubuntu: apt install qemu-system-misc; or set RVFLASH_QEMU to \
                          its path",
                stdout: Stdout::Forward,
                stderr: Stderr::Inherit,
                log: None,
                verbose: false,
            },
        )?;
        let deadline = deadline.min(Instant::now() + STARTUP_TIMEOUT);
        let addr = format!("127.0.0.1:{port}");
        let client = loop {
            if let Some(status) = qemu.exit_status() {
                bail!("QEMU exited before accepting a GDB connection ({status})");
            }
            let attempt = (Instant::now() + Duration::from_millis(200)).min(deadline);
            match GdbClient::connect(&addr, "QEMU's GDB server", attempt) {
                Ok(client) => break client,
                Err(err) if Instant::now() >= deadline => {
                    return Err(err.context("QEMU did not open its GDB port"));
                }
                Err(_) => {}
            }
        };
        Ok(Started {
            client,
            helpers: vec![qemu],
            exit_from: Some(0),
            exit_line: None,
            preloaded: true,
        })
    }
}
