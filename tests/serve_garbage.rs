//! `rvflash serve` over TCP against bad clients: random bytes, truncated and oversized BMP
//! packets, clients that disconnect in the middle of a scan, a second client while one is
//! connected (it waits its turn). None of it may crash, hang or wedge the board: a
//! well-behaved client that connects next (over either transport) finds the TAP and the Debug
//! Module working, and SIGTERM still ends serve cleanly.

mod serve_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serve_support::client::{Bmp, Dtm, Rbb, dm};
use serve_support::{IDCODE, addr_of, build_debuggee, serve};

const TIMEOUT: Duration = Duration::from_secs(20);

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// xorshift64*: reproducible noise without a dependency.
struct Noise(u64);

impl Noise {
    fn byte(&mut self) -> u8 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
    }

    /// `len` bytes, two thirds of them from `alphabet`.
    fn bytes(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                let b = self.byte();
                if b.is_multiple_of(3) {
                    self.byte()
                } else {
                    alphabet[self.byte() as usize % alphabet.len()]
                }
            })
            .collect()
    }
}

/// Sends `bytes` and hangs up without waiting for replies (writes may fail once the server
/// has closed its side, e.g. after a remote_bitbang `Q`).
fn send_and_drop(addr: SocketAddr, bytes: &[u8]) {
    let mut s = connect(addr);
    for chunk in bytes.chunks(997) {
        if s.write_all(chunk).is_err() {
            break;
        }
    }
}

/// A good client's checks: IDCODE, the Debug Module, halt, resume, memory by SBA or not at all.
fn check<W: serve_support::client::Wire>(wire: W) {
    let mut dtm = Dtm::connect(wire).expect("connect to the DTM");
    assert_eq!(dtm.idcode, IDCODE);
    dtm.write(dm::DMCONTROL, 1).unwrap();
    let status = dtm.read(dm::DMSTATUS).unwrap();
    assert_eq!(status & 0xf, 2, "dmstatus {status:#x}");
    dtm.halt().unwrap();
    dtm.resume().unwrap();
    dtm.halt().unwrap();
}

#[test]
fn bad_clients_do_not_wedge_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let elf = build_debuggee(dir.path());
    let (mut serve, addrs) = serve(&[
        "--remote-bitbang",
        "127.0.0.1:0",
        "--bmp",
        "127.0.0.1:0",
        elf.to_str().unwrap(),
    ]);
    let rbb = addr_of(&addrs, "remote_bitbang");
    let bmp = addr_of(&addrs, "bmp");
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);

    // BMP: noise, a truncated packet, an oversized one; each complete packet gets a reply.
    {
        let mut s = connect(bmp);
        let mut garbage = noise.bytes(b"!#&+$ JdDNTCSRGHAZzFfV0123456789abcdef", 20_000);
        garbage.extend_from_slice(b"!Jd08");
        garbage.push(b'!');
        garbage.extend(std::iter::repeat_n(b'f', 5000));
        garbage.extend_from_slice(b"#!HC#");
        s.write_all(&garbage).unwrap();
        // The last packet's reply comes after all the others: read up to it.
        let mut replies = Vec::new();
        let mut buf = [0u8; 4096];
        while !replies.ends_with(b"&E2#&K0#") {
            let n = s.read(&mut buf).expect("replies to the BMP noise");
            assert!(n > 0, "serve hung up on BMP noise");
            replies.extend_from_slice(&buf[..n]);
        }
        // ... and the connection still works.
        let mut good = Bmp { stream: s };
        assert_eq!(good.command("!HC#").unwrap(), "0");
    }
    // Each bad client goes away before the next comes (serve says so).
    let mut gone = 1;
    let mut one_after_another = |serve: &mut serve_support::Spawned, bytes: &[u8], to| {
        send_and_drop(to, bytes);
        gone += 1;
        serve.wait_for_count("disconnected", gone, true, TIMEOUT);
    };
    // BMP: hang up in the middle of a scan packet, then in the middle of a TAP scan.
    one_after_another(&mut serve, b"+#!JS#!JD40ffff", bmp);
    one_after_another(&mut serve, b"!JR#!JD01#!Jd02#!Jd3fffff#", bmp);
    // remote_bitbang: noise (it may contain Q or reset letters), then a scan cut short.
    for _ in 0..3 {
        let garbage = noise.bytes(b"01234567R rstuBbQ", 30_000);
        one_after_another(&mut serve, &garbage, rbb);
    }
    one_after_another(&mut serve, b"r0R4R2R6R2R6R0R4R0R4R1R5R0R4", rbb);

    // One client at a time: a second one waits until the first goes away, then is served.
    {
        let first = connect(rbb);
        serve.wait_for_count("connected", 2 * gone + 1, true, TIMEOUT);
        let mut second = Bmp {
            stream: connect(bmp),
        };
        serve.wait_for("waits: remote_bitbang client", true, TIMEOUT);
        second.stream.write_all(b"+#!HC#").unwrap();
        second
            .stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 8];
        assert!(
            second.stream.read(&mut buf).is_err(),
            "the second client waits"
        );
        drop(first);
        second.stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        assert_eq!(second.reply().unwrap(), "0", "then it is served");
    }
    serve.wait_for_count("disconnected", gone + 2, true, TIMEOUT);

    // A good client finds the board working, over either transport.
    check(Rbb {
        stream: connect(rbb),
    });
    serve.wait_for_count("disconnected", gone + 3, true, TIMEOUT);
    check(Bmp {
        stream: connect(bmp),
    });
    assert!(serve.try_status().is_none(), "serve died\n{}", serve.dump());

    serve.terminate();
    let status = serve.wait(TIMEOUT);
    assert_eq!(status.code(), Some(0), "{}", serve.dump());
    let log = serve.stderr();
    assert!(log.contains("a bmp connection from"), "{log}");
    assert!(log.contains("stopping (SIGTERM)"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
