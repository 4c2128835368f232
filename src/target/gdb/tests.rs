//! The GDB client and target against a scripted server in a thread: the paths no server on
//! this machine takes — flash (`vFlash*` after the memory map), `M` when `X` is unknown,
//! read-back when `qCRC` is, verify failures, hardware breakpoints in flash and when a
//! software one is refused — the framing corner cases (acks, escapes, garbage), and the races
//! of memory access while the program runs that no real server can be made to lose on cue (a
//! stop that comes just as rvflash interrupts, or before a memory reply).

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{GdbClient, Refused, Transport};
use super::load;
use super::protocol::{crc32, decode_payload, frame, hex_decode, hex_encode};
use super::target::{GdbTarget, RunningAccess, Settings, Start, Started};
use super::xml;
use crate::image::{Image, Segment};
use crate::target::{Reg, Stop, Target, TargetOptions};

/// What the scripted server supports and does.
#[derive(Clone)]
struct Script {
    binary_writes: bool,
    crc: bool,
    /// Flash region (start, length, block size) in the memory map.
    flash: Option<(u64, u64, u64)>,
    /// Writes to this address store something else.
    corrupt: Option<u64>,
    /// Software breakpoints refused here.
    no_soft: Vec<u64>,
    /// Replies to `c`, in order.
    stops: Vec<String>,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            binary_writes: true,
            crc: true,
            flash: None,
            corrupt: None,
            no_soft: Vec::new(),
            stops: Vec::new(),
        }
    }
}

/// The server's state, shared with the test.
#[derive(Default)]
struct State {
    mem: BTreeMap<u64, u8>,
    regs: BTreeMap<u32, u64>,
    /// Every packet received (`^C` for the interrupt byte).
    log: Vec<String>,
    erased: Vec<(u64, u64)>,
    /// The stop reply to an interrupt byte (`T02` when unset).
    interrupt_reply: Option<String>,
    /// A stop reply sent just before the reply to the next `m`.
    early_stop: Option<String>,
}

const TARGET_XML: &str = r#"<?xml version="1.0"?><target><architecture>riscv:rv64</architecture>
<feature name="org.gnu.gdb.riscv.cpu"><reg name="zero" bitsize="64"/><reg name="pc" bitsize="64" regnum="32"/></feature>
<feature name="org.gnu.gdb.riscv.csr"><reg name="mstatus" bitsize="64" regnum="833"/><reg name="mcause" bitsize="64" regnum="899"/></feature></target>"#;

fn serve(script: Script, state: Arc<Mutex<State>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut stops: VecDeque<String> = script.stops.iter().cloned().collect();
        let mut no_ack = false;
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            // Read one packet (or the interrupt byte).
            buf.clear();
            loop {
                if s.read(&mut byte).unwrap_or(0) == 0 {
                    return;
                }
                match byte[0] {
                    b'$' => break,
                    3 => {
                        let mut st = state.lock().unwrap();
                        st.log.push("^C".into());
                        let reply = st.interrupt_reply.clone().unwrap_or("T02".into());
                        let _ = s.write_all(&frame(reply.as_bytes()));
                    }
                    _ => {}
                }
            }
            loop {
                if s.read(&mut byte).unwrap_or(0) == 0 {
                    return;
                }
                if byte[0] == b'#' {
                    break;
                }
                buf.push(byte[0]);
            }
            let mut sum = [0u8; 2];
            if s.read_exact(&mut sum).is_err() {
                return;
            }
            if !no_ack {
                let _ = s.write_all(b"+");
            }
            let packet = decode_payload(&buf);
            let text = String::from_utf8_lossy(&packet).into_owned();
            let mut st = state.lock().unwrap();
            st.log.push(text.clone());
            let reply: Vec<u8> = match text.as_str() {
                t if t.starts_with("qSupported") => {
                    let mut f =
                        String::from("PacketSize=100;QStartNoAckMode+;qXfer:features:read+");
                    if script.flash.is_some() {
                        f.push_str(";qXfer:memory-map:read+");
                    }
                    f.into_bytes()
                }
                "QStartNoAckMode" => {
                    no_ack = true;
                    let _ = s.write_all(&frame(b"OK"));
                    continue;
                }
                "?" => b"S05".to_vec(),
                t if t.starts_with("qXfer:features:read:target.xml:") => {
                    xfer(TARGET_XML, t).into_bytes()
                }
                t if t.starts_with("qXfer:memory-map:read::") => {
                    let (start, len, block) = script.flash.unwrap();
                    let map = format!(
                        "<memory-map><memory type=\"ram\" start=\"0x0\" length=\"{start:#x}\"/>\
                         <memory type=\"flash\" start=\"{start:#x}\" length=\"{len:#x}\">\
                         <property name=\"blocksize\">{block:#x}</property></memory></memory-map>"
                    );
                    xfer(&map, t).into_bytes()
                }
                t if t.starts_with('p') => {
                    let n = u32::from_str_radix(&t[1..], 16).unwrap();
                    hex_encode(&st.regs.get(&n).copied().unwrap_or(0).to_le_bytes()).into_bytes()
                }
                t if t.starts_with('P') => {
                    let (n, v) = t[1..].split_once('=').unwrap();
                    let v =
                        u64::from_le_bytes(hex_decode(v.as_bytes()).unwrap().try_into().unwrap());
                    st.regs.insert(u32::from_str_radix(n, 16).unwrap(), v);
                    b"OK".to_vec()
                }
                t if t.starts_with('m') => {
                    if let Some(stop) = st.early_stop.take() {
                        let _ = s.write_all(&frame(stop.as_bytes()));
                    }
                    let (a, n) = t[1..].split_once(',').unwrap();
                    let (a, n) = (
                        u64::from_str_radix(a, 16).unwrap(),
                        usize::from_str_radix(n, 16).unwrap(),
                    );
                    let bytes: Vec<u8> = (0..n as u64)
                        .map(|i| *st.mem.get(&(a + i)).unwrap_or(&0))
                        .collect();
                    hex_encode(&bytes).into_bytes()
                }
                t if t.starts_with('X') && !script.binary_writes => Vec::new(),
                t if t.starts_with('X') || t.starts_with('M') => {
                    let colon = packet.iter().position(|&b| b == b':').unwrap();
                    let head = std::str::from_utf8(&packet[1..colon]).unwrap();
                    let (a, n) = head.split_once(',').unwrap();
                    let (a, n) = (
                        u64::from_str_radix(a, 16).unwrap(),
                        usize::from_str_radix(n, 16).unwrap(),
                    );
                    let data = if t.starts_with('X') {
                        packet[colon + 1..].to_vec()
                    } else {
                        hex_decode(&packet[colon + 1..]).unwrap()
                    };
                    assert_eq!(data.len(), n, "{t}");
                    if script
                        .flash
                        .is_some_and(|(fs, fl, _)| a >= fs && a < fs + fl)
                    {
                        b"E01".to_vec()
                    } else {
                        for (i, b) in data.iter().enumerate() {
                            let at = a + i as u64;
                            let b = if script.corrupt == Some(at) { !b } else { *b };
                            st.mem.insert(at, b);
                        }
                        b"OK".to_vec()
                    }
                }
                t if t.starts_with("qCRC:") && script.crc => {
                    let (a, n) = t[5..].split_once(',').unwrap();
                    let (a, n) = (
                        u64::from_str_radix(a, 16).unwrap(),
                        u64::from_str_radix(n, 16).unwrap(),
                    );
                    let bytes: Vec<u8> = (0..n)
                        .map(|i| *st.mem.get(&(a + i)).unwrap_or(&0))
                        .collect();
                    format!("C{:08x}", crc32(0xffff_ffff, &bytes)).into_bytes()
                }
                t if t.starts_with("vFlashErase:") => {
                    let (a, n) = t[12..].split_once(',').unwrap();
                    let (a, n) = (
                        u64::from_str_radix(a, 16).unwrap(),
                        u64::from_str_radix(n, 16).unwrap(),
                    );
                    let (_, _, block) = script.flash.unwrap();
                    assert!(a % block == 0 && n % block == 0, "unaligned erase {t}");
                    for i in 0..n {
                        st.mem.insert(a + i, 0xff);
                    }
                    st.erased.push((a, n));
                    b"OK".to_vec()
                }
                t if t.starts_with("vFlashWrite:") => {
                    let colon = 12 + packet[12..].iter().position(|&b| b == b':').unwrap();
                    let a =
                        u64::from_str_radix(std::str::from_utf8(&packet[12..colon]).unwrap(), 16)
                            .unwrap();
                    for (i, b) in packet[colon + 1..].iter().enumerate() {
                        let at = a + i as u64;
                        assert!(
                            st.erased.iter().any(|&(s, n)| at >= s && at < s + n),
                            "write to unerased flash at {at:#x}"
                        );
                        st.mem.insert(at, *b);
                    }
                    b"OK".to_vec()
                }
                "vFlashDone" => b"OK".to_vec(),
                t if t.starts_with("Z0,") => {
                    let a = u64::from_str_radix(t[3..].split(',').next().unwrap(), 16).unwrap();
                    if script.no_soft.contains(&a)
                        || script
                            .flash
                            .is_some_and(|(fs, fl, _)| a >= fs && a < fs + fl)
                    {
                        b"E0E".to_vec()
                    } else {
                        b"OK".to_vec()
                    }
                }
                t if t.starts_with('Z') || t.starts_with('z') => b"OK".to_vec(),
                t if t.starts_with("qRcmd,") => {
                    let _ = s.write_all(&frame(
                        format!("O{}", hex_encode(b"resetting\n")).as_bytes(),
                    ));
                    b"OK".to_vec()
                }
                "c" | "s" => {
                    drop(st);
                    match stops.pop_front() {
                        Some(stop) => stop.into_bytes(),
                        None => continue, // keep running
                    }
                }
                _ => Vec::new(),
            };
            let _ = s.write_all(&frame(&reply));
        }
    });
    addr
}

/// A `qXfer` read of `doc` at the offset and length the request asks.
fn xfer(doc: &str, request: &str) -> String {
    let range = request.rsplit(':').next().unwrap();
    let (off, len) = range.split_once(',').unwrap();
    let (off, len) = (
        usize::from_str_radix(off, 16).unwrap(),
        usize::from_str_radix(len, 16).unwrap(),
    );
    let end = (off + len).min(doc.len());
    let kind = if end == doc.len() { 'l' } else { 'm' };
    format!("{kind}{}", &doc[off.min(end)..end])
}

fn client(addr: &str) -> GdbClient {
    let mut c = GdbClient::connect(
        addr,
        "the test server",
        Instant::now() + Duration::from_secs(5),
    )
    .unwrap();
    c.handshake().unwrap();
    c
}

fn image(segments: Vec<(u64, Vec<u8>)>) -> Image {
    Image {
        path: "test.elf".into(),
        entry: segments[0].0,
        segments: segments
            .into_iter()
            .map(|(addr, data)| Segment {
                addr,
                mem_size: data.len() as u64,
                data,
            })
            .collect(),
        symbols: Vec::new(),
        bytes: Vec::new(),
    }
}

/// Bytes with every character the protocol escapes, and more than one packet's worth.
fn awkward_bytes(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| [b'#', b'$', b'}', b'*', 0, 0xff, i as u8][i % 7])
        .collect()
}

#[test]
fn loads_with_binary_writes_and_verifies_by_crc() {
    let state = Arc::new(Mutex::new(State::default()));
    let addr = serve(Script::default(), Arc::clone(&state));
    let mut gdb = client(&addr);
    let data = awkward_bytes(1000);
    let img = image(vec![(0x8000_0000, data.clone())]);
    let mut report = load::load(&mut gdb, &img, &[]).unwrap();
    load::verify(&mut gdb, &img, &mut report).unwrap();
    assert_eq!(report.packets, "X");
    assert_eq!(report.verified_by, "qCRC");
    let st = state.lock().unwrap();
    let got: Vec<u8> = (0..1000).map(|i| st.mem[&(0x8000_0000 + i)]).collect();
    assert_eq!(got, data);
    // PacketSize=0x100: every packet fits.
    assert!(st.log.iter().filter(|p| p.starts_with('X')).count() > 4);
}

#[test]
fn falls_back_to_m_packets_and_read_back() {
    let state = Arc::new(Mutex::new(State::default()));
    let script = Script {
        binary_writes: false,
        crc: false,
        ..Script::default()
    };
    let addr = serve(script, Arc::clone(&state));
    let mut gdb = client(&addr);
    let data = awkward_bytes(300);
    let img = image(vec![(0x1000, data.clone())]);
    let mut report = load::load(&mut gdb, &img, &[]).unwrap();
    load::verify(&mut gdb, &img, &mut report).unwrap();
    assert_eq!(report.packets, "M");
    assert_eq!(report.verified_by, "read-back");
    let st = state.lock().unwrap();
    assert_eq!(st.log.iter().filter(|p| p.starts_with('X')).count(), 1);
    assert_eq!(st.mem[&0x1000], b'#');
}

#[test]
fn verify_names_the_first_bad_byte() {
    for crc in [true, false] {
        let state = Arc::new(Mutex::new(State::default()));
        let script = Script {
            crc,
            corrupt: Some(0x2005),
            ..Script::default()
        };
        let addr = serve(script, state);
        let mut gdb = client(&addr);
        let img = image(vec![(0x2000, vec![0x11; 64])]);
        let mut report = load::load(&mut gdb, &img, &[]).unwrap();
        let err = format!(
            "{:#}",
            load::verify(&mut gdb, &img, &mut report).unwrap_err()
        );
        assert!(err.contains("verify failed at 0x2005"), "{err}");
    }
}

#[test]
fn flash_is_erased_in_blocks_then_written() {
    let state = Arc::new(Mutex::new(State::default()));
    let script = Script {
        flash: Some((0x2000_0000, 0x1_0000, 0x400)),
        ..Script::default()
    };
    let addr = serve(script, Arc::clone(&state));
    let mut gdb = client(&addr);
    let map = xml::memory_map(&gdb.read_xfer("memory-map", "").unwrap());
    assert!(map.iter().any(|r| r.flash && r.blocksize == 0x400));
    let code = awkward_bytes(0x500);
    let img = image(vec![
        (0x2000_0100, code.clone()),
        (0x8000, vec![7; 16]), // RAM
    ]);
    let mut report = load::load(&mut gdb, &img, &map).unwrap();
    load::verify(&mut gdb, &img, &mut report).unwrap();
    assert_eq!(report.flash_bytes, 0x500);
    let st = state.lock().unwrap();
    assert_eq!(st.erased, vec![(0x2000_0000, 0x800)]);
    assert!(st.log.iter().any(|p| p == "vFlashDone"));
    let got: Vec<u8> = (0..0x500).map(|i| st.mem[&(0x2000_0100 + i)]).collect();
    assert_eq!(got, code);
    assert_eq!(st.mem[&0x8000], 7);
    // The rest of an erased block reads as erased flash.
    assert_eq!(st.mem[&0x2000_0000], 0xff);
}

/// A [`Start`] that connects to the scripted server.
struct Connect(String);

impl Start for Connect {
    fn start(&mut self, _image: &Image, deadline: Instant) -> anyhow::Result<Started> {
        Ok(Started {
            client: GdbClient::connect(&self.0, "the test server", deadline)?,
            helpers: Vec::new(),
            exit_from: None,
            exit_line: None,
            preloaded: false,
            direct: None,
        })
    }
}

#[test]
fn target_resets_loads_sets_pc_and_picks_breakpoint_kinds() {
    let state = Arc::new(Mutex::new(State::default()));
    let script = Script {
        flash: Some((0x2000_0000, 0x1_0000, 0x400)),
        no_soft: vec![0x9000],
        stops: vec!["T05".into()],
        ..Script::default()
    };
    let addr = serve(script, Arc::clone(&state));
    let settings = Settings {
        reset: Some("reset halt".into()),
        verify: true,
        semihosting: true,
        ..Settings::default()
    };
    let mut target = GdbTarget::new(TargetOptions::default(), settings, Box::new(Connect(addr)));
    // Code in RAM with a semihosting call at 0x8010.
    let mut code = [0x13, 0, 0, 0].repeat(4); // nops
    code.extend_from_slice(&[
        0x13, 0x10, 0xf0, 0x01, 0x73, 0, 0x10, 0, 0x13, 0x50, 0x70, 0x40,
    ]);
    let img = image(vec![(0x8000, code)]);
    target.load(&img).unwrap();
    assert_eq!(target.register(Reg::Pc).unwrap(), 0x8000);
    target.set_breakpoint(0x2000_0010).unwrap(); // flash: hardware
    target.set_breakpoint(0x8004).unwrap(); // RAM: software
    target.set_breakpoint(0x9000).unwrap(); // software refused: hardware
    // The program stops at the semihosting ebreak.
    state.lock().unwrap().regs.insert(32, 0x8014);
    target.resume().unwrap();
    let stop = target
        .wait(Instant::now() + Duration::from_secs(5))
        .unwrap();
    assert_eq!(stop, Stop::Semihosting);
    target.finish_semihosting(7).unwrap();
    let st = state.lock().unwrap();
    assert_eq!(st.regs[&10], 7);
    assert_eq!(st.regs[&32], 0x801c);
    let log = &st.log;
    let pos = |p: &str| {
        log.iter()
            .position(|l| l.starts_with(p))
            .unwrap_or_else(|| panic!("no {p} in {log:?}"))
    };
    assert!(pos("qRcmd") < pos("X8000"), "reset before load: {log:?}");
    assert!(pos("X8000") < pos("qCRC:8000"));
    assert!(
        log.contains(&"Z0,8014,4".to_owned()),
        "semihosting site planted: {log:?}"
    );
    let has = |p: &str| log.iter().any(|l| l.starts_with(p));
    assert!(
        has("Z1,20000010,") && !has("Z0,20000010,"),
        "flash: hardware only: {log:?}"
    );
    assert!(
        has("Z0,8004,4") && !has("Z1,8004,"),
        "RAM: software: {log:?}"
    );
    assert!(
        has("Z0,9000,") && has("Z1,9000,"),
        "refused: hardware: {log:?}"
    );
}

#[test]
fn csrs_are_found_through_the_target_description() {
    let state = Arc::new(Mutex::new(State::default()));
    state
        .lock()
        .unwrap()
        .regs
        .insert(899, 0x8000_0000_0000_0007);
    let addr = serve(Script::default(), Arc::clone(&state));
    let mut target = GdbTarget::new(
        TargetOptions::default(),
        Settings::default(),
        Box::new(Connect(addr)),
    );
    target
        .load(&image(vec![(0x100, vec![0x13, 0, 0, 0])]))
        .unwrap();
    // mcause by name; mtval (not described) by its offset from mstatus.
    assert_eq!(
        target.register(Reg::Csr(0x342)).unwrap(),
        0x8000_0000_0000_0007
    );
    target.set_register(Reg::Csr(0x343), 5).unwrap();
    assert_eq!(state.lock().unwrap().regs[&(833 - 0x300 + 0x343)], 5);
}

/// A target on the scripted server, loaded with nops at 0x8000 and a breakpoint at 0x8008,
/// its program running (the server never answers `c` by itself).
fn running_target(access: RunningAccess) -> (GdbTarget, Arc<Mutex<State>>) {
    let state = Arc::new(Mutex::new(State::default()));
    let addr = serve(Script::default(), Arc::clone(&state));
    let settings = Settings {
        running_access: access,
        ..Settings::default()
    };
    let mut target = GdbTarget::new(TargetOptions::default(), settings, Box::new(Connect(addr)));
    target
        .load(&image(vec![(0x8000, [0x13, 0, 0, 0].repeat(4))]))
        .unwrap();
    target.set_breakpoint(0x8008).unwrap();
    target.resume().unwrap();
    let soon = Instant::now() + Duration::from_millis(20);
    assert_eq!(target.wait(soon).unwrap(), Stop::Running);
    (target, state)
}

/// What the server received after the last `c`, once it has received everything (packets
/// that need no reply, `c` and the interrupt byte, may still be on their way).
fn since_last_c(state: &Mutex<State>) -> Vec<String> {
    let mut seen = 0;
    loop {
        std::thread::sleep(Duration::from_millis(30));
        let log = &state.lock().unwrap().log;
        if log.len() == seen {
            let last = log.iter().rposition(|l| l == "c").unwrap();
            return log[last + 1..].to_vec();
        }
        seen = log.len();
    }
}

#[test]
fn halting_accesses_resume_only_their_own_interruption() {
    let soon = || Instant::now() + Duration::from_millis(20);
    let (mut target, state) = running_target(RunningAccess::Halt);
    // The interrupt stops the program somewhere plain: read, then resume.
    state.lock().unwrap().regs.insert(32, 0x8004);
    let mut word = [0u8; 4];
    target.read_memory_running(0x8000, &mut word).unwrap();
    assert_eq!(word, [0x13, 0, 0, 0]);
    assert_eq!(since_last_c(&state), Vec::<String>::new(), "resumed");
    let log = state.lock().unwrap().log.clone();
    let n = log.len();
    assert_eq!(log[n - 4..n - 1], ["^C", "p20", "m8000,4"], "{log:?}");
    assert_eq!(target.wait(soon()).unwrap(), Stop::Running);

    // The program reached the breakpoint as rvflash interrupted it: that stop is the next
    // wait's, and the program is not resumed.
    {
        let mut st = state.lock().unwrap();
        st.regs.insert(32, 0x8008);
        st.interrupt_reply = Some("T05".into());
    }
    target.write_memory_running(0x8100, &[1, 2, 3]).unwrap();
    target.read_memory_running(0x8100, &mut word[..3]).unwrap();
    assert_eq!(word[..3], [1, 2, 3]);
    assert_eq!(
        since_last_c(&state),
        ["^C", "X8100,3:\u{1}\u{2}\u{3}", "m8100,3"],
        "one interrupt, no resume"
    );
    assert_eq!(target.wait(soon()).unwrap(), Stop::Breakpoint(0x8008));

    // The run loop's own interrupt, still on its way when memory is read: reported, not
    // resumed.
    state.lock().unwrap().interrupt_reply = None;
    target.set_register(Reg::Pc, 0x8004).unwrap();
    target.resume().unwrap();
    assert_eq!(target.wait(soon()).unwrap(), Stop::Running);
    target.interrupt().unwrap();
    target.read_memory_running(0x8000, &mut word).unwrap();
    assert_eq!(since_last_c(&state), ["^C", "m8000,4"]);
    assert_eq!(target.wait(soon()).unwrap(), Stop::Interrupted);
}

#[test]
fn packets_while_running_keep_a_stop_that_comes_first() {
    let soon = || Instant::now() + Duration::from_millis(20);
    let (mut target, state) = running_target(RunningAccess::Packets);
    let mut word = [0u8; 4];
    target.read_memory_running(0x8004, &mut word).unwrap();
    assert_eq!(word, [0x13, 0, 0, 0]);
    assert_eq!(since_last_c(&state), ["m8004,4"], "no interrupt");
    assert_eq!(target.wait(soon()).unwrap(), Stop::Running);
    // The program hits the breakpoint just before the server answers.
    {
        let mut st = state.lock().unwrap();
        st.regs.insert(32, 0x8008);
        st.early_stop = Some("T05".into());
    }
    target.read_memory_running(0x8000, &mut word).unwrap();
    assert_eq!(word, [0x13, 0, 0, 0]);
    // Stopped already: an interrupt now sends nothing, and the stop is what `wait` reports.
    target.interrupt().unwrap();
    assert_eq!(since_last_c(&state), ["m8004,4", "m8000,4"]);
    assert_eq!(target.wait(soon()).unwrap(), Stop::Breakpoint(0x8008));
}

/// A transport that replays canned server bytes and records what the client sent.
struct Canned {
    input: std::io::Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Canned {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}
impl Write for Canned {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Transport for Canned {
    fn wait_readable(&mut self, timeout: Duration) -> std::io::Result<bool> {
        let more = (self.input.position() as usize) < self.input.get_ref().len();
        if !more {
            std::thread::sleep(timeout.min(Duration::from_millis(5)));
        }
        Ok(more)
    }
}

fn canned(server: &[u8]) -> GdbClient<Canned> {
    GdbClient::new(
        Canned {
            input: std::io::Cursor::new(server.to_vec()),
            output: Vec::new(),
        },
        "the canned server",
    )
}

#[test]
fn packets_have_checksums_and_acks() {
    let mut c = canned(b"+$OK#9a");
    c.insert_breakpoint(0, 0x8000_0000, 4).unwrap();
    assert_eq!(c_output(&c), b"$Z0,80000000,4#9e+");
}

fn c_output(c: &GdbClient<Canned>) -> Vec<u8> {
    // The transport is private to the client; read it through a debug view.
    c.transport().output.clone()
}

#[test]
fn bad_checksums_are_nacked_and_retried() {
    let mut c = canned(b"$OK#00$OK#9a");
    let p = c
        .recv_packet(Instant::now() + Duration::from_secs(1), b"?")
        .unwrap();
    assert_eq!(p.as_deref(), Some(&b"OK"[..]));
    assert_eq!(c_output(&c), b"-+");
}

#[test]
fn refusals_are_typed_and_garbage_is_named() {
    let mut c = canned(&[b"+".as_slice(), &frame(b"E0E")].concat());
    let err = c.insert_breakpoint(0, 0, 4).unwrap_err();
    let refused = err.downcast_ref::<Refused>().unwrap();
    assert_eq!(refused.reply, "E0E");
    let mut c = canned(b"hello, I am not a GDB server\n");
    let err = format!("{:#}", c.request("qSupported").unwrap_err());
    assert!(
        err.contains("does not speak the GDB remote protocol") && err.contains("hello"),
        "{err}"
    );
    let mut c = canned(&[b"+".as_slice(), &frame(b"S05")].concat());
    // A stop reply where memory was asked for.
    let err = format!("{:#}", c.read_memory(0, &mut [0u8; 4]).unwrap_err());
    assert!(err.contains("malformed reply to `m`"), "{err}");
}

#[test]
fn silence_and_closed_connections_end_within_the_cap() {
    let mut c = canned(b"");
    c.set_deadline_cap(Some(Instant::now() + Duration::from_millis(100)));
    let started = Instant::now();
    let err = format!("{:#}", c.request("qSupported").unwrap_err());
    assert!(err.contains("before the timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn monitor_output_and_console_packets() {
    let mut c = canned(b"+$O6869#2c$OK#9a");
    assert_eq!(c.monitor("reset halt").unwrap(), "hi");
    let mut c = canned(&[frame(b"O6869"), frame(b"T0520:0000008000000000;")].concat());
    let stop = c
        .wait_stop(Instant::now() + Duration::from_secs(1))
        .unwrap();
    assert_eq!(
        stop,
        Some(super::protocol::StopReply::Signal {
            signal: 5,
            pc: Some(0x8000_0000)
        })
    );
    assert_eq!(c.take_console(), b"hi");
}
