//! Operands a form cannot hold are errors, never truncated or silently changed, and reserved
//! encodings do not decode.

use rvflash_backend::isa::format::Slot;
use rvflash_backend::isa::{DecodeError, EncodeError, Inst, Op, aqrl, decode, encode, rm};

fn err(inst: Inst) -> EncodeError {
    encode(&inst).expect_err("should not encode")
}

#[test]
fn immediates_out_of_range() {
    // addi: signed 12 bits.
    assert!(encode(&Inst::i(Op::Addi, 10, 10, 2047)).is_ok());
    assert!(encode(&Inst::i(Op::Addi, 10, 10, -2048)).is_ok());
    assert_eq!(
        err(Inst::i(Op::Addi, 10, 10, 2048)),
        EncodeError::ImmOutOfRange {
            op: Op::Addi,
            value: 2048,
            min: -2048,
            max: 2047
        }
    );
    assert!(matches!(
        err(Inst::i(Op::Addi, 10, 10, -2049)),
        EncodeError::ImmOutOfRange { .. }
    ));
    // Shifts: 6 bits, 5 for the *w forms.
    assert!(encode(&Inst::i(Op::Slli, 10, 10, 63)).is_ok());
    assert!(matches!(
        err(Inst::i(Op::Slli, 10, 10, 64)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::Slliw, 10, 10, 32)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::Srai, 10, 10, -1)),
        EncodeError::ImmOutOfRange { .. }
    ));
    // Branches: ±4 KiB, even.
    assert!(encode(&Inst::s(Op::Beq, 10, 11, 4094)).is_ok());
    assert!(encode(&Inst::s(Op::Beq, 10, 11, -4096)).is_ok());
    assert!(matches!(
        err(Inst::s(Op::Beq, 10, 11, 4096)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert_eq!(
        err(Inst::s(Op::Bne, 10, 11, 3)),
        EncodeError::ImmMisaligned {
            op: Op::Bne,
            value: 3,
            align: 2
        }
    );
    // jal: ±1 MiB.
    assert!(encode(&Inst::u(Op::Jal, 1, (1 << 20) - 2)).is_ok());
    assert!(matches!(
        err(Inst::u(Op::Jal, 1, 1 << 20)),
        EncodeError::ImmOutOfRange { .. }
    ));
    // lui: the signed 20-bit field.
    assert!(encode(&Inst::u(Op::Lui, 10, -(1 << 19))).is_ok());
    assert!(matches!(
        err(Inst::u(Op::Lui, 10, 1 << 19)),
        EncodeError::ImmOutOfRange { .. }
    ));
    // Stores: signed 12 bits.
    assert!(matches!(
        err(Inst::s(Op::Sd, 2, 10, 2048)),
        EncodeError::ImmOutOfRange { .. }
    ));
    // CSR numbers: 12 bits; csr*i immediates: 5 bits.
    assert!(matches!(
        err(Inst::i(Op::Csrrw, 10, 11, 4096)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::Csrrwi, 10, 32, 0x300)),
        EncodeError::RegisterOutOfRange {
            slot: Slot::Rs1,
            ..
        }
    ));
    // fence: fm, pred, succ (4 bits each).
    assert!(matches!(
        err(Inst {
            imm: 4096,
            ..Inst::new(Op::Fence)
        }),
        EncodeError::ImmOutOfRange { .. }
    ));
}

#[test]
fn compressed_constraints() {
    // Compressed immediates.
    assert!(encode(&Inst::i(Op::CAddi, 10, 10, 31)).is_ok());
    assert!(matches!(
        err(Inst::i(Op::CAddi, 10, 10, 32)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::CAddi16sp, 2, 2, 16 * 32)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert_eq!(
        err(Inst::i(Op::CAddi16sp, 2, 2, 24)),
        EncodeError::ImmMisaligned {
            op: Op::CAddi16sp,
            value: 24,
            align: 16
        }
    );
    assert_eq!(
        err(Inst::i(Op::CAddi16sp, 2, 2, 0)),
        EncodeError::ImmZero { op: Op::CAddi16sp }
    );
    assert_eq!(
        err(Inst::i(Op::CAddi4spn, 8, 2, 0)),
        EncodeError::ImmZero { op: Op::CAddi4spn }
    );
    assert_eq!(
        err(Inst::u(Op::CLui, 10, 0)),
        EncodeError::ImmZero { op: Op::CLui }
    );
    assert!(matches!(
        err(Inst::i(Op::CLdsp, 10, 2, 512)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::CLd, 8, 9, 4)),
        EncodeError::ImmMisaligned { .. }
    ));
    assert!(matches!(
        err(Inst::s(Op::CBeqz, 8, 0, 256)),
        EncodeError::ImmOutOfRange { .. }
    ));
    assert!(matches!(
        err(Inst::u(Op::CJ, 0, 2048)),
        EncodeError::ImmOutOfRange { .. }
    ));
    // Registers outside x8..x15 for the 3-bit fields.
    assert_eq!(
        err(Inst::i(Op::CLw, 7, 8, 0)),
        EncodeError::NotCompressible {
            op: Op::CLw,
            slot: Slot::Rd,
            reg: 7
        }
    );
    assert!(matches!(
        err(Inst::r(Op::CSub, 16, 16, 8)),
        EncodeError::NotCompressible { .. }
    ));
    // Reserved registers.
    assert_eq!(
        err(Inst::i(Op::CLwsp, 0, 2, 4)),
        EncodeError::ReservedRegister {
            op: Op::CLwsp,
            slot: Slot::Rd,
            reg: 0
        }
    );
    assert!(matches!(
        err(Inst::i(Op::CLdsp, 0, 2, 8)),
        EncodeError::ReservedRegister { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::CJr, 0, 0, 0)),
        EncodeError::ReservedRegister { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::CJalr, 1, 0, 0)),
        EncodeError::ReservedRegister { .. }
    ));
    assert!(matches!(
        err(Inst::r(Op::CAdd, 10, 10, 0)),
        EncodeError::ReservedRegister { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::CMv, 10, 0, 0)),
        EncodeError::ReservedRegister { .. }
    ));
    assert!(matches!(
        err(Inst::u(Op::CLui, 2, 1)),
        EncodeError::ReservedRegister { .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::CAddiw, 0, 0, 1)),
        EncodeError::ReservedRegister { .. }
    ));
    // Implied operands.
    assert_eq!(
        err(Inst::i(Op::CAddi, 10, 11, 1)),
        EncodeError::ImpliedOperand {
            op: Op::CAddi,
            slot: Slot::Rs1,
            expected: 10,
            found: 11
        }
    );
    assert!(matches!(
        err(Inst::i(Op::CLwsp, 10, 3, 4)),
        EncodeError::ImpliedOperand { .. }
    ));
    assert!(matches!(
        err(Inst::u(Op::CJ, 1, 4)),
        EncodeError::ImpliedOperand { .. }
    ));
}

#[test]
fn registers_modes_and_unused_operands() {
    assert_eq!(
        err(Inst::r(Op::Add, 32, 1, 2)),
        EncodeError::RegisterOutOfRange {
            op: Op::Add,
            slot: Slot::Rd,
            reg: 32
        }
    );
    assert!(matches!(
        err(Inst::r(Op::Add, 1, 1, 255)),
        EncodeError::RegisterOutOfRange { .. }
    ));
    // Reserved rounding modes; a rounding mode where there is none.
    let fadd = Inst {
        rm: 5,
        ..Inst::r(Op::FaddD, 1, 2, 3)
    };
    assert_eq!(
        err(fadd),
        EncodeError::BadRoundingMode {
            op: Op::FaddD,
            rm: 5
        }
    );
    assert!(
        encode(&Inst {
            rm: rm::RMM,
            ..fadd
        })
        .is_ok()
    );
    assert!(matches!(
        err(Inst {
            rm: rm::RTZ,
            ..Inst::r(Op::FsgnjD, 1, 2, 3)
        }),
        EncodeError::UnusedOperand {
            operand: "rounding mode",
            ..
        }
    ));
    // aq/rl only on atomics, and only two bits.
    let amo = Inst {
        aqrl: aqrl::AQ | aqrl::RL,
        ..Inst::r(Op::AmoaddD, 10, 11, 12)
    };
    assert!(encode(&amo).is_ok());
    assert!(matches!(
        err(Inst { aqrl: 4, ..amo }),
        EncodeError::BadAqRl { .. }
    ));
    assert!(matches!(
        err(Inst {
            aqrl: 1,
            ..Inst::r(Op::Add, 1, 2, 3)
        }),
        EncodeError::UnusedOperand {
            operand: "aq/rl",
            ..
        }
    ));
    // Operands the form does not have.
    assert!(matches!(
        err(Inst {
            imm: 1,
            ..Inst::r(Op::Add, 1, 2, 3)
        }),
        EncodeError::UnusedOperand {
            operand: "immediate",
            ..
        }
    ));
    assert!(matches!(
        err(Inst::r(Op::FsqrtD, 1, 2, 3)),
        EncodeError::UnusedOperand { operand: "rs2", .. }
    ));
    assert!(matches!(
        err(Inst::i(Op::Ecall, 1, 0, 0)),
        EncodeError::UnusedOperand { .. }
    ));
    // Errors read well.
    assert_eq!(
        err(Inst::i(Op::Addi, 10, 10, 4096)).to_string(),
        "addi: immediate 4096 out of range -2048..=2047"
    );
    assert_eq!(
        err(Inst::i(Op::CLwsp, 0, 2, 4)).to_string(),
        "c.lwsp: rd may not be register 0"
    );
}

#[test]
fn reserved_encodings_do_not_decode() {
    let illegal16 = |p: u16| decode(&p.to_le_bytes());
    // The all-zero parcel (c.addi4spn with a zero immediate) is defined illegal.
    assert_eq!(illegal16(0x0000), Err(DecodeError::Illegal(0)));
    // c.addi16sp with a zero immediate, c.lui with a zero immediate.
    assert!(illegal16(0x6101).is_err());
    assert!(illegal16(0x6501).is_err());
    // c.lwsp / c.ldsp with rd = x0, c.jr with rs1 = x0.
    assert!(illegal16(0x4002).is_err());
    assert!(illegal16(0x6002).is_err());
    assert!(illegal16(0x8002).is_err());
    // c.addiw with rd = x0.
    assert!(illegal16(0x2001 | 1 << 2).is_err());
    // Reserved rounding mode 5 on fadd.d.
    let fadd = encode(&Inst {
        rm: rm::DYN,
        ..Inst::r(Op::FaddD, 1, 2, 3)
    })
    .unwrap()
    .word();
    assert!(decode(&((fadd & !(7 << 12)) | 5 << 12).to_le_bytes()).is_err());
    // Not reserved: fence's fm/rd/rs1 and fence.i's fields must be ignored (executed as the
    // plain instruction), so they decode, keeping the bits.
    let odd_fence = decode(&0x1ff5_850fu32.to_le_bytes()).unwrap();
    assert_eq!(
        (odd_fence.op, odd_fence.rd, odd_fence.rs1, odd_fence.imm),
        (Op::Fence, 10, 11, 0x1ff)
    );
    assert_eq!(
        decode(&0x8330_000fu32.to_le_bytes()).unwrap().op,
        Op::FenceTso
    );
    assert_eq!(
        decode(&0x0015_900fu32.to_le_bytes()).unwrap().op,
        Op::FenceI
    );
    // 48-bit and longer encodings, truncated input.
    assert_eq!(decode(&[0x1f, 0, 0, 0]), Err(DecodeError::TooLong(0x1f)));
    assert_eq!(decode(&[0x13, 0]), Err(DecodeError::Truncated));
    assert_eq!(decode(&[0x01]), Err(DecodeError::Truncated));
    assert_eq!(decode(&[0xff; 4]), Err(DecodeError::TooLong(0xffff_ffff)));
}

#[test]
fn compressed_forms_expand() {
    let inst = decode(&0x0505u16.to_le_bytes()).unwrap(); // c.addi a0,1
    assert_eq!(inst, Inst::i(Op::CAddi, 10, 10, 1));
    assert_eq!(inst.len(), 2);
    assert_eq!(inst.expand(), Inst::i(Op::Addi, 10, 10, 1));
    let ret = decode(&0x8082u16.to_le_bytes()).unwrap();
    assert_eq!(ret.expand(), Inst::i(Op::Jalr, 0, 1, 0));
}
