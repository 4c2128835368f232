//! Loading an image through a GDB server: RAM with `X` (or `M`) packets, flash with
//! `vFlashErase`/`vFlashWrite`/`vFlashDone` where the server's memory map says flash, then
//! verification with `qCRC` (read-back where the server computes no CRCs). A progress line
//! on stderr while loading, when stderr is a terminal.
//!
//! This file must not decide when to load or what runs afterwards (`target` does).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::client::{GdbClient, Transport};
use super::xml::MapRegion;
use crate::image::Image;

/// Bytes written between progress updates (a write request or a few).
const PIECE: usize = 4 * 1024;

/// What loading did, for `--stats` and `--verbose`.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub bytes: u64,
    pub flash_bytes: u64,
    pub load_time: Duration,
    /// `X`, `M`, or empty when nothing was written to RAM.
    pub packets: &'static str,
    /// `qCRC`, `read-back`, or empty when not verified.
    pub verified_by: &'static str,
    pub verify_time: Duration,
}

impl LoadReport {
    /// `N bytes in T s (R KiB/s, X packets)`.
    pub fn describe_load(&self) -> String {
        let secs = self.load_time.as_secs_f64();
        let rate = if secs > 0.0 {
            self.bytes as f64 / 1024.0 / secs
        } else {
            0.0
        };
        let mut how = Vec::new();
        if !self.packets.is_empty() {
            how.push(format!("{} packets", self.packets));
        }
        if self.flash_bytes > 0 {
            how.push(format!("{} bytes to flash", self.flash_bytes));
        }
        format!(
            "{} bytes in {secs:.3} s ({rate:.1} KiB/s{}{})",
            self.bytes,
            if how.is_empty() { "" } else { ", " },
            how.join(", ")
        )
    }
}

/// Part of a segment: address, bytes, and whether it goes to flash.
struct Part<'a> {
    addr: u64,
    data: &'a [u8],
    flash: Option<MapRegion>,
}

/// Splits the image's segments at flash-region boundaries of `map`.
fn parts<'a>(image: &'a Image, map: &[MapRegion]) -> Vec<Part<'a>> {
    let mut parts = Vec::new();
    for seg in &image.segments {
        let mut offset = 0usize;
        while offset < seg.data.len() {
            let addr = seg.addr + offset as u64;
            let rest = &seg.data[offset..];
            let flash = map.iter().find(|r| r.flash && r.contains(addr)).copied();
            // Up to the end of this flash region, or to the start of the next one.
            let limit = match flash {
                Some(r) => (r.start + r.length - addr) as usize,
                None => map
                    .iter()
                    .filter(|r| r.flash && r.start > addr)
                    .map(|r| (r.start - addr) as usize)
                    .min()
                    .unwrap_or(usize::MAX),
            };
            let n = rest.len().min(limit.max(1));
            parts.push(Part {
                addr,
                data: &rest[..n],
                flash,
            });
            offset += n;
        }
    }
    parts
}

/// Writes every segment's file bytes (RAM and flash) through `gdb`.
pub fn load<T: Transport>(
    gdb: &mut GdbClient<T>,
    image: &Image,
    map: &[MapRegion],
) -> Result<LoadReport> {
    let started = Instant::now();
    let parts = parts(image, map);
    let total: u64 = parts.iter().map(|p| p.data.len() as u64).sum();
    let mut progress = Progress::new(total);
    let mut report = LoadReport::default();
    // Flash first: erase every block the image touches, region by region.
    let mut erased: Vec<(u64, u64)> = Vec::new();
    for part in parts.iter().filter(|p| p.flash.is_some()) {
        let region = part.flash.unwrap_or(MapRegion {
            start: 0,
            length: 0,
            flash: true,
            blocksize: 0,
        });
        let block = region.blocksize.max(1);
        let start = region.start + (part.addr - region.start) / block * block;
        let end = part.addr + part.data.len() as u64;
        let end = (region.start + (end - region.start).div_ceil(block) * block)
            .min(region.start + region.length);
        // Skip what an earlier part's erase covered already.
        let start = erased
            .iter()
            .filter(|&&(s, e)| s <= start && start < e)
            .map(|&(_, e)| e)
            .max()
            .unwrap_or(start);
        if start < end {
            gdb.flash_erase(start, end - start)?;
            erased.push((start, end));
        }
    }
    let mut flashed = false;
    for part in &parts {
        for (i, piece) in part.data.chunks(PIECE).enumerate() {
            let at = part.addr + (i * PIECE) as u64;
            if part.flash.is_some() {
                gdb.flash_write(at, piece)?;
                flashed = true;
                report.flash_bytes += piece.len() as u64;
            } else {
                gdb.write_memory(at, piece)?;
            }
            progress.advance(piece.len() as u64);
        }
    }
    if flashed {
        gdb.flash_done()?;
    }
    progress.finish();
    report.bytes = total;
    report.load_time = started.elapsed();
    report.packets = match gdb.binary_writes() {
        Some(true) => "X",
        Some(false) => "M",
        None => "",
    };
    Ok(report)
}

/// Checks that the target holds the image: `qCRC` per segment, or reading it back.
pub fn verify<T: Transport>(
    gdb: &mut GdbClient<T>,
    image: &Image,
    report: &mut LoadReport,
) -> Result<()> {
    let started = Instant::now();
    let mut by_crc = true;
    for seg in image.segments.iter().filter(|s| !s.data.is_empty()) {
        if by_crc {
            match gdb.crc(seg.addr, seg.data.len() as u64)? {
                Some(crc) => {
                    if crc != GdbClient::<T>::local_crc(&seg.data) {
                        // Say where: read it back.
                        mismatch(gdb, seg.addr, &seg.data)?;
                        bail!(
                            "verify failed: the {} bytes at {:#x} differ from the image (qCRC)",
                            seg.data.len(),
                            seg.addr
                        );
                    }
                    continue;
                }
                None => by_crc = false,
            }
        }
        mismatch(gdb, seg.addr, &seg.data)?;
    }
    report.verified_by = if by_crc { "qCRC" } else { "read-back" };
    report.verify_time = started.elapsed();
    Ok(())
}

/// Reads `data.len()` bytes at `addr` back and fails at the first byte that differs.
fn mismatch<T: Transport>(gdb: &mut GdbClient<T>, addr: u64, data: &[u8]) -> Result<()> {
    let mut back = vec![0u8; data.len()];
    gdb.read_memory(addr, &mut back)?;
    if let Some(i) = back.iter().zip(data).position(|(a, b)| a != b) {
        bail!(
            "verify failed at {:#x}: wrote {:#04x}, read back {:#04x} (is there memory at \
             this address, and is it writable?)",
            addr + i as u64,
            data[i],
            back[i]
        );
    }
    Ok(())
}

/// A one-line progress display on stderr, only when stderr is a terminal.
struct Progress {
    total: u64,
    done: u64,
    started: Instant,
    shown: Option<Instant>,
    on: bool,
}

impl Progress {
    fn new(total: u64) -> Progress {
        Progress {
            total,
            done: 0,
            started: Instant::now(),
            shown: None,
            on: std::io::stderr().is_terminal() && total > 0,
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if !self.on {
            return;
        }
        let now = Instant::now();
        if self
            .shown
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
        {
            return;
        }
        self.shown = Some(now);
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let percent = self.done * 100 / self.total.max(1);
        let mut err = std::io::stderr().lock();
        write!(
            err,
            "\rrvflash: loading {:>3}% {:.1}/{:.1} KiB {:.1} KiB/s\x1b[K",
            percent,
            self.done as f64 / 1024.0,
            self.total as f64 / 1024.0,
            self.done as f64 / 1024.0 / secs
        )
        .ok();
        err.flush().ok();
    }

    fn finish(&mut self) {
        if self.on && self.shown.is_some() {
            let mut err = std::io::stderr().lock();
            write!(err, "\r\x1b[K").ok();
            err.flush().ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Segment;

    fn image(segments: Vec<(u64, Vec<u8>)>) -> Image {
        Image {
            path: "t.elf".into(),
            entry: 0,
            segments: segments
                .into_iter()
                .map(|(addr, data)| Segment {
                    addr,
                    mem_size: data.len() as u64,
                    data,
                })
                .collect(),
            symbols: Vec::new(),
            bytes: Vec::new(),
        }
    }

    #[test]
    fn segments_split_at_flash_boundaries() {
        let map = [
            MapRegion {
                start: 0x1000,
                length: 0x100,
                flash: true,
                blocksize: 0x40,
            },
            MapRegion {
                start: 0x2000,
                length: 0x1000,
                flash: false,
                blocksize: 0,
            },
        ];
        let img = image(vec![(0xf80, vec![1; 0x200]), (0x2000, vec![2; 8])]);
        let p = parts(&img, &map);
        let shape: Vec<(u64, usize, bool)> = p
            .iter()
            .map(|p| (p.addr, p.data.len(), p.flash.is_some()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (0xf80, 0x80, false),
                (0x1000, 0x100, true),
                (0x1100, 0x80, false),
                (0x2000, 8, false)
            ]
        );
    }

    #[test]
    fn reports_read_well() {
        let r = LoadReport {
            bytes: 2048,
            load_time: Duration::from_secs(1),
            packets: "X",
            ..LoadReport::default()
        };
        assert_eq!(
            r.describe_load(),
            "2048 bytes in 1.000 s (2.0 KiB/s, X packets)"
        );
    }
}
