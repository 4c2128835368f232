//! Property tests of the two protocol servers over an in-memory transport, with the real
//! simulator (and its Debug Module) behind them: whatever a client sends — random bytes,
//! truncated or oversized packets, a scan cut off in the middle — the server answers as its
//! protocol says, never panics, and a well-behaved client that comes next finds the board
//! working (IDCODE, Debug Module, halt and resume).

#[path = "../../tests/serve_support/client.rs"]
mod client;

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use proptest::prelude::*;

use super::bmp::{BlackMagic, MAX_PACKET};
use super::device::{Device, Event, Pins, SLICE};
use super::rbb::{Flow, RemoteBitbang};
use crate::board::Board;
use client::{Bmp, Dtm, Rbb, Wire, dm};

const IDCODE: u32 = 0x1000_0913;

/// A small board (1 MiB of RAM keeps each case cheap) with the debug hardware of sim-jtag.
fn device() -> Device {
    let board = Board::parse(
        r#"
        name = "t"
        description = "test"
        isa = "rv64imafdc"
        linker-script = "sim.x"
        run = "sim"
        console = { uart16550 = 0x1000_0000 }
        exit = { sifive-test = 0x10_0000 }
        [[memory]]
        name = "RAM"
        origin = 0x8000_0000
        length = 0x10_0000
        [debug]
        idcode = 0x1000_0913
        triggers = 2
        "#,
        "test board",
    )
    .unwrap();
    Device::new(&board, None, Box::new(io::sink())).unwrap()
}

enum Session {
    Rbb(RemoteBitbang),
    Bmp(BlackMagic),
}

/// One connection, in memory: what is written is executed at once (and the hart then runs a
/// slice, as serve's event loop does); the replies wait to be read.
struct Memory<'a> {
    device: &'a mut Device,
    session: Session,
    replies: VecDeque<u8>,
    closed: bool,
    /// Everything written, in order.
    sent: Vec<u8>,
    /// What the hart did in the slices run after each write.
    events: Vec<Event>,
}

impl<'a> Memory<'a> {
    fn rbb(device: &'a mut Device) -> Memory<'a> {
        Memory::new(device, Session::Rbb(RemoteBitbang::new()))
    }

    fn bmp(device: &'a mut Device) -> Memory<'a> {
        Memory::new(device, Session::Bmp(BlackMagic::new("t")))
    }

    fn new(device: &'a mut Device, session: Session) -> Memory<'a> {
        Memory {
            device,
            session,
            replies: VecDeque::new(),
            closed: false,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl Write for Memory<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.sent.extend_from_slice(buf);
        let mut out = Vec::new();
        match &mut self.session {
            Session::Rbb(rbb) => self.closed = rbb.feed(buf, self.device, &mut out) == Flow::Quit,
            Session::Bmp(bmp) => bmp.feed(buf, self.device, &mut out),
        }
        self.replies.extend(out);
        if self.device.ready() {
            self.events.extend(self.device.run_slice(SLICE).unwrap());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Memory<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Nothing to read means the server owes no reply: a client waiting here would hang.
        if self.replies.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no reply"));
        }
        let n = buf.len().min(self.replies.len());
        for (dst, src) in buf.iter_mut().zip(self.replies.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

/// What `net` does when a connection ends: release the reset lines.
fn hang_up(device: &mut Device) {
    device.set_trst(false);
    device.set_srst(false);
}

/// A well-behaved client finds the board working: IDCODE, the Debug Module, halt, resume.
fn check_board<W: Wire>(wire: W) {
    let mut dtm = Dtm::connect(wire).expect("connect");
    assert_eq!(dtm.idcode, IDCODE);
    // Garbage may have cleared dmactive: activate the DM as a debugger does.
    dtm.write(dm::DMCONTROL, 1).unwrap();
    let status = dtm.read(dm::DMSTATUS).unwrap();
    assert_eq!(status & 0xf, 2, "dmstatus {status:#x}: version 0.13");
    dtm.halt().unwrap();
    dtm.resume().unwrap();
    dtm.halt().unwrap();
}

fn check_both(device: &mut Device) {
    hang_up(device);
    check_board(Rbb {
        stream: Memory::rbb(device),
    });
    hang_up(device);
    check_board(Bmp {
        stream: Memory::bmp(device),
    });
}

/// How many replies the framing rules owe for `bytes`: one per `#` that ends a started packet.
fn packets_in(bytes: &[u8]) -> usize {
    let (mut inside, mut count) = (false, 0);
    for &b in bytes {
        match b {
            b'!' => inside = true,
            b'#' if inside => {
                inside = false;
                count += 1;
            }
            _ => {}
        }
    }
    count
}

/// Replies are `&` + K/E/N + text + `#`, and there are `expected` of them.
fn check_replies(replies: &[u8], expected: usize) {
    let mut count = 0;
    let mut rest = replies;
    while !rest.is_empty() {
        assert_eq!(
            rest[0],
            b'&',
            "reply stream {:?}",
            String::from_utf8_lossy(replies)
        );
        assert!(matches!(rest.get(1), Some(b'K' | b'E' | b'N')));
        let end = rest.iter().position(|&b| b == b'#').expect("a reply's end");
        rest = &rest[end + 1..];
        count += 1;
    }
    assert_eq!(count, expected);
}

/// Bytes with the protocols' own characters over-represented.
fn noisy_bytes(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            3 => proptest::sample::select(alphabet),
            1 => any::<u8>(),
        ],
        0..max,
    )
}

/// Plausible BMP packets with random parameters, some cut short.
fn bmp_packets() -> impl Strategy<Value = Vec<u8>> {
    let packet = (
        proptest::sample::select(
            &[
                "Jd", "JD", "JN", "JT", "JC", "JS", "JR", "GA", "GV", "GZ", "Gz", "GF", "Gf", "HC",
                "HJ", "HA", "SS", "AR", "Jx",
            ][..],
        ),
        "[0-9a-fA-Fx]{0,24}",
        any::<bool>(),
    )
        .prop_map(|(cmd, args, cut)| {
            let mut p = format!("!{cmd}{args}");
            if !cut {
                p.push('#');
            }
            p.into_bytes()
        });
    proptest::collection::vec(packet, 0..40).prop_map(|ps| ps.concat())
}

/// Splits `bytes` at the given (sorted, deduplicated) points into chunks, as TCP may.
fn chunks(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.iter_mut().for_each(|c| *c %= bytes.len().max(1));
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&bytes[at..c]);
        at = c;
    }
    out.push(&bytes[at..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn remote_bitbang_survives_anything(
        bytes in noisy_bytes(b"01234567Rrstu BbQ", 4000),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut device = device();
        let mut rbb = RemoteBitbang::new();
        let mut out = Vec::new();
        let mut expected = 0;
        for chunk in chunks(&bytes, cuts) {
            let quit = chunk.iter().position(|&b| b == b'Q');
            let executed = &chunk[..quit.unwrap_or(chunk.len())];
            expected += executed.iter().filter(|&&b| b == b'R').count();
            if rbb.feed(chunk, &mut device, &mut out) == Flow::Quit {
                prop_assert!(quit.is_some());
                break;
            }
            prop_assert!(quit.is_none());
            if device.ready() {
                device.run_slice(SLICE).unwrap();
            }
        }
        // One '0'/'1' per executed R, nothing else.
        prop_assert_eq!(out.len(), expected);
        prop_assert!(out.iter().all(|&b| b == b'0' || b == b'1'));
        check_both(&mut device);
    }

    #[test]
    fn black_magic_survives_anything(
        noise in noisy_bytes(b"!#&+$ JdDNTCSRGHAZzFfVEPp0123456789abcdef", 3000),
        packets in bmp_packets(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        order in any::<bool>(),
    ) {
        let bytes = if order { [noise, packets].concat() } else { [packets, noise].concat() };
        let mut device = device();
        let mut bmp = BlackMagic::new("t");
        let mut out = Vec::new();
        for chunk in chunks(&bytes, cuts) {
            bmp.feed(chunk, &mut device, &mut out);
            if device.ready() {
                device.run_slice(SLICE).unwrap();
            }
        }
        check_replies(&out, packets_in(&bytes));
        check_both(&mut device);
    }

    #[test]
    fn a_scan_cut_short_leaves_the_board_usable(cut in 0usize..3000, bmp in any::<bool>()) {
        // Record what a client sends for a DMI session, then replay only a prefix of it.
        let mut scratch = device();
        let mut recorder = if bmp { Memory::bmp(&mut scratch) } else { Memory::rbb(&mut scratch) };
        if bmp {
            dmi_session(Bmp { stream: &mut recorder });
        } else {
            dmi_session(Rbb { stream: &mut recorder });
        }
        let sent = &recorder.sent[..cut.min(recorder.sent.len())];
        let mut device = device();
        let mut memory = if bmp { Memory::bmp(&mut device) } else { Memory::rbb(&mut device) };
        memory.write_all(sent).unwrap();
        drop(memory);
        check_both(&mut device);
    }
}

/// A short session: connect, read dmstatus, request a halt.
fn dmi_session<W: Wire>(wire: W) {
    let mut dtm = Dtm::connect(wire).unwrap();
    dtm.read(dm::DMSTATUS).unwrap();
    dtm.write(dm::DMCONTROL, 1 << 31 | 1).unwrap();
}

#[test]
fn oversized_bmp_packet_is_one_error_and_the_stream_recovers() {
    let mut device = device();
    let mut memory = Memory::bmp(&mut device);
    let mut big = b"!Jd40".to_vec();
    big.extend(std::iter::repeat_n(b'f', MAX_PACKET * 4));
    big.push(b'#');
    memory.write_all(&big).unwrap();
    let mut bmp = Bmp { stream: memory };
    assert!(bmp.reply().is_err(), "an error reply");
    assert_eq!(bmp.command("!HC#").unwrap(), "0");
    check_board(bmp);
}

#[test]
fn the_hart_starts_halted_and_runs_when_resumed() {
    let mut device = device();
    assert!(device.machine().debug_halted());
    assert!(!device.ready());
    // `j .` at the RAM base, then resume through the DM: the hart runs and stays running.
    device
        .machine()
        .load(0x8000_0000, &[0x6f, 0, 0, 0])
        .unwrap();
    let mut dtm = Dtm::connect(Rbb {
        stream: Memory::rbb(&mut device),
    })
    .unwrap();
    dtm.resume().unwrap();
    drop(dtm);
    assert!(device.ready());
    device.run_slice(SLICE).unwrap();
    assert!(!device.machine().debug_halted());
    assert_eq!(device.pc(), 0x8000_0000);
}

#[test]
fn srst_resets_the_hart_and_holds_it() {
    let mut device = device();
    device
        .machine()
        .load(0x8000_0000, &[0x6f, 0, 0, 0])
        .unwrap();
    let mut out = Vec::new();
    let mut rbb = RemoteBitbang::new();
    rbb.feed(b"s", &mut device, &mut out);
    assert!(device.srst() && !device.ready());
    rbb.feed(b"r", &mut device, &mut out);
    assert!(!device.srst());
}

/// `lui t0, 0x100; lui t1, 5; addi t1, t1, 0x555; sw t1, 0(t0); j .`: the finisher's "pass".
const EXIT_0: [u32; 5] = [
    0x0010_02b7,
    0x0000_5337,
    0x5553_0313,
    0x0062_a023,
    0x0000_006f,
];

fn load_words(device: &mut Device, words: &[u32]) {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    device.machine().load(0x8000_0000, &bytes).unwrap();
}

fn connect(device: &mut Device) -> Dtm<Rbb<Memory<'_>>> {
    Dtm::connect(Rbb {
        stream: Memory::rbb(device),
    })
    .unwrap()
}

#[test]
fn a_finished_program_is_parked_until_a_debugger_resets_it() {
    let mut device = device();
    load_words(&mut device, &EXIT_0);
    let mut dtm = connect(&mut device);
    dtm.resume().unwrap();
    assert_eq!(dtm.tap.wire.stream.events, [Event::Exited(0)]);
    drop(dtm);
    let parked = device.pc();
    assert!(!device.ready());
    // JTAG traffic alone does not wake it ...
    let mut dtm = connect(&mut device);
    dtm.read(dm::DMSTATUS).unwrap();
    assert_eq!(dtm.tap.wire.stream.events, []);
    drop(dtm);
    assert!(!device.ready());
    assert_eq!(device.pc(), parked);
    // ... a system reset through the Debug Module (ndmreset) does: the program runs again.
    let mut dtm = connect(&mut device);
    dtm.write(dm::DMCONTROL, 1 << 1 | 1).unwrap();
    dtm.write(dm::DMCONTROL, 1).unwrap();
    assert_eq!(dtm.tap.wire.stream.events, [Event::Exited(0)]);
}
