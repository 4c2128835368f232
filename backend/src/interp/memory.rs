//! The interpreter's flat, little-endian, bounds-checked address space.
//!
//! | range                                   | what                                        |
//! |-----------------------------------------|---------------------------------------------|
//! | `0x0100_0000 ..`                        | fake function addresses (16 bytes apart; not readable) |
//! | `0x1000_0000 ..`                        | data definitions, in module order, each at its alignment |
//! | `0x2000_0000 .. +heap_size`             | the `malloc` heap (bump allocator, blocks tracked)    |
//! | `0x7000_0000 - stack_size .. 0x7000_0000` | the stack, growing down                    |
//!
//! Every access is checked: it must lie entirely inside the data image, a live-or-freed heap
//! allocation area below the heap top, or the live part of the stack (at or above the stack
//! pointer). Anything else is an error naming the address, never a panic.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// First fake function address.
pub const FUNC_BASE: u64 = 0x0100_0000;
/// Distance between two fake function addresses.
pub const FUNC_STRIDE: u64 = 16;
/// Address of the first data definition.
pub const DATA_BASE: u64 = 0x1000_0000;
/// Address of the heap.
pub const HEAP_BASE: u64 = 0x2000_0000;
/// One past the highest stack address.
pub const STACK_TOP: u64 = 0x7000_0000;

/// A memory fault message (the caller adds where it happened).
pub type MemResult<T> = Result<T, String>;

/// The whole address space.
pub struct Memory {
    data: Vec<u8>,
    heap: Vec<u8>,
    heap_limit: u64,
    /// Live heap blocks: address → size.
    blocks: BTreeMap<u64, u64>,
    stack: Vec<u8>,
    stack_base: u64,
    /// The stack pointer: bytes at and above it (below [`STACK_TOP`]) are live.
    pub sp: u64,
}

impl Memory {
    /// A memory with an initial data image, a heap limit and a stack size (bytes).
    pub fn new(data: Vec<u8>, heap_limit: u64, stack_size: u64) -> Memory {
        // The heap and the stack never overlap: at most 768 MiB and 512 MiB.
        let heap_limit = heap_limit.min(0x3000_0000);
        let stack_size = stack_size.min(0x2000_0000);
        Memory {
            data,
            heap: Vec::new(),
            heap_limit,
            blocks: BTreeMap::new(),
            stack: vec![0; stack_size as usize],
            stack_base: STACK_TOP - stack_size,
            sp: STACK_TOP,
        }
    }

    fn locate(&self, addr: u64, len: u64) -> MemResult<(u8, usize)> {
        let end = addr
            .checked_add(len)
            .ok_or_else(|| format!("address range {addr:#x}+{len} overflows"))?;
        let data_end = DATA_BASE + self.data.len() as u64;
        let heap_end = HEAP_BASE + self.heap.len() as u64;
        if addr >= DATA_BASE && end <= data_end {
            return Ok((0, (addr - DATA_BASE) as usize));
        }
        if addr >= HEAP_BASE && end <= heap_end {
            return Ok((1, (addr - HEAP_BASE) as usize));
        }
        if addr >= self.sp && addr >= self.stack_base && end <= STACK_TOP {
            return Ok((2, (addr - self.stack_base) as usize));
        }
        if addr >= self.stack_base && end <= STACK_TOP {
            return Err(format!(
                "access to {len} byte(s) at {addr:#x}: below the stack pointer {:#x} (freed stack memory)",
                self.sp
            ));
        }
        if addr < 0x1000 {
            return Err(format!("null pointer access ({len} byte(s) at {addr:#x})"));
        }
        Err(format!("out-of-bounds access: {len} byte(s) at {addr:#x}"))
    }

    /// Reads `len` bytes at `addr`.
    pub fn read(&self, addr: u64, len: u64) -> MemResult<&[u8]> {
        let (r, off) = self.locate(addr, len)?;
        let mem = match r {
            0 => &self.data,
            1 => &self.heap,
            _ => &self.stack,
        };
        Ok(&mem[off..off + len as usize])
    }

    /// Writes `bytes` at `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> MemResult<()> {
        let (r, off) = self.locate(addr, bytes.len() as u64)?;
        let mem = match r {
            0 => &mut self.data,
            1 => &mut self.heap,
            _ => &mut self.stack,
        };
        mem[off..off + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Loads a little-endian unsigned value of `size` (1, 2, 4 or 8) bytes.
    pub fn load(&self, addr: u64, size: u64) -> MemResult<u64> {
        let b = self.read(addr, size)?;
        let mut v = [0u8; 8];
        v[..b.len()].copy_from_slice(b);
        Ok(u64::from_le_bytes(v))
    }

    /// Stores the low `size` (1, 2, 4 or 8) bytes of `v`, little endian.
    pub fn store(&mut self, addr: u64, size: u64, v: u64) -> MemResult<()> {
        let b = v.to_le_bytes();
        self.write(addr, &b[..size.min(8) as usize])
    }

    /// Copies `len` bytes from `src` to `dst` (overlap allowed, like `memmove`).
    pub fn copy(&mut self, dst: u64, src: u64, len: u64) -> MemResult<()> {
        let tmp = self.read(src, len)?.to_vec();
        self.write(dst, &tmp)
    }

    /// Reads a NUL-terminated string starting at `addr` (without the NUL).
    pub fn c_string(&self, addr: u64) -> MemResult<Vec<u8>> {
        let mut out = Vec::new();
        let mut a = addr;
        loop {
            let b = self
                .read(a, 1)
                .map_err(|e| format!("reading a string at {addr:#x}: {e}"))?[0];
            if b == 0 {
                return Ok(out);
            }
            out.push(b);
            a = a
                .checked_add(1)
                .ok_or("string runs off the address space")?;
        }
    }

    /// Allocates `size` bytes aligned to `align` (a power of two) on the stack.
    pub fn stack_alloc(&mut self, size: u64, align: u64) -> MemResult<u64> {
        let overflow = || format!("stack overflow (allocating {size} bytes)");
        let sp = self.sp.checked_sub(size).ok_or_else(overflow)? & !(align - 1);
        if sp < self.stack_base {
            return Err(overflow());
        }
        // Fresh stack memory reads as zero (deterministic, though QBE does not promise it).
        let off = (sp - self.stack_base) as usize;
        let end = (self.sp - self.stack_base) as usize;
        self.stack[off..end].fill(0);
        self.sp = sp;
        Ok(sp)
    }

    /// `malloc`: a 16-byte aligned block of `size` bytes (zeroed), or 0 when the heap is full.
    pub fn malloc(&mut self, size: u64) -> u64 {
        let start = (self.heap.len() as u64 + 15) & !15;
        let Some(end) = start.checked_add(size.max(1)) else {
            return 0;
        };
        if end > self.heap_limit {
            return 0;
        }
        self.heap.resize(end as usize, 0);
        self.blocks.insert(HEAP_BASE + start, size);
        HEAP_BASE + start
    }

    /// `free`: releases a block (freeing 0 is a no-op; anything else not from `malloc` is an
    /// error). Freed memory is not reused.
    pub fn free(&mut self, addr: u64) -> MemResult<()> {
        if addr == 0 {
            return Ok(());
        }
        self.blocks
            .remove(&addr)
            .map(|_| ())
            .ok_or_else(|| format!("free({addr:#x}): not a live malloc'd block"))
    }

    /// The size of the live heap block at `addr`.
    pub fn block_size(&self, addr: u64) -> MemResult<u64> {
        self.blocks
            .get(&addr)
            .copied()
            .ok_or_else(|| format!("realloc({addr:#x}): not a live malloc'd block"))
    }
}
