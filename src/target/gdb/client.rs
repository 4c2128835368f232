//! A client for the GDB remote serial protocol (RSP), as spoken by QEMU's gdbstub, OpenOCD,
//! J-Link's GDB server and others: the connection, feature negotiation and one method per
//! request rvflash makes.
//!
//! Covered: packets with checksums and acknowledgements (`QStartNoAckMode` when offered),
//! `qSupported` (`PacketSize`, `qXfer:features:read`, `qXfer:memory-map:read`), `?`, `p`/`P`,
//! `m`, `X` (binary writes, falling back to `M` when the server does not know it), `qCRC`,
//! `vFlashErase`/`vFlashWrite`/`vFlashDone`, `Z0`/`Z1` and `z0`/`z1`, `qRcmd` (monitor
//! commands), `c`, `s`, the interrupt byte (0x03), stop replies and `O` console packets.
//!
//! Memory requests while the program runs ([`GdbClient::read_memory_running`], for servers
//! that answer them, as OpenOCD does): the program may stop while such a request is on its
//! way, so a stop reply (or console output) can come before the request's reply. It is kept
//! and [`GdbClient::wait_stop`] returns it first: no stop is lost.
//!
//! Never hang, never guess: every wait has a deadline (a request's reply timeout, capped by
//! [`GdbClient::set_deadline_cap`]); a closed connection, bytes that are not the protocol and
//! silence past the deadline are errors naming the server and the request. A server's refusal
//! (`E NN`, or the empty reply of a request it does not support) is a [`Refused`] error, so
//! callers can fall back.
//!
//! `RVFLASH_GDB_TRACE=1` prints every packet sent and received to stderr, with the time since
//! the connection opened (for debugging a server).
//!
//! This file must not know about targets, images or boards (`target`, `load` do).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::target::Unreachable;

use super::protocol::{
    StopReply, crc32, decode_payload, escape_into, escaped_prefix, frame, hex_decode, hex_encode,
    le_u64, parse_stop_reply, printable,
};

/// How long a plain request may take before the server is declared unresponsive.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long slow requests may take: monitor commands (a reset), flash erase and write.
pub const SLOW_TIMEOUT: Duration = Duration::from_secs(60);
/// The packet size assumed when the server does not say (GDB's own default is about this).
const DEFAULT_PACKET_SIZE: usize = 400;
/// Largest packet rvflash sends or asks for, whatever the server offers.
const MAX_PACKET_SIZE: usize = 64 * 1024;
/// Room for a packet's framing and a request's header (`X8000000000000000,ffff:`).
const HEADER_ROOM: usize = 40;

/// A byte stream the client talks over.
pub trait Transport: Read + Write + Send {
    /// Waits up to `timeout` for something to read (or the end of the stream); false when
    /// the time passed first.
    fn wait_readable(&mut self, timeout: Duration) -> std::io::Result<bool>;
}

impl Transport for TcpStream {
    fn wait_readable(&mut self, timeout: Duration) -> std::io::Result<bool> {
        // poll(2) rather than SO_RCVTIMEO, whose timeouts round up to the kernel's tick
        // (4 ms and more): a nudge or a stop 2 ms away must not wait for the next tick.
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(self),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for this socket.
        match unsafe { libc::poll(&mut pfd, 1, ms) } {
            -1 => {
                let err = std::io::Error::last_os_error();
                if err.kind() == ErrorKind::Interrupted {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
            0 => Ok(false),
            _ => Ok(true),
        }
    }
}

/// The server refused a request: `E NN`, `E.message`, or the empty reply of a request it
/// does not support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Who refused (`the GDB server at HOST:PORT`).
    pub server: String,
    /// The request, shortened.
    pub request: String,
    /// The reply (empty: not supported).
    pub reply: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.reply.is_empty() {
            write!(f, "{} does not support `{}`", self.server, self.request)
        } else {
            write!(
                f,
                "{} answered `{}` to `{}`",
                self.server, self.reply, self.request
            )
        }
    }
}

impl std::error::Error for Refused {}

/// The connection to the server closed or broke (the error of any request then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLost(pub String);

impl std::fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectionLost {}

/// What the server said it supports (`qSupported`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Largest packet the server accepts (`PacketSize`), bounded by rvflash's own limit.
    pub packet_size: usize,
    /// `qXfer:features:read+`: a target description.
    pub target_xml: bool,
    /// `qXfer:memory-map:read+`: a memory map (flash regions).
    pub memory_map: bool,
    /// `QStartNoAckMode+`.
    pub no_ack: bool,
}

impl Features {
    /// Parses a `qSupported` reply.
    pub fn parse(reply: &str) -> Features {
        let mut features = Features {
            packet_size: DEFAULT_PACKET_SIZE,
            ..Features::default()
        };
        for item in reply.split(';') {
            match item {
                "qXfer:features:read+" => features.target_xml = true,
                "qXfer:memory-map:read+" => features.memory_map = true,
                "QStartNoAckMode+" => features.no_ack = true,
                _ => {
                    if let Some(size) = item.strip_prefix("PacketSize=")
                        && let Ok(size) = usize::from_str_radix(size, 16)
                    {
                        features.packet_size = size.clamp(64, MAX_PACKET_SIZE);
                    }
                }
            }
        }
        features
    }
}

/// A GDB remote-protocol client.
pub struct GdbClient<T: Transport = TcpStream> {
    io: T,
    /// Who we talk to, for messages (`the GDB server at 127.0.0.1:3333`).
    server: String,
    /// Bytes received but not consumed yet.
    pending: VecDeque<u8>,
    no_ack: bool,
    features: Features,
    /// Output the server sent in `O` packets (its own messages, not the program's).
    console: Vec<u8>,
    /// No wait goes past this instant (the run's `--timeout` while loading).
    cap: Option<Instant>,
    /// Whether `X` works: unknown until the first write.
    binary_writes: Option<bool>,
    /// `RVFLASH_GDB_TRACE`: when the connection opened.
    trace: Option<Instant>,
    /// Requests go out while the program runs: stop replies and console output may come
    /// before their replies.
    running: bool,
    /// Stop replies that came before another request's reply, oldest first.
    early_stops: VecDeque<StopReply>,
}

impl GdbClient<TcpStream> {
    /// Connects to `addr` (`host:port`), retrying refused connections until `deadline`;
    /// [`GdbClient::handshake`] comes next. `server` names it in messages. A connection that
    /// cannot be made is [`Unreachable`].
    pub fn connect(addr: &str, server: &str, deadline: Instant) -> Result<Self> {
        let targets: Vec<_> = addr
            .to_socket_addrs()
            .with_context(|| format!("GDB server address `{addr}` is not HOST:PORT"))?
            .collect();
        let first = *targets
            .first()
            .ok_or_else(|| anyhow!("GDB server address `{addr}` has no address"))?;
        let stream = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match TcpStream::connect_timeout(&first, left.max(Duration::from_millis(50))) {
                Ok(stream) => break stream,
                Err(err) if Instant::now() >= deadline || err.kind() == ErrorKind::TimedOut => {
                    return Err(err).context(Unreachable(format!("cannot connect to {server}")));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        stream.set_nodelay(true).ok();
        Ok(GdbClient::new(stream, server))
    }
}

impl<T: Transport> GdbClient<T> {
    /// Wraps a connected transport (no handshake); `server` names it in messages.
    pub fn new(io: T, server: &str) -> Self {
        GdbClient {
            io,
            server: server.to_owned(),
            pending: VecDeque::new(),
            no_ack: false,
            features: Features {
                packet_size: DEFAULT_PACKET_SIZE,
                ..Features::default()
            },
            console: Vec::new(),
            cap: None,
            binary_writes: None,
            trace: std::env::var_os("RVFLASH_GDB_TRACE")
                .filter(|v| !v.is_empty() && v != "0")
                .map(|_| Instant::now()),
            running: false,
            early_stops: VecDeque::new(),
        }
    }

    /// The transport, for tests that look at what was sent.
    #[cfg(test)]
    pub fn transport(&self) -> &T {
        &self.io
    }

    /// No wait goes past `cap` (`None`: only the reply timeouts apply).
    pub fn set_deadline_cap(&mut self, cap: Option<Instant>) {
        self.cap = cap;
    }

    /// What the server supports.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// Negotiates features: `qSupported`, then no-ack mode when offered.
    pub fn handshake(&mut self) -> Result<()> {
        let reply = self.request("qSupported:swbreak+;hwbreak+;xmlRegisters=riscv")?;
        self.features = Features::parse(&String::from_utf8_lossy(&reply));
        if self.features.no_ack && self.request("QStartNoAckMode")? == b"OK" {
            self.no_ack = true;
        }
        Ok(())
    }

    /// Output the server sent in `O` packets since the last call (the server's own messages).
    pub fn take_console(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.console)
    }

    /// The deadline of a wait of `timeout` from now, and whether the cap shortened it.
    fn deadline(&self, timeout: Duration) -> (Instant, bool) {
        let natural = Instant::now() + timeout;
        match self.cap {
            Some(cap) if cap < natural => (cap, true),
            _ => (natural, false),
        }
    }

    fn silent(&self, what: &str, capped: bool, timeout: Duration) -> anyhow::Error {
        if capped {
            anyhow!(
                "{} did not answer `{}` before the timeout (--timeout / RVFLASH_TIMEOUT)",
                self.server,
                printable(what.as_bytes())
            )
        } else {
            anyhow!(
                "{} did not answer `{}` within {} s",
                self.server,
                printable(what.as_bytes()),
                timeout.as_secs()
            )
        }
    }

    /// Sends one packet and, unless in no-ack mode, waits for its acknowledgement.
    pub fn send_packet(&mut self, payload: &[u8]) -> Result<()> {
        self.trace("->", payload);
        let frame = frame(payload);
        for _ in 0..5 {
            self.write_all(&frame)?;
            if self.no_ack {
                return Ok(());
            }
            let (deadline, capped) = self.deadline(REPLY_TIMEOUT);
            match self.read_byte(deadline)? {
                Some(b'+') => return Ok(()),
                Some(b'-') => continue,
                Some(b'$') => {
                    // A reply without an acknowledgement: some servers skip them.
                    self.pending.push_front(b'$');
                    return Ok(());
                }
                Some(other) => return Err(self.garbage(other, payload)),
                None => {
                    let what = String::from_utf8_lossy(payload);
                    return Err(self.silent(&what, capped, REPLY_TIMEOUT));
                }
            }
        }
        bail!(
            "{} rejected the packet `{}` 5 times (bad checksum)",
            self.server,
            printable(payload)
        )
    }

    fn trace(&self, dir: &str, packet: &[u8]) {
        if let Some(t) = self.trace {
            eprintln!(
                "rvflash: gdb {:9.3} ms {dir} {}",
                t.elapsed().as_secs_f64() * 1e3,
                printable(packet)
            );
        }
    }

    /// The error for a byte that is not the protocol: says what came (and what follows).
    fn garbage(&mut self, first: u8, request: &[u8]) -> anyhow::Error {
        let mut seen = vec![first];
        let until = Instant::now() + Duration::from_millis(50);
        while seen.len() < 60 {
            match self.read_byte(until) {
                Ok(Some(b)) => seen.push(b),
                _ => break,
            }
        }
        anyhow!(
            "{} does not speak the GDB remote protocol: it sent `{}` in reply to `{}`",
            self.server,
            printable(&seen),
            printable(request)
        )
    }

    /// Receives one packet; `None` when `deadline` passes before one starts. `request` names
    /// what the packet answers, for messages.
    pub fn recv_packet(&mut self, deadline: Instant, request: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut bad_checksums = 0;
        loop {
            match self.read_byte(deadline)? {
                None => return Ok(None),
                Some(b'$') => {}
                // Stray acknowledgements (around the switch to no-ack mode).
                Some(b'+' | b'-') => continue,
                // A notification (non-stop mode): not ours; skip it.
                Some(b'%') => {
                    self.read_packet_body(request)?;
                    continue;
                }
                Some(other) => return Err(self.garbage(other, request)),
            }
            let (raw, ok) = self.read_packet_body(request)?;
            if !self.no_ack {
                self.write_all(if ok { b"+" } else { b"-" })?;
            }
            if !ok {
                bad_checksums += 1;
                if self.no_ack || bad_checksums >= 5 {
                    bail!(
                        "{} sent packets with bad checksums (`{}`) in reply to `{}`",
                        self.server,
                        printable(&raw),
                        printable(request)
                    );
                }
                continue;
            }
            let packet = decode_payload(&raw);
            self.trace("<-", &packet);
            return Ok(Some(packet));
        }
    }

    /// Reads a packet's body after its `$` (or `%`): the raw payload and whether its
    /// checksum is right. Once a packet has started, the rest must come within the reply
    /// timeout.
    fn read_packet_body(&mut self, request: &[u8]) -> Result<(Vec<u8>, bool)> {
        let truncated = |s: &Self| {
            anyhow!(
                "{} sent a truncated packet in reply to `{}`",
                s.server,
                printable(request)
            )
        };
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut raw = Vec::new();
        loop {
            match self.read_byte(deadline)? {
                Some(b'#') => break,
                Some(b) => raw.push(b),
                None => return Err(truncated(self)),
            }
            if raw.len() > 4 * MAX_PACKET_SIZE {
                return Err(self.garbage(b'$', request));
            }
        }
        let mut sum = [0u8; 2];
        for s in &mut sum {
            *s = self.read_byte(deadline)?.ok_or_else(|| truncated(self))?;
        }
        let expected = std::str::from_utf8(&sum)
            .ok()
            .and_then(|s| u8::from_str_radix(s, 16).ok());
        let actual = raw.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        Ok((raw, expected == Some(actual)))
    }

    /// Sends a request and returns its reply as it is (an `E NN` reply included).
    pub fn request_raw(&mut self, payload: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        self.send_packet(payload)?;
        let (deadline, capped) = self.deadline(timeout);
        loop {
            let Some(reply) = self.recv_packet(deadline, payload)? else {
                return Err(self.silent(&String::from_utf8_lossy(payload), capped, timeout));
            };
            if self.running {
                // A stop or console output that came first (see the module docs). No reply
                // to a memory request starts with S, T, W, X or O (hex, `OK`, `E NN`).
                if let Ok(Some(stop)) = parse_stop_reply(&reply) {
                    self.trace("kept", &reply);
                    self.early_stops.push_back(stop);
                    continue;
                }
                if let Some(hex) = reply.strip_prefix(b"O")
                    && reply != b"OK"
                    && let Ok(bytes) = hex_decode(hex)
                {
                    self.console.extend(bytes);
                    continue;
                }
            }
            return Ok(reply);
        }
    }

    /// Sends a request and returns its reply; `E NN` and empty replies are [`Refused`].
    pub fn request(&mut self, payload: &str) -> Result<Vec<u8>> {
        self.request_with(payload.as_bytes(), REPLY_TIMEOUT)
    }

    /// [`GdbClient::request`] with a given reply timeout, for any payload bytes.
    pub fn request_with(&mut self, payload: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        let reply = self.request_raw(payload, timeout)?;
        if reply.is_empty() || is_error(&reply) {
            return Err(self.refused(payload, &reply));
        }
        Ok(reply)
    }

    fn refused(&self, payload: &[u8], reply: &[u8]) -> anyhow::Error {
        let request = String::from_utf8_lossy(payload);
        let request = request.split(':').next().unwrap_or("");
        anyhow::Error::new(Refused {
            server: self.server.clone(),
            request: printable(&request.as_bytes()[..request.len().min(40)]),
            reply: printable(reply),
        })
    }

    /// A request whose only good reply is `OK`.
    fn request_ok(&mut self, payload: &[u8], timeout: Duration) -> Result<()> {
        let reply = self.request_with(payload, timeout)?;
        if reply != b"OK" {
            return Err(self.refused(payload, &reply));
        }
        Ok(())
    }

    /// `?`: why the target is stopped now.
    pub fn halt_reason(&mut self) -> Result<StopReply> {
        self.send_packet(b"?")?;
        let (deadline, capped) = self.deadline(REPLY_TIMEOUT);
        self.wait_stop_for(deadline, b"?")?
            .ok_or_else(|| self.silent("?", capped, REPLY_TIMEOUT))
    }

    /// `p`: one register, little-endian, as a u64.
    pub fn read_register(&mut self, num: u32) -> Result<u64> {
        let reply = self.request(&format!("p{num:x}"))?;
        let bytes = hex_decode(&reply).with_context(|| self.bad_reply("p"))?;
        Ok(le_u64(&bytes))
    }

    /// `P`: writes one 64-bit register.
    pub fn write_register(&mut self, num: u32, value: u64) -> Result<()> {
        let payload = format!("P{num:x}={}", hex_encode(&value.to_le_bytes()));
        self.request_ok(payload.as_bytes(), REPLY_TIMEOUT)
    }

    fn bad_reply(&self, request: &str) -> String {
        format!("{} sent a malformed reply to `{request}`", self.server)
    }

    /// Most data bytes one `m` reply can carry.
    fn read_chunk(&self) -> usize {
        (self.features.packet_size.saturating_sub(HEADER_ROOM) / 2).max(16)
    }

    /// `m`: reads memory, in chunks the server's packet size allows.
    pub fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let chunk = self.read_chunk();
        let mut done = 0;
        while done < buf.len() {
            let n = (buf.len() - done).min(chunk);
            let at = addr.wrapping_add(done as u64);
            let reply = self
                .request(&format!("m{at:x},{n:x}"))
                .with_context(|| format!("cannot read memory at {at:#x}"))?;
            let bytes = hex_decode(&reply).with_context(|| self.bad_reply("m"))?;
            let got = bytes.len().min(n);
            buf[done..done + got].copy_from_slice(&bytes[..got]);
            done += got;
        }
        Ok(())
    }

    /// [`GdbClient::read_memory`] while the program runs, for servers that answer memory
    /// requests then (OpenOCD): a stop reply that comes first is kept for
    /// [`GdbClient::wait_stop`].
    pub fn read_memory_running(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.running = true;
        let result = self.read_memory(addr, buf);
        self.running = false;
        result
    }

    /// [`GdbClient::write_memory`] while the program runs (see
    /// [`GdbClient::read_memory_running`]).
    pub fn write_memory_running(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.running = true;
        let result = self.write_memory(addr, data);
        self.running = false;
        result
    }

    /// Keeps a stop reply for the next [`GdbClient::wait_stop`] (one that came while the
    /// caller waited for something else).
    pub fn keep_stop(&mut self, stop: StopReply) {
        self.early_stops.push_back(stop);
    }

    /// Whether a stop reply is kept for the next [`GdbClient::wait_stop`]: the program is
    /// stopped.
    pub fn has_kept_stop(&self) -> bool {
        !self.early_stops.is_empty()
    }

    /// Writes memory with `X` (binary) packets, or `M` (hex) when the server lacks `X`.
    pub fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        let mut done = 0;
        while done < data.len() {
            let at = addr.wrapping_add(done as u64);
            done += self
                .write_some(at, &data[done..])
                .with_context(|| format!("cannot write memory at {at:#x}"))?;
        }
        Ok(())
    }

    /// Writes a prefix of `data` at `addr` in one packet; returns its length.
    fn write_some(&mut self, addr: u64, data: &[u8]) -> Result<usize> {
        let budget = self
            .features
            .packet_size
            .saturating_sub(HEADER_ROOM)
            .max(16);
        if self.binary_writes != Some(false) {
            let n = escaped_prefix(data, budget);
            let mut payload = format!("X{addr:x},{n:x}:").into_bytes();
            escape_into(&data[..n], &mut payload);
            let reply = self.request_raw(&payload, REPLY_TIMEOUT)?;
            if reply == b"OK" {
                self.binary_writes = Some(true);
                return Ok(n);
            }
            if !reply.is_empty() || self.binary_writes == Some(true) {
                return Err(self.refused(&payload, &reply));
            }
            // An empty reply to the first `X`: the server does not know it; use `M`.
            self.binary_writes = Some(false);
        }
        let n = data.len().min(budget / 2);
        let payload = format!("M{addr:x},{n:x}:{}", hex_encode(&data[..n]));
        self.request_ok(payload.as_bytes(), REPLY_TIMEOUT)?;
        Ok(n)
    }

    /// Whether writes use binary `X` packets (`None` before the first write).
    pub fn binary_writes(&self) -> Option<bool> {
        self.binary_writes
    }

    /// `qCRC`: the server's CRC-32 of `len` bytes at `addr` ([`crc32`] from 0xffffffff);
    /// `None` when the server does not compute CRCs.
    pub fn crc(&mut self, addr: u64, len: u64) -> Result<Option<u32>> {
        let payload = format!("qCRC:{addr:x},{len:x}");
        let reply = self.request_raw(payload.as_bytes(), SLOW_TIMEOUT)?;
        if reply.is_empty() || is_error(&reply) {
            return Ok(None);
        }
        let text = std::str::from_utf8(&reply).unwrap_or("");
        match text
            .strip_prefix('C')
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        {
            Some(crc) => Ok(Some(crc)),
            None => bail!("{}", self.bad_reply("qCRC")),
        }
    }

    /// The CRC-32 rvflash computes for comparison with [`GdbClient::crc`].
    pub fn local_crc(data: &[u8]) -> u32 {
        crc32(0xffff_ffff, data)
    }

    /// Reads a `qXfer:OBJECT:read:ANNEX` document completely.
    pub fn read_xfer(&mut self, object: &str, annex: &str) -> Result<String> {
        let chunk = self
            .features
            .packet_size
            .saturating_sub(HEADER_ROOM)
            .max(64);
        let mut text = Vec::new();
        loop {
            let payload = format!("qXfer:{object}:read:{annex}:{:x},{chunk:x}", text.len());
            let reply = self.request(&payload)?;
            let (kind, data) = reply
                .split_first()
                .ok_or_else(|| anyhow!("{}", self.bad_reply("qXfer")))?;
            text.extend_from_slice(data);
            match kind {
                b'l' => break,
                b'm' if !data.is_empty() => continue,
                _ => bail!("{}", self.bad_reply(&format!("qXfer:{object}:read"))),
            }
        }
        Ok(String::from_utf8_lossy(&text).into_owned())
    }

    /// `vFlashErase`: erases flash (whole blocks of the memory map).
    pub fn flash_erase(&mut self, addr: u64, len: u64) -> Result<()> {
        let payload = format!("vFlashErase:{addr:x},{len:x}");
        self.request_ok(payload.as_bytes(), SLOW_TIMEOUT)
            .with_context(|| format!("cannot erase flash at {addr:#x}"))
    }

    /// `vFlashWrite`: writes flash (after an erase), in packets the server accepts.
    pub fn flash_write(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        let budget = self
            .features
            .packet_size
            .saturating_sub(HEADER_ROOM)
            .max(16);
        let mut done = 0;
        while done < data.len() {
            let at = addr.wrapping_add(done as u64);
            let n = escaped_prefix(&data[done..], budget);
            let mut payload = format!("vFlashWrite:{at:x}:").into_bytes();
            escape_into(&data[done..done + n], &mut payload);
            self.request_ok(&payload, SLOW_TIMEOUT)
                .with_context(|| format!("cannot write flash at {at:#x}"))?;
            done += n;
        }
        Ok(())
    }

    /// `vFlashDone`: the server finishes programming what was written.
    pub fn flash_done(&mut self) -> Result<()> {
        self.request_ok(b"vFlashDone", SLOW_TIMEOUT)
            .context("cannot finish programming flash")
    }

    /// `Z`: inserts a breakpoint (`kind` 0: software, 1: hardware) over an instruction of
    /// `len` bytes.
    pub fn insert_breakpoint(&mut self, kind: u8, addr: u64, len: u8) -> Result<()> {
        self.request_ok(format!("Z{kind},{addr:x},{len}").as_bytes(), REPLY_TIMEOUT)
    }

    /// `z`: removes a breakpoint.
    pub fn remove_breakpoint(&mut self, kind: u8, addr: u64, len: u8) -> Result<()> {
        self.request_ok(format!("z{kind},{addr:x},{len}").as_bytes(), REPLY_TIMEOUT)
    }

    /// `qRcmd`: a monitor command (`reset halt` for OpenOCD); returns its output.
    pub fn monitor(&mut self, command: &str) -> Result<String> {
        let payload = format!("qRcmd,{}", hex_encode(command.as_bytes()));
        self.send_packet(payload.as_bytes())?;
        let mut output = Vec::new();
        loop {
            let (deadline, capped) = self.deadline(SLOW_TIMEOUT);
            let reply = self
                .recv_packet(deadline, payload.as_bytes())?
                .ok_or_else(|| self.silent(&format!("monitor {command}"), capped, SLOW_TIMEOUT))?;
            let text = String::from_utf8_lossy(&output).into_owned();
            if reply == b"OK" {
                return Ok(text);
            }
            if let Some(hex) = reply.strip_prefix(b"O")
                && let Ok(bytes) = hex_decode(hex)
            {
                output.extend(bytes);
                continue;
            }
            if reply.is_empty() || is_error(&reply) {
                let refused = self.refused(format!("monitor {command}").as_bytes(), &reply);
                return Err(if text.trim().is_empty() {
                    refused
                } else {
                    refused.context(format!("its output: {}", text.trim()))
                });
            }
            // The output itself as the final reply.
            let bytes = hex_decode(&reply).with_context(|| self.bad_reply("qRcmd"))?;
            output.extend(bytes);
            return Ok(String::from_utf8_lossy(&output).into_owned());
        }
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
        self.trace("->", b"\x03");
        self.write_all(&[0x03])
    }

    /// Waits for a stop reply until `deadline`; `None` when the deadline passes first. A
    /// stop reply kept earlier comes first. `O` packets are collected (see
    /// [`GdbClient::take_console`]); anything else is an error.
    pub fn wait_stop(&mut self, deadline: Instant) -> Result<Option<StopReply>> {
        if let Some(stop) = self.early_stops.pop_front() {
            return Ok(Some(stop));
        }
        self.wait_stop_for(deadline, b"c")
    }

    fn wait_stop_for(&mut self, deadline: Instant, request: &[u8]) -> Result<Option<StopReply>> {
        loop {
            let Some(packet) = self.recv_packet(deadline, request)? else {
                return Ok(None);
            };
            if let Some(stop) =
                parse_stop_reply(&packet).with_context(|| format!("from {}", self.server))?
            {
                return Ok(Some(stop));
            }
            if let Some(hex) = packet.strip_prefix(b"O")
                && packet != b"OK"
                && let Ok(bytes) = hex_decode(hex)
            {
                self.console.extend(bytes);
                continue;
            }
            bail!(
                "{} sent `{}` where a stop reply was expected",
                self.server,
                printable(&packet)
            );
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let result = self.io.write_all(bytes).and_then(|()| self.io.flush());
        result.map_err(|e| self.lost(e))
    }

    /// The error for a failed read or write: a server that went away says so plainly.
    fn lost(&self, err: std::io::Error) -> anyhow::Error {
        anyhow::Error::new(ConnectionLost(match err.kind() {
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof => format!("{} closed the connection", self.server),
            _ => format!("connection to {} lost: {err}", self.server),
        }))
    }

    fn read_byte(&mut self, deadline: Instant) -> Result<Option<u8>> {
        if let Some(b) = self.pending.pop_front() {
            return Ok(Some(b));
        }
        let mut buf = [0u8; 8192];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let readable = match self.io.wait_readable(deadline - now) {
                Ok(readable) => readable,
                Err(e) => return Err(self.lost(e)),
            };
            if !readable {
                continue;
            }
            match self.io.read(&mut buf) {
                Ok(0) => {
                    return Err(anyhow::Error::new(ConnectionLost(format!(
                        "{} closed the connection",
                        self.server
                    ))));
                }
                Ok(n) => {
                    self.pending.extend(&buf[1..n]);
                    return Ok(Some(buf[0]));
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.lost(e)),
            }
        }
    }
}

/// `E NN` or `E.message`: an error reply.
pub fn is_error(reply: &[u8]) -> bool {
    (reply.len() == 3 && reply[0] == b'E' && reply[1..].iter().all(u8::is_ascii_hexdigit))
        || reply.starts_with(b"E.")
}
