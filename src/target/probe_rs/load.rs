//! Loading an image through probe-rs: every loadable segment's file contents (the startup code
//! zeroes `.bss`, as on every board), then, unless `--no-verify`, reading it all back.
//!
//! Where a segment goes decides how: into the chip's RAM (or memory its description does not
//! list) it is written directly, in [`CHUNK`]-sized pieces so the progress bar moves; into a
//! flash (NVM) region it goes through probe-rs's flash algorithm for that region (erase,
//! program, verify), which is the only way to write flash. Reads back use 32-bit accesses:
//! probe-rs reads bytes one bus access each on RV64.
//!
//! Verifying RAM runs a hash routine on the hart when the board leaves it a work area (see
//! `hart_code`; reading back is a bus access per word, slow over some probes), and reads back
//! what it cannot hash or where the hash differs.
//!
//! Figures (bytes, time to download, time to verify) are kept in a [`Report`] for `--stats`
//! and the benchmark.
//!
//! This file must not attach, run or stop the core (`mod` does).

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use probe_rs::config::MemoryRegion;
use probe_rs::flashing::{DownloadOptions, FlashProgress, ProgressEvent, ProgressOperation};
use probe_rs::{MemoryInterface, Session};

use super::connect::{chain, describe};
use super::hart_code::{Hasher, hash};
use super::progress::Bar;
use crate::target::Image;

/// Bytes per direct write or read-back.
pub const CHUNK: usize = 4096;

/// What a load did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Bytes written (RAM and flash).
    pub bytes: u64,
    /// Of which into flash.
    pub flash_bytes: u64,
    /// Time writing (and, for flash, erasing and programming).
    pub download: Duration,
    /// Time reading back, when verified.
    pub verify: Option<Duration>,
}

impl Report {
    /// `N bytes in T s (S KiB/s)`.
    pub fn describe_download(&self) -> String {
        rate(self.bytes, self.download)
    }
}

/// `N bytes in T s (S KiB/s)`.
pub fn rate(bytes: u64, time: Duration) -> String {
    let secs = time.as_secs_f64().max(1e-9);
    format!(
        "{bytes} bytes in {:.3} s ({:.1} KiB/s)",
        secs,
        bytes as f64 / 1024.0 / secs
    )
}

/// Loads `image` through core `core` of `session`; verifies when asked.
/// `work_area` (see `hart_code`): where the hart may run the fast verify routine.
pub fn load(
    session: &mut Session,
    core: usize,
    image: &Image,
    verify: bool,
    work_area: Option<u64>,
) -> Result<Report> {
    let map = session.target().memory_map.clone();
    let mut ram = Vec::new();
    let mut flash = Vec::new();
    for seg in image.segments.iter().filter(|s| !s.data.is_empty()) {
        let end = seg.addr + seg.data.len() as u64;
        let in_flash = map.iter().any(|r| match r {
            MemoryRegion::Nvm(n) => n.range.start < end && seg.addr < n.range.end,
            _ => false,
        });
        if in_flash {
            flash.push(seg);
        } else {
            ram.push(seg);
        }
    }
    let mut report = Report::default();
    if !flash.is_empty() {
        report.flash_bytes = flash_segments(session, &flash, verify, &mut report)?;
    }
    let ram_bytes: u64 = ram.iter().map(|s| s.data.len() as u64).sum();
    if ram_bytes > 0 {
        let mut c = session
            .core(core)
            .map_err(|e| describe(e, "while attaching to the core"))?;
        super::guard::set_phase("while downloading the program");
        let mut bar = Bar::new("loading", ram_bytes);
        let written = Instant::now();
        for seg in &ram {
            for (i, piece) in seg.data.chunks(CHUNK).enumerate() {
                let addr = seg.addr + (i * CHUNK) as u64;
                c.write(addr, piece).map_err(|e| {
                    describe(
                        e,
                        &format!("while downloading the program (writing {addr:#x})"),
                    )
                })?;
                bar.advance(piece.len() as u64);
            }
        }
        bar.finish();
        report.download += written.elapsed();
        drop(c);
        if verify {
            super::guard::set_phase("while verifying the program");
            let checked = Instant::now();
            let mut bar = Bar::new("verifying", ram_bytes);
            let hasher = work_area.and_then(|at| Hasher::install(session, core, at).ok());
            for seg in &ram {
                // Whole words are hashed on the hart; ragged ends, and everything when that
                // fails or differs, are read back.
                let len = seg.data.len();
                let head = ((4 - (seg.addr % 4) as usize) % 4).min(len);
                let tail = (len - head) % 4;
                let middle = &seg.data[head..len - tail];
                let at = seg.addr + head as u64;
                let hashed = !middle.is_empty()
                    && hasher.as_ref().is_some_and(|h| {
                        h.run(session, core, at, middle.len() as u64).ok() == Some(hash(middle))
                    });
                if hashed {
                    read_back(session, core, seg.addr, &seg.data[..head])?;
                    read_back(
                        session,
                        core,
                        at + middle.len() as u64,
                        &seg.data[len - tail..],
                    )?;
                } else {
                    read_back(session, core, seg.addr, &seg.data)?;
                }
                bar.advance(len as u64);
            }
            bar.finish();
            *report.verify.get_or_insert(Duration::ZERO) += checked.elapsed();
        }
    }
    report.bytes = report.flash_bytes + ram_bytes;
    if report.verify.is_none() && verify {
        report.verify = Some(Duration::ZERO);
    }
    Ok(report)
}

/// Reads `data`'s bytes back from `addr` and compares; an error says where they differ.
fn read_back(session: &mut Session, core: usize, addr: u64, data: &[u8]) -> Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut c = session
        .core(core)
        .map_err(|e| describe(e, "while verifying the program"))?;
    for (i, piece) in data.chunks(CHUNK).enumerate() {
        let addr = addr + (i * CHUNK) as u64;
        let mut back = vec![0u8; piece.len()];
        read_words(&mut c, addr, &mut back).map_err(|e| {
            describe(
                e,
                &format!("while verifying the program (reading {addr:#x})"),
            )
        })?;
        if let Some(at) = piece.iter().zip(&back).position(|(a, b)| a != b) {
            bail!(
                "verify failed: the byte at {:#x} reads back {:#04x}, {:#04x} was written (is \
                 there RAM at this address? for DDR, has the boot firmware initialised it?)",
                addr + at as u64,
                back[at],
                piece[at]
            );
        }
    }
    Ok(())
}

/// Writes `segs` into flash with probe-rs's flash algorithms; returns the bytes written.
fn flash_segments(
    session: &mut Session,
    segs: &[&crate::image::Segment],
    verify: bool,
    report: &mut Report,
) -> Result<u64> {
    super::guard::set_phase("while flashing the program");
    let mut loader = session.target().flash_loader();
    let mut bytes = 0;
    for seg in segs {
        loader.add_data(seg.addr, &seg.data).map_err(|e| {
            anyhow!(
                "the program's segment at {:#x} cannot be flashed: {}",
                seg.addr,
                chain(&e)
            )
        })?;
        bytes += seg.data.len() as u64;
    }
    let mut bars: Vec<(String, Bar)> = Vec::new();
    let mut verify_time = Duration::ZERO;
    let progress = FlashProgress::new(|event| match event {
        ProgressEvent::AddProgressBar { operation, total } => {
            let label = label(operation);
            match bars.iter_mut().find(|(l, _)| *l == label) {
                Some((_, bar)) => bar.add_total(total.unwrap_or(0)),
                None => bars.push((label.clone(), Bar::new(&label, total.unwrap_or(0)))),
            }
        }
        ProgressEvent::Progress {
            operation,
            size,
            time,
        } => {
            let label = label(operation);
            if matches!(operation, ProgressOperation::Verify) {
                verify_time += time;
            }
            if let Some((_, bar)) = bars.iter_mut().find(|(l, _)| *l == label) {
                bar.advance(size);
            }
        }
        ProgressEvent::Finished(operation) | ProgressEvent::Failed(operation) => {
            let label = label(operation);
            if let Some((_, bar)) = bars.iter_mut().find(|(l, _)| *l == label) {
                bar.finish();
            }
        }
        _ => {}
    });
    let mut options = DownloadOptions::default();
    options.verify = verify;
    options.progress = progress;
    let started = Instant::now();
    loader
        .commit(session, options)
        .map_err(|e| match super::connect::connection_lost(&e) {
            Some(lost) => anyhow!("{lost} while flashing the program"),
            None => anyhow!("flashing the program failed: {}", chain(&e)),
        })?;
    report.download += started.elapsed();
    if verify {
        report.verify = Some(verify_time);
    }
    Ok(bytes)
}

fn label(op: ProgressOperation) -> String {
    match op {
        ProgressOperation::Fill => "reading",
        ProgressOperation::Erase => "erasing",
        ProgressOperation::Program => "flashing",
        ProgressOperation::Verify => "verifying",
    }
    .to_owned()
}

/// Reads `buf.len()` bytes at `addr` with aligned 32-bit accesses (one bus access per word;
/// the bytes around the range in its first and last words are read and dropped).
pub fn read_words(
    mem: &mut impl MemoryInterface<probe_rs::Error>,
    addr: u64,
    buf: &mut [u8],
) -> Result<(), probe_rs::Error> {
    if buf.is_empty() {
        return Ok(());
    }
    let start = addr & !3;
    let end = (addr + buf.len() as u64 + 3) & !3;
    let mut words = vec![0u32; ((end - start) / 4) as usize];
    mem.read_32(start, &mut words)?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let skip = (addr - start) as usize;
    buf.copy_from_slice(&bytes[skip..skip + buf.len()]);
    Ok(())
}
