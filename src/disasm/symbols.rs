//! The symbol table as GNU objdump uses it for disassembly: which symbols count, in which
//! order, and which one names an address (`remove_useless_symbols`, `compare_symbols` and
//! `find_symbol_for_address` in binutils' `objdump.c`, `riscv_symbol_is_valid` and the
//! mapping-symbol search in `riscv-dis.c`).

use std::cmp::Ordering;
use std::collections::HashMap;

use object::elf;
use object::read::elf::{ElfFile64, Sym as _};
use object::{LittleEndian, Object, ObjectSection, ObjectSymbol, SymbolSection};
use rvflash_backend::isa::disasm::Symbolizer;

/// A section as the listing sees it.
pub struct Section<'data> {
    /// ELF section index.
    pub index: usize,
    pub name: &'data str,
    pub vma: u64,
    pub data: &'data [u8],
}

impl Section<'_> {
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn contains(&self, vma: u64) -> bool {
        vma >= self.vma && vma - self.vma < self.size()
    }
}

/// A mapping symbol's meaning (`$x`: code follows, `$d`: data follows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    Code,
    Data,
}

/// One symbol kept for disassembly.
#[derive(Debug)]
pub struct Symbol<'data> {
    pub name: &'data str,
    pub value: u64,
    size: u64,
    /// ELF section index of the defining section (`None` for absolute symbols).
    pub section: Option<usize>,
    section_name: &'data str,
    function: bool,
    pub object: bool,
    local: bool,
    global: bool,
    /// objdump names addresses with it (not a mapping symbol or an assembler fake label).
    valid: bool,
    mapping: Option<Mapping>,
}

/// The symbols objdump keeps, sorted as objdump sorts them.
pub struct Symbols<'data> {
    pub sorted: Vec<Symbol<'data>>,
    /// A relocatable object (symbols of the section being disassembled are preferred).
    relocatable: bool,
    /// Mapping symbols as (section index, value, meaning), sorted by section then value.
    mappings: Vec<(usize, u64, Mapping)>,
    /// For each group of symbols with one value (keyed by the group's first index) and each
    /// section name, the first valid symbol of that section in the group.
    first_in_section: HashMap<(usize, &'data str), usize>,
    /// Index of the first symbol with the same value, for each symbol.
    group_start: Vec<usize>,
}

impl<'data> Symbols<'data> {
    /// The defined, named, non-section, non-file symbols of `.symtab` (or `.dynsym` when there
    /// is no `.symtab`), with values as objdump sees them (section address added in `.o`s).
    pub fn read(file: &ElfFile64<'data, LittleEndian>, relocatable: bool) -> Symbols<'data> {
        let mut sorted = Vec::new();
        let mut add = |sym: object::read::elf::ElfSymbol64<'data, '_, LittleEndian>| {
            let raw = sym.elf_symbol();
            let Ok(name) = sym.name() else { return };
            let SymbolSection::Section(index) = sym.section() else {
                if sym.section() != SymbolSection::Absolute || name.is_empty() {
                    return;
                }
                sorted.push(Symbol::new(name, raw.st_value(LittleEndian), raw, None, ""));
                return;
            };
            let st_type = raw.st_type();
            if name.is_empty() || st_type == elf::STT_SECTION || st_type == elf::STT_FILE {
                return;
            }
            let Ok(section) = file.section_by_index(index) else {
                return;
            };
            let mut value = raw.st_value(LittleEndian);
            if relocatable {
                value = value.wrapping_add(section.address());
            }
            let section_name = section.name().unwrap_or("");
            sorted.push(Symbol::new(name, value, raw, Some(index.0), section_name));
        };
        if file.symbols().next().is_some() {
            file.symbols().for_each(&mut add);
        } else {
            file.dynamic_symbols().for_each(&mut add);
        }
        sorted.sort_by(compare);
        let mut mappings: Vec<(usize, u64, Mapping)> = sorted
            .iter()
            .filter_map(|s| Some((s.section?, s.value, s.mapping?)))
            .collect();
        // Stable: among mapping symbols at one address the last in objdump's order wins.
        mappings.sort_by_key(|&(section, value, _)| (section, value));
        let mut group_start = Vec::with_capacity(sorted.len());
        let mut first_in_section = HashMap::new();
        for (i, sym) in sorted.iter().enumerate() {
            let start = match i.checked_sub(1) {
                Some(prev) if sorted[prev].value == sym.value => group_start[prev],
                _ => i,
            };
            group_start.push(start);
            if sym.valid {
                first_in_section
                    .entry((start, sym.section_name))
                    .or_insert(i);
            }
        }
        Symbols {
            sorted,
            relocatable,
            mappings,
            first_in_section,
            group_start,
        }
    }

    /// The value of `__global_pointer$`, if defined.
    pub fn global_pointer(&self) -> Option<u64> {
        self.sorted
            .iter()
            .find(|s| s.name == "__global_pointer$")
            .map(|s| s.value)
    }

    /// The symbol objdump names `vma` after while disassembling `sec` (index into `sorted`);
    /// `require_sec` keeps to symbols of `sec`, as for the headers of a listing.
    pub fn find(&self, vma: u64, sec: &Section<'_>, require_sec: bool) -> Option<usize> {
        let syms = &self.sorted;
        let n = syms.len();
        if n == 0 {
            return None;
        }
        // Binary search for the closest symbol at or below vma, in (min, max].
        let (mut min, mut max) = (0usize, n);
        while min + 1 < max {
            let this = (max + min) / 2;
            match syms[this].value.cmp(&vma) {
                Ordering::Greater => max = this,
                Ordering::Less => min = this,
                Ordering::Equal => {
                    min = this;
                    break;
                }
            }
        }
        // The first of several symbols with the same value...
        let mut this = min;
        while this > 0 && syms[this].value == syms[this - 1].value {
            this -= 1;
        }
        // ... preferring one in the current section.
        min = this;
        while min < max && syms[min].value == syms[this].value {
            if self.ok(true, min, sec) {
                return Some(min);
            }
            min += 1;
        }
        let want_section = require_sec || (self.relocatable && sec.contains(vma));
        if !self.ok(want_section, this, sec) {
            let mut new = n;
            for i in (0..min).rev() {
                if self.ok(want_section, i, sec) {
                    if new == n {
                        new = i;
                    }
                    if syms[i].value != syms[new].value {
                        break;
                    }
                    new = i;
                }
            }
            if new != n {
                this = new;
            } else if let Some(i) = (this + 1..n).find(|&i| self.ok(want_section, i, sec)) {
                // No good symbol below: take one above.
                this = i;
            }
            if !self.ok(want_section, this, sec) {
                return None;
            }
        }
        // objdump sorts the symbols of the section being disassembled (by name) first among
        // symbols of equal value, so without `want_section` that is the one its searches
        // meet first (with it, only symbols of this section qualify anyway).
        if !want_section {
            let group = self.group_start[this];
            return Some(
                self.first_in_section
                    .get(&(group, sec.name))
                    .copied()
                    .unwrap_or(this),
            );
        }
        Some(this)
    }

    /// The next symbol after `place` that can end the listing block of `sorted[place]` in
    /// `sec`: same section, a larger value, not a mapping symbol.
    pub fn next_in_section(&self, place: usize, sec: &Section<'_>) -> Option<usize> {
        let value = self.sorted.get(place)?.value;
        (place..self.sorted.len()).find(|&i| {
            let s = &self.sorted[i];
            s.section_name == sec.name && s.value > value && s.valid
        })
    }

    /// Whether the bytes at `addr` are code or data, per the mapping symbols of `sec`
    /// (code when there are none), and where the current mapping ends.
    pub fn mapping_at(&self, addr: u64, sec: &Section<'_>) -> (Mapping, u64) {
        let key = |section: usize, value: u64| (section, value);
        let ms = &self.mappings;
        // Mapping symbols of `sec` at or below `addr`, and the first one above it.
        let upto = ms.partition_point(|&(s, v, _)| key(s, v) <= key(sec.index, addr));
        let state = match upto.checked_sub(1).map(|i| ms[i]) {
            Some((s, v, m)) if s == sec.index && v >= sec.vma => m,
            _ => Mapping::Code,
        };
        let end = match ms.get(upto) {
            Some(&(s, v, _)) if s == sec.index => v,
            _ => sec.vma + sec.size(),
        };
        (state, end)
    }

    fn ok(&self, want_section: bool, place: usize, sec: &Section<'_>) -> bool {
        let sym = &self.sorted[place];
        if want_section && (sym.section != Some(sec.index) || sym.section_name != sec.name) {
            return false;
        }
        sym.valid
    }
}

impl<'data> Symbol<'data> {
    fn new(
        name: &'data str,
        value: u64,
        raw: &elf::Sym64<LittleEndian>,
        section: Option<usize>,
        section_name: &'data str,
    ) -> Symbol<'data> {
        let st_type = raw.st_type();
        let bind = raw.st_bind();
        let mapping = match name {
            "$x" => Some(Mapping::Code),
            "$d" => Some(Mapping::Data),
            _ if name.starts_with("$xrv") => Some(Mapping::Code),
            _ => None,
        };
        Symbol {
            name,
            value,
            size: raw.st_size(LittleEndian),
            section,
            section_name,
            function: st_type == elf::STT_FUNC,
            object: st_type == elf::STT_OBJECT || st_type == elf::STT_COMMON,
            local: bind == elf::STB_LOCAL,
            global: bind == elf::STB_GLOBAL,
            // Assembler fake labels are `.L0 `; mapping symbols name no address.
            valid: mapping.is_none() && name != ".L0 ",
            mapping,
        }
    }
}

/// objdump's `compare_symbols`: by value, then useful names before compiler markers and file
/// names, functions before objects before the rest, global before local, larger before
/// smaller, names not starting with `.` first, then by name.
fn compare(a: &Symbol<'_>, b: &Symbol<'_>) -> Ordering {
    let marker =
        |s: &Symbol<'_>| s.name.contains("gnu_compiled") || s.name.contains("gcc2_compiled");
    let file =
        |s: &Symbol<'_>| s.name.len() > 2 && (s.name.ends_with(".o") || s.name.ends_with(".a"));
    a.value
        .cmp(&b.value)
        .then(marker(a).cmp(&marker(b)))
        .then(file(a).cmp(&file(b)))
        .then(b.function.cmp(&a.function))
        .then(b.object.cmp(&a.object))
        .then(a.local.cmp(&b.local))
        .then(b.global.cmp(&a.global))
        .then(b.size.cmp(&a.size))
        .then(a.name.starts_with('.').cmp(&b.name.starts_with('.')))
        .then(a.name.cmp(b.name))
}

/// Names addresses in operands and comments while one section is disassembled.
pub struct SectionSymbolizer<'a, 'data> {
    pub symbols: &'a Symbols<'data>,
    pub section: &'a Section<'data>,
}

impl Symbolizer for SectionSymbolizer<'_, '_> {
    fn symbolize(&self, addr: u64) -> Option<(&str, u64)> {
        if self.symbols.sorted.is_empty() {
            return None;
        }
        match self.symbols.find(addr, self.section, false) {
            Some(i) => {
                let sym = &self.symbols.sorted[i];
                // objdump prints `<sym-0x..>` here; the disassembler has no negative offsets.
                addr.checked_sub(sym.value).map(|off| (sym.name, off))
            }
            // objdump names the address after the section being disassembled.
            None => addr
                .checked_sub(self.section.vma)
                .map(|off| (self.section.name, off)),
        }
    }
}
