//! Benchmark: RTT and defmt logs in `rvflash run`, on `sim` and `qemu-virt` (without
//! `qemu-system-riscv64`, `qemu-virt` is skipped with a note).
//!
//! 1. **Throughput.** `tests/firmware/src/bin/rtt_bench.rs` logs [`FRAMES`] defmt frames
//!    `sample {=u32} {=u32}` (INFO, no timestamp) as fast as defmt-rtt lets it, through the
//!    1 KiB up-channel that rvflash puts in blocking mode, and exits. `rvflash run --board B`
//!    prints each frame in its default layout (two lines: `INFO  sample I X` and
//!    `└─ module @ file:line`) to a pipe this bench reads; every frame must arrive, in order,
//!    with its values. Reported, best of [`RUNS`]: frames/s, decoded text bytes/s (every byte
//!    rvflash prints), and RTT wire bytes/s. All three are computed over the run's wall time
//!    less the start-up (the best wall time of a run that logs 0 frames: process start, load,
//!    reading the defmt table; on qemu-virt also QEMU's start and the GDB connection); the
//!    whole-process times are printed too. Wire bytes are counted exactly, not measured: each
//!    frame is what defmt 1.x sends (the string's u16 index, then the two u32s, little-endian)
//!    in defmt's rzCOBS encoding plus its 0x00 separator, plus the one separator defmt writes
//!    before the first frame. The bench checks this model by decoding some such frames with
//!    defmt-decoder and the ELF's own table.
//!
//! 2. **What polling RTT costs a program that logs nothing.** The firmware's CPU-bound
//!    workload (`tests/firmware/src/workload.rs`: sieve, CRC-32, matrix multiply: 41.7 M
//!    instructions) in `bench` (no RTT) and in `rtt_idle` (a program that links defmt-rtt: rvflash finds
//!    `_SEGGER_RTT` and polls it every 10 ms for the whole run; one defmt line at the end).
//!    As a control, the same `rtt_idle` ELF with its `_SEGGER_RTT` symbol renamed, which
//!    rvflash does not find and so never polls: same code and layout, no polling. Each is run
//!    [`POLL_RUNS`] times, interleaved; reported are the best wall time and the best CPU time
//!    (user + system of rvflash and of QEMU, which rvflash waits for), and the spread between
//!    runs (median over best), below which a difference is noise. All must print the same
//!    checksum, and only the polled program's final defmt line may arrive.
//!
//! `bench`, `rtt_bench` and `rtt_idle` are built in release mode with the tests' helper
//! `release_firmware` (tests/firmware/build.rs links defmt's `defmt-rv64.x` into the two defmt
//! programs).
//!
//! A plain `main` (no harness): this measures whole processes. `cargo test --benches` runs
//! nothing.

#[path = "../tests/run_support/mod.rs"]
mod run_support;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use object::{Object, ObjectSection, ObjectSymbol};
use run_support::{qemu_available, release_firmware, rvflash_cmd};

/// Frames per throughput run (`RVFLASH_RTT_FRAMES` overrides).
const FRAMES: u32 = 20_000;
/// Runs per throughput figure; the best is reported.
const RUNS: usize = 3;
/// Runs of each program in the polling comparison; the best is reported.
const POLL_RUNS: usize = 5;
/// `rtt_bench`'s frame `i` carries `i` and `i.wrapping_mul(SPREAD)` (as in rtt_bench.rs).
const SPREAD: u32 = 2_654_435_761;
/// `rtt_bench`'s message.
const MESSAGE: &str = "sample {=u32} {=u32}";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let frames = std::env::var("RVFLASH_RTT_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FRAMES);
    println!("host: {}", host());
    let bench = release_firmware("bench");
    let rtt_bench = release_firmware("rtt_bench");
    let rtt_idle = release_firmware("rtt_idle");
    let unpolled = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rtt_idle-unpolled");
    hide_rtt_block(&rtt_idle, &unpolled);
    let wire = wire_bytes(&rtt_bench, frames);

    let mut boards = vec!["sim"];
    if qemu_available() {
        boards.push("qemu-virt");
    } else {
        println!(
            "qemu-virt: skipped (qemu-system-riscv64 not found; Debian/Ubuntu: apt install \
             qemu-system-misc)"
        );
    }

    let throughput: Vec<Throughput> = boards
        .iter()
        .map(|board| measure_throughput(board, &rtt_bench, frames))
        .collect();
    let polling: Vec<Polling> = boards
        .iter()
        .map(|board| measure_polling(board, &bench, &rtt_idle, &unpolled))
        .collect();

    println!();
    println!(
        "RTT throughput: rtt_bench, {frames} frames `{MESSAGE}` (default layout), best of {RUNS}; \
         rates over wall time less start-up"
    );
    println!(
        "{:<10} {:>9} {:>9} {:>10} {:>13} {:>13} {:>13}",
        "board", "wall", "start-up", "frames/s", "text B/s", "wire B/s", "text B/frame"
    );
    for t in &throughput {
        let net = t.net().as_secs_f64();
        println!(
            "{:<10} {:>7.3} s {:>7.3} s {:>10.0} {:>13.0} {:>13.0} {:>13.1}",
            t.board,
            t.wall.as_secs_f64(),
            t.startup.as_secs_f64(),
            f64::from(frames) / net,
            t.text_bytes as f64 / net,
            wire as f64 / net,
            t.text_bytes as f64 / f64::from(frames.max(1)),
        );
    }
    println!(
        "wire: {wire} bytes for {frames} frames ({:.2} bytes/frame: u16 index + 2 × u32, rzCOBS, \
         0x00 separator; computed, checked against defmt-decoder)",
        wire as f64 / f64::from(frames.max(1))
    );

    println!();
    println!(
        "RTT polling cost: bench.rs's kernel, best of {POLL_RUNS} (interleaved), checksum {}; \
         CPU = user + system time of rvflash and QEMU",
        polling[0].checksum
    );
    println!(
        "{:<10} {:<5} {:>12} {:>12} {:>7} {:>18} {:>14} {:>8}",
        "board",
        "",
        "without RTT",
        "with RTT",
        "ratio",
        "same ELF unpolled",
        "polling alone",
        "spread"
    );
    for p in &polling {
        for (metric, t) in [("wall", &p.wall), ("CPU", &p.cpu)] {
            println!(
                "{:<10} {:<5} {:>10.3} s {:>10.3} s {:>7.3} {:>16.3} s {:>14.3} {:>6.1} %",
                p.board,
                metric,
                t.without.as_secs_f64(),
                t.with.as_secs_f64(),
                t.with.as_secs_f64() / t.without.as_secs_f64(),
                t.unpolled.as_secs_f64(),
                t.with.as_secs_f64() / t.unpolled.as_secs_f64(),
                t.spread * 100.0,
            );
        }
    }
    println!("(spread: how far the median run is above the best, the largest of the three)");
    for p in &polling {
        if let (Some(a), Some(b)) = (p.instructions_without, p.instructions_with) {
            println!(
                "{}: {a} instructions without RTT, {b} with (+{}: defmt-rtt's start-up and the \
                 final log line)",
                p.board,
                b.saturating_sub(a)
            );
        }
    }

    println!();
    let rates: Vec<String> = throughput
        .iter()
        .map(|t| {
            format!(
                "{} {:.0} frames/s ({:.0} µs a frame, {:.2} MB/s of text)",
                t.board,
                f64::from(frames) / t.net().as_secs_f64(),
                t.net().as_secs_f64() * 1e6 / f64::from(frames.max(1)),
                t.text_bytes as f64 / t.net().as_secs_f64() / 1e6
            )
        })
        .collect();
    println!("conclusion: throughput {}.", rates.join(", "));
    let costs: Vec<String> = polling
        .iter()
        .map(|p| {
            let verdict = |t: &Times| {
                let alone = t.with.as_secs_f64() / t.unpolled.as_secs_f64() - 1.0;
                if alone.abs() <= t.spread {
                    "within the noise"
                } else if alone > 0.0 {
                    "above the noise"
                } else {
                    "faster with polling: noise"
                }
            };
            format!(
                "{}: wall {} % against bench, {} % against the same ELF unpolled ({}); CPU {} %, \
                 {} % ({})",
                p.board,
                percent(p.wall.with, p.wall.without),
                percent(p.wall.with, p.wall.unpolled),
                verdict(&p.wall),
                percent(p.cpu.with, p.cpu.without),
                percent(p.cpu.with, p.cpu.unpolled),
                verdict(&p.cpu),
            )
        })
        .collect();
    println!(
        "conclusion: polling an idle RTT block costs {}.",
        costs.join("; ")
    );
}

/// `a` against `b` in per cent, signed, one decimal (never `-0.0`).
fn percent(a: Duration, b: Duration) -> String {
    let p = ((a.as_secs_f64() / b.as_secs_f64() - 1.0) * 1000.0).round() / 10.0;
    format!("{:+.1}", p + 0.0)
}

/// The host's CPU model, CPU count and load average.
fn host() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    format!("{model}, {cpus} CPUs, load average {load}")
}

/// Copies `elf` to `out` with its `_SEGGER_RTT` symbol renamed (`_SEGGER_RTX`), so that
/// rvflash does not find the control block and never polls it.
fn hide_rtt_block(elf: &Path, out: &Path) {
    let mut data = std::fs::read(elf).expect("read rtt_idle");
    let at = {
        let file = object::File::parse(&*data).expect("parse rtt_idle");
        let symbol = file
            .symbols()
            .find(|s| s.name() == Ok("_SEGGER_RTT"))
            .expect("rtt_idle has no _SEGGER_RTT");
        let name = symbol.name_bytes().expect("symbol name");
        // The name is a slice of the string table, i.e. of `data`.
        name.as_ptr() as usize - data.as_ptr() as usize + name.len() - 1
    };
    data[at] = b'X';
    std::fs::write(out, &data).expect("write the unpolled copy of rtt_idle");
    let check = object::File::parse(&*data).expect("parse the copy");
    assert!(check.symbols().all(|s| s.name() != Ok("_SEGGER_RTT")));
}

/// The bytes defmt-rtt sends for `rtt_bench`'s `frames` frames (see the module docs), after
/// checking the model against defmt-decoder with the ELF's table.
fn wire_bytes(elf: &Path, frames: u32) -> u64 {
    let data = std::fs::read(elf).expect("read rtt_bench");
    let file = object::File::parse(&*data).expect("parse rtt_bench");
    let defmt = file
        .section_by_name(".defmt")
        .expect("no .defmt section")
        .index();
    let needle = format!("\"data\":\"{MESSAGE}\"");
    let index = file
        .symbols()
        .find(|s| s.section_index() == Some(defmt) && s.name().is_ok_and(|n| n.contains(&needle)))
        .expect("rtt_bench's message is not in its defmt table")
        .address();
    let index = u16::try_from(index).expect("a defmt string index fits in 16 bits");
    let frame = |i: u32| {
        let mut payload = index.to_le_bytes().to_vec();
        payload.extend(i.to_le_bytes());
        payload.extend(i.wrapping_mul(SPREAD).to_le_bytes());
        rzcobs(&payload)
    };

    // The check: a stream of some of these frames decodes to the right messages.
    let table = defmt_decoder::Table::parse(&data)
        .expect("read rtt_bench's defmt table")
        .expect("rtt_bench has a defmt table");
    let samples = [0, 1, 2, 255, 256, 65_535, 65_536, 1 << 24, u32::MAX];
    let mut stream = vec![0u8];
    for &i in &samples {
        stream.extend(frame(i));
    }
    let mut decoder = table.new_stream_decoder();
    decoder.received(&stream);
    for &i in &samples {
        let decoded = decoder.decode().expect("decode a modelled frame");
        assert_eq!(
            decoded.display_message().to_string(),
            format!("sample {i} {}", i.wrapping_mul(SPREAD)),
            "the wire model does not match defmt-decoder"
        );
    }

    1 + (0..frames).map(|i| frame(i).len() as u64).sum::<u64>()
}

/// defmt's rzCOBS encoding of one frame, with its 0x00 separator (defmt 1.x,
/// `src/encoding/rzcobs.rs`).
fn rzcobs(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    let (mut run, mut zeros) = (0u8, 0u8);
    for &byte in data {
        if run < 7 {
            if byte == 0 {
                zeros |= 1 << run;
            } else {
                out.push(byte);
            }
            run += 1;
            if run == 7 && zeros != 0 {
                out.push(zeros);
                run = 0;
                zeros = 0;
            }
        } else if byte == 0 {
            out.push((run - 7) | 0x80);
            run = 0;
            zeros = 0;
        } else {
            out.push(byte);
            run += 1;
            if run == 134 {
                out.push(0xff);
                run = 0;
                zeros = 0;
            }
        }
    }
    match run {
        0 => {}
        1..=6 => out.push((zeros | (0xff << run)) & 0x7f),
        _ => out.push((run - 7) | 0x80),
    }
    out.push(0);
    out
}

/// One board's throughput: best whole-process wall times and what was printed.
struct Throughput {
    board: &'static str,
    wall: Duration,
    startup: Duration,
    text_bytes: u64,
}

impl Throughput {
    fn net(&self) -> Duration {
        self.wall
            .saturating_sub(self.startup)
            .max(Duration::from_micros(1))
    }
}

fn measure_throughput(board: &'static str, elf: &Path, frames: u32) -> Throughput {
    let mut wall = Duration::MAX;
    let mut startup = Duration::MAX;
    let mut text_bytes = 0;
    for _ in 0..RUNS {
        let (w, bytes) = run_rtt_bench(board, elf, frames);
        wall = wall.min(w);
        text_bytes = bytes;
        startup = startup.min(run_rtt_bench(board, elf, 0).0);
    }
    eprintln!(
        "{board}: {frames} frames in {:.3} s (start-up {:.3} s)",
        wall.as_secs_f64(),
        startup.as_secs_f64()
    );
    Throughput {
        board,
        wall,
        startup,
        text_bytes,
    }
}

/// `rvflash run --board BOARD rtt_bench FRAMES`, its stdout read as it comes: the wall time
/// and the bytes printed, after checking that every frame arrived in order.
fn run_rtt_bench(board: &str, elf: &Path, frames: u32) -> (Duration, u64) {
    let started = Instant::now();
    let mut child = rvflash_cmd()
        .args(["run", "--board", board])
        .arg(elf)
        .arg(frames.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rvflash");
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).ok();
        text
    });
    let mut stdout = BufReader::with_capacity(1 << 16, child.stdout.take().expect("stdout"));
    let (mut bytes, mut seen) = (0u64, 0u32);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = stdout
            .read_until(b'\n', &mut line)
            .expect("read rvflash's output");
        if n == 0 {
            break;
        }
        bytes += n as u64;
        let text = String::from_utf8_lossy(&line);
        if let Some((_, values)) = text.split_once("sample ") {
            let expected = format!("{seen} {}", seen.wrapping_mul(SPREAD));
            assert_eq!(
                values.trim_end(),
                expected,
                "{board}: frame {seen} is wrong or missing"
            );
            seen += 1;
        }
    }
    let status = child.wait().expect("wait for rvflash");
    let wall = started.elapsed();
    let errors = errors.join().unwrap_or_default();
    assert!(
        status.success(),
        "{board}: rtt_bench failed ({status}):\n{errors}"
    );
    assert_eq!(seen, frames, "{board}: frames lost\n{errors}");
    (wall, bytes)
}

/// One board's polling comparison.
struct Polling {
    board: &'static str,
    wall: Times,
    cpu: Times,
    checksum: String,
    instructions_without: Option<u64>,
    instructions_with: Option<u64>,
}

/// The best times of the three programs.
struct Times {
    without: Duration,
    with: Duration,
    unpolled: Duration,
    /// How far the median run is above the best one, the largest of the three programs
    /// (0.05 = 5 %): differences below this are noise.
    spread: f64,
}

impl Times {
    /// From each program's runs.
    fn of(mut runs: [Vec<Duration>; 3]) -> Times {
        let mut spread = 0f64;
        for r in &mut runs {
            r.sort();
            spread = spread.max(r[r.len() / 2].as_secs_f64() / r[0].as_secs_f64() - 1.0);
        }
        Times {
            without: runs[0][0],
            with: runs[1][0],
            unpolled: runs[2][0],
            spread,
        }
    }
}

fn measure_polling(board: &'static str, bench: &Path, with: &Path, unpolled: &Path) -> Polling {
    let mut walls: [Vec<Duration>; 3] = Default::default();
    let mut cpus: [Vec<Duration>; 3] = Default::default();
    let mut checksum = String::new();
    let mut instructions = [None; 3];
    for _ in 0..POLL_RUNS {
        for (k, elf) in [bench, with, unpolled].into_iter().enumerate() {
            let run = run_checksum(board, elf);
            if checksum.is_empty() {
                checksum = run.checksum.clone();
            }
            assert_eq!(
                run.checksum,
                checksum,
                "{board}: {} prints another checksum",
                elf.display()
            );
            // The one defmt line comes only from the program rvflash polls.
            assert_eq!(
                run.logged,
                k == 1,
                "{board}: {}: the final defmt line",
                elf.display()
            );
            walls[k].push(run.wall);
            cpus[k].push(run.cpu);
            instructions[k] = run.instructions;
        }
    }
    let (wall, cpu) = (Times::of(walls), Times::of(cpus));
    eprintln!(
        "{board}: without RTT {:.3} s, with {:.3} s, unpolled {:.3} s (wall)",
        wall.without.as_secs_f64(),
        wall.with.as_secs_f64(),
        wall.unpolled.as_secs_f64()
    );
    Polling {
        board,
        wall,
        cpu,
        checksum,
        instructions_without: instructions[0],
        instructions_with: instructions[1],
    }
}

/// CPU time (user + system) of this process's children that have been waited for: rvflash,
/// and QEMU when rvflash waits for it.
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the structure it is given (zeroed, so initialised either way).
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

struct ChecksumRun {
    wall: Duration,
    /// rvflash's CPU time, and QEMU's.
    cpu: Duration,
    checksum: String,
    /// The defmt line `rtt_idle done: checksum HEX` was printed.
    logged: bool,
    instructions: Option<u64>,
}

/// `rvflash run --board BOARD --stats ELF` for a program that prints `checksum: HEX`.
fn run_checksum(board: &str, elf: &Path) -> ChecksumRun {
    let mut cmd: Command = rvflash_cmd();
    cmd.args(["run", "--board", board, "--stats"])
        .arg(elf)
        .stdin(Stdio::null());
    let (started, cpu) = (Instant::now(), children_cpu());
    let out = cmd.output().expect("run rvflash");
    let (wall, cpu) = (started.elapsed(), children_cpu() - cpu);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{board}: {} failed ({}):\n{stdout}\n{stderr}",
        elf.display(),
        out.status
    );
    let checksum = stdout
        .lines()
        .find_map(|l| l.strip_prefix("checksum: "))
        .unwrap_or_else(|| panic!("{board}: no checksum from {}:\n{stdout}", elf.display()))
        .trim()
        .to_string();
    // defmt's `{=u64:x}` has no leading zeros.
    let logged = stdout
        .lines()
        .find_map(|l| l.split_once("rtt_idle done: checksum "))
        .map(|(_, hex)| {
            assert_eq!(
                u64::from_str_radix(hex.trim(), 16).ok(),
                u64::from_str_radix(&checksum, 16).ok(),
                "{board}: the defmt line and the checksum line disagree"
            );
        })
        .is_some();
    let instructions = stderr
        .lines()
        .find_map(|l| l.strip_prefix("rvflash: stats: instructions "))
        .and_then(|v| v.trim().parse().ok());
    ChecksumRun {
        wall,
        cpu,
        checksum,
        logged,
        instructions,
    }
}
