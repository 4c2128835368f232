//! The RISC-V semihosting service, above the target seam.
//!
//! A program makes a call with `a0` = operation and `a1` = a pointer to a parameter block of
//! 64-bit words (RV64), then the magic sequence `slli x0,x0,0x1f; ebreak; srai x0,x0,7`. The
//! target stops with [`Stop::Semihosting`](crate::target::Stop::Semihosting); the run loop
//! calls [`Semihosting::service`], which reads the block through the [`Target`] trait, does
//! the work, and completes the call with the result in `a0`.
//!
//! Implemented: `SYS_OPEN` (handles start at 1, never 0, as the spec says; `:tt` is the console: read modes give stdin, write modes stdout,
//! append modes stderr; other names are opened only below `--semihosting-dir`, relative,
//! without `..`; otherwise the call fails with -1 and errno EACCES; the host is never touched),
//! `CLOSE`, `WRITEC`, `WRITE0`, `WRITE`, `READ`, `READC`, `ISERROR`, `ISTTY`, `SEEK`, `FLEN`,
//! `CLOCK`, `TIME`, `ERRNO`, `GET_CMDLINE` (program name + arguments after `--`), `HEAPINFO`
//! (from the linker symbols `_sheap`/`_eheap`/`_stack_start`/`_stack_size` when present,
//! else zeros), `EXIT` and `EXIT_EXTENDED`, `ELAPSED`, `TICKFREQ` (1 MHz). Anything else
//! returns -1 with errno ENOSYS.
//!
//! `EXIT` follows QEMU: on RV64 `a1` points to `[reason, subcode]`; reason
//! `ADP_Stopped_ApplicationExit` (0x20026) exits with `subcode`, any other reason with 1. If
//! `a1` is not a readable pointer, it is taken as the reason itself (the 32-bit convention:
//! 0x20026 exits with 0, anything else with 1).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;

use crate::target::{Reg, Target};

/// Semihosting operation numbers.
pub mod op {
    pub const OPEN: u64 = 0x01;
    pub const CLOSE: u64 = 0x02;
    pub const WRITEC: u64 = 0x03;
    pub const WRITE0: u64 = 0x04;
    pub const WRITE: u64 = 0x05;
    pub const READ: u64 = 0x06;
    pub const READC: u64 = 0x07;
    pub const ISERROR: u64 = 0x08;
    pub const ISTTY: u64 = 0x09;
    pub const SEEK: u64 = 0x0a;
    pub const FLEN: u64 = 0x0c;
    pub const CLOCK: u64 = 0x10;
    pub const TIME: u64 = 0x11;
    pub const ERRNO: u64 = 0x13;
    pub const GET_CMDLINE: u64 = 0x15;
    pub const HEAPINFO: u64 = 0x16;
    pub const EXIT: u64 = 0x18;
    pub const EXIT_EXTENDED: u64 = 0x20;
    pub const ELAPSED: u64 = 0x30;
    pub const TICKFREQ: u64 = 0x31;
}

/// `ADP_Stopped_ApplicationExit`.
pub const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

const EACCES: u64 = 13;
const EBADF: u64 = 9;
const EINVAL: u64 = 22;
const ENOSYS: u64 = 38;
const FAIL: u64 = u64::MAX;
/// Longest string or buffer the service moves in one call.
const MAX_TRANSFER: u64 = 1 << 24;

/// What the run loop does after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Resume the program.
    Continue,
    /// The program exited with this status.
    Exit(i32),
}

/// Heap and stack bounds reported by `SYS_HEAPINFO`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapInfo {
    pub heap_base: u64,
    pub heap_limit: u64,
    pub stack_base: u64,
    pub stack_limit: u64,
}

enum Handle {
    Stdin,
    Stdout,
    Stderr,
    File(File),
}

/// The semihosting service of one run.
pub struct Semihosting<'io> {
    dir: Option<PathBuf>,
    cmdline: String,
    heap: HeapInfo,
    handles: Vec<Option<Handle>>,
    errno: u64,
    start: Instant,
    stdout: &'io mut dyn Write,
    stderr: &'io mut dyn Write,
    stdin: &'io mut dyn Read,
}

impl<'io> Semihosting<'io> {
    /// A service giving file access below `dir` only, answering `GET_CMDLINE` with `cmdline`.
    pub fn new(
        dir: Option<PathBuf>,
        cmdline: String,
        heap: HeapInfo,
        stdout: &'io mut dyn Write,
        stderr: &'io mut dyn Write,
        stdin: &'io mut dyn Read,
    ) -> Self {
        Semihosting {
            dir,
            cmdline,
            heap,
            handles: Vec::new(),
            errno: 0,
            start: Instant::now(),
            stdout,
            stderr,
            stdin,
        }
    }

    /// Services the call the target stopped at and completes it (unless it exits).
    pub fn service(&mut self, target: &mut dyn Target) -> Result<Outcome> {
        let op = target.register(Reg::X(10))?;
        let arg = target.register(Reg::X(11))?;
        if op == op::EXIT || op == op::EXIT_EXTENDED {
            self.stdout.flush().ok();
            return Ok(Outcome::Exit(exit_status(target, arg)));
        }
        let result = self.call(target, op, arg)?;
        target.finish_semihosting(result)?;
        Ok(Outcome::Continue)
    }

    fn fail(&mut self, errno: u64) -> u64 {
        self.errno = errno;
        FAIL
    }

    fn call(&mut self, t: &mut dyn Target, op: u64, arg: u64) -> Result<u64> {
        let word = |t: &mut dyn Target, i: u64| crate::target::read_u64(t, arg + 8 * i);
        Ok(match op {
            op::OPEN => {
                let (name, mode, len) = (word(t, 0)?, word(t, 1)?, word(t, 2)?);
                let Some(name) = read_bytes(t, name, len) else {
                    return Ok(self.fail(EINVAL));
                };
                self.open(&String::from_utf8_lossy(&name), mode)
            }
            op::CLOSE => {
                let h = word(t, 0)?;
                match self.handles.get_mut(h as usize) {
                    Some(slot @ Some(_)) => {
                        *slot = None;
                        0
                    }
                    _ => self.fail(EBADF),
                }
            }
            op::WRITEC => {
                let mut c = [0u8];
                t.read_memory(arg, &mut c)?;
                self.stdout.write_all(&c)?;
                self.stdout.flush()?;
                0
            }
            op::WRITE0 => {
                let text = read_cstr(t, arg)?;
                self.stdout.write_all(&text)?;
                self.stdout.flush()?;
                0
            }
            op::WRITE => {
                let (h, buf, len) = (word(t, 0)?, word(t, 1)?, word(t, 2)?);
                let Some(data) = read_bytes(t, buf, len) else {
                    return Ok(self.fail(EINVAL));
                };
                let written = match self.handles.get_mut(h as usize) {
                    Some(Some(Handle::Stdout)) => self
                        .stdout
                        .write_all(&data)
                        .and_then(|()| self.stdout.flush()),
                    Some(Some(Handle::Stderr)) => self
                        .stderr
                        .write_all(&data)
                        .and_then(|()| self.stderr.flush()),
                    Some(Some(Handle::File(f))) => f.write_all(&data),
                    _ => return Ok(self.fail(EBADF)),
                };
                match written {
                    Ok(()) => 0,
                    Err(_) => len,
                }
            }
            op::READ => {
                let (h, buf, len) = (word(t, 0)?, word(t, 1)?, word(t, 2)?);
                if len > MAX_TRANSFER {
                    return Ok(self.fail(EINVAL));
                }
                let mut data = vec![0u8; len as usize];
                let n = match self.handles.get_mut(h as usize) {
                    Some(Some(Handle::Stdin)) => self.stdin.read(&mut data).unwrap_or(0),
                    Some(Some(Handle::File(f))) => f.read(&mut data).unwrap_or(0),
                    Some(Some(_)) => 0,
                    _ => return Ok(self.fail(EBADF)),
                };
                t.write_memory(buf, &data[..n])?;
                len - n as u64
            }
            op::READC => {
                let mut c = [0u8];
                match self.stdin.read(&mut c) {
                    Ok(1) => u64::from(c[0]),
                    _ => FAIL,
                }
            }
            op::ISERROR => u64::from((word(t, 0)? as i64) < 0),
            op::ISTTY => match self.handles.get(word(t, 0)? as usize) {
                Some(Some(Handle::File(_))) => 0,
                Some(Some(_)) => 1,
                _ => self.fail(EBADF),
            },
            op::SEEK => {
                let (h, pos) = (word(t, 0)?, word(t, 1)?);
                match self.handles.get_mut(h as usize) {
                    Some(Some(Handle::File(f))) => match f.seek(SeekFrom::Start(pos)) {
                        Ok(_) => 0,
                        Err(_) => self.fail(EINVAL),
                    },
                    _ => self.fail(EBADF),
                }
            }
            op::FLEN => match self.handles.get(word(t, 0)? as usize) {
                Some(Some(Handle::File(f))) => match f.metadata() {
                    Ok(m) => m.len(),
                    Err(_) => self.fail(EBADF),
                },
                Some(Some(_)) => 0,
                _ => self.fail(EBADF),
            },
            op::CLOCK => (self.start.elapsed().as_millis() / 10) as u64,
            op::TIME => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            op::ERRNO => self.errno,
            op::GET_CMDLINE => {
                let (buf, size) = (word(t, 0)?, word(t, 1)?);
                let mut text = self.cmdline.clone().into_bytes();
                if text.len() as u64 + 1 > size {
                    return Ok(self.fail(EINVAL));
                }
                let len = text.len() as u64;
                text.push(0);
                t.write_memory(buf, &text)?;
                t.write_memory(arg + 8, &len.to_le_bytes())?;
                0
            }
            op::HEAPINFO => {
                let block = word(t, 0)?;
                let h = self.heap;
                let mut bytes = Vec::with_capacity(32);
                for v in [h.heap_base, h.heap_limit, h.stack_base, h.stack_limit] {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
                t.write_memory(block, &bytes)?;
                0
            }
            op::ELAPSED => {
                let ticks = self.start.elapsed().as_micros() as u64;
                t.write_memory(arg, &ticks.to_le_bytes())?;
                0
            }
            op::TICKFREQ => 1_000_000,
            _ => self.fail(ENOSYS),
        })
    }

    fn open(&mut self, name: &str, mode: u64) -> u64 {
        let handle = if name == ":tt" {
            match mode {
                0..=3 => Handle::Stdin,
                4..=7 => Handle::Stdout,
                8..=11 => Handle::Stderr,
                _ => return self.fail(EINVAL),
            }
        } else {
            let Some(path) = self.dir.as_deref().and_then(|d| confine(d, name)) else {
                return self.fail(EACCES);
            };
            let mut options = std::fs::OpenOptions::new();
            match mode {
                0 | 1 => options.read(true),
                2 | 3 => options.read(true).write(true),
                4 | 5 => options.write(true).create(true).truncate(true),
                6 | 7 => options.read(true).write(true).create(true).truncate(true),
                8 | 9 => options.append(true).create(true),
                10 | 11 => options.read(true).append(true).create(true),
                _ => return self.fail(EINVAL),
            };
            match options.open(path) {
                Ok(f) => Handle::File(f),
                Err(e) => return self.fail(e.raw_os_error().map_or(EACCES, |n| n as u64)),
            }
        };
        // Handle 0 is never given out: the spec says a successful open returns a nonzero
        // handle, and clients (the `semihosting` crate) assert it.
        if self.handles.is_empty() {
            self.handles.push(None);
        }
        let slot = self.handles.iter().skip(1).position(Option::is_none);
        match slot {
            Some(i) => {
                self.handles[i + 1] = Some(handle);
                i as u64 + 1
            }
            None => {
                self.handles.push(Some(handle));
                self.handles.len() as u64 - 1
            }
        }
    }
}

/// `dir/name` when `name` is relative and stays below `dir`.
fn confine(dir: &Path, name: &str) -> Option<PathBuf> {
    let rel = Path::new(name);
    let normal = rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    (normal && !name.is_empty()).then(|| dir.join(rel))
}

fn exit_status(t: &mut dyn Target, arg: u64) -> i32 {
    let mut block = [0u8; 16];
    match t.read_memory(arg, &mut block) {
        Ok(()) => {
            let reason = u64::from_le_bytes(block[..8].try_into().unwrap_or_default());
            let code = u64::from_le_bytes(block[8..].try_into().unwrap_or_default());
            if reason == ADP_STOPPED_APPLICATION_EXIT {
                code as i32
            } else {
                1
            }
        }
        Err(_) => i32::from(arg != ADP_STOPPED_APPLICATION_EXIT),
    }
}

fn read_bytes(t: &mut dyn Target, addr: u64, len: u64) -> Option<Vec<u8>> {
    if len > MAX_TRANSFER {
        return None;
    }
    let mut buf = vec![0u8; len as usize];
    t.read_memory(addr, &mut buf).ok()?;
    Some(buf)
}

fn read_cstr(t: &mut dyn Target, mut addr: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 64];
    while (out.len() as u64) < MAX_TRANSFER {
        // Read byte-wise near the end of memory; chunk-wise otherwise.
        let n = if t.read_memory(addr, &mut chunk).is_ok() {
            64
        } else {
            t.read_memory(addr, &mut chunk[..1])?;
            1
        };
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..end]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        addr += n as u64;
    }
    Ok(out)
}

#[cfg(test)]
#[path = "semihosting_tests.rs"]
mod tests;
