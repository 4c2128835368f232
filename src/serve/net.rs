//! The event loop of `rvflash serve`: one thread, `poll(2)` over the listening sockets, the
//! client's connection and stdin, with the hart running in slices in between.
//!
//! Why one thread: the protocols are strictly request/reply and the simulator is not shared,
//! so a loop that handles a packet as soon as `poll` wakes has the lowest latency there is
//! (probe-rs sends one packet per captured bit) and needs no locks. When the hart runs, `poll`
//! does not wait and the hart runs in slices between polls — short ones (~10 µs) while a
//! client is talking, so a packet never waits long, longer ones (~0.1 ms) otherwise; when it
//! is halted or parked, `poll` blocks until a client talks, so an idle server uses no CPU.
//! Signals interrupt `poll`. (Busy-polling for a moment after each reply, to save the
//! wake-up, was measured: on a 2-core machine it made round trips slower, the spinning server
//! taking the core the client needs.)
//!
//! One client at a time: both transports reach the same TAP, so a connection that arrives
//! while another is open waits (in order, with a message; nothing it sends is read) until the
//! current client goes away; past [`MAX_WAITING`] waiting ones, more are refused. Queueing
//! rather than refusing means a debugger started right after another one quit is served
//! even if that one's hang-up is not yet seen. A client that goes away leaves the board as it
//! is (halted or running, the TAP wherever it was); only the reset lines it drove are
//! released, as a probe's pins are when it is unplugged.
//!
//! This file must not parse protocols (`rbb`, `bmp`) or decide when the hart runs (`device`).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::bmp::BlackMagic;
use super::device::{Device, Event, INTERACTIVE_SLICE, Pins, SLICE};
use super::rbb::{Flow, RemoteBitbang};
use super::{say, signal};

/// Longest `poll` wait when nothing runs: a bound on how late a signal that races the
/// `poll` call is noticed.
const IDLE_WAIT_MS: i32 = 250;
/// How long a reply may wait for a client that does not read before it is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Read buffer size.
const READ_CHUNK: usize = 64 * 1024;
/// How long after a client's packet the hart runs in [`INTERACTIVE_SLICE`]s.
const INTERACTIVE: Duration = Duration::from_millis(5);
/// Most connections waiting for the current client to go away.
pub const MAX_WAITING: usize = 8;
/// With `--exit-on-finish`, how long serve goes on after the program's exit while a client is
/// connected, so that the debugger command that resumed the hart gets its replies.
const LINGER: Duration = Duration::from_secs(1);

/// A wire protocol `serve` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    RemoteBitbang,
    BlackMagic,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::RemoteBitbang => "remote_bitbang",
            Transport::BlackMagic => "bmp",
        }
    }
}

/// A listening socket for one transport.
pub struct Listener {
    pub socket: TcpListener,
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl Listener {
    /// Binds `addr` (port 0: a free port) for `transport`.
    pub fn bind(addr: SocketAddr, transport: Transport) -> Result<Listener> {
        let socket = TcpListener::bind(addr)
            .with_context(|| format!("cannot listen on {addr} for {}", transport.name()))?;
        socket.set_nonblocking(true)?;
        let addr = socket.local_addr()?;
        Ok(Listener {
            socket,
            transport,
            addr,
        })
    }
}

/// What the loop does when the program ends.
pub struct Options {
    /// End `serve` with the program's status when it exits through the finisher.
    pub exit_on_finish: bool,
    /// The board's name, for the BMP identity string.
    pub board: String,
}

enum Session {
    Rbb(RemoteBitbang),
    Bmp(BlackMagic),
}

struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    session: Session,
}

impl Client {
    fn describe(&self) -> String {
        format!("{} client {}", self.transport.name(), self.peer)
    }
}

/// Serves until a signal (status 0) or, with `exit_on_finish`, the program's exit (its status;
/// once the client has gone, or [`LINGER`] after the exit).
/// With `stdin`, what arrives on standard input goes to the guest's UART.
pub fn serve(
    listeners: &[Listener],
    device: &mut Device,
    options: &Options,
    stdin: bool,
) -> Result<u8> {
    let mut client: Option<Client> = None;
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    let mut stdin_open = stdin;
    // With exit_on_finish, after the program's exit: its status, and when serve ends.
    let mut finishing: Option<(u8, Instant)> = None;
    // When the client last sent something: the hart runs in short slices for a while after.
    let mut last_packet = Instant::now();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut out = Vec::with_capacity(4096);
    loop {
        if let Some(sig) = signal::received() {
            say(&format!("stopping ({sig})"));
            return Ok(0);
        }
        if let Some((code, until)) = finishing
            && (client.is_none() || Instant::now() >= until)
        {
            return Ok(code);
        }
        let mut fds: Vec<libc::pollfd> = listeners
            .iter()
            .map(|l| pollfd(l.socket.as_raw_fd()))
            .collect();
        let client_slot = client.as_ref().map(|c| {
            fds.push(pollfd(c.stream.as_raw_fd()));
            fds.len() - 1
        });
        let stdin_slot = stdin_open.then(|| {
            fds.push(pollfd(0));
            fds.len() - 1
        });
        let timeout = match finishing {
            _ if device.ready() => 0,
            Some((_, until)) => {
                let left = until.saturating_duration_since(Instant::now());
                (left.as_millis() as i32 + 1).min(IDLE_WAIT_MS)
            }
            None => IDLE_WAIT_MS,
        };
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == ErrorKind::Interrupted {
                continue;
            }
            bail!("poll failed: {err}");
        }
        if n > 0 {
            if let Some(slot) = client_slot
                && fds[slot].revents != 0
                && let Some(c) = client.as_mut()
            {
                last_packet = Instant::now();
                if !talk(c, device, &mut buf, &mut out) {
                    let c = client.take().expect("a client");
                    hang_up(c, device);
                }
            }
            for (listener, fd) in listeners.iter().zip(&fds) {
                if fd.revents != 0 {
                    accept(listener, &client, &mut waiting);
                }
            }
            while client.is_none()
                && let Some(next) = waiting.pop_front()
            {
                client = start(next, options);
            }
            if let Some(slot) = stdin_slot
                && fds[slot].revents != 0
            {
                stdin_open = forward_stdin(device, &mut buf);
            }
        }
        if device.ready() {
            let budget = if last_packet.elapsed() < INTERACTIVE {
                INTERACTIVE_SLICE
            } else {
                SLICE
            };
            match device.run_slice(budget)? {
                None => {}
                Some(Event::Exited(code)) => {
                    if options.exit_on_finish {
                        say(&format!("the program exited with status {code}"));
                        finishing = Some((code as u8, Instant::now() + LINGER));
                        continue;
                    }
                    say(&format!(
                        "the program exited with status {code}; the hart is parked \
                         (still serving; Ctrl-C ends)"
                    ));
                }
                Some(Event::Rebooted) => {
                    say("the program reset the board: reloaded, running again");
                }
                Some(Event::Idle { pc }) => say(&format!(
                    "the hart waits in wfi at {pc:#x} for an interrupt that can never arrive"
                )),
            }
        }
    }
}

fn pollfd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// A connection accepted while another client is connected.
struct Waiting {
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
}

/// Accepts the connections pending on `listener` into `waiting` (refusing those past
/// [`MAX_WAITING`]); the loop starts the first one when there is no client.
fn accept(listener: &Listener, client: &Option<Client>, waiting: &mut VecDeque<Waiting>) {
    loop {
        let (stream, peer) = match listener.socket.accept() {
            Ok(conn) => conn,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => {
                say(&format!(
                    "accepting a {} connection failed: {e}",
                    listener.transport.name()
                ));
                return;
            }
        };
        let name = listener.transport.name();
        if let Some(current) = client {
            if waiting.len() >= MAX_WAITING {
                say(&format!(
                    "refused a {name} connection from {peer}: {} is connected and {MAX_WAITING} \
                     more are waiting (one client at a time)",
                    current.describe()
                ));
                continue;
            }
            say(&format!(
                "a {name} connection from {peer} waits: {} is connected (one client at a time)",
                current.describe()
            ));
        }
        waiting.push_back(Waiting {
            stream,
            peer,
            transport: listener.transport,
        });
    }
}

/// Makes a waiting connection the client.
fn start(w: Waiting, options: &Options) -> Option<Client> {
    // Replies are tiny and each one is awaited: never hold them back (Nagle).
    let setup = w
        .stream
        .set_nonblocking(false)
        .and_then(|()| w.stream.set_nodelay(true))
        .and_then(|()| w.stream.set_write_timeout(Some(WRITE_TIMEOUT)));
    if let Err(e) = setup {
        say(&format!("dropping the connection from {}: {e}", w.peer));
        return None;
    }
    let session = match w.transport {
        Transport::RemoteBitbang => Session::Rbb(RemoteBitbang::new()),
        Transport::BlackMagic => Session::Bmp(BlackMagic::new(&options.board)),
    };
    let c = Client {
        stream: w.stream,
        peer: w.peer,
        transport: w.transport,
        session,
    };
    say(&format!("{} connected", c.describe()));
    Some(c)
}

/// Reads what the client sent, executes it and writes the replies in one write; false when
/// the connection is over.
fn talk(c: &mut Client, device: &mut Device, buf: &mut [u8], out: &mut Vec<u8>) -> bool {
    let n = match c.stream.read(buf) {
        Ok(0) => return false,
        Ok(n) => n,
        Err(e) if e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::WouldBlock => {
            return true;
        }
        Err(_) => return false,
    };
    out.clear();
    let open = match &mut c.session {
        Session::Rbb(rbb) => rbb.feed(&buf[..n], device, out) == Flow::Open,
        Session::Bmp(bmp) => {
            bmp.feed(&buf[..n], device, out);
            true
        }
    };
    if !out.is_empty() && c.stream.write_all(out).is_err() {
        return false;
    }
    open
}

/// Ends a connection: reports it and releases the reset lines the client drove.
fn hang_up(c: Client, device: &mut Device) {
    let mut text = format!("{} disconnected", c.describe());
    match &c.session {
        Session::Rbb(rbb) => {
            if let Some(note) = rbb.unknown_bytes() {
                text.push_str(&format!("; {note}"));
            }
        }
        Session::Bmp(bmp) => {
            if bmp.errors() > 0 {
                text.push_str(&format!(
                    "; {} packet(s) were answered with an error",
                    bmp.errors()
                ));
            }
        }
    }
    say(&text);
    device.set_trst(false);
    if device.srst() {
        device.set_srst(false);
    }
}

/// Passes what arrived on stdin to the guest's UART; false once stdin is closed.
fn forward_stdin(device: &mut Device, buf: &mut [u8]) -> bool {
    // SAFETY: reading into a valid buffer from fd 0; `poll` said it will not block.
    let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return n < 0 && std::io::Error::last_os_error().kind() == ErrorKind::Interrupted;
    }
    device.push_uart_input(&buf[..n as usize]);
    true
}
