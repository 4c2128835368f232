//! `rvflash serve` throughput over its two transports, measured as a client over TCP on
//! 127.0.0.1 (the client is tests/serve_support/client.rs, which batches each JTAG shift into
//! one write, as OpenOCD's bitbang driver does):
//!
//! - DMI reads per second: one read op at a time (two DR scans each: the op, then a nop that
//!   collects its result) and pipelined (one scan per op);
//! - ELF-download speed: a 64 KiB blob written by System Bus Access (32-bit `sbdata0` writes
//!   with auto-increment), then read back and compared;
//! - BMP only: one-bit `!JN..#` round trips per second, which is how probe-rs 0.32 drives a
//!   Black Magic Probe for most scans (a packet per captured bit), a DMI read done that way,
//!   and the round trips again while the hart runs (serve then simulates between packets).
//!
//! Run: `cargo bench --bench serve` (serve is the release build of rvflash). The figures and
//! the machine they came from are in benches/README.md.

#[path = "../tests/serve_support/client.rs"]
mod client;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client::{Bmp, Dtm, Rbb, Wire, dm};

/// How long each DMI measurement runs.
const MEASURE: Duration = Duration::from_secs(2);
/// The download blob.
const BLOB: usize = 64 * 1024;
/// Where it goes (RAM of boards/sim-jtag.toml).
const BLOB_ADDR: u64 = 0x8010_0000;

/// `rvflash serve`, killed when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_serve() -> (Serve, SocketAddr, SocketAddr) {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rvflash"))
        .args(["serve", "--board-file"])
        .arg(format!("{root}/boards/sim-jtag.toml"))
        .args(["--remote-bitbang", "127.0.0.1:0", "--bmp", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rvflash serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut rbb, mut bmp) = (None, None);
    while rbb.is_none() || bmp.is_none() {
        let line = lines.next().expect("serve's addresses").unwrap();
        if let Some(addr) = line.strip_prefix("rvflash: serving remote_bitbang on ") {
            rbb = addr.parse().ok();
        } else if let Some(addr) = line.strip_prefix("rvflash: serving bmp on ") {
            bmp = addr.parse().ok();
        }
    }
    // Keep draining serve's messages so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (Serve(child), rbb.unwrap(), bmp.unwrap())
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Runs `op` repeatedly for [`MEASURE`]; returns operations per second.
fn rate(mut op: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let mut done = 0;
    while start.elapsed() < MEASURE {
        done += op();
    }
    done as f64 / start.elapsed().as_secs_f64()
}

struct Figures {
    dmi_single: f64,
    dmi_pipelined: f64,
    write_kib: f64,
    read_kib: f64,
}

fn measure<W: Wire>(wire: W) -> Figures {
    let mut dtm = Dtm::connect(wire).expect("DTM");
    dtm.write(dm::DMCONTROL, 1).unwrap();
    let dmi_single = rate(|| {
        dtm.read(dm::DMSTATUS).unwrap();
        1
    });
    let dmi_pipelined = rate(|| {
        dtm.read_many(dm::DMSTATUS, 64).unwrap();
        64
    });
    let words: Vec<u32> = (0..BLOB as u32 / 4)
        .map(|i| i.wrapping_mul(0x9e37_79b9))
        .collect();
    let start = Instant::now();
    dtm.sba_write32(BLOB_ADDR, &words).unwrap();
    let write_kib = BLOB as f64 / 1024.0 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let back = dtm.sba_read32(BLOB_ADDR, words.len()).unwrap();
    let read_kib = BLOB as f64 / 1024.0 / start.elapsed().as_secs_f64();
    assert!(back == words, "the blob reads back");
    Figures {
        dmi_single,
        dmi_pipelined,
        write_kib,
        read_kib,
    }
}

/// One bit per packet, each awaited: how probe-rs 0.32 talks to a BMP for most scans.
struct OneBitPerPacket<S>(Bmp<S>);

impl<S: Read + Write> Wire for OneBitPerPacket<S> {
    fn shift(&mut self, bits: &[(bool, bool)]) -> std::io::Result<Vec<bool>> {
        bits.iter()
            .map(|&(tms, tdi)| {
                let reply = self.0.command(&format!("!JN{}{}#", tms as u8, tdi as u8))?;
                Ok(reply == "1")
            })
            .collect()
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this with no --bench: skip.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (_serve, rbb, bmp) = start_serve();
    println!("rvflash serve, client on the same machine over 127.0.0.1 (TCP_NODELAY)");
    println!(
        "{:<16} {:>14} {:>16} {:>16} {:>16}",
        "transport", "DMI reads/s", "pipelined/s", "SBA write KiB/s", "SBA read KiB/s"
    );
    for (name, figures) in [
        (
            "remote_bitbang",
            measure(Rbb {
                stream: connect(rbb),
            }),
        ),
        (
            "bmp (!Jd/!JD)",
            measure(Bmp {
                stream: connect(bmp),
            }),
        ),
    ] {
        println!(
            "{:<16} {:>14.0} {:>16.0} {:>16.1} {:>16.1}",
            name, figures.dmi_single, figures.dmi_pipelined, figures.write_kib, figures.read_kib
        );
    }
    let mut probe = Bmp {
        stream: connect(bmp),
    };
    let round_trips = rate(|| {
        for _ in 0..100 {
            probe.command("!JN00#").unwrap();
        }
        100
    });
    println!(
        "bmp one-bit !JN round trips: {round_trips:.0}/s ({:.1} us each)",
        1e6 / round_trips
    );
    let mut dtm = Dtm::connect(OneBitPerPacket(probe)).unwrap();
    let per_bit = rate(|| {
        dtm.read(dm::DMSTATUS).unwrap();
        1
    });
    println!("bmp DMI reads/s with one packet per bit (probe-rs's way): {per_bit:.0}");
    // The same round trips while the hart runs (whatever RAM holds: a trap loop here).
    dtm.resume().unwrap();
    let probe = &mut dtm.tap.wire.0;
    let running = rate(|| {
        for _ in 0..100 {
            probe.command("!JN00#").unwrap();
        }
        100
    });
    println!(
        "bmp one-bit !JN round trips while the hart runs: {running:.0}/s ({:.1} us each)",
        1e6 / running
    );
}
