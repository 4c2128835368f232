//! Unit tests of the object writer's validation; the ELF it writes is checked against GNU
//! binutils and real linkers in `backend/tests/object_link.rs`.

use alloc::vec;
use alloc::vec::Vec;

use super::*;

const AUIPC_RA: u32 = 0x0000_0097; // auipc ra, 0
const JALR_RA: u32 = 0x0000_80e7; // jalr ra, 0(ra)
const AUIPC_A0: u32 = 0x0000_0517; // auipc a0, 0
const ADDI_A0: u32 = 0x0005_0513; // addi a0, a0, 0
const LD_A0: u32 = 0x0005_3503; // ld a0, 0(a0)
const SD_A1: u32 = 0x00b5_3023; // sd a1, 0(a0)
const RET: u32 = 0x0000_8067; // ret
const SLLI_A0: u32 = 0x0015_1513; // slli a0, a0, 1

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn writer_with_code(code: &[u32]) -> (ObjectWriter, SectionId) {
    let mut w = ObjectWriter::new(Options::default());
    let text = w.text();
    w.append(text, &words(code), 4).unwrap();
    (w, text)
}

#[test]
fn standard_sections_are_reused_and_kinds_enforced() {
    let mut w = ObjectWriter::new(Options::default());
    let text = w.text();
    assert_eq!(w.text(), text);
    assert_eq!(w.section(".text", SectionKind::Text), Ok(text));
    assert!(matches!(
        w.section(".text", SectionKind::Data),
        Err(Error::SectionKindMismatch { .. })
    ));
    assert!(matches!(
        w.section(".bss", SectionKind::Data),
        Err(Error::SectionKindMismatch { .. })
    ));
    let f = w.function_section("main").unwrap();
    assert_eq!(w.section_name(f), Ok(".text.main"));
    assert!(matches!(
        w.section(".text.main", SectionKind::Data),
        Err(Error::SectionKindMismatch { .. })
    ));
    assert!(matches!(
        w.section("", SectionKind::Data),
        Err(Error::InvalidName(_))
    ));
    assert!(matches!(
        w.section("a\0b", SectionKind::Data),
        Err(Error::InvalidName(_))
    ));
}

#[test]
fn append_pads_to_alignment_and_rejects_bad_input() {
    let mut w = ObjectWriter::new(Options::default());
    let data = w.data();
    assert_eq!(w.append(data, &[1, 2, 3], 1), Ok(0));
    assert_eq!(w.append(data, &[4; 8], 8), Ok(8));
    assert_eq!(w.section_size(data), Ok(16));
    assert_eq!(w.append(data, &[1], 3), Err(Error::InvalidAlignment(3)));
    assert_eq!(w.append(data, &[1], 0), Err(Error::InvalidAlignment(0)));
    let bss = w.bss();
    assert!(matches!(w.append(bss, &[1], 1), Err(Error::NoBits { .. })));
    assert_eq!(w.append_zeros(bss, 10, 1), Ok(0));
    assert_eq!(w.append_zeros(bss, 4, 16), Ok(16));
    assert_eq!(w.section_size(bss), Ok(20));
    assert!(matches!(
        w.append_zeros(bss, u64::MAX, 1),
        Err(Error::SectionTooLarge { .. })
    ));
    assert_eq!(
        w.append(SectionId(99), &[1], 1),
        Err(Error::UnknownSection(99))
    );
    assert!(matches!(
        w.patch(data, 15, &[0, 0]),
        Err(Error::OutOfBounds { .. })
    ));
    assert_eq!(w.patch(data, 14, &[0, 0]), Ok(()));
}

#[test]
fn symbols_are_declared_then_defined_once() {
    let (mut w, text) = writer_with_code(&[RET]);
    let f = w.declare("f", SymbolKind::Function).unwrap();
    assert_eq!(w.is_defined(f), Ok(false));
    let def = Definition {
        section: text,
        offset: 0,
        size: 4,
        kind: SymbolKind::Function,
        binding: Binding::Global,
    };
    assert_eq!(w.define("f", def), Ok(f));
    assert_eq!(w.is_defined(f), Ok(true));
    assert_eq!(w.symbol("f"), Some(f));
    assert_eq!(w.define("f", def), Err(Error::DuplicateSymbol("f".into())));
    let too_big = Definition { size: 8, ..def };
    assert!(matches!(
        w.define("g", too_big),
        Err(Error::OutOfBounds { .. })
    ));
    let overflow = Definition {
        offset: u64::MAX,
        size: 2,
        ..def
    };
    assert!(matches!(
        w.define("g", overflow),
        Err(Error::OutOfBounds { .. })
    ));
    assert_eq!(
        w.symbol_name(SymbolId(1000)),
        Err(Error::UnknownSymbol(1000))
    );
}

#[test]
fn thread_locality_must_agree() {
    let mut w = ObjectWriter::new(Options::default());
    let tbss = w.tbss();
    let bss = w.bss();
    w.append_zeros(tbss, 8, 8).unwrap();
    w.append_zeros(bss, 8, 8).unwrap();
    let tls = |section| Definition {
        section,
        offset: 0,
        size: 8,
        kind: SymbolKind::Tls,
        binding: Binding::Local,
    };
    assert!(matches!(
        w.define("t", tls(bss)),
        Err(Error::TlsMismatch { .. })
    ));
    let obj = Definition {
        kind: SymbolKind::Object,
        ..tls(tbss)
    };
    assert!(matches!(w.define("t", obj), Err(Error::TlsMismatch { .. })));
    w.declare("u", SymbolKind::Function).unwrap();
    assert!(matches!(
        w.define("u", tls(tbss)),
        Err(Error::TlsMismatch { .. })
    ));
    assert!(matches!(
        w.declare("u", SymbolKind::Tls),
        Err(Error::TlsMismatch { .. })
    ));
    assert!(w.define("t", tls(tbss)).is_ok());
}

#[test]
fn relocations_check_their_place() {
    let code = [AUIPC_RA, JALR_RA, AUIPC_A0, LD_A0, SD_A1, SLLI_A0, RET];
    let (mut w, text) = writer_with_code(&code);
    let ext = w.declare("ext", SymbolKind::NoType).unwrap();
    assert_eq!(w.relocate(text, 0, RelocKind::Call, ext, 0), Ok(()));
    // Misaligned, wrong instruction, past the end.
    assert!(matches!(
        w.relocate(text, 2, RelocKind::Call, ext, 0),
        Err(Error::MisalignedRelocation { align: 4, .. })
    ));
    assert!(matches!(
        w.relocate(text, 4, RelocKind::Call, ext, 0),
        Err(Error::WrongInstruction { offset: 4, .. })
    ));
    assert!(matches!(
        w.relocate(text, 24, RelocKind::Call, ext, 0),
        Err(Error::OutOfBounds { .. })
    ));
    assert!(matches!(
        w.relocate(text, 0, RelocKind::Jal, ext, 0),
        Err(Error::WrongInstruction { .. })
    ));
    // auipc a0 + ld is not a call pair: the second word is reported.
    assert!(matches!(
        w.relocate(text, 8, RelocKind::Call, ext, 0),
        Err(Error::WrongInstruction { offset: 12, .. })
    ));
    // pcrel: LO12_I on ld, LO12_S on sd, not on a shift.
    let hi = w.pcrel(text, 8, 12, LoForm::I, ext, 16).unwrap();
    assert_eq!(w.pcrel_lo(hi, 16, LoForm::S), Ok(()));
    assert!(matches!(
        w.pcrel_lo(hi, 16, LoForm::I),
        Err(Error::WrongInstruction { .. })
    ));
    assert!(matches!(
        w.pcrel_lo(hi, 20, LoForm::I),
        Err(Error::WrongInstruction { .. })
    ));
    assert!(matches!(
        w.pcrel(text, 12, 16, LoForm::S, ext, 0),
        Err(Error::WrongInstruction { offset: 12, .. })
    ));
    // Instruction relocations belong in code; data relocations anywhere with contents.
    let data = w.data();
    w.append(data, &[0; 12], 1).unwrap();
    assert!(matches!(
        w.relocate(data, 0, RelocKind::Jal, ext, 0),
        Err(Error::NotCode { .. })
    ));
    assert_eq!(w.relocate(data, 3, RelocKind::Abs64, ext, 0), Ok(()));
    assert!(matches!(
        w.relocate(data, 5, RelocKind::Abs64, ext, 0),
        Err(Error::OutOfBounds { .. })
    ));
    assert_eq!(w.relocate(data, 8, RelocKind::Abs32, ext, 0), Ok(()));
    let bss = w.bss();
    w.append_zeros(bss, 8, 8).unwrap();
    assert!(matches!(
        w.relocate(bss, 0, RelocKind::Abs64, ext, 0),
        Err(Error::NoBits { .. })
    ));
    assert_eq!(
        w.relocate(data, 0, RelocKind::Abs64, SymbolId(77), 0),
        Err(Error::UnknownSymbol(77))
    );
}

#[test]
fn broken_call_pair_is_rejected() {
    // auipc ra, 0; jalr ra, 0(t1)
    let (mut w, text) = writer_with_code(&[AUIPC_RA, 0x0003_00e7]);
    let ext = w.declare("ext", SymbolKind::NoType).unwrap();
    assert!(matches!(
        w.relocate(text, 0, RelocKind::Call, ext, 0),
        Err(Error::BrokenCallPair { .. })
    ));
}

#[test]
fn pcrel_lo_needs_its_own_section_label() {
    let (mut w, text) = writer_with_code(&[AUIPC_A0, ADDI_A0]);
    let other = w.function_section("other").unwrap();
    w.append(other, &words(&[AUIPC_A0, ADDI_A0]), 4).unwrap();
    let ext = w.declare("ext", SymbolKind::Object).unwrap();
    let hi = w.pcrel_hi(text, 0, ext, 0).unwrap();
    assert_eq!(w.symbol_name(hi.label()), Ok(".Lpcrel_hi0"));
    // The generated label is not a named symbol.
    assert_eq!(w.symbol(".Lpcrel_hi0"), None);
    let forged = PcrelHi {
        section: other,
        label: hi.label(),
    };
    assert_eq!(w.pcrel_lo(forged, 4, LoForm::I), Err(Error::UnknownPcrelHi));
    let forged = PcrelHi {
        section: text,
        label: ext,
    };
    assert_eq!(w.pcrel_lo(forged, 4, LoForm::I), Err(Error::UnknownPcrelHi));
    assert_eq!(w.pcrel_lo(hi, 4, LoForm::I), Ok(()));
    let hi2 = w.pcrel_hi(other, 0, ext, 0).unwrap();
    assert_eq!(w.symbol_name(hi2.label()), Ok(".Lpcrel_hi1"));
}

#[test]
fn tls_relocations_need_tls_symbols() {
    let lui_a0 = 0x0000_0537; // lui a0, 0
    let (mut w, text) = writer_with_code(&[lui_a0, AUIPC_A0]);
    let t = w.declare("t", SymbolKind::Tls).unwrap();
    let g = w.declare("g", SymbolKind::Object).unwrap();
    assert_eq!(w.relocate(text, 0, RelocKind::TprelHi20, t, 0), Ok(()));
    assert!(matches!(
        w.relocate(text, 0, RelocKind::TprelHi20, g, 0),
        Err(Error::TlsRelocation { .. })
    ));
    assert!(matches!(
        w.pcrel_hi(text, 4, t, 0),
        Err(Error::TlsRelocation { .. })
    ));
    assert!(matches!(
        w.relocate(text, 4, RelocKind::TprelAdd, t, 0),
        Err(Error::WrongInstruction { .. })
    ));
}

#[test]
fn compressed_code_allows_halfword_aligned_relocations() {
    let mut w = ObjectWriter::new(Options { compressed: true });
    let text = w.text();
    let mut code = vec![0x82, 0x80]; // c.ret
    code.extend(words(&[AUIPC_RA, JALR_RA]));
    w.append(text, &code, 2).unwrap();
    let ext = w.declare("ext", SymbolKind::Function).unwrap();
    assert_eq!(w.relocate(text, 2, RelocKind::Call, ext, 0), Ok(()));
    assert!(matches!(
        w.relocate(text, 0, RelocKind::Call, ext, 0),
        Err(Error::WrongInstruction { .. })
    ));
    let elf = w.write().unwrap();
    // e_flags at offset 0x30 of an ELF64 header: RVC | FLOAT_ABI_DOUBLE.
    assert_eq!(&elf[0x30..0x34], &5u32.to_le_bytes());
}

#[test]
fn plain_object_has_double_float_abi_only() {
    let (w, _) = writer_with_code(&[RET]);
    let elf = w.write().unwrap();
    assert_eq!(&elf[0x30..0x34], &4u32.to_le_bytes());
    // e_machine = EM_RISCV, e_type = ET_REL.
    assert_eq!(&elf[0x10..0x14], &[1, 0, 243, 0]);
}
