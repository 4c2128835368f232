//! The physical address space: RAM plus the `virt` devices, and the decode cache that RAM
//! writes must keep coherent.
//!
//! Loads and stores return raw little-endian values (zero-extended) or a [`Fault`]; mapping
//! faults to exception causes is the hart's business (`trap`), sign extension the
//! instruction's. RAM accesses may be misaligned; device accesses may not. The bus never
//! panics on a guest address.

use crate::Stop;
use crate::decode_cache::DecodeCache;
use crate::devices::clint::Clint;
use crate::devices::{finisher, uart::Uart};
use crate::map::*;

/// Why an access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Nothing there, or the device refuses this size/alignment.
    Access,
}

pub(crate) struct Bus {
    pub ram: Vec<u8>,
    pub ram_base: u64,
    pub ram_size: u64,
    pub code: DecodeCache,
    pub uart: Uart,
    pub clint: Clint,
    /// A stop requested by a device write (the finisher), collected after the instruction.
    pub event: Option<Stop>,
}

impl Bus {
    pub fn new(ram_base: u64, ram_size: u64, hart_id: u64) -> Bus {
        Bus {
            ram: vec![0; ram_size as usize],
            ram_base,
            ram_size,
            code: DecodeCache::new(ram_size),
            uart: Uart::default(),
            clint: Clint::new(hart_id, 0),
            event: None,
        }
    }

    /// Puts the devices back in their reset state (RAM is kept).
    pub fn reset_devices(&mut self, hart_id: u64, now: u64) {
        self.uart = Uart::default();
        self.clint = Clint::new(hart_id, now);
        self.event = None;
    }

    /// The RAM offset of `addr .. addr + len`, if entirely inside RAM.
    #[inline(always)]
    pub fn ram_offset(&self, addr: u64, len: u64) -> Option<u64> {
        let off = addr.wrapping_sub(self.ram_base);
        if off < self.ram_size && len <= self.ram_size - off {
            Some(off)
        } else {
            None
        }
    }

    /// Loads `size` (1, 2, 4 or 8) bytes; `now` is the cycle count (for `mtime`).
    #[inline(always)]
    pub fn load(&mut self, addr: u64, size: u64, now: u64) -> Result<u64, Fault> {
        if let Some(off) = self.ram_offset(addr, size) {
            let off = off as usize;
            let r = &self.ram;
            return Ok(match size {
                1 => r[off] as u64,
                2 => u16::from_le_bytes([r[off], r[off + 1]]) as u64,
                4 => u32::from_le_bytes(r[off..off + 4].try_into().unwrap_or_default()) as u64,
                _ => u64::from_le_bytes(r[off..off + 8].try_into().unwrap_or_default()),
            });
        }
        self.load_device(addr, size, now)
    }

    /// Stores the low `size` bytes of `value`.
    #[inline(always)]
    pub fn store(&mut self, addr: u64, size: u64, value: u64, now: u64) -> Result<(), Fault> {
        if let Some(off) = self.ram_offset(addr, size) {
            let (o, r) = (off as usize, &mut self.ram);
            match size {
                1 => r[o] = value as u8,
                2 => r[o..o + 2].copy_from_slice(&(value as u16).to_le_bytes()),
                4 => r[o..o + 4].copy_from_slice(&(value as u32).to_le_bytes()),
                _ => r[o..o + 8].copy_from_slice(&value.to_le_bytes()),
            }
            self.code.invalidate(off, size);
            return Ok(());
        }
        self.store_device(addr, size, value, now)
    }

    fn device(addr: u64, size: u64) -> Option<(Device, u64)> {
        let within = |base: u64, len: u64| {
            let off = addr.wrapping_sub(base);
            (off < len && size <= len - off).then_some(off)
        };
        if !addr.is_multiple_of(size) {
            return None;
        }
        if let Some(off) = within(UART_BASE, UART_SIZE) {
            Some((Device::Uart, off))
        } else if let Some(off) = within(CLINT_BASE, CLINT_SIZE) {
            Some((Device::Clint, off))
        } else if let Some(off) = within(FINISHER_BASE, FINISHER_SIZE) {
            Some((Device::Finisher, off))
        } else {
            within(PLIC_BASE, PLIC_SIZE).map(|off| (Device::Plic, off))
        }
    }

    #[cold]
    fn load_device(&mut self, addr: u64, size: u64, now: u64) -> Result<u64, Fault> {
        match Bus::device(addr, size).ok_or(Fault::Access)? {
            (Device::Uart, off) => Ok(self.uart.read(off, size)),
            (Device::Clint, off) if Clint::valid(off, size) => Ok(self.clint.read(off, size, now)),
            (Device::Finisher, _) if size == 2 || size == 4 => Ok(0),
            (Device::Plic, _) if size == 4 => Ok(0),
            _ => Err(Fault::Access),
        }
    }

    #[cold]
    fn store_device(&mut self, addr: u64, size: u64, value: u64, now: u64) -> Result<(), Fault> {
        match Bus::device(addr, size).ok_or(Fault::Access)? {
            (Device::Uart, off) => self.uart.write(off, size, value),
            (Device::Clint, off) if Clint::valid(off, size) => {
                self.clint.write(off, size, value, now)
            }
            (Device::Finisher, off) if size == 2 || size == 4 => {
                self.event = finisher::write(off, value).or(self.event);
            }
            (Device::Plic, _) if size == 4 => {}
            _ => return Err(Fault::Access),
        }
        Ok(())
    }

    /// RAM bytes `addr .. addr + len`, if inside RAM.
    pub fn ram_slice(&self, addr: u64, len: u64) -> Option<&[u8]> {
        let off = self.ram_offset(addr, len)? as usize;
        Some(&self.ram[off..off + len as usize])
    }

    /// Writes RAM bytes (host side), keeping the decode cache coherent.
    pub fn write_ram(&mut self, addr: u64, data: &[u8]) -> Option<()> {
        let off = self.ram_offset(addr, data.len() as u64)?;
        self.ram[off as usize..off as usize + data.len()].copy_from_slice(data);
        self.code.invalidate(off, data.len() as u64);
        Some(())
    }
}

#[derive(Clone, Copy)]
enum Device {
    Uart,
    Clint,
    Finisher,
    Plic,
}
