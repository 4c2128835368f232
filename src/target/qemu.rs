//! The `qemu` target: `qemu-system-riscv64 -machine virt`, started by rvflash and driven over
//! its gdbstub by the generic GDB target ([`GdbTarget`]).
//!
//! QEMU is started as `qemu-system-riscv64 -machine virt,memory-backend=rvflash-ram -bios
//! none -nographic -m SIZE -object memory-backend-file,id=rvflash-ram,size=SIZE,
//! mem-path=/proc/self/fd/N,share=on -kernel ELF -S -gdb tcp:127.0.0.1:PORT` (`RVFLASH_QEMU`
//! overrides the program): QEMU loads the ELF, its UART is QEMU's stdout (forwarded to
//! rvflash's), and the SiFive test finisher ends QEMU with the program's status, which passes
//! through. `SIZE` is twice the board's RAM: QEMU puts its device tree at the top of RAM, and
//! an ELF whose segments (a `NOLOAD` stack) reach the end of the board's RAM would overlap it.
//!
//! The guest's RAM is shared with rvflash (`SharedRam`): an anonymous memory file
//! (`memfd_create`) that QEMU inherits as fd N and maps as its RAM, and rvflash maps too. So
//! rvflash reads and writes RAM while the program runs (RTT polling) without stopping QEMU,
//! whose gdbstub would stop the machine on any byte it receives while it runs; other memory
//! goes through the gdbstub (see the GDB target's `running`). The file exists only as long
//! as someone holds it — nothing is on disk or in /dev/shm, whatever happens to rvflash — and
//! rvflash's mapping outlives QEMU, so memory is still read after the program's exit ended
//! QEMU. Writes through the mapping are for data (RTT buffers): QEMU does not notice them
//! and keeps code it translated from the old contents. Without anonymous memory files (not
//! Linux) QEMU keeps its own RAM and everything goes through the gdbstub.
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
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::child::{Helper, Spawn, Stderr, Stdout};
use super::gdb::{DirectMemory, GdbClient, GdbTarget, Settings, Start, Started};
use super::{Image, TargetOptions};

/// How long QEMU may take to open its GDB port.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Where the `virt` machine's RAM starts.
const RAM_BASE: u64 = 0x8000_0000;
/// The id of the memory backend on QEMU's command line.
const BACKEND_ID: &str = "rvflash-ram";

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
        let ram = SharedRam::new(RAM_BASE, mem_mib << 20)?;
        let mut cmd = Command::new(&program);
        cmd.arg("-machine").arg(match &ram {
            Some(_) => format!("virt,memory-backend={BACKEND_ID}"),
            None => "virt".to_owned(),
        });
        cmd.args(["-bios", "none", "-nographic"])
            .arg("-m")
            .arg(format!("{mem_mib}M"));
        if let Some(ram) = &ram {
            let fd = ram.fd();
            cmd.arg("-object").arg(format!(
                "memory-backend-file,id={BACKEND_ID},size={mem_mib}M,\
                 mem-path=/proc/self/fd/{fd},share=on"
            ));
            // SAFETY: fcntl is async-signal-safe. The memory file stays close-on-exec in
            // rvflash, so that no other program rvflash starts (from another thread) holds it.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd.arg("-kernel")
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
            direct: ram.map(|r| Box::new(r) as Box<dyn DirectMemory>),
        })
    }
}

/// The guest's RAM, shared between QEMU and rvflash (see the module docs): an anonymous
/// memory file and rvflash's mapping of it.
struct SharedRam {
    /// The memory file, for QEMU to inherit (close-on-exec, above the standard streams).
    file: OwnedFd,
    /// rvflash's mapping: `len` bytes, guest address `base` at offset 0.
    ptr: *mut u8,
    len: usize,
    base: u64,
}

impl SharedRam {
    /// `len` bytes of zeroed RAM at guest address `base` (sparse: pages cost memory only
    /// once touched); `None` where there are no anonymous memory files (not Linux), and QEMU
    /// keeps its own RAM.
    fn new(base: u64, len: u64) -> Result<Option<SharedRam>> {
        let len_usize = usize::try_from(len).context("QEMU's RAM is too large")?;
        let Some(file) = memory_file()? else {
            return Ok(None);
        };
        let size = libc::off_t::try_from(len).context("QEMU's RAM is too large")?;
        // SAFETY: ftruncate on an fd we own.
        if unsafe { libc::ftruncate(file.as_raw_fd(), size) } != 0 {
            return Err(os_error("ftruncate"));
        }
        // SAFETY: a fresh shared mapping of the whole file; unmapped in Drop.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len_usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(os_error("mmap"));
        }
        Ok(Some(SharedRam {
            file,
            ptr: ptr.cast(),
            len: len_usize,
            base,
        }))
    }

    fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// The mapping at guest address `addr` (covered).
    fn at(&self, addr: u64) -> *mut u8 {
        // SAFETY: `covers` was checked: the offset is inside the mapping.
        unsafe { self.ptr.add((addr - self.base) as usize) }
    }
}

/// An anonymous memory file (close-on-exec, above the standard streams), or `None` where
/// there are none.
#[cfg(target_os = "linux")]
fn memory_file() -> Result<Option<OwnedFd>> {
    use std::os::fd::FromRawFd;
    // SAFETY: memfd_create with a NUL-terminated name; a valid fd is ours to own.
    let file = unsafe {
        let fd = libc::memfd_create(c"rvflash-qemu-ram".as_ptr(), libc::MFD_CLOEXEC);
        if fd < 0 {
            return Err(os_error("memfd_create"));
        }
        OwnedFd::from_raw_fd(fd)
    };
    if file.as_raw_fd() > 2 {
        return Ok(Some(file));
    }
    // A closed standard stream made the file fd 0..2, which QEMU's stdio would replace: move
    // it above them.
    // SAFETY: F_DUPFD_CLOEXEC on an fd we own; a valid new fd is ours to own.
    unsafe {
        let fd = libc::fcntl(file.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3);
        if fd < 0 {
            return Err(os_error("fcntl(F_DUPFD_CLOEXEC)"));
        }
        Ok(Some(OwnedFd::from_raw_fd(fd)))
    }
}

#[cfg(not(target_os = "linux"))]
fn memory_file() -> Result<Option<OwnedFd>> {
    Ok(None)
}

/// The error of a failed system call while sharing QEMU's RAM.
fn os_error(call: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot share QEMU's RAM with rvflash: {call}: {}",
        std::io::Error::last_os_error()
    )
}

// The guest writes this memory while rvflash reads it: every access is atomic (relaxed,
// aligned 8-byte words where possible, else bytes), never a plain copy, which would be a data
// race. Fences order one access against the next, as RTT needs: the guest writes data, then
// the write pointer; rvflash reads the pointer (acquire after), then the data.
impl DirectMemory for SharedRam {
    fn covers(&self, addr: u64, len: usize) -> bool {
        addr >= self.base
            && (addr - self.base)
                .checked_add(len as u64)
                .is_some_and(|end| end <= self.len as u64)
    }

    fn read(&self, addr: u64, buf: &mut [u8]) {
        let src = self.at(addr);
        let mut i = 0;
        while i < buf.len() {
            // SAFETY: inside the mapping (covered), which lives as long as `self`.
            let p = unsafe { src.add(i) };
            if (p as usize).is_multiple_of(8) && buf.len() - i >= 8 {
                // SAFETY: aligned, mapped and only ever accessed atomically by rvflash.
                let word = unsafe { AtomicU64::from_ptr(p.cast()) }.load(Ordering::Relaxed);
                buf[i..i + 8].copy_from_slice(&word.to_ne_bytes());
                i += 8;
            } else {
                // SAFETY: as above.
                buf[i] = unsafe { AtomicU8::from_ptr(p) }.load(Ordering::Relaxed);
                i += 1;
            }
        }
        fence(Ordering::Acquire);
    }

    fn write(&self, addr: u64, data: &[u8]) {
        fence(Ordering::Release);
        let dst = self.at(addr);
        let mut i = 0;
        while i < data.len() {
            // SAFETY: inside the mapping (covered), which lives as long as `self`.
            let p = unsafe { dst.add(i) };
            if (p as usize).is_multiple_of(8) && data.len() - i >= 8 {
                let mut word = [0u8; 8];
                word.copy_from_slice(&data[i..i + 8]);
                // SAFETY: aligned, mapped and only ever accessed atomically by rvflash.
                unsafe { AtomicU64::from_ptr(p.cast()) }
                    .store(u64::from_ne_bytes(word), Ordering::Relaxed);
                i += 8;
            } else {
                // SAFETY: as above.
                unsafe { AtomicU8::from_ptr(p) }.store(data[i], Ordering::Relaxed);
                i += 1;
            }
        }
    }
}

impl Drop for SharedRam {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once; the file closes after.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn shared_ram_copies_at_any_alignment_and_leaves_no_file() {
        let ram = SharedRam::new(RAM_BASE, 1 << 20).unwrap().unwrap();
        assert!(ram.covers(RAM_BASE, 1 << 20));
        assert!(!ram.covers(RAM_BASE - 1, 2));
        assert!(!ram.covers(RAM_BASE + (1 << 20) - 3, 4));
        assert!(!ram.covers(u64::MAX, 2));
        let data: Vec<u8> = (0..61u8).collect();
        for offset in [0u64, 1, 5, 8, 0xff_fc3] {
            ram.write(RAM_BASE + offset, &data);
            let mut back = vec![0u8; data.len()];
            ram.read(RAM_BASE + offset, &mut back);
            assert_eq!(back, data, "at offset {offset:#x}");
        }
        // The memory file is the one QEMU inherits: anonymous, nowhere in the file system.
        let link = std::fs::read_link(format!("/proc/self/fd/{}", ram.fd())).unwrap();
        assert!(
            link.to_string_lossy()
                .starts_with("/memfd:rvflash-qemu-ram"),
            "{}",
            link.display()
        );
        // Close-on-exec in rvflash; only QEMU's copy is inherited.
        // SAFETY: F_GETFD on an open fd.
        let flags = unsafe { libc::fcntl(ram.fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    }
}
