//! A client for the GDB remote serial protocol (RSP), as spoken by QEMU's gdbstub, OpenOCD
//! and other GDB servers.
//!
//! It covers what a run loop needs: packets with checksums and acknowledgements (and
//! `QStartNoAckMode` when the server offers it), run-length decoding and binary unescaping,
//! `?`, `g`/`p`/`P`, `m`/`M`, `Z0`/`z0`, `c`, `s`, the Ctrl-C interrupt (0x03), stop replies
//! (`S`, `T`, `W`, `X`, console `O` packets) and the target description
//! (`qXfer:features:read`), from which register numbers of CSRs are looked up by name.
//!
//! The transport is any `Read + Write` byte stream; [`GdbClient::connect`] opens TCP.
//! Timeouts are deadlines: a receive that reaches its deadline returns `None` rather than
//! failing, so a caller can interrupt the target or give up.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// Largest memory block read or written in one packet.
const MAX_MEMORY_CHUNK: usize = 1024;

/// How long a plain request may take before the server is declared unresponsive.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the target stopped, as told by a stop reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReply {
    /// `S`/`T` packet: stopped with this signal (5 = SIGTRAP for breakpoints and steps).
    Signal(u8),
    /// `W` packet: the process exited with this status.
    Exited(u8),
    /// `X` packet: the process was terminated by this signal.
    Terminated(u8),
}

/// A byte stream the client talks over.
pub trait Transport: Read + Write + Send {
    /// Sets the timeout of the next reads (`None` blocks).
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> std::io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> std::io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

/// A GDB remote-protocol client.
pub struct GdbClient<T: Transport = TcpStream> {
    io: T,
    /// Bytes received but not consumed yet.
    pending: Vec<u8>,
    no_ack: bool,
    /// Console output (`O` packets) received while waiting.
    console: Vec<u8>,
}

impl GdbClient<TcpStream> {
    /// Connects to a GDB server at `addr` (`host:port`), retrying until `deadline`.
    pub fn connect(addr: &str, deadline: Instant) -> Result<Self> {
        loop {
            match TcpStream::connect(addr) {
                Ok(stream) => {
                    stream.set_nodelay(true).ok();
                    let mut client = GdbClient::new(stream);
                    client.handshake()?;
                    return Ok(client);
                }
                Err(err) if Instant::now() >= deadline => {
                    return Err(err)
                        .with_context(|| format!("cannot connect to GDB server {addr}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl<T: Transport> GdbClient<T> {
    /// Wraps a connected transport (no handshake).
    pub fn new(io: T) -> Self {
        GdbClient {
            io,
            pending: Vec::new(),
            no_ack: false,
            console: Vec::new(),
        }
    }

    /// Negotiates features: `qSupported`, then no-ack mode when offered.
    pub fn handshake(&mut self) -> Result<()> {
        let features = self.request("qSupported:swbreak+;hwbreak+;xmlRegisters=riscv")?;
        let features = String::from_utf8_lossy(&features).into_owned();
        if features.split(';').any(|f| f == "QStartNoAckMode+") {
            let reply = self.request("QStartNoAckMode")?;
            if reply == b"OK" {
                self.no_ack = true;
            }
        }
        Ok(())
    }

    /// Console output the server sent in `O` packets since the last call.
    pub fn take_console(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.console)
    }

    /// Sends one packet and waits for its acknowledgement.
    pub fn send_packet(&mut self, payload: &[u8]) -> Result<()> {
        let checksum = payload.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        let mut frame = Vec::with_capacity(payload.len() + 4);
        frame.push(b'$');
        frame.extend_from_slice(payload);
        frame.extend_from_slice(format!("#{checksum:02x}").as_bytes());
        for _ in 0..5 {
            self.io
                .write_all(&frame)
                .context("GDB connection: write failed")?;
            self.io.flush().ok();
            if self.no_ack {
                return Ok(());
            }
            match self.read_byte(Some(Instant::now() + REPLY_TIMEOUT))? {
                Some(b'+') => return Ok(()),
                Some(b'-') => continue,
                Some(other) => {
                    // Not an ack: keep it for the packet reader (some servers skip acks).
                    self.pending.insert(0, other);
                    return Ok(());
                }
                None => bail!("GDB server did not acknowledge a packet"),
            }
        }
        bail!("GDB server rejected a packet 5 times")
    }

    /// Receives one packet; `None` when `deadline` passes first.
    pub fn recv_packet(&mut self, deadline: Option<Instant>) -> Result<Option<Vec<u8>>> {
        loop {
            // Skip to the start of a packet.
            match self.read_byte(deadline)? {
                None => return Ok(None),
                Some(b'$') => {}
                Some(_) => continue,
            }
            let mut raw = Vec::new();
            loop {
                match self.read_byte(deadline.map(|d| d.max(Instant::now() + REPLY_TIMEOUT)))? {
                    Some(b'#') => break,
                    Some(b) => raw.push(b),
                    None => bail!("GDB connection: truncated packet"),
                }
            }
            let mut sum = [0u8; 2];
            for s in &mut sum {
                *s = self
                    .read_byte(Some(Instant::now() + REPLY_TIMEOUT))?
                    .ok_or_else(|| anyhow!("GDB connection: truncated checksum"))?;
            }
            let expected = u8::from_str_radix(std::str::from_utf8(&sum).unwrap_or("zz"), 16).ok();
            let actual = raw.iter().fold(0u8, |s, b| s.wrapping_add(*b));
            if !self.no_ack {
                let ack: &[u8] = if expected == Some(actual) { b"+" } else { b"-" };
                self.io
                    .write_all(ack)
                    .context("GDB connection: write failed")?;
                if expected != Some(actual) {
                    continue;
                }
            }
            return Ok(Some(decode_payload(&raw)));
        }
    }

    /// Sends a request and returns its reply; `E NN` replies become errors.
    pub fn request(&mut self, payload: &str) -> Result<Vec<u8>> {
        self.send_packet(payload.as_bytes())?;
        let reply = self
            .recv_packet(Some(Instant::now() + REPLY_TIMEOUT))?
            .ok_or_else(|| anyhow!("GDB server did not answer `{}`", short(payload)))?;
        if reply.len() == 3 && reply[0] == b'E' {
            bail!(
                "GDB server answered `{}` to `{}`",
                String::from_utf8_lossy(&reply),
                short(payload)
            );
        }
        Ok(reply)
    }

    fn request_ok(&mut self, payload: &str) -> Result<()> {
        let reply = self.request(payload)?;
        if reply != b"OK" {
            bail!(
                "GDB server answered `{}` to `{}`",
                String::from_utf8_lossy(&reply),
                short(payload)
            );
        }
        Ok(())
    }

    /// `?`: why the target is stopped now.
    pub fn halt_reason(&mut self) -> Result<StopReply> {
        self.send_packet(b"?")?;
        self.wait_stop(Some(Instant::now() + REPLY_TIMEOUT))?
            .ok_or_else(|| anyhow!("GDB server did not answer `?`"))
    }

    /// `p`: one register, little-endian, as a u64.
    pub fn read_register(&mut self, num: u32) -> Result<u64> {
        let reply = self.request(&format!("p{num:x}"))?;
        let bytes = hex_decode(&reply)?;
        Ok(le_u64(&bytes))
    }

    /// `P`: writes one 64-bit register.
    pub fn write_register(&mut self, num: u32, value: u64) -> Result<()> {
        self.request_ok(&format!("P{num:x}={}", hex_encode(&value.to_le_bytes())))
    }

    /// `m`: reads memory, in chunks.
    pub fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let n = (buf.len() - done).min(MAX_MEMORY_CHUNK);
            let at = addr.wrapping_add(done as u64);
            let reply = self.request(&format!("m{at:x},{n:x}"))?;
            let bytes = hex_decode(&reply)?;
            if bytes.is_empty() {
                bail!("cannot read memory at {at:#x}");
            }
            let got = bytes.len().min(n);
            buf[done..done + got].copy_from_slice(&bytes[..got]);
            done += got;
        }
        Ok(())
    }

    /// `M`: writes memory, in chunks.
    pub fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        for (i, chunk) in data.chunks(MAX_MEMORY_CHUNK).enumerate() {
            let at = addr.wrapping_add((i * MAX_MEMORY_CHUNK) as u64);
            self.request_ok(&format!("M{at:x},{:x}:{}", chunk.len(), hex_encode(chunk)))?;
        }
        Ok(())
    }

    /// `Z0`: inserts a software breakpoint.
    pub fn insert_breakpoint(&mut self, addr: u64) -> Result<()> {
        self.request_ok(&format!("Z0,{addr:x},4"))
    }

    /// `z0`: removes a software breakpoint.
    pub fn remove_breakpoint(&mut self, addr: u64) -> Result<()> {
        self.request_ok(&format!("z0,{addr:x},4"))
    }

    /// `c`: continues; the stop reply comes later through [`GdbClient::wait_stop`].
    pub fn cont(&mut self) -> Result<()> {
        self.send_packet(b"c")
    }

    /// `s`: single-steps; the stop reply comes later through [`GdbClient::wait_stop`].
    pub fn step(&mut self) -> Result<()> {
        self.send_packet(b"s")
    }

    /// Sends the interrupt byte (Ctrl-C, 0x03); a stop reply follows.
    pub fn interrupt(&mut self) -> Result<()> {
        self.io
            .write_all(&[0x03])
            .context("GDB connection: write failed")?;
        self.io.flush().ok();
        Ok(())
    }

    /// Waits for a stop reply until `deadline`; `None` when the deadline passes first.
    /// `O` console packets are collected (see [`GdbClient::take_console`]).
    pub fn wait_stop(&mut self, deadline: Option<Instant>) -> Result<Option<StopReply>> {
        loop {
            let Some(packet) = self.recv_packet(deadline)? else {
                return Ok(None);
            };
            if let Some(stop) = parse_stop_reply(&packet)? {
                return Ok(Some(stop));
            }
            if packet.first() == Some(&b'O') && packet.len() > 1 {
                self.console.extend(hex_decode(&packet[1..])?);
            }
        }
    }

    /// Reads a `qXfer:features:read` annex (e.g. `target.xml`) completely.
    pub fn read_feature(&mut self, annex: &str) -> Result<String> {
        let mut text = Vec::new();
        loop {
            let reply = self.request(&format!(
                "qXfer:features:read:{annex}:{:x},{:x}",
                text.len(),
                0xffb
            ))?;
            let (kind, data) = reply
                .split_first()
                .ok_or_else(|| anyhow!("empty reply reading {annex}"))?;
            text.extend_from_slice(data);
            match kind {
                b'l' => break,
                b'm' => continue,
                _ => bail!("GDB server cannot send the target description {annex}"),
            }
        }
        Ok(String::from_utf8_lossy(&text).into_owned())
    }

    /// Register numbers by name (lower case), from the target description and its includes.
    pub fn register_map(&mut self) -> Result<HashMap<String, u32>> {
        let mut map = HashMap::new();
        let mut next = 0u32;
        let root = self.read_feature("target.xml")?;
        for tag in root.split('<').skip(1) {
            if let Some(rest) = tag.strip_prefix("xi:include") {
                if let Some(href) = attribute(rest, "href") {
                    // An include's registers are numbered where it appears.
                    let included = self.read_feature(&href)?;
                    number_registers(&included, &mut map, &mut next);
                }
            } else if tag.starts_with("reg ") || tag.starts_with("reg\t") {
                number_register(tag, &mut map, &mut next);
            }
        }
        Ok(map)
    }
}

fn number_registers(doc: &str, map: &mut HashMap<String, u32>, next: &mut u32) {
    for tag in doc.split('<').skip(1) {
        if tag.starts_with("reg ") || tag.starts_with("reg\t") {
            number_register(tag, map, next);
        }
    }
}

fn number_register(tag: &str, map: &mut HashMap<String, u32>, next: &mut u32) {
    if let Some(num) = attribute(tag, "regnum").and_then(|n| n.parse().ok()) {
        *next = num;
    }
    if let Some(name) = attribute(tag, "name") {
        map.entry(name.to_ascii_lowercase()).or_insert(*next);
    }
    *next += 1;
}

/// The value of `name="..."` in an XML tag body.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let tag = tag.split('>').next()?;
    let key = format!("{name}=");
    let mut search = tag;
    while let Some(pos) = search.find(&key) {
        let preceded_ok = pos == 0
            || search[..pos]
                .chars()
                .last()
                .is_some_and(char::is_whitespace);
        let rest = &search[pos + key.len()..];
        if preceded_ok {
            let quote = rest.chars().next()?;
            if quote == '"' || quote == '\'' {
                let body = &rest[1..];
                return body.find(quote).map(|end| body[..end].to_owned());
            }
        }
        search = rest;
    }
    None
}

impl<T: Transport> GdbClient<T> {
    fn read_byte(&mut self, deadline: Option<Instant>) -> Result<Option<u8>> {
        if !self.pending.is_empty() {
            return Ok(Some(self.pending.remove(0)));
        }
        let mut buf = [0u8; 4096];
        loop {
            let timeout = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(None);
                    }
                    Some((d - now).max(Duration::from_millis(1)))
                }
                None => None,
            };
            self.io.set_read_timeout(timeout).ok();
            match self.io.read(&mut buf) {
                Ok(0) => bail!("GDB connection closed"),
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[1..n]);
                    return Ok(Some(buf[0]));
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("GDB connection: read failed"),
            }
        }
    }
}

/// Parses `S`, `T`, `W` and `X` packets; other packets give `None`.
pub fn parse_stop_reply(packet: &[u8]) -> Result<Option<StopReply>> {
    let Some((&kind, rest)) = packet.split_first() else {
        return Ok(None);
    };
    let code = || -> Result<u8> {
        let digits = rest.get(..2).unwrap_or(rest);
        let text = std::str::from_utf8(digits).unwrap_or("");
        u8::from_str_radix(text, 16)
            .map_err(|_| anyhow!("malformed stop reply `{}`", String::from_utf8_lossy(packet)))
    };
    Ok(match kind {
        b'S' | b'T' => Some(StopReply::Signal(code()?)),
        b'W' => Some(StopReply::Exited(code()?)),
        b'X' => Some(StopReply::Terminated(code()?)),
        _ => None,
    })
}

/// Undoes binary escaping (`}` + byte ^ 0x20) and run-length encoding (`X*n`).
pub fn decode_payload(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'}' if i + 1 < raw.len() => {
                out.push(raw[i + 1] ^ 0x20);
                i += 2;
            }
            b'*' if i + 1 < raw.len() && !out.is_empty() => {
                let count = raw[i + 1].saturating_sub(29) as usize;
                let last = *out.last().unwrap_or(&0);
                out.extend(std::iter::repeat_n(last, count));
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Hex text to bytes; `xx` (unavailable register) reads as zero.
pub fn hex_decode(text: &[u8]) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        bail!("odd-length hex reply `{}`", String::from_utf8_lossy(text));
    }
    text.chunks(2)
        .map(|pair| {
            if pair == b"xx" {
                return Ok(0);
            }
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| anyhow!("bad hex `{}`", String::from_utf8_lossy(text)))
        })
        .collect()
}

/// Bytes to lower-case hex text.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn le_u64(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(word)
}

fn short(payload: &str) -> &str {
    payload.get(..40).unwrap_or(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A transport replaying canned server bytes and recording what the client sent.
    struct Fake {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.input.read(buf)?;
            if n == 0 {
                return Err(ErrorKind::TimedOut.into());
            }
            Ok(n)
        }
    }
    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Transport for Fake {
        fn set_read_timeout(&mut self, _: Option<Duration>) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn client(server: &str) -> GdbClient<Fake> {
        GdbClient::new(Fake {
            input: Cursor::new(server.as_bytes().to_vec()),
            output: Vec::new(),
        })
    }

    #[test]
    fn packets_have_checksums_and_acks() {
        let mut c = client("+$OK#9a");
        c.request_ok("Z0,80000000,4").unwrap();
        assert_eq!(c.io.output, b"$Z0,80000000,4#9e+");
    }

    #[test]
    fn bad_checksum_is_nacked_and_retried() {
        let mut c = client("$OK#00$OK#9a");
        let p = c.recv_packet(Some(Instant::now() + REPLY_TIMEOUT)).unwrap();
        assert_eq!(p.as_deref(), Some(&b"OK"[..]));
        assert_eq!(c.io.output, b"-+");
    }

    #[test]
    fn registers_are_little_endian() {
        let mut c = client("+$0000008000000000#08");
        assert_eq!(c.read_register(32).unwrap(), 0x8000_0000);
    }

    #[test]
    fn stop_replies() {
        assert_eq!(
            parse_stop_reply(b"T05thread:01;").unwrap(),
            Some(StopReply::Signal(5))
        );
        assert_eq!(
            parse_stop_reply(b"W2a").unwrap(),
            Some(StopReply::Exited(42))
        );
        assert_eq!(
            parse_stop_reply(b"X09").unwrap(),
            Some(StopReply::Terminated(9))
        );
        assert_eq!(parse_stop_reply(b"OK").unwrap(), None);
        assert!(parse_stop_reply(b"Wzz").is_err());
    }

    #[test]
    fn console_packets_are_collected() {
        let mut c = client("$O6869#2c$S05#b8");
        let stop = c.wait_stop(Some(Instant::now() + REPLY_TIMEOUT)).unwrap();
        assert_eq!(stop, Some(StopReply::Signal(5)));
        assert_eq!(c.take_console(), b"hi");
    }

    #[test]
    fn run_length_and_escapes() {
        assert_eq!(decode_payload(b"0* "), b"0000");
        assert_eq!(decode_payload(b"a}\x03b"), b"a#b");
    }

    #[test]
    fn register_numbers_from_xml() {
        let mut map = HashMap::new();
        let mut next = 0;
        number_registers(
            r#"<feature><reg name="zero" bitsize="64"/><reg name="pc" bitsize="64"/>
               <reg name="mcause" bitsize="64" regnum="900"/><reg name='mtval'/></feature>"#,
            &mut map,
            &mut next,
        );
        assert_eq!(map["zero"], 0);
        assert_eq!(map["pc"], 1);
        assert_eq!(map["mcause"], 900);
        assert_eq!(map["mtval"], 901);
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex_decode(b"00ff").unwrap(), vec![0, 255]);
        assert_eq!(hex_encode(&[0xab, 1]), "ab01");
        assert!(hex_decode(b"0").is_err());
        assert!(hex_decode(b"zz").is_err());
    }
}
