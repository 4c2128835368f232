//! Predecoded instructions, per 4 KiB page of RAM.
//!
//! A page's array has one slot per 2-byte parcel, holding the decoded (and already
//! expanded) instruction that starts there, or nothing. Pages are allocated the first time
//! code runs from them. Every write to RAM calls [`DecodeCache::invalidate`], which clears
//! the slots whose instruction bytes overlap the write, so the cache is always coherent.
//! Illegal encodings are never cached. This module does not decode or read memory itself.

use rvflash_backend::isa::{Inst, Op};

const PAGE_SHIFT: u32 = 12;
const SLOTS: usize = 1 << (PAGE_SHIFT - 1);

/// A decoded instruction (its op already expanded) and its length; `len == 0` is empty.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub inst: Inst,
    pub len: u8,
}

const EMPTY: Entry = Entry {
    inst: Inst::new(Op::Lui),
    len: 0,
};

pub(crate) struct DecodeCache {
    pages: Vec<Option<Box<[Entry; SLOTS]>>>,
}

impl DecodeCache {
    /// A cache for `ram_size` bytes of RAM.
    pub fn new(ram_size: u64) -> DecodeCache {
        let pages = ram_size.div_ceil(1 << PAGE_SHIFT) as usize;
        DecodeCache {
            pages: (0..pages).map(|_| None).collect(),
        }
    }

    /// The entry for the instruction at RAM offset `off` (even, inside RAM), if decoded.
    #[inline(always)]
    pub fn get(&self, off: u64) -> Option<&Entry> {
        let page = self.pages.get((off >> PAGE_SHIFT) as usize)?.as_ref()?;
        let e = &page[((off as usize) & ((1 << PAGE_SHIFT) - 1)) >> 1];
        if e.len != 0 { Some(e) } else { None }
    }

    /// Remembers the instruction at RAM offset `off`.
    pub fn insert(&mut self, off: u64, entry: Entry) {
        let Some(slot) = self.pages.get_mut((off >> PAGE_SHIFT) as usize) else {
            return;
        };
        let page = slot.get_or_insert_with(|| Box::new([EMPTY; SLOTS]));
        page[((off as usize) & ((1 << PAGE_SHIFT) - 1)) >> 1] = entry;
    }

    /// Forgets every instruction overlapping RAM bytes `off .. off + len`.
    #[inline]
    pub fn invalidate(&mut self, off: u64, len: u64) {
        // An instruction starting up to 2 bytes before the write may overlap it.
        let start = off.saturating_sub(2) & !1;
        let end = off.saturating_add(len.max(1) - 1);
        let (first, last) = ((start >> PAGE_SHIFT) as usize, (end >> PAGE_SHIFT) as usize);
        if last - first > 1 {
            for page in first..=last {
                if let Some(p) = self.pages.get_mut(page) {
                    *p = None;
                }
            }
            return;
        }
        let has = |p: usize| self.pages.get(p).is_some_and(|p| p.is_some());
        if !has(first) && !has(last) {
            return;
        }
        let mut a = start;
        while a <= end {
            if let Some(Some(page)) = self.pages.get_mut((a >> PAGE_SHIFT) as usize) {
                page[((a as usize) & ((1 << PAGE_SHIFT) - 1)) >> 1].len = 0;
            }
            a += 2;
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.pages.iter_mut().for_each(|p| *p = None);
    }
}
