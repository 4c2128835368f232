//! System Bus Access.

use rvflash_backend::isa::{Inst, Op};
use rvflash_sim::Stop;
use rvflash_sim::map::*;

use crate::common::*;

const SBBUSYERROR: u32 = 1 << 22;
const SBBUSY: u32 = 1 << 21;
const SBREADONADDR: u32 = 1 << 20;
const SBAUTOINCREMENT: u32 = 1 << 16;
const SBREADONDATA: u32 = 1 << 15;

fn sbaccess(size: u32) -> u32 {
    size << 17
}

fn sberror(m: &mut rvflash_sim::Machine) -> u32 {
    (m.dmi_read(SBCS) >> 12) & 7
}

fn set_address(m: &mut rvflash_sim::Machine, a: u64) {
    m.dmi_write(SBADDRESS1, (a >> 32) as u32);
    m.dmi_write(SBADDRESS0, a as u32);
}

#[test]
fn sbcs_fields() {
    let mut m = machine();
    let sbcs = m.dmi_read(SBCS);
    assert_eq!(sbcs >> 29, 1, "sbversion");
    assert_eq!((sbcs >> 5) & 0x7f, 64, "sbasize");
    assert_eq!(sbcs & 0x1f, 0b01111, "8/16/32/64, not 128");
    assert_eq!((sbcs >> 17) & 7, 2, "sbaccess resets to 32");
    assert_eq!(
        sbcs & (SBBUSYERROR | SBBUSY | SBREADONADDR | SBAUTOINCREMENT | SBREADONDATA | 7 << 12),
        0
    );
    // The R/W fields read back.
    let rw = SBREADONADDR | sbaccess(3) | SBAUTOINCREMENT | SBREADONDATA;
    m.dmi_write(SBCS, rw);
    let mask = SBREADONADDR | 7 << 17 | SBAUTOINCREMENT | SBREADONDATA;
    assert_eq!(m.dmi_read(SBCS) & mask, rw);
}

#[test]
fn writes_and_reads_of_every_size() {
    let mut m = machine();
    for (size, value, bytes) in [
        (0, 0xa5u64, 1usize),
        (1, 0xbeef, 2),
        (2, 0xdead_beef, 4),
        (3, 0x0123_4567_89ab_cdef, 8),
    ] {
        let addr = DATA + 0x40 * size as u64;
        m.dmi_write(SBCS, sbaccess(size));
        set_address(&mut m, addr);
        m.dmi_write(SBDATA1, (value >> 32) as u32);
        m.dmi_write(SBDATA0, value as u32);
        assert_eq!(sberror(&mut m), 0);
        let mut buf = [0u8; 9];
        m.read_memory(addr, &mut buf).unwrap();
        let mut expect = [0u8; 9];
        expect[..bytes].copy_from_slice(&value.to_le_bytes()[..bytes]);
        assert_eq!(buf, expect, "size {size}");

        // Read it back (readonaddr).
        m.dmi_write(SBDATA1, 0);
        m.dmi_write(SBCS, sbaccess(size) | SBREADONADDR);
        m.dmi_write(SBADDRESS0, addr as u32);
        let got = (m.dmi_read(SBDATA1) as u64) << 32 | m.dmi_read(SBDATA0) as u64;
        assert_eq!(got, value, "size {size}");
    }
    // Narrow accesses touch only their bytes.
    m.dmi_write(SBCS, sbaccess(0));
    set_address(&mut m, DATA + 0xc1);
    m.dmi_write(SBDATA0, 0x11);
    assert_eq!(mem64(&mut m, DATA + 0xc0), 0x0123_4567_89ab_11ef);
}

#[test]
fn autoincrement_bursts_like_probe_rs() {
    let mut m = machine();
    m.load(DATA, &(0..64u8).collect::<Vec<_>>()).unwrap();
    // Multi-word read: readonaddr + readondata + autoincrement, then sbcs = 0 before the
    // last read.
    m.dmi_write(
        SBCS,
        SBBUSYERROR | sbaccess(2) | SBREADONADDR | SBREADONDATA | SBAUTOINCREMENT,
    );
    set_address(&mut m, DATA + 8);
    let mut words = Vec::new();
    for _ in 0..3 {
        words.push(m.dmi_read(SBDATA0));
    }
    m.dmi_write(SBCS, 0);
    words.push(m.dmi_read(SBDATA0));
    assert_eq!(words, [0x0b0a_0908, 0x0f0e_0d0c, 0x1312_1110, 0x1716_1514]);
    assert_eq!(m.dmi_read(SBADDRESS0), (DATA + 24) as u32);
    assert_eq!(sberror(&mut m), 0);

    // Burst write with autoincrement (64-bit: sbdata1 first, sbdata0 starts the write).
    m.dmi_write(SBCS, sbaccess(3) | SBAUTOINCREMENT);
    set_address(&mut m, DATA + 0x100);
    for k in 0..4u64 {
        let v = 0x1111_1111_0000_0000 * (k + 1) + k;
        m.dmi_write(SBDATA1, (v >> 32) as u32);
        m.dmi_write(SBDATA0, v as u32);
    }
    for k in 0..4u64 {
        assert_eq!(
            mem64(&mut m, DATA + 0x100 + 8 * k),
            0x1111_1111_0000_0000 * (k + 1) + k
        );
    }
    assert_eq!(m.dmi_read(SBADDRESS0), (DATA + 0x120) as u32);
    // Reading sbdata0 without readondata has no side effect.
    m.dmi_read(SBDATA0);
    assert_eq!(m.dmi_read(SBADDRESS0), (DATA + 0x120) as u32);
}

#[test]
fn bad_address_is_sberror_2_and_blocks_until_cleared() {
    let mut m = machine();
    m.dmi_write(SBCS, sbaccess(2) | SBREADONADDR | SBAUTOINCREMENT);
    set_address(&mut m, 0x5000_0000);
    assert_eq!(sberror(&mut m), 2);
    assert_eq!(
        m.dmi_read(SBADDRESS0),
        0x5000_0000,
        "no increment after a failed access"
    );
    // While sberror is set nothing starts: this write does not reach RAM.
    set_address(&mut m, DATA);
    m.dmi_write(SBDATA0, 0x1234);
    assert_eq!(mem64(&mut m, DATA), 0);
    // W1C.
    m.dmi_write(SBCS, sbaccess(2) | 1 << 12);
    assert_eq!(sberror(&mut m), 2, "only written bits clear");
    m.dmi_write(SBCS, sbaccess(2) | 2 << 12);
    assert_eq!(sberror(&mut m), 0);
    m.dmi_write(SBDATA0, 0x1234);
    assert_eq!(mem64(&mut m, DATA), 0x1234);
    // Past the end of RAM, above 4 GiB, at 0.
    for addr in [RAM + (4 << 20), 0x1_8000_0000, 0] {
        m.dmi_write(SBCS, sbaccess(2) | 7 << 12);
        set_address(&mut m, addr);
        m.dmi_write(SBDATA0, 1);
        assert_eq!(sberror(&mut m), 2, "{addr:#x}");
    }
}

#[test]
fn misaligned_device_access_is_sberror_3_ram_is_fine() {
    let mut m = machine();
    m.dmi_write(SBCS, sbaccess(2));
    set_address(&mut m, CLINT_BASE + 0x4002);
    m.dmi_write(SBDATA0, 1);
    assert_eq!(sberror(&mut m), 3);
    m.dmi_write(SBCS, sbaccess(2) | 7 << 12);
    set_address(&mut m, DATA + 3);
    m.dmi_write(SBDATA0, 0xaabb_ccdd);
    assert_eq!(sberror(&mut m), 0);
    assert_eq!(mem64(&mut m, DATA), 0xaabb_ccdd << 24);
}

#[test]
fn unsupported_size_is_sberror_4() {
    for size in [4, 5, 7] {
        let mut m = machine();
        m.dmi_write(SBCS, sbaccess(size) | SBREADONADDR);
        assert_eq!((m.dmi_read(SBCS) >> 17) & 7, size);
        set_address(&mut m, DATA);
        assert_eq!(sberror(&mut m), 4, "read, sbaccess {size}");
        m.dmi_write(SBCS, sbaccess(size) | 7 << 12);
        m.dmi_write(SBDATA0, 1);
        assert_eq!(sberror(&mut m), 4, "write, sbaccess {size}");
        assert_eq!(mem64(&mut m, DATA), 0);
    }
}

#[test]
fn sbbusyerror_while_the_bus_is_held_in_reset() {
    let mut m = machine();
    m.load(DATA, &[1, 2, 3, 4]).unwrap();
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    m.dmi_write(SBCS, sbaccess(2) | SBREADONADDR);
    set_address(&mut m, DATA);
    // The read waits for the bus: sbbusy.
    assert_ne!(m.dmi_read(SBCS) & SBBUSY, 0);
    // Starting another access (or touching sbdata) meanwhile: sbbusyerror, nothing else.
    m.dmi_write(SBADDRESS0, (DATA + 4) as u32);
    assert_ne!(m.dmi_read(SBCS) & SBBUSYERROR, 0);
    assert_eq!(m.dmi_read(SBADDRESS0), DATA as u32);
    // Releasing the reset completes the read.
    m.dmi_write(DMCONTROL, DMACTIVE);
    let sbcs = m.dmi_read(SBCS);
    assert_eq!(sbcs & SBBUSY, 0);
    assert_eq!(m.dmi_read(SBDATA0), 0x0403_0201);
    // While sbbusyerror is set no access starts.
    m.dmi_write(SBADDRESS0, DATA as u32);
    m.dmi_write(SBDATA0, 0xffff_ffff);
    assert_eq!(mem64(&mut m, DATA), 0x0403_0201);
    // W1C.
    m.dmi_write(SBCS, SBBUSYERROR | sbaccess(2));
    assert_eq!(m.dmi_read(SBCS) & SBBUSYERROR, 0);
    m.dmi_write(SBDATA0, 0xffff_ffff);
    assert_eq!(mem64(&mut m, DATA), 0xffff_ffff);
    // A DM reset drops a waiting access.
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    m.dmi_write(SBCS, sbaccess(2));
    m.dmi_write(SBDATA0, 0x55);
    assert_ne!(m.dmi_read(SBCS) & SBBUSY, 0);
    m.dmi_write(DMCONTROL, 0);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert_eq!(m.dmi_read(SBCS) & SBBUSY, 0);
    assert_eq!(mem64(&mut m, DATA), 0xffff_ffff);
    // sbcs changed to an unsupported size while an access waited: sberror 4 on release.
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    m.dmi_write(SBCS, sbaccess(0));
    set_address(&mut m, UART_BASE);
    m.dmi_write(SBDATA0, b'!' as u32);
    m.dmi_write(SBCS, sbaccess(7));
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert_eq!(sberror(&mut m), 4);
    assert!(m.take_uart_output().is_empty());
}

#[test]
fn while_the_hart_runs_and_coherent_with_its_code() {
    // t0 = DATA; wait until the word there is non-zero; a1 = 1; spin.
    let mut m = with_code(&[
        Inst::u(Op::Auipc, T0, 0x100), // 0: RAM + 0x10_0000
        Inst::i(Op::Lw, A0, T0, 0),    // 4
        Inst::s(Op::Beq, A0, 0, -4),   // 8
        li(A1, 1),                     // 12
        Inst::u(Op::Jal, 0, 0),        // 16: spin
    ]);
    assert_eq!(m.run(100), Stop::Budget);
    assert!(pc(&m) == RAM + 4 || pc(&m) == RAM + 8);
    assert!(!m.debug_halted());
    // Flip the flag through SBA while the hart runs.
    m.dmi_write(SBCS, sbaccess(2));
    set_address(&mut m, DATA);
    m.dmi_write(SBDATA0, 1);
    m.run(100);
    assert_eq!(x(&m, A1), 1);
    assert_eq!(pc(&m), RAM + 16);
    // Patch the spinning jump into `li a1, 2` + spin: the decoded copy is invalidated.
    set_address(&mut m, RAM + 16);
    m.dmi_write(SBDATA0, word(li(A1, 2)));
    set_address(&mut m, RAM + 20);
    m.dmi_write(SBDATA0, word(Inst::u(Op::Jal, 0, 0)));
    m.run(100);
    assert_eq!(x(&m, A1), 2);
}

#[test]
fn device_accesses_have_their_side_effects() {
    let mut m = machine();
    // UART output.
    m.dmi_write(SBCS, sbaccess(0));
    set_address(&mut m, UART_BASE);
    m.dmi_write(SBDATA0, b'h' as u32);
    m.dmi_write(SBDATA0, b'i' as u32);
    assert_eq!(m.take_uart_output(), b"hi");
    // The finisher: the next run reports it.
    m.dmi_write(SBCS, sbaccess(2));
    set_address(&mut m, FINISHER_BASE);
    m.dmi_write(SBDATA0, 0x3333 | 5 << 16);
    assert_eq!(m.run(10), Stop::Exited(5));
    // mtime through the CLINT (64-bit).
    m.dmi_write(SBCS, sbaccess(3) | SBREADONADDR);
    set_address(&mut m, CLINT_BASE + 0xbff8);
    assert_eq!(sberror(&mut m), 0);
}
