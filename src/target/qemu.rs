//! The `qemu` target: `qemu-system-riscv64 -machine virt`, driven over GDB.
//!
//! QEMU is started as
//! `qemu-system-riscv64 -machine virt -bios none -nographic -semihosting-config
//! enable=on,target=native,chardev=serial0 -m SIZE -kernel ELF -S -gdb tcp:127.0.0.1:PORT`
//! (`RVFLASH_QEMU` overrides the program). QEMU loads the ELF and handles semihosting
//! itself (console on the same stdout as the UART, exit through `SYS_EXIT`), and the SiFive
//! test finisher ends the process with the program's status; either way the exit status
//! passes through. `SIZE` is twice the board's RAM: QEMU puts its device tree at the top of
//! RAM, and an ELF whose segments (a `NOLOAD` stack) reach the end of the board's RAM would
//! overlap it.
//!
//! Note: with `target=native`, QEMU's `SYS_OPEN` reaches the host file system relative to
//! QEMU's working directory, which rvflash sets to `--semihosting-dir` (or an empty temporary
//! directory); rvflash's own service (on `sim`) is stricter.
//!
//! The hart starts at the ELF entry (pc is set over GDB before the first resume), like every
//! board, whatever address the image is linked at.
//!
//! Traps: with trap catching on, breakpoints go on the trap vector (`_start_trap`, riscv-rt's
//! and rvflash runtime's name, when the ELF has it), on `mtvec`'s value at reset (0, where
//! a hart without a vector ends up) and on `mtvec`'s value when `main` is reached (a one-shot
//! breakpoint there reads it after the runtime set it). A stop there with `mcause`'s interrupt bit clear is
//! reported as [`Stop::Trap`] (with `mepc`); interrupts are stepped over transparently.
//!
//! QEMU never outlives rvflash: it runs in its own process group, is killed when the target is
//! dropped and from SIGINT/SIGTERM/SIGHUP handlers, and gets `PR_SET_PDEATHSIG(SIGKILL)`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use super::gdb::{GdbClient, StopReply};
use super::{Image, Reg, Stop, Target, TargetOptions, csr};

/// How long QEMU may take to open its GDB port.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The process group of the running QEMU, for the signal handlers (0: none).
static QEMU_PGID: AtomicI32 = AtomicI32::new(0);

/// The `qemu` target.
pub struct QemuTarget {
    options: TargetOptions,
    ram_size: u64,
    workdir: PathBuf,
    child: Option<Child>,
    gdb: Option<GdbClient>,
    regs: HashMap<String, u32>,
    breakpoints: Vec<u64>,
    trap_vectors: Vec<u64>,
    /// A one-shot breakpoint (at `main`) where `mtvec` is read again, after the runtime set it.
    mtvec_probe: Option<u64>,
    /// `-semihosting-config arg=...` values: program name and arguments (`SYS_GET_CMDLINE`).
    cmdline: Vec<String>,
    /// The pc of the last stop, when it was at one of our breakpoints.
    stopped_at: Option<u64>,
    exited: Option<i32>,
    /// Signals when the stdout-forwarding thread has seen QEMU's stdout close.
    stdout_done: Option<mpsc::Receiver<()>>,
    /// QEMU's stdout pipe and the lock the forwarding thread holds while moving data.
    stdout_sync: Option<(RawFd, Arc<Mutex<bool>>)>,
}

impl QemuTarget {
    /// A target for a board with `ram_size` bytes of RAM; `workdir` becomes QEMU's working
    /// directory (semihosting file access is relative to it); `cmdline` (program name and
    /// arguments) is what the program's `SYS_GET_CMDLINE` returns.
    pub fn new(
        options: TargetOptions,
        ram_size: u64,
        workdir: &Path,
        cmdline: Vec<String>,
    ) -> QemuTarget {
        QemuTarget {
            options,
            ram_size,
            workdir: workdir.to_path_buf(),
            child: None,
            gdb: None,
            regs: HashMap::new(),
            breakpoints: Vec::new(),
            trap_vectors: Vec::new(),
            mtvec_probe: None,
            cmdline,
            stopped_at: None,
            exited: None,
            stdout_done: None,
            stdout_sync: None,
        }
    }

    fn gdb(&mut self) -> Result<&mut GdbClient> {
        self.gdb
            .as_mut()
            .ok_or_else(|| anyhow!("QEMU is not running"))
    }

    fn spawn(&mut self, elf: &Path) -> Result<u16> {
        let program = std::env::var_os("RVFLASH_QEMU").unwrap_or("qemu-system-riscv64".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("cannot find a free TCP port for QEMU's GDB server")?
            .port();
        let elf = std::path::absolute(elf).unwrap_or_else(|_| elf.to_path_buf());
        let mem_mib = (self.ram_size.saturating_mul(2) >> 20).max(16);
        let mut semihosting = String::from("enable=on,target=native,chardev=serial0");
        for arg in &self.cmdline {
            // QEMU option values escape commas by doubling them.
            semihosting.push_str(",arg=");
            semihosting.push_str(&arg.replace(',', ",,"));
        }
        let mut cmd = Command::new(&program);
        cmd.args(["-machine", "virt", "-bios", "none", "-nographic"])
            .arg("-semihosting-config")
            .arg(semihosting)
            .arg("-m")
            .arg(format!("{mem_mib}M"))
            .arg("-kernel")
            .arg(&elf)
            .arg("-S")
            .arg("-gdb")
            .arg(format!("tcp:127.0.0.1:{port}"))
            .current_dir(&self.workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                #[cfg(target_os = "linux")]
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                anyhow!(
                    "cannot run `{}`: QEMU is not installed (Debian/Ubuntu: apt install \
                     qemu-system-misc; or set RVFLASH_QEMU to its path)",
                    program.to_string_lossy()
                )
            } else {
                anyhow!("cannot run `{}`: {err}", program.to_string_lossy())
            }
        })?;
        let pid = i32::try_from(child.id()).unwrap_or(0);
        QEMU_PGID.store(pid, Ordering::SeqCst);
        install_signal_handlers();
        if let Some(mut out) = child.stdout.take() {
            let (tx, rx) = mpsc::channel();
            let fd = out.as_raw_fd();
            let forwarding = Arc::new(Mutex::new(false));
            let held = Arc::clone(&forwarding);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let stdout = std::io::stdout();
                loop {
                    // Wait for data without holding the lock, then read and forward under it,
                    // so that `sync_stdout` knows nothing is in flight.
                    let mut pfd = libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    if unsafe { libc::poll(&mut pfd, 1, 50) } == 0 {
                        continue;
                    }
                    let Ok(mut closed) = held.lock() else { break };
                    match out.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            // The pipe closes with `out`, under the lock.
                            *closed = true;
                            drop(out);
                            break;
                        }
                        Ok(n) => {
                            let mut lock = stdout.lock();
                            lock.write_all(&buf[..n]).ok();
                            lock.flush().ok();
                        }
                    }
                }
                tx.send(()).ok();
            });
            self.stdout_done = Some(rx);
            self.stdout_sync = Some((fd, forwarding));
        }
        self.child = Some(child);
        Ok(port)
    }

    /// Waits for QEMU to end (its stdout drained) and returns its exit status.
    fn reap(&mut self) -> Result<i32> {
        if let Some(status) = self.exited {
            return Ok(status);
        }
        let child = self
            .child
            .as_mut()
            .ok_or_else(|| anyhow!("QEMU is not running"))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                bail!("QEMU closed its GDB connection but did not exit");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.drain_stdout();
        QEMU_PGID.store(0, Ordering::SeqCst);
        let code = match status.code() {
            Some(code) => code,
            None => bail!("QEMU was killed by a signal ({status})"),
        };
        self.exited = Some(code);
        self.gdb = None;
        Ok(code)
    }

    /// Waits (briefly) until everything QEMU wrote so far has been forwarded to stdout, so
    /// the program's output comes before rvflash's report of a stop.
    fn sync_stdout(&self) {
        let Some((fd, lock)) = &self.stdout_sync else {
            return;
        };
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            {
                let Ok(closed) = lock.lock() else { return };
                if *closed {
                    return;
                }
                let mut pending: libc::c_int = 0;
                // SAFETY: FIONREAD on the pipe, which lives as long as the forwarding thread.
                let ok = unsafe { libc::ioctl(*fd, libc::FIONREAD, &mut pending) } == 0;
                if !ok || pending == 0 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn drain_stdout(&mut self) {
        if let Some(rx) = self.stdout_done.take() {
            rx.recv_timeout(Duration::from_secs(2)).ok();
        }
    }

    fn reg_number(&self, reg: Reg) -> Result<u32> {
        Ok(match reg {
            Reg::X(n) if n < 32 => u32::from(n),
            Reg::Pc => 32,
            Reg::F(n) if n < 32 => self
                .regs
                .get(&format!("f{n}"))
                .or_else(|| self.regs.get(FP_ABI_NAMES[n as usize]))
                .copied()
                .unwrap_or(33 + u32::from(n)),
            Reg::Csr(num) => {
                let name = csr_name(num).ok_or_else(|| anyhow!("unknown CSR {num:#x}"))?;
                // QEMU numbers its CSR registers `base + csr number` and serves every CSR by
                // number, including those its description leaves out (the FP CSRs while
                // `mstatus.FS` was off when the description was made).
                let by_number = || {
                    self.regs
                        .get("mstatus")
                        .map(|&m| m - 0x300 + u32::from(num))
                };
                self.regs
                    .get(name)
                    .copied()
                    .or_else(by_number)
                    .ok_or_else(|| anyhow!("QEMU does not expose CSR {name} over GDB"))?
            }
            other => bail!("no such register {other:?}"),
        })
    }

    /// Handles a SIGTRAP stop: a trap vector becomes [`Stop::Trap`] (or is stepped over for
    /// interrupts, returning `None`), our breakpoints become [`Stop::Breakpoint`].
    fn classify_stop(&mut self) -> Result<Option<Stop>> {
        self.sync_stdout();
        let pc = self.register(Reg::Pc)?;
        if self.mtvec_probe == Some(pc) {
            // The runtime has set mtvec by now: catch traps there too.
            self.mtvec_probe = None;
            self.gdb()?.remove_breakpoint(pc)?;
            self.breakpoints.retain(|&b| b != pc);
            let vector = self.register(Reg::Csr(csr::MTVEC))? & !3;
            if !self.trap_vectors.contains(&vector) {
                self.set_breakpoint(vector)?;
                self.trap_vectors.push(vector);
            }
            self.stopped_at = None;
            self.resume()?;
            return Ok(None);
        }
        self.stopped_at = self.breakpoints.contains(&pc).then_some(pc);
        if self.trap_vectors.contains(&pc) {
            let cause = self.register(Reg::Csr(csr::MCAUSE))?;
            if cause >> 63 != 0 {
                self.resume()?;
                return Ok(None);
            }
            let epc = self.register(Reg::Csr(csr::MEPC))?;
            let tval = self.register(Reg::Csr(csr::MTVAL))?;
            return Ok(Some(Stop::Trap {
                cause,
                pc: epc,
                tval,
            }));
        }
        Ok(Some(if self.stopped_at.is_some() {
            Stop::Breakpoint(pc)
        } else {
            // Stopped by an interrupt request.
            Stop::Interrupted
        }))
    }
}

impl Target for QemuTarget {
    fn load(&mut self, image: &Image) -> Result<()> {
        let port = self.spawn(&image.path)?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let addr = format!("127.0.0.1:{port}");
        let gdb = loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("QEMU exited before accepting a GDB connection ({status})");
            }
            match GdbClient::connect(&addr, Instant::now() + Duration::from_millis(200)) {
                Ok(gdb) => break gdb,
                Err(err) if Instant::now() >= deadline => {
                    return Err(err.context("QEMU did not open its GDB port"));
                }
                Err(_) => {}
            }
        };
        self.gdb = Some(gdb);
        let gdb = self.gdb()?;
        gdb.halt_reason()?;
        self.regs = gdb.register_map().unwrap_or_default();
        // QEMU's reset code jumps to the start of RAM, not to the ELF entry; every board
        // starts at the entry, so pc is set before the first resume.
        self.set_register(Reg::Pc, image.entry)?;
        if self.options.catch_traps {
            let mut vectors = vec![self.register(Reg::Csr(csr::MTVEC)).unwrap_or(0) & !3];
            if let Some(addr) = image.symbol("_start_trap") {
                vectors.push(addr);
            }
            vectors.dedup();
            for addr in vectors {
                self.set_breakpoint(addr)?;
                self.trap_vectors.push(addr);
            }
            if let Some(main) = image.symbol("main")
                && !self.breakpoints.contains(&main)
            {
                self.set_breakpoint(main)?;
                self.mtvec_probe = Some(main);
            }
        }
        Ok(())
    }

    fn resume(&mut self) -> Result<()> {
        if let Some(pc) = self.stopped_at.take() {
            let gdb = self.gdb()?;
            gdb.remove_breakpoint(pc)?;
            gdb.step()?;
            let stop = gdb.wait_stop(Some(Instant::now() + Duration::from_secs(10)))?;
            gdb.insert_breakpoint(pc)?;
            match stop {
                Some(StopReply::Signal(_)) => {}
                Some(StopReply::Exited(code)) => {
                    self.exited = Some(i32::from(code));
                    return Ok(());
                }
                other => bail!("unexpected reply to a single step: {other:?}"),
            }
        }
        self.gdb()?.cont()
    }

    fn wait(&mut self, deadline: Instant) -> Result<Stop> {
        loop {
            if let Some(code) = self.exited {
                return Ok(Stop::Exited(code));
            }
            let gdb = self.gdb()?;
            let reply = gdb.wait_stop(Some(deadline));
            let console = gdb.take_console();
            if !console.is_empty() {
                let mut out = std::io::stdout().lock();
                out.write_all(&console)?;
                out.flush()?;
            }
            let reply = match reply {
                Ok(None) => {
                    self.sync_stdout();
                    return Ok(Stop::Running);
                }
                Ok(reply) => reply,
                // QEMU ended (SiFive test finisher) and closed the connection.
                Err(_) => return Ok(Stop::Exited(self.reap()?)),
            };
            match reply {
                None => return Ok(Stop::Running),
                Some(StopReply::Exited(code)) => {
                    // QEMU exits with the same status right after; let its output drain.
                    let status = self.reap().unwrap_or(i32::from(code));
                    return Ok(Stop::Exited(status));
                }
                Some(StopReply::Terminated(sig)) => {
                    bail!("QEMU reported the program terminated by signal {sig}")
                }
                Some(StopReply::Signal(_)) => {
                    if let Some(stop) = self.classify_stop()? {
                        return Ok(stop);
                    }
                }
            }
        }
    }

    fn interrupt(&mut self) -> Result<()> {
        self.gdb()?.interrupt()
    }

    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.gdb()?.read_memory(addr, buf)
    }

    fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.gdb()?.write_memory(addr, data)
    }

    fn register(&mut self, reg: Reg) -> Result<u64> {
        let num = self.reg_number(reg)?;
        self.gdb()?.read_register(num)
    }

    fn set_register(&mut self, reg: Reg, value: u64) -> Result<()> {
        let num = self.reg_number(reg)?;
        self.gdb()?.write_register(num, value)
    }

    fn set_breakpoint(&mut self, addr: u64) -> Result<()> {
        if !self.breakpoints.contains(&addr) {
            self.gdb()?.insert_breakpoint(addr)?;
            self.breakpoints.push(addr);
        }
        Ok(())
    }
}

impl Drop for QemuTarget {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pid) = i32::try_from(child.id())
                && child.try_wait().ok().flatten().is_none()
            {
                // SAFETY: kill(2) on QEMU's own process group.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            child.wait().ok();
            QEMU_PGID.store(0, Ordering::SeqCst);
        }
    }
}

/// ABI names of f0..f31, as QEMU's target description uses them.
const FP_ABI_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

fn csr_name(num: u16) -> Option<&'static str> {
    Some(match num {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x300 => "mstatus",
        0x304 => "mie",
        0x305 => "mtvec",
        0x340 => "mscratch",
        0x341 => "mepc",
        0x342 => "mcause",
        0x343 => "mtval",
        0x344 => "mip",
        _ => return None,
    })
}

extern "C" fn on_signal(sig: libc::c_int) {
    let pgid = QEMU_PGID.load(Ordering::SeqCst);
    // SAFETY: kill, signal and raise are async-signal-safe.
    unsafe {
        if pgid > 0 {
            libc::kill(-pgid, libc::SIGKILL);
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

fn install_signal_handlers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: installing a handler that only calls async-signal-safe functions.
            unsafe {
                libc::signal(sig, on_signal as *const () as libc::sighandler_t);
            }
        }
    });
}
