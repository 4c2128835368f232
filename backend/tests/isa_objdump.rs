//! The instruction table checked against GNU objdump.
//!
//! Every op of the table is encoded with edge operands (every register, immediates at their
//! limits and at every bit position, every rounding mode, every aq/rl combination, every
//! fence set, CSRs), and
//! - the corpus round-trips encode → decode → encode;
//! - the real `riscv64-unknown-elf-objdump` reads each instruction as the same text our
//!   disassembler prints.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::Command;

use rvflash_backend::isa::disasm::{AddressTracker, Disasm};
use rvflash_backend::isa::format::{Implied, Layout};
use rvflash_backend::isa::{Format, Inst, Op, decode, encode, rm};

/// Immediates worth testing for a field: limits, zero, ±alignment and every single bit.
fn interesting_imms(layout: &Layout) -> Vec<i32> {
    let Some(field) = layout.imm else {
        return vec![0];
    };
    let (min, max) = field.range();
    let scale = field.scale();
    let align = 1i64 << scale;
    let mut v = vec![min, max & !(align - 1), 0, align, -align];
    for bit in scale..field.width() {
        v.push(1 << bit);
        v.push(-(1 << bit));
        v.push((1 << bit) - align);
    }
    v.sort();
    v.dedup();
    v.into_iter()
        .filter(|&x| x >= min && x <= max && x % align == 0 && !(field.nonzero && x == 0))
        .map(|x| x as i32)
        .collect()
}

fn apply_implied(inst: &mut Inst, layout: &Layout) {
    for implied in layout.implied {
        let (slot, value) = match *implied {
            Implied::Reg(slot, reg) => (slot, reg),
            Implied::Same(slot, other) => (slot, inst.slot(other)),
        };
        inst.set_slot(slot, value);
    }
}

/// A valid instruction of `op` with ordinary operands.
fn base_inst(op: Op) -> Inst {
    let layout = op.format().layout();
    let mut inst = Inst::new(op);
    for (i, field) in layout.regs.iter().enumerate() {
        // Distinct registers per slot, within x8..x15 for compressed fields.
        inst.set_slot(field.slot, 9 + i as u8 * 2);
    }
    if let Some(field) = layout.imm {
        inst.imm = 1 << field.scale();
    }
    if layout.rm {
        inst.rm = rm::DYN;
    }
    apply_implied(&mut inst, &layout);
    inst
}

/// CSR numbers: every named one we know plus unnamed ones.
fn csr_numbers() -> Vec<i32> {
    (0..4096).collect()
}

fn corpus() -> Vec<Inst> {
    let mut out = Vec::new();
    for &op in Op::ALL {
        let layout = op.format().layout();
        if op.format() == Format::Fence {
            // objdump 2.40 knows only zero reserved fields (see disasm.rs).
            let imms = if op == Op::Fence { 0..256 } else { 0..1 };
            out.extend(imms.map(|imm| Inst {
                imm,
                ..Inst::new(op)
            }));
            continue;
        }
        let base = base_inst(op);
        out.push(base);
        for field in layout.regs {
            let regs: Vec<u8> = if field.compact {
                (8..16).collect()
            } else {
                (0..32).collect()
            };
            for r in regs {
                if field.forbid & (1 << r) != 0 {
                    continue;
                }
                let mut inst = base;
                inst.set_slot(field.slot, r);
                apply_implied(&mut inst, &layout);
                out.push(inst);
            }
        }
        let imms = match op.format() {
            Format::Csr if op == Op::Csrrs => csr_numbers(),
            _ => interesting_imms(&layout),
        };
        for imm in imms {
            out.push(Inst { imm, ..base });
        }
        if layout.rm {
            for m in [0, 1, 2, 3, 4, 7] {
                out.push(Inst { rm: m, ..base });
            }
        }
        if layout.aqrl {
            for a in 0..4 {
                out.push(Inst { aqrl: a, ..base });
            }
        }
    }
    // Alias edge cases: zero registers in every slot combination of the aliased ops.
    for op in [
        Op::Addi,
        Op::Addiw,
        Op::Sub,
        Op::Subw,
        Op::Slt,
        Op::Sltu,
        Op::Beq,
        Op::Bne,
        Op::Blt,
        Op::Bge,
        Op::Jal,
        Op::Jalr,
        Op::Csrrw,
        Op::Csrrs,
        Op::Csrrc,
        Op::Csrrwi,
        Op::Csrrsi,
        Op::Csrrci,
        Op::FsgnjS,
        Op::FsgnjD,
        Op::FsgnjnS,
        Op::FsgnjnD,
        Op::FsgnjxS,
        Op::FsgnjxD,
        Op::CAddi,
        Op::CLi,
        Op::CLui,
        Op::CSlli,
        Op::CMv,
        Op::CAdd,
        Op::CAddiw,
    ] {
        let layout = op.format().layout();
        for rd in [0, 1, 10] {
            for rs1 in [0, 1, 10] {
                for rs2 in [0, 10] {
                    for imm in [0, 1, -1, 255, 2] {
                        let mut inst = Inst {
                            rd,
                            rs1,
                            rs2,
                            imm,
                            ..base_inst(op)
                        };
                        apply_implied(&mut inst, &layout);
                        if encode(&inst).is_ok() {
                            out.push(inst);
                        }
                    }
                }
            }
        }
    }
    for csr in [0x001, 0x002, 0x003, 0xc00, 0xc01, 0xc02, 0x300, 0x7c0] {
        for op in [
            Op::Csrrw,
            Op::Csrrs,
            Op::Csrrc,
            Op::Csrrwi,
            Op::Csrrsi,
            Op::Csrrci,
        ] {
            for (rd, rs1) in [(0, 0), (0, 5), (10, 0), (10, 5)] {
                out.push(Inst {
                    rd,
                    rs1,
                    imm: csr,
                    ..Inst::new(op)
                });
            }
        }
    }
    out
}

fn tool(name: &str) -> String {
    let path = format!("riscv64-unknown-elf-{name}");
    let ok = Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{path} not found: install the Debian package binutils-riscv64-unknown-elf"
    );
    path
}

/// Runs objdump on raw code and returns its text per address, without ` <symbol>` suffixes
/// (there are no symbols in raw code).
fn objdump_listing(code: &[u8]) -> HashMap<u64, String> {
    let objdump = tool("objdump");
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("code.bin");
    std::fs::write(&bin, code).unwrap();
    let out = Command::new(&objdump)
        .args(["-D", "-b", "binary", "-m", "riscv:rv64"])
        .arg(&bin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut listing = HashMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        // "   1c:\tbytes   \tmnemonic\toperands"
        let mut parts = line.splitn(3, '\t');
        let (Some(addr), Some(_bytes), Some(text)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Some(Ok(addr)) = addr
            .trim()
            .strip_suffix(':')
            .map(|a| u64::from_str_radix(a, 16))
        else {
            continue;
        };
        listing.insert(
            addr,
            text.split(" <").next().unwrap().trim_end().to_string(),
        );
    }
    listing
}

#[test]
fn corpus_round_trips() {
    let corpus = corpus();
    for inst in &corpus {
        let enc = encode(inst).unwrap_or_else(|e| panic!("{inst:?}: {e}"));
        let bytes = enc.bytes();
        let back = decode(&bytes[..enc.len()]).unwrap_or_else(|e| panic!("{inst:?}: {e}"));
        assert_eq!(&back, inst, "decode(encode(x)) != x for {:08x}", enc.word());
        assert_eq!(encode(&back).unwrap(), enc);
    }
    // Every op is covered.
    for &op in Op::ALL {
        assert!(
            corpus.iter().any(|i| i.op == op),
            "{op:?} not in the corpus"
        );
    }
}

#[test]
fn corpus_matches_objdump() {
    let corpus = corpus();
    let mut image = Vec::new();
    let mut expected = Vec::new();
    let mut tracker = AddressTracker::new(None);
    for inst in &corpus {
        let pc = image.len() as u64;
        encode(inst).unwrap().write_to(&mut image);
        let comment = tracker.step(inst, pc);
        let text = Disasm {
            inst,
            pc,
            symbols: None,
            comment,
        }
        .to_string();
        expected.push((pc, *inst, text));
    }
    let theirs = objdump_listing(&image);
    let mut report = String::new();
    let mut bad = 0;
    let mut per_op = HashMap::new();
    for (pc, inst, ours) in &expected {
        let objdump = theirs.get(pc).map(String::as_str).unwrap_or("<missing>");
        // Documented difference: objdump 2.40 decodes the exact conversions only with rm = 0.
        let exact_conversion = matches!(inst.op, Op::FcvtDS | Op::FcvtDW | Op::FcvtDWu);
        if exact_conversion && inst.rm != rm::RNE && objdump.starts_with(".4byte") {
            continue;
        }
        if objdump != ours {
            bad += 1;
            let n = per_op.entry(inst.op).or_insert(0);
            *n += 1;
            if *n <= 3 {
                writeln!(
                    report,
                    "{pc:6x} {inst:?}\n   objdump: {objdump}\n   ours:    {ours}"
                )
                .unwrap();
            }
        }
    }
    assert!(
        bad == 0,
        "{bad} of {} differ from objdump:\n{report}",
        expected.len()
    );
}

/// Every 16-bit parcel: we decode exactly the ones objdump decodes, to the same text.
#[test]
fn all_compressed_encodings_match_objdump() {
    let parcels: Vec<u16> = (0..=u16::MAX).filter(|p| p & 3 != 3).collect();
    let image: Vec<u8> = parcels.iter().flat_map(|p| p.to_le_bytes()).collect();
    let theirs = objdump_listing(&image);
    let mut report = String::new();
    let mut bad = 0;
    // objdump's `lui`/`auipc` tracking spans instructions; track the same way.
    let mut tracker = AddressTracker::new(None);
    for (i, &parcel) in parcels.iter().enumerate() {
        let pc = 2 * i as u64;
        let objdump = theirs.get(&pc).map(String::as_str).unwrap_or("<missing>");
        let ours = match decode(&parcel.to_le_bytes()) {
            Ok(inst) => {
                let comment = tracker.step(&inst, pc);
                Disasm {
                    inst: &inst,
                    pc,
                    symbols: None,
                    comment,
                }
                .to_string()
            }
            // objdump prints undecodable parcels as data, and 0x0000 as `unimp`.
            Err(_) if parcel == 0 => "unimp".to_string(),
            Err(_) => format!(".2byte\t0x{parcel:x}"),
        };
        // Documented difference: c.addi16sp with a zero immediate is reserved (the spec, QEMU);
        // objdump 2.40 prints it as `add sp,sp,0`.
        if parcel == 0x6101 && ours.starts_with(".2byte") {
            continue;
        }
        if objdump != ours {
            bad += 1;
            if bad <= 40 {
                writeln!(report, "{parcel:04x}: objdump `{objdump}`, ours `{ours}`").unwrap();
            }
        }
    }
    assert!(bad == 0, "{bad} parcels differ:\n{report}");
}

/// Random 32-bit words (a fixed seed), half of them forced onto a table row's fixed bits:
/// we decode exactly the ones objdump decodes, to the same text.
#[test]
fn random_words_match_objdump() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let rows: Vec<_> = Op::ALL
        .iter()
        .filter(|op| op.format().size() == 4)
        .collect();
    let words: Vec<u32> = (0..200_000)
        .map(|i| {
            let r = next();
            // Low bits 11 (32-bit), and not 11111 (longer encodings, which objdump groups).
            let random = ((r as u32) | 3) & !(1 << 4);
            if i % 2 == 0 {
                random
            } else {
                let desc = rows[(r >> 32) as usize % rows.len()].desc();
                (random & !desc.mask) | desc.bits
            }
        })
        .collect();
    let image: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let theirs = objdump_listing(&image);
    let mut report = String::new();
    let mut bad = 0;
    let mut tracker = AddressTracker::new(None);
    for (i, &word) in words.iter().enumerate() {
        let pc = 4 * i as u64;
        let objdump = theirs.get(&pc).map(String::as_str).unwrap_or("<missing>");
        let ours = match decode(&word.to_le_bytes()) {
            Ok(inst) => {
                let comment = tracker.step(&inst, pc);
                Disasm {
                    inst: &inst,
                    pc,
                    symbols: None,
                    comment,
                }
                .to_string()
            }
            Err(_) => format!(".4byte\t0x{word:x}"),
        };
        // Documented difference: reserved rounding modes (5, 6) are illegal; objdump 2.40
        // prints them as `unknown`.
        if ours.starts_with(".4byte") && objdump.ends_with(",unknown") {
            continue;
        }
        // Documented difference (see disasm.rs): fences with reserved fields set.
        if objdump.starts_with(".4byte") && ours.starts_with("fence") {
            continue;
        }
        // Documented difference (see disasm.rs): exact conversions with rm != rne.
        if objdump.starts_with(".4byte")
            && let Ok(inst) = decode(&word.to_le_bytes())
            && matches!(inst.op, Op::FcvtDS | Op::FcvtDW | Op::FcvtDWu)
        {
            continue;
        }
        if objdump != ours {
            bad += 1;
            if bad <= 40 {
                writeln!(report, "{word:08x}: objdump `{objdump}`, ours `{ours}`").unwrap();
            }
        }
    }
    assert!(bad == 0, "{bad} words differ:\n{report}");
}
