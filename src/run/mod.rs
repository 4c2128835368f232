//! `rvflash run FILE [ARGS...]`: run a program on a board and exit with its status. FILE is an
//! ELF executable, or QBE IL / an ELF object, which is first built for the board with its
//! runtime ([`crate::build::build_executable`]).
//!
//! The run loop is shared by every target (it sees only [`Target`]): it services semihosting
//! calls, stops at Rust panics, reports traps, enforces the timeout and maps the outcome to
//! rvflash's exit status.
//!
//! Panics: a breakpoint on `rust_begin_unwind` stops the program; rvflash prints the panic
//! message (read from the `PanicInfo` argument, see [`panic`]) and a backtrace, then lets the
//! firmware's handler go on, so that one which prints and exits keeps its own output and
//! status. A handler that never exits (`panic-halt`) ends the run with 101 as soon as the
//! hart is parked (a jump to itself, or `wfi`), or when [`PANIC_GRACE`] passes without a
//! semihosting call.
//!
//! | status | meaning |
//! |---|---|
//! | N | the program exited with N (semihosting exit, SiFive test finisher) |
//! | 101 | the program panicked and then halted instead of exiting |
//! | 124 | timed out (`--timeout`, `RVFLASH_TIMEOUT`; 60 s by default when `CI` is set) |
//! | 125 | rvflash itself failed (bad arguments or board, not an RV64 executable, QEMU missing, no debug probe, a probe or flash failure) |
//! | 134 | the program trapped: cause, pc, tval, registers and a backtrace are printed |
//!
//! Device output goes to stdout; rvflash's own messages go to stderr (coloured on a
//! terminal). Used as a Cargo runner, Cargo calls `rvflash run [OPTIONS] ELF ARGS...`, so
//! program arguments need no `--`.

pub mod backtrace;
mod panic;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::board::{self, RunKind};
use crate::image::Image;
use crate::semihosting::{HeapInfo, Outcome, Semihosting};
use crate::target::qemu::QemuTarget;
use crate::target::sim::SimTarget;
use crate::target::{ABI_NAMES, Reg, Stop, Target, TargetOptions};

/// Exit status: timed out.
pub const EXIT_TIMEOUT: u8 = 124;
/// Exit status: rvflash failed.
pub const EXIT_FAILED: u8 = crate::EXIT_RVFLASH_FAILED;
/// Exit status: the program trapped.
pub const EXIT_TRAP: u8 = 134;
/// Timeout applied when `CI` is set and none is given.
pub const CI_DEFAULT_TIMEOUT: f64 = 60.0;

/// Arguments of `rvflash run`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Run a program on a board: an RV64 ELF executable (also as a Cargo runner), or QBE \
             IL (.ssa) / an object (.o), built with the board's runtime first"
)]
pub struct Args {
    /// The program (an ELF executable, a QBE IL file (.ssa) or an RV64 object (.o)), then its
    /// arguments: everything after FILE goes to the program verbatim (SYS_GET_CMDLINE), as a
    /// Cargo runner's contract wants; a `--` right after FILE is dropped. rvflash's own options
    /// go before FILE.
    #[arg(
        value_name = "FILE [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
    /// Board to run on (built-in: sim, qemu-virt; default: sim).
    #[arg(long, env = "RVFLASH_BOARD")]
    pub board: Option<String>,
    /// Extra board definition file(s); without --board, the last one is used.
    #[arg(long = "board-file", value_name = "PATH")]
    pub board_file: Vec<PathBuf>,
    /// Stop the program after SECS seconds (exit status 124); 60 by default when CI is set.
    #[arg(long, env = "RVFLASH_TIMEOUT", value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<f64>,
    /// Directory the program may open files in through semihosting (none by default).
    #[arg(long, value_name = "DIR")]
    pub semihosting_dir: Option<PathBuf>,
    /// Let the program's own trap handler run instead of stopping at exceptions.
    #[arg(long)]
    pub no_catch_traps: bool,
    /// Print run statistics (instructions, cycles, wall time) to stderr at the end.
    #[arg(long)]
    pub stats: bool,
    /// Say more on stderr: load figures, and the log of OpenOCD (`gdb` boards) as it comes.
    #[arg(long)]
    pub verbose: bool,
    /// `probe-rs` boards: the debug probe, as probe-rs selects one: VID:PID[:SERIAL] (USB IDs
    /// in hex; a network Black Magic Probe is 1d50:6018:HOST:PORT). Default: the board's
    /// `probe`, else the only probe attached (`rvflash probes` lists them).
    #[arg(long, env = "RVFLASH_PROBE", value_name = "SELECTOR")]
    pub probe: Option<String>,
    /// `probe-rs` boards: JTAG clock in kHz (default: the board's `speed`, else the probe's).
    #[arg(long, value_name = "KHZ", value_parser = clap::value_parser!(u32).range(1..))]
    pub speed: Option<u32>,
    /// `probe-rs` boards: do not read the program back after loading it.
    #[arg(long)]
    pub no_verify: bool,
    /// `probe-rs` boards: leave the hart halted when rvflash is done (default: a program that
    /// is still running is left running, with the debugger detached).
    #[arg(long)]
    pub halt_on_exit: bool,
    /// Linker for QBE IL (`.ssa`) and object (`.o`) inputs (default: rust-lld, ld.lld,
    /// riscv64-unknown-elf-ld).
    #[arg(long, value_name = "PATH")]
    pub linker: Option<PathBuf>,
}

impl Args {
    /// The program to run.
    pub fn file(&self) -> &std::path::Path {
        std::path::Path::new(&self.command[0])
    }

    /// The program's arguments: everything after FILE, less one `--` right after it.
    pub fn program_args(&self) -> &[String] {
        let rest = &self.command[1..];
        match rest.first() {
            Some(first) if first == "--" => &rest[1..],
            _ => rest,
        }
    }
}

/// Whether `file` must be compiled and linked before it runs: QBE IL (`.ssa`), or an ELF
/// relocatable object.
fn needs_build(file: &std::path::Path) -> Result<bool> {
    if file.extension().is_some_and(|e| e == "ssa") {
        return Ok(true);
    }
    let mut header = [0u8; 18];
    let n = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut header))
        .map_err(|e| crate::diag::read_error(file, e))?;
    // ELF with e_type (little-endian, offset 16) ET_REL.
    Ok(n == 18 && header[..4] == *b"\x7fELF" && header[16] == 1 && header[17] == 0)
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    let t = text.trim().trim_end_matches('s');
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

/// Runs the command; never panics on bad input.
pub fn run(args: &Args) -> ExitCode {
    match run_inner(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            message(Level::Error, &format!("{err:#}"));
            ExitCode::from(EXIT_FAILED)
        }
    }
}

#[derive(Clone, Copy)]
enum Level {
    Error,
    Trap,
    Panic,
}

/// Prints one of rvflash's own messages to stderr, coloured on a terminal.
fn message(level: Level, text: &str) {
    let (label, colour) = match level {
        Level::Error => ("error", "1;31"),
        Level::Trap => ("trap", "1;31"),
        Level::Panic => ("panic", "1;33"),
    };
    crate::diag::message(label, colour, text);
}

fn run_inner(args: &Args) -> Result<u8> {
    let started = Instant::now();
    let board = board::select(args.board.as_deref(), &args.board_file)?;
    // IL programs and relocatable objects are built for the board first.
    let built = crate::diag::temp_dir()?;
    let file = args.file().to_path_buf();
    // FILE takes hyphenated values so that the program's arguments after it pass verbatim;
    // an option rvflash does not know would otherwise be taken for the file name.
    if args.command[0].starts_with('-') && !file.exists() {
        bail!(
            "unknown option `{}` (rvflash's options go before FILE; see `rvflash run --help`)",
            args.command[0]
        );
    }
    let executable = if needs_build(&file)? {
        let elf = built.path().join("program.elf");
        crate::build::build_executable(
            std::slice::from_ref(&file),
            &board,
            args.linker.as_deref(),
            &elf,
        )?;
        elf
    } else {
        file
    };
    let image = Image::from_file(&executable, &board)?;
    let timeout = args.timeout.or_else(|| {
        std::env::var_os("CI")
            .filter(|v| !v.is_empty())
            .map(|_| CI_DEFAULT_TIMEOUT)
    });
    let deadline = timeout
        .map(|t| started + Duration::from_secs_f64(t.min(1e9)))
        .unwrap_or_else(|| started + Duration::from_secs(100 * 365 * 86400));
    if let Some(dir) = &args.semihosting_dir
        && !dir.is_dir()
    {
        bail!("--semihosting-dir {}: not a directory", dir.display());
    }
    let options = TargetOptions {
        catch_traps: !args.no_catch_traps,
    };
    let mut target: Box<dyn Target> = match board.run {
        RunKind::Sim => Box::new(SimTarget::new(
            options,
            board.ram().origin,
            board.ram().length,
            Box::new(std::io::stdout()),
        )),
        RunKind::Qemu => Box::new(QemuTarget::new(options, board.ram().length)),
        RunKind::Gdb => Box::new(crate::target::gdb_server::new_target(
            &board,
            options,
            deadline,
            args.verbose,
        )?),
        #[cfg(not(feature = "probe-rs"))]
        RunKind::ProbeRs => bail!("board `{}`: {}", board.name, crate::target::NO_PROBE_RS),
        #[cfg(feature = "probe-rs")]
        RunKind::ProbeRs => Box::new(crate::target::probe_rs::new_target(
            &board,
            options,
            crate::target::probe_rs::ProbeOptions {
                probe: args.probe.clone(),
                speed: args.speed,
                verify: !args.no_verify,
                halt_on_exit: args.halt_on_exit,
            },
            deadline,
            args.verbose,
        )?),
    };
    target.load(&image)?;
    // The timeout is the program's: loading (seconds over a debug probe) does not count.
    let deadline = timeout
        .map(|t| Instant::now() + Duration::from_secs_f64(t.min(1e9)))
        .unwrap_or(deadline);
    let panic_at = panic_handler(&image);
    if let Some(addr) = panic_at {
        target.set_breakpoint(addr)?;
    }
    let code = run_loop(target.as_mut(), &image, args, panic_at, deadline, timeout)?;
    if args.stats {
        let mut err = std::io::stderr().lock();
        writeln!(err, "rvflash: stats: board {}", board.name).ok();
        for (name, value) in target.stats() {
            writeln!(err, "rvflash: stats: {name} {value}").ok();
        }
        writeln!(
            err,
            "rvflash: stats: wall time {:.3} s",
            started.elapsed().as_secs_f64()
        )
        .ok();
    }
    Ok(code)
}

/// How long a program may go on after a panic, without a semihosting call, before the run
/// ends with [`EXIT_PANIC`] (sooner when it is parked, see [`panic::parked`]).
pub const PANIC_GRACE: Duration = Duration::from_secs(1);
/// How often a program that panicked is checked for being parked.
const PANIC_POLL: Duration = Duration::from_millis(50);
/// Exit status: the program panicked and did not exit by itself (as a panicking Rust test).
pub const EXIT_PANIC: u8 = 101;

/// A panic the run loop has caught: what it said, and when the program last made progress.
struct Panicked {
    message: Option<String>,
    progress: Instant,
}

fn run_loop(
    target: &mut dyn Target,
    image: &Image,
    args: &Args,
    panic_at: Option<u64>,
    deadline: Instant,
    timeout: Option<f64>,
) -> Result<u8> {
    let cmdline = command_line(args);
    let heap = heap_info(image);
    let (mut stdout, mut stderr, mut stdin) =
        (std::io::stdout(), std::io::stderr(), std::io::stdin());
    let mut service = Semihosting::new(
        args.semihosting_dir.clone(),
        cmdline.join(" "),
        heap,
        &mut stdout,
        &mut stderr,
        &mut stdin,
    );
    let symbols = backtrace::Symbols::new(image);
    let mut panicked: Option<Panicked> = None;
    // False after an interrupt request: the next `wait` collects the stop without resuming.
    let mut resume = true;
    loop {
        if resume {
            target.resume()?;
        }
        resume = true;
        let wait_until = match &panicked {
            Some(_) => deadline.min(Instant::now() + PANIC_POLL),
            None => deadline,
        };
        match target.wait(wait_until)? {
            Stop::Running if Instant::now() >= deadline => {
                target.interrupt().ok();
                std::io::stdout().flush().ok();
                message(
                    Level::Error,
                    &format!(
                        "timed out after {} s (--timeout / RVFLASH_TIMEOUT)",
                        timeout.unwrap_or_default()
                    ),
                );
                return Ok(EXIT_TIMEOUT);
            }
            Stop::Running => {
                // Time to check on a program that panicked: stop it and look.
                target.interrupt()?;
                resume = false;
            }
            Stop::Interrupted => {
                if let Some(p) = &panicked
                    && (panic::parked(target) || p.progress.elapsed() >= PANIC_GRACE)
                {
                    return Ok(end_after_panic(p));
                }
            }
            Stop::Idle { pc } => {
                if let Some(p) = &panicked {
                    return Ok(end_after_panic(p));
                }
                bail!(
                    "the program waits for an interrupt that can never arrive (wfi at {pc:#x} \
                     with no interrupt enabled): it would hang forever"
                );
            }
            Stop::Semihosting => {
                if let Some(p) = &mut panicked {
                    p.progress = Instant::now();
                }
                if let Outcome::Exit(code) = service.service(target)? {
                    return Ok(code as u8);
                }
            }
            Stop::Breakpoint(pc) if Some(pc) == panic_at => {
                std::io::stdout().flush().ok();
                let text = panic::message(target, image);
                message(
                    Level::Panic,
                    &format!(
                        "{}; backtrace:",
                        text.as_deref().unwrap_or("the program panicked")
                    ),
                );
                let frames = symbols.backtrace(target, pc);
                backtrace::print(&mut std::io::stderr().lock(), &frames);
                panicked = Some(Panicked {
                    message: text,
                    progress: Instant::now(),
                });
            }
            Stop::Breakpoint(_) => {}
            Stop::Trap { cause, pc, tval } => {
                std::io::stdout().flush().ok();
                report_trap(target, &symbols, cause, pc, tval);
                return Ok(EXIT_TRAP);
            }
            Stop::Exited(code) => {
                std::io::stdout().flush().ok();
                return Ok(code as u8);
            }
        }
    }
}

/// Ends a run whose program panicked and then stopped making progress (a `panic-halt`
/// handler): status [`EXIT_PANIC`], with the message again so it is the last line.
fn end_after_panic(panicked: &Panicked) -> u8 {
    std::io::stdout().flush().ok();
    let what = match &panicked.message {
        Some(text) => format!("the program panicked ({text}) and halted"),
        None => "the program panicked and halted".to_owned(),
    };
    message(Level::Panic, &what);
    EXIT_PANIC
}

/// The program's command line: its file name, then the arguments.
fn command_line(args: &Args) -> Vec<String> {
    let program = args
        .file()
        .file_name()
        .map_or_else(|| "program".into(), |n| n.to_string_lossy().into_owned());
    let mut cmdline = vec![program];
    cmdline.extend(args.program_args().iter().cloned());
    cmdline
}

/// The address of the Rust panic handler: `rust_begin_unwind`, which newer compilers mangle
/// as `__rustc::rust_begin_unwind`.
fn panic_handler(image: &Image) -> Option<u64> {
    image.symbol("rust_begin_unwind").or_else(|| {
        image
            .symbols
            .iter()
            .find(|(name, _, _)| {
                name.contains("rust_begin_unwind")
                    && backtrace::demangle(name).ends_with("::rust_begin_unwind")
            })
            .map(|s| s.1)
    })
}

fn heap_info(image: &Image) -> HeapInfo {
    let sym = |n: &str| image.symbol(n).unwrap_or(0);
    let stack_base = sym("_stack_start");
    HeapInfo {
        heap_base: sym("_sheap"),
        heap_limit: sym("_eheap"),
        stack_base,
        stack_limit: stack_base.saturating_sub(sym("_stack_size")),
    }
}

fn report_trap(
    target: &mut dyn Target,
    symbols: &backtrace::Symbols<'_>,
    cause: u64,
    pc: u64,
    tval: u64,
) {
    message(
        Level::Trap,
        &format!(
            "{} (mcause={cause}) at pc={pc:#x}, mtval={tval:#x}",
            cause_name(cause)
        ),
    );
    let mut err = std::io::stderr().lock();
    writeln!(err, "registers:").ok();
    let mut line = String::new();
    for (i, name) in ABI_NAMES.iter().enumerate() {
        let value = target.register(Reg::X(i as u8)).unwrap_or(0);
        line.push_str(&format!("  {:>4}/x{i:<2} {value:#018x}", name));
        if i % 4 == 3 {
            writeln!(err, "{line}").ok();
            line.clear();
        }
    }
    writeln!(err, "backtrace:").ok();
    let frames = symbols.backtrace(target, pc);
    backtrace::print(&mut err, &frames);
}

/// A human name for an exception cause (`mcause` without the interrupt bit).
pub fn cause_name(cause: u64) -> &'static str {
    if cause >> 63 != 0 {
        return "interrupt";
    }
    match cause {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store/AMO address misaligned",
        7 => "store/AMO access fault",
        8 => "environment call from U-mode",
        9 => "environment call from S-mode",
        11 => "environment call from M-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store/AMO page fault",
        _ => "unknown exception",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("2"), Ok(2.0));
        assert_eq!(parse_seconds("1.5s"), Ok(1.5));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }

    #[test]
    fn cause_names() {
        assert_eq!(cause_name(2), "illegal instruction");
        assert_eq!(cause_name(7), "store/AMO access fault");
        assert_eq!(cause_name(1 << 63 | 7), "interrupt");
    }
}
