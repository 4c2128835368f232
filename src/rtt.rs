//! SEGGER RTT (Real-Time Transfer) on the host side: ring buffers in the program's RAM that
//! rvflash reads and writes while the program runs, through [`Target::read_memory_running`].
//!
//! The control block is found through the ELF symbol `_SEGGER_RTT` (no memory scan). Its RV64
//! layout (SEGGER's, defmt-rtt's): the 16-byte id `SEGGER RTT`, `max_up` and `max_down` (i32
//! each), then one 32-byte descriptor per up-channel and per down-channel: `name` and
//! `buffer` pointers (8 bytes each), then `size`, `write`, `read` and `flags` (u32 each).
//! rtt-target makes the counts and those four fields `usize`, so 64-bit: rvflash recognises
//! both ([`Layout`]). The program writes an up-channel and moves `write`; rvflash copies
//! `read..write` out and moves `read`. Down-channels go the other way.
//!
//! An up-channel in blocking mode (`flags & 3 == 2`) makes the program wait for room rather than
//! drop data. rvflash puts every up-channel in that mode in the image it loads
//! ([`block_when_full`]) when the control block is initialised statically (defmt-rtt), so that
//! no byte is lost even before the first poll, and again when it attaches (rtt-target sets its
//! block up at run time). This module never decides what the bytes mean (see `crate::defmt`).

use anyhow::{Result, bail};

use crate::image::Image;
use crate::target::Target;

/// The control block's symbol.
pub const SYMBOL: &str = "_SEGGER_RTT";
/// The id at the start of an initialised control block.
const ID: &[u8] = b"SEGGER RTT";
/// `flags` mode bits, and the blocking mode.
const MODE_MASK: u64 = 3;
const MODE_BLOCK_IF_FULL: u64 = 2;
/// More channels than this is not a control block (SEGGER's default is 3 each).
const MAX_CHANNELS: u64 = 64;
/// Nor is a larger buffer.
const MAX_BUFFER: u64 = 64 << 20;

/// The two layouts of a control block on RV64. SEGGER's (and defmt-rtt's) keeps the counts,
/// sizes, offsets and flags 32-bit; rtt-target makes them `usize`, 64-bit here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `max_up`, `max_down`: i32; per channel two pointers, then four u32.
    Segger,
    /// Everything 64-bit (rtt-target).
    Wide,
}

impl Layout {
    /// Width of a count, size, offset or flags word.
    fn word(self) -> u64 {
        match self {
            Layout::Segger => 4,
            Layout::Wide => 8,
        }
    }
    /// Bytes before the first channel descriptor: the id and the two counts.
    fn header(self) -> u64 {
        16 + 2 * self.word()
    }
    /// Bytes of one channel descriptor.
    fn descriptor(self) -> u64 {
        16 + 4 * self.word()
    }
    /// Offsets in a descriptor of `size`, `write`, `read` and `flags`.
    fn size(self) -> u64 {
        16
    }
    fn write(self) -> u64 {
        16 + self.word()
    }
    fn read(self) -> u64 {
        16 + 2 * self.word()
    }
    fn flags(self) -> u64 {
        16 + 3 * self.word()
    }
    /// A word of `bytes` at `at`.
    fn get(self, bytes: &[u8], at: u64) -> u64 {
        let at = at as usize;
        match self {
            Layout::Segger => u64::from(u32::from_le_bytes(
                bytes[at..at + 4].try_into().unwrap_or_default(),
            )),
            Layout::Wide => u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default()),
        }
    }
    /// A word as bytes.
    fn bytes(self, value: u64) -> Vec<u8> {
        value.to_le_bytes()[..self.word() as usize].to_vec()
    }
}

/// One channel.
#[derive(Debug, Clone)]
pub struct Channel {
    descriptor: u64,
    buffer: u64,
    size: u64,
}

/// An attached control block.
#[derive(Debug)]
pub struct Rtt {
    layout: Layout,
    /// The up-channels (program to host); `None` where not in use.
    pub up: Vec<Option<Channel>>,
    /// The down-channels (host to program).
    pub down: Vec<Option<Channel>>,
}

/// Puts every up-channel of a statically initialised control block (defmt-rtt's) in blocking
/// mode, in the image's initial data, so the program starts with it. Returns whether it did.
pub fn block_when_full(image: &mut Image) -> bool {
    let Some(block) = image.symbol(SYMBOL) else {
        return false;
    };
    let mut bytes = vec![0u8; 32 + 4 * 48];
    if !image.read_initial(block, &mut bytes) && !image.read_initial(block, &mut bytes[..96]) {
        return false;
    }
    let Some((layout, max_up, _)) = recognise(&bytes) else {
        return false;
    };
    for i in 0..max_up {
        let at = block + layout.header() + i * layout.descriptor() + layout.flags();
        let mut flags = vec![0u8; layout.word() as usize];
        if image.read_initial(at, &mut flags) {
            let value = layout.get(&flags, 0) & !MODE_MASK | MODE_BLOCK_IF_FULL;
            image.write_initial(at, &layout.bytes(value));
        }
    }
    max_up > 0
}

/// Which layout the start of a control block (id, counts, the first descriptor) has, and its
/// channel counts; `None` when it is not (yet) one.
fn recognise(bytes: &[u8]) -> Option<(Layout, u64, u64)> {
    if !bytes.starts_with(ID) {
        return None;
    }
    // The first layout whose counts and first descriptor make sense. Read the other way, the
    // counts or the first descriptor's size take a pointer's value (in RAM, far above any
    // plausible count or size), so at most one fits in practice.
    [Layout::Segger, Layout::Wide]
        .into_iter()
        .find_map(|layout| {
            let max_up = layout.get(bytes, 16);
            let max_down = layout.get(bytes, 16 + layout.word());
            if max_up > MAX_CHANNELS || max_down > MAX_CHANNELS {
                return None;
            }
            if max_up + max_down > 0 {
                let d = layout.header() as usize;
                let descriptor = bytes.get(d..d + layout.descriptor() as usize)?;
                let size = layout.get(descriptor, layout.size());
                let (write, read) = (
                    layout.get(descriptor, layout.write()),
                    layout.get(descriptor, layout.read()),
                );
                if size > MAX_BUFFER || (size > 0 && (write >= size || read >= size)) {
                    return None;
                }
            }
            Some((layout, max_up, max_down))
        })
}

impl Rtt {
    /// Reads the control block at `block`: `None` while the program has not initialised it;
    /// an error when what is there cannot be a control block.
    pub fn attach(target: &mut dyn Target, block: u64) -> Result<Option<Rtt>> {
        let mut start = [0u8; 32 + 48];
        target.read_memory_running(block, &mut start)?;
        if !start.starts_with(ID) {
            return Ok(None);
        }
        let Some((layout, max_up, max_down)) = recognise(&start) else {
            bail!("the RTT control block at {block:#x} has neither RV64 layout");
        };
        let count = (max_up + max_down) as usize;
        let mut descriptors = vec![0u8; count * layout.descriptor() as usize];
        target.read_memory_running(block + layout.header(), &mut descriptors)?;
        let mut channels = Vec::with_capacity(count);
        for (i, d) in descriptors
            .chunks_exact(layout.descriptor() as usize)
            .enumerate()
        {
            let descriptor = block + layout.header() + i as u64 * layout.descriptor();
            channels.push(read_channel(layout, descriptor, d)?);
        }
        let down = channels.split_off(max_up as usize);
        let mut rtt = Rtt {
            layout,
            up: channels,
            down,
        };
        // rtt-target initialises its block at run time, after the image's flags were set.
        for i in 0..rtt.up.len() {
            rtt.block_when_full(target, i)?;
        }
        Ok(Some(rtt))
    }

    fn block_when_full(&mut self, target: &mut dyn Target, channel: usize) -> Result<()> {
        let layout = self.layout;
        let Some(c) = &self.up[channel] else {
            return Ok(());
        };
        let mut flags = vec![0u8; layout.word() as usize];
        target.read_memory_running(c.descriptor + layout.flags(), &mut flags)?;
        let flags = layout.get(&flags, 0);
        if flags & MODE_MASK != MODE_BLOCK_IF_FULL {
            let value = flags & !MODE_MASK | MODE_BLOCK_IF_FULL;
            target.write_memory_running(c.descriptor + layout.flags(), &layout.bytes(value))?;
        }
        Ok(())
    }

    /// The `write` and `read` offsets of a channel, checked against its size.
    fn offsets(&self, target: &mut dyn Target, c: &Channel, what: &str) -> Result<(u64, u64)> {
        let layout = self.layout;
        let mut offsets = vec![0u8; 2 * layout.word() as usize];
        target.read_memory_running(c.descriptor + layout.write(), &mut offsets)?;
        let (write, read) = (layout.get(&offsets, 0), layout.get(&offsets, layout.word()));
        if write >= c.size || read >= c.size {
            bail!(
                "RTT {what}: offsets out of range (write {write}, read {read}, size {})",
                c.size
            );
        }
        Ok((write, read))
    }

    /// Moves what up-channel `channel` holds into `out`; returns how many bytes.
    pub fn read_up(
        &mut self,
        target: &mut dyn Target,
        channel: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        let Some(c) = self.up.get(channel).and_then(Option::as_ref).cloned() else {
            return Ok(0);
        };
        let (write, read) = self.offsets(target, &c, &format!("up-channel {channel}"))?;
        if write == read {
            return Ok(0);
        }
        // Up to the end of the ring, then from its start.
        let (first, second) = if write > read {
            (write - read, 0)
        } else {
            (c.size - read, write)
        };
        let start = out.len();
        out.resize(start + (first + second) as usize, 0);
        target.read_memory_running(c.buffer + read, &mut out[start..start + first as usize])?;
        if second > 0 {
            target.read_memory_running(c.buffer, &mut out[start + first as usize..])?;
        }
        // The data is copied: give the space back.
        let layout = self.layout;
        target.write_memory_running(c.descriptor + layout.read(), &layout.bytes(write))?;
        Ok((first + second) as usize)
    }

    /// Writes as much of `data` as fits into down-channel `channel`; returns how many bytes.
    pub fn write_down(
        &mut self,
        target: &mut dyn Target,
        channel: usize,
        data: &[u8],
    ) -> Result<usize> {
        let Some(c) = self.down.get(channel).and_then(Option::as_ref).cloned() else {
            return Ok(0);
        };
        let (write, read) = self.offsets(target, &c, &format!("down-channel {channel}"))?;
        // One byte stays free, so that a full ring differs from an empty one.
        let free = (read + c.size - write - 1) % c.size;
        let n = (free as usize).min(data.len());
        let mut at = write;
        let mut rest = &data[..n];
        while !rest.is_empty() {
            let chunk = rest.len().min((c.size - at) as usize);
            target.write_memory_running(c.buffer + at, &rest[..chunk])?;
            at = (at + chunk as u64) % c.size;
            rest = &rest[chunk..];
        }
        if n > 0 {
            let layout = self.layout;
            target.write_memory_running(c.descriptor + layout.write(), &layout.bytes(at))?;
        }
        Ok(n)
    }
}

/// One descriptor: `None` when the channel is not in use (no buffer).
fn read_channel(layout: Layout, descriptor: u64, d: &[u8]) -> Result<Option<Channel>> {
    // The name pointer (bytes 0..8) is not needed: channels are known by number.
    let buffer = u64::from_le_bytes(d[8..16].try_into()?);
    let size = layout.get(d, layout.size());
    if buffer == 0 || size == 0 {
        return Ok(None);
    }
    if size > MAX_BUFFER {
        bail!("RTT channel at {descriptor:#x}: a buffer of {size} bytes is not plausible");
    }
    Ok(Some(Channel {
        descriptor,
        buffer,
        size,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Reg, Stop};
    use proptest::prelude::*;
    use std::time::Instant;

    /// Memory only: the control block's parsing and ring arithmetic need nothing else.
    struct Memory {
        base: u64,
        bytes: Vec<u8>,
    }

    impl Memory {
        fn range(&self, addr: u64, len: usize) -> Result<std::ops::Range<usize>> {
            let start = addr.checked_sub(self.base).map(|o| o as usize);
            match start {
                Some(s) if s.checked_add(len).is_some_and(|e| e <= self.bytes.len()) => {
                    Ok(s..s + len)
                }
                _ => bail!("{addr:#x}: outside memory"),
            }
        }
    }

    impl Target for Memory {
        fn load(&mut self, _: &Image) -> Result<()> {
            Ok(())
        }
        fn resume(&mut self) -> Result<()> {
            Ok(())
        }
        fn wait(&mut self, _: Instant) -> Result<Stop> {
            Ok(Stop::Running)
        }
        fn interrupt(&mut self) -> Result<()> {
            Ok(())
        }
        fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
            let r = self.range(addr, buf.len())?;
            buf.copy_from_slice(&self.bytes[r]);
            Ok(())
        }
        fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
            let r = self.range(addr, data.len())?;
            self.bytes[r].copy_from_slice(data);
            Ok(())
        }
        fn register(&mut self, _: Reg) -> Result<u64> {
            Ok(0)
        }
        fn set_register(&mut self, _: Reg, _: u64) -> Result<()> {
            Ok(())
        }
        fn set_breakpoint(&mut self, _: u64) -> Result<()> {
            Ok(())
        }
    }

    const BASE: u64 = 0x8000_0000;
    const BLOCK: u64 = BASE + 0x100;

    /// A control block with one up- and one down-channel of `size` bytes in `layout`.
    fn block(layout: Layout, size: u64) -> Memory {
        let mut m = Memory {
            base: BASE,
            bytes: vec![0; 0x4000],
        };
        let word = |v: u64| layout.bytes(v);
        let mut b = b"SEGGER RTT\0\0\0\0\0\0".to_vec();
        b.extend(word(1));
        b.extend(word(1));
        for buffer in [BASE + 0x1000, BASE + 0x2000] {
            b.extend((BASE + 0x800).to_le_bytes()); // name
            b.extend(buffer.to_le_bytes());
            b.extend(word(size));
            b.extend(word(0)); // write
            b.extend(word(0)); // read
            b.extend(word(0)); // flags
        }
        m.write_memory(BLOCK, &b).unwrap();
        m
    }

    /// The program's side: appends `data` to up-channel 0.
    fn program_writes(m: &mut Memory, layout: Layout, data: &[u8]) {
        let d = BLOCK + layout.header();
        let mut w = vec![0u8; 8];
        m.read_memory(d + layout.size(), &mut w).unwrap();
        let size = layout.get(&w, 0);
        m.read_memory(d + layout.write(), &mut w[..layout.word() as usize])
            .unwrap();
        let mut write = layout.get(&w, 0);
        for &byte in data {
            m.write_memory(BASE + 0x1000 + write, &[byte]).unwrap();
            write = (write + 1) % size;
        }
        m.write_memory(d + layout.write(), &layout.bytes(write))
            .unwrap();
    }

    #[test]
    fn both_layouts_are_recognised_and_read_around_the_ring() {
        for layout in [Layout::Segger, Layout::Wide] {
            let mut m = block(layout, 16);
            let mut rtt = Rtt::attach(&mut m, BLOCK).unwrap().expect("a block");
            assert_eq!(rtt.layout, layout);
            // Blocking mode was set on the up-channel.
            let mut flags = vec![0u8; layout.word() as usize];
            m.read_memory(BLOCK + layout.header() + layout.flags(), &mut flags)
                .unwrap();
            assert_eq!(layout.get(&flags, 0), MODE_BLOCK_IF_FULL);
            let mut out = Vec::new();
            for chunk in [&b"hello, "[..], b"ring buf", b"fer wraps"] {
                program_writes(&mut m, layout, chunk);
                rtt.read_up(&mut m, 0, &mut out).unwrap();
            }
            assert_eq!(out, b"hello, ring buffer wraps");
            // Down: as much as fits (one byte stays free).
            assert_eq!(rtt.write_down(&mut m, 0, &[7; 40]).unwrap(), 15);
            assert_eq!(rtt.write_down(&mut m, 0, &[7; 40]).unwrap(), 0);
        }
    }

    #[test]
    fn an_uninitialised_block_is_not_attached_yet() {
        let mut m = Memory {
            base: BASE,
            bytes: vec![0; 0x1000],
        };
        assert!(Rtt::attach(&mut m, BLOCK).unwrap().is_none());
    }

    proptest! {
        /// Whatever the program's memory holds, attaching and reading never panic, never read
        /// more than the ring could hold, and report nonsense as an error.
        #[test]
        fn garbage_control_blocks_are_errors_not_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..160),
            wide in any::<bool>(),
        ) {
            let layout = if wide { Layout::Wide } else { Layout::Segger };
            let mut m = block(layout, 64);
            m.write_memory(BLOCK + 16, &bytes).unwrap();
            if let Ok(Some(mut rtt)) = Rtt::attach(&mut m, BLOCK) {
                for channel in 0..rtt.up.len() {
                    let mut out = Vec::new();
                    if rtt.read_up(&mut m, channel, &mut out).is_ok() {
                        prop_assert!(out.len() as u64 <= MAX_BUFFER);
                    }
                }
                for channel in 0..rtt.down.len() {
                    let _ = rtt.write_down(&mut m, channel, b"input");
                }
            }
        }
    }
}
