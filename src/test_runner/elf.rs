//! The test list of an `embedded-test` binary, read from its ELF file.
//!
//! `embedded-test` 0.7 (format version 1) puts its metadata in the non-allocated section
//! `.embedded_test` (the `embedded-test.x` linker script's `(INFO)` output section):
//!
//! - `EMBEDDED_TEST_VERSION`, a `usize` holding the format version (1);
//! - one static per test whose *symbol name* is a JSON object
//!   `{"disambiguator":N,"name":"fn_name","ignored":bool,"should_panic":bool[,"timeout":secs]}`
//!   and whose data is `(fn() -> !, &'static str)`: the test's entry address, then its
//!   `module_path!()` as a pointer and a length (words of the file's class: 8 bytes on RV64).
//!   The string itself lives in a loaded section (`.rodata`).
//!
//! Symbol values are addresses in the section's own address space (the linker script places
//! it at address 1), so data is found relative to the section's `sh_addr`; the module path is
//! found through the loaded section that holds its address.
//!
//! This file only reads bytes: it never touches a board.

use anyhow::{Context, Result, bail};
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, elf};
use serde::Deserialize;

/// The section `embedded-test.x` gathers `.embedded_test.*` into.
const SECTION: &str = ".embedded_test";
/// The symbol holding the format version.
const VERSION_SYMBOL: &str = "EMBEDDED_TEST_VERSION";
/// The only format version this runner speaks (embedded-test 0.7).
const SUPPORTED_VERSION: u64 = 1;

/// One test of an `embedded-test` binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTest {
    /// The name libtest would show: the module path without the crate name, `::`, the
    /// function name (`device::tests` + `passes` → `tests::passes`).
    pub name: String,
    /// The test's entry address: the host answers SYS_GET_CMDLINE with `run_addr ENTRY`
    /// (in decimal) to run it.
    pub entry: u64,
    /// `#[ignore]`.
    pub ignored: bool,
    /// `#[should_panic]`.
    pub should_panic: bool,
    /// `#[timeout(S)]` (or the suite's `default_timeout`), in seconds.
    pub timeout: Option<u32>,
}

/// A test's symbol name, decoded.
#[derive(Deserialize)]
struct Descriptor {
    name: String,
    ignored: bool,
    should_panic: bool,
    #[serde(default)]
    timeout: Option<u32>,
}

/// The tests of an `embedded-test` binary, sorted by name (as libtest runs them); `None` when
/// the file is not one (no `.embedded_test` section, or no `EMBEDDED_TEST_VERSION` symbol).
///
/// Errors: bytes that are not an object file, an unsupported format version, a test symbol
/// whose name is not the JSON descriptor, data outside the section, a module path outside
/// the file's loaded sections or not UTF-8, an entry address outside the loaded sections, a
/// test section in a file without a symbol table (stripped).
pub fn find_tests(elf: &[u8]) -> Result<Option<Vec<DeviceTest>>> {
    let file = object::File::parse(elf).context("not a valid ELF file")?;
    let Some(section) = file.section_by_name(SECTION) else {
        return Ok(None);
    };
    if file.symbols().next().is_none() {
        bail!(
            "the ELF file has a `{SECTION}` section but no symbol table, which holds the test \
             list: was it stripped? (keep symbols in test builds: `strip = false`)"
        );
    }
    let Some(version_symbol) = file.symbol_by_name(VERSION_SYMBOL) else {
        return Ok(None);
    };
    let word = if file.is_64() { 8 } else { 4 };
    let endian = file.endianness();
    let read_word = |bytes: &[u8]| -> u64 {
        let fold = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
        match endian {
            object::Endianness::Little => bytes.iter().rev().fold(0, fold),
            object::Endianness::Big => bytes.iter().fold(0, fold),
        }
    };

    if version_symbol.section_index() != Some(section.index()) {
        bail!("`{VERSION_SYMBOL}` is not in the `{SECTION}` section");
    }
    // A `usize`; 4 bytes is what older probe-rs versions expected, accept both.
    let size = match version_symbol.size() {
        0 => word,
        size @ (4 | 8) => size,
        size => bail!("`{VERSION_SYMBOL}` has an unexpected size ({size} bytes)"),
    };
    let version = section
        .data_range(version_symbol.address(), size)
        .ok()
        .flatten()
        .map(read_word)
        .with_context(|| format!("`{VERSION_SYMBOL}` lies outside the `{SECTION}` section"))?;
    if version != SUPPORTED_VERSION {
        bail!(
            "the test binary uses embedded-test format version {version}; rvflash supports \
             version {SUPPORTED_VERSION} (embedded-test 0.7)"
        );
    }

    let mut tests = Vec::new();
    for symbol in file.symbols() {
        if symbol.section_index() != Some(section.index()) {
            continue;
        }
        // Only the tests' names are JSON objects.
        let Ok(raw) = symbol.name() else { continue };
        if !raw.starts_with('{') {
            continue;
        }
        let descriptor: Descriptor = serde_json::from_str(raw).with_context(|| {
            format!("malformed embedded-test descriptor (symbol name) in `{SECTION}`: {raw}")
        })?;
        let fn_name = &descriptor.name;
        let tuple = section
            .data_range(symbol.address(), 3 * word)
            .ok()
            .flatten()
            .with_context(|| {
                format!(
                    "test `{fn_name}`: its data at {:#x} lies outside the `{SECTION}` section",
                    symbol.address()
                )
            })?;
        let (word_bytes, rest) = tuple.split_at(word as usize);
        let entry = read_word(word_bytes);
        let (word_bytes, rest) = rest.split_at(word as usize);
        let (path_addr, path_len) = (read_word(word_bytes), read_word(rest));
        let path_bytes = loaded_bytes(&file, path_addr, path_len).with_context(|| {
            format!(
                "test `{fn_name}`: its module path at {path_addr:#x} ({path_len} bytes) lies \
                 outside the file's loaded sections"
            )
        })?;
        let module_path = std::str::from_utf8(path_bytes)
            .with_context(|| format!("test `{fn_name}`: its module path is not UTF-8"))?;
        if loaded_bytes(&file, entry, 2).is_none() {
            bail!(
                "test `{fn_name}`: its entry address {entry:#x} lies outside the file's loaded \
                 sections"
            );
        }
        // libtest's names leave out the crate: `device::tests` → `tests::NAME`.
        let name = match module_path.split_once("::") {
            Some((_crate, path)) => format!("{path}::{fn_name}"),
            None => fn_name.clone(),
        };
        tests.push(DeviceTest {
            name,
            entry,
            ignored: descriptor.ignored,
            should_panic: descriptor.should_panic,
            timeout: descriptor.timeout,
        });
    }
    tests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(tests))
}

/// `len` bytes at address `addr` from a section the program loads (allocated, with file
/// contents).
fn loaded_bytes<'data>(file: &object::File<'data>, addr: u64, len: u64) -> Option<&'data [u8]> {
    file.sections()
        .filter(|s| match s.flags() {
            SectionFlags::Elf { sh_type, sh_flags } => {
                sh_flags.contains(elf::SHF_ALLOC) && sh_type != elf::SHT_NOBITS
            }
            _ => false,
        })
        .find_map(|s| s.data_range(addr, len).ok().flatten())
}

#[cfg(test)]
mod tests {
    use object::Endianness;
    use object::write::elf::{FileHeader, SectionHeader, Sym, Writer};

    use super::*;

    const TEXT: u64 = 0x8000_0000;
    const RODATA: u64 = 0x8000_1000;
    /// `embedded-test.x` places `.embedded_test` at address 1.
    const META: u64 = 1;

    /// An RV64 executable with `.text`, `.rodata` holding `rodata`, `.embedded_test` holding
    /// `meta` (omitted when `None`) and `symbols` (name, value, size) in `.embedded_test`;
    /// without a symbol table when `symbols` is `None`. Written with `object`'s ELF writer.
    fn elf(rodata: &[u8], meta: Option<&[u8]>, symbols: Option<&[(String, u64, u64)]>) -> Vec<u8> {
        let text = [0x13u8, 0, 0, 0].repeat(16); // nops
        let mut out = Vec::new();
        let mut w = Writer::new_single_phase(Endianness::Little, true, &mut out);
        let names = [&b".text"[..], b".rodata", b".embedded_test"].map(|n| w.add_section_name(n));
        let strings: Vec<_> = symbols
            .unwrap_or_default()
            .iter()
            .map(|s| w.add_string(s.0.as_bytes()))
            .collect();
        w.write_file_header(&FileHeader {
            e_type: elf::ET_EXEC,
            e_machine: elf::EM_RISCV,
            e_entry: TEXT,
            ..FileHeader::default()
        })
        .unwrap();
        let mut offsets = Vec::new();
        for data in [&text[..], rodata, meta.unwrap_or_default()] {
            offsets.push(w.write_align(8));
            w.write(data);
        }
        if let Some(symbols) = symbols {
            w.write_null_symbol();
            for (symbol, string) in symbols.iter().zip(&strings) {
                w.write_symbol(&Sym {
                    section: Some(3),
                    st_name: w.string_offset(Some(*string)),
                    st_info: elf::SymbolInfo::new(elf::STB_GLOBAL, elf::STT_OBJECT),
                    st_other: elf::SymbolOther::default(),
                    st_shndx: elf::SymbolSection::default(),
                    st_value: symbol.1,
                    st_size: symbol.2,
                });
            }
        }
        w.write_strtab().unwrap();
        w.write_shstrtab().unwrap();
        w.write_null_section_header();
        let headers = [
            (TEXT, text.len(), elf::SHF_ALLOC | elf::SHF_EXECINSTR),
            (RODATA, rodata.len(), elf::SHF_ALLOC),
            (
                META,
                meta.unwrap_or_default().len(),
                elf::SectionFlags::default(),
            ),
        ];
        let count = if meta.is_some() { 3 } else { 2 };
        for (i, (addr, size, flags)) in headers.into_iter().enumerate().take(count) {
            w.write_section_header(&SectionHeader {
                sh_name: w.section_name_offset(Some(names[i])),
                sh_type: elf::SHT_PROGBITS,
                sh_flags: flags,
                sh_addr: addr,
                sh_offset: offsets[i],
                sh_size: size as u64,
                sh_addralign: 8,
                ..SectionHeader::default()
            });
        }
        w.write_strtab_section_header();
        w.write_symtab_section_header(1);
        w.write_shstrtab_section_header();
        let mut header = Vec::new();
        w.write_file_header_to(&mut header).unwrap();
        drop(w);
        out[..header.len()].copy_from_slice(&header);
        out
    }

    /// A test's symbol name, as `embedded-test-macros` writes it.
    fn descriptor(name: &str, ignored: bool, should_panic: bool, timeout: Option<u32>) -> String {
        let timeout = timeout
            .map(|t| format!(",\"timeout\":{t}"))
            .unwrap_or_default();
        format!(
            "{{\"disambiguator\":1234567890123456789,\"name\":\"{name}\",\"ignored\":{ignored},\
             \"should_panic\":{should_panic}{timeout}}}"
        )
    }

    /// The bytes and symbols of an `.embedded_test` section: the version, then one
    /// `(entry, path pointer, path length)` tuple per test (name, entry, path address, length).
    fn meta(version: u64, tests: &[(String, u64, u64, u64)]) -> (Vec<u8>, Vec<(String, u64, u64)>) {
        let mut bytes = version.to_le_bytes().to_vec();
        let mut symbols = vec![(VERSION_SYMBOL.to_owned(), META, 8)];
        // Other symbols of the section (not tests) must be passed over.
        symbols.push(("$d".to_owned(), META, 0));
        for (name, entry, path, len) in tests {
            symbols.push((name.clone(), META + bytes.len() as u64, 24));
            for word in [entry, path, len] {
                bytes.extend(word.to_le_bytes());
            }
        }
        (bytes, symbols)
    }

    fn find(
        rodata: &[u8],
        version: u64,
        tests: &[(String, u64, u64, u64)],
    ) -> Result<Option<Vec<DeviceTest>>> {
        let (bytes, symbols) = meta(version, tests);
        find_tests(&elf(rodata, Some(&bytes), Some(&symbols)))
    }

    const RODATA_BYTES: &[u8] = b"device::testsdevice::tests::inner";

    #[test]
    fn reads_the_tests_sorted_by_name() {
        let tests = [
            (
                descriptor("zeta", false, false, None),
                TEXT + 0x10,
                RODATA,
                13,
            ),
            (
                descriptor("alpha", true, false, Some(5)),
                TEXT + 0x20,
                RODATA,
                13,
            ),
            (
                descriptor("beta", false, true, None),
                TEXT + 0x32,
                RODATA + 13,
                20,
            ),
        ];
        let found = find(RODATA_BYTES, 1, &tests).unwrap().unwrap();
        let expected = [
            ("tests::alpha", TEXT + 0x20, true, false, Some(5)),
            ("tests::inner::beta", TEXT + 0x32, false, true, None),
            ("tests::zeta", TEXT + 0x10, false, false, None),
        ]
        .map(|(name, entry, ignored, should_panic, timeout)| DeviceTest {
            name: name.to_owned(),
            entry,
            ignored,
            should_panic,
            timeout,
        });
        assert_eq!(found, expected);
    }

    #[test]
    fn an_empty_suite_is_some() {
        assert_eq!(find(RODATA_BYTES, 1, &[]).unwrap(), Some(vec![]));
    }

    #[test]
    fn a_module_path_without_crate_keeps_the_function_name() {
        let tests = [(descriptor("t", false, false, None), TEXT, RODATA, 6)];
        let found = find(RODATA_BYTES, 1, &tests).unwrap().unwrap();
        assert_eq!(found[0].name, "t");
    }

    #[test]
    fn escaped_json_names_are_decoded() {
        let tests = [(
            descriptor("we\\u0040ird", false, false, None),
            TEXT,
            RODATA,
            13,
        )];
        let found = find(RODATA_BYTES, 1, &tests).unwrap().unwrap();
        assert_eq!(found[0].name, "tests::we@ird");
    }

    #[test]
    fn no_section_or_no_version_is_not_a_test_binary() {
        assert_eq!(
            find_tests(&elf(RODATA_BYTES, None, Some(&[]))).unwrap(),
            None
        );
        let (bytes, mut symbols) = meta(1, &[]);
        symbols.retain(|s| s.0 != VERSION_SYMBOL);
        assert_eq!(
            find_tests(&elf(RODATA_BYTES, Some(&bytes), Some(&symbols))).unwrap(),
            None
        );
    }

    #[test]
    fn a_stripped_test_binary_is_an_error() {
        let (bytes, _) = meta(1, &[]);
        let err = find_tests(&elf(RODATA_BYTES, Some(&bytes), None)).unwrap_err();
        assert!(format!("{err:#}").contains("stripped"), "{err:#}");
    }

    #[test]
    fn other_versions_are_errors() {
        for version in [0, 2] {
            let err = find(RODATA_BYTES, version, &[]).unwrap_err();
            let msg = format!("{err:#}");
            assert!(msg.contains(&format!("format version {version}")), "{msg}");
        }
    }

    #[test]
    fn a_malformed_descriptor_is_an_error() {
        let tests = [("{\"name\":\"x\",".to_owned(), TEXT, RODATA, 13)];
        let err = find(RODATA_BYTES, 1, &tests).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("malformed embedded-test descriptor"), "{msg}");
        assert!(msg.contains("{\"name\":\"x\","), "{msg}");
    }

    #[test]
    fn a_module_path_outside_the_loaded_sections_is_an_error() {
        for (path, len) in [(0x1234, 13), (RODATA + 30, 13), (META, 8)] {
            let tests = [(descriptor("x", false, false, None), TEXT, path, len)];
            let msg = format!("{:#}", find(RODATA_BYTES, 1, &tests).unwrap_err());
            assert!(msg.contains("test `x`: its module path at"), "{msg}");
            assert!(msg.contains("outside the file's loaded sections"), "{msg}");
        }
    }

    #[test]
    fn an_entry_outside_the_loaded_sections_is_an_error() {
        let tests = [(descriptor("x", false, false, None), 0x10, RODATA, 13)];
        let msg = format!("{:#}", find(RODATA_BYTES, 1, &tests).unwrap_err());
        assert!(msg.contains("entry address 0x10"), "{msg}");
    }

    #[test]
    fn a_module_path_that_is_not_utf8_is_an_error() {
        let tests = [(descriptor("x", false, false, None), TEXT, RODATA, 2)];
        let msg = format!("{:#}", find(b"\xff\xfe", 1, &tests).unwrap_err());
        assert!(msg.contains("not UTF-8"), "{msg}");
    }

    #[test]
    fn not_an_elf_file_is_an_error() {
        assert!(find_tests(b"hello").is_err());
    }
}
