//! `rvflash run FILE [ARGS...]`: run a program on a board and exit with its status. FILE is an
//! ELF executable, or QBE IL / an ELF object, which is first built for the board with its
//! runtime ([`crate::build::build_executable`]).
//!
//! The run loop is shared by every target (it sees only [`Target`]): it services semihosting
//! calls, polls RTT (`crate::rtt`, decoded by `crate::defmt` for defmt programs), stops at
//! Rust panics, reports traps, enforces the timeout and maps the outcome to rvflash's exit
//! status ([`Ending::status`], the one place that decides it). Everything it reports goes
//! through a [`report::Reporter`]: human text, or the JSON events of [`events`]. An
//! embedded-test binary is run test by test instead ([`tests_on_device`], with
//! `crate::test_runner`).
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
//! | 101 | the program panicked and then halted instead of exiting; an embedded-test binary's test failed |
//! | 124 | timed out (`--timeout`, `RVFLASH_TIMEOUT`; 60 s by default when `CI` is set) |
//! | 125 | rvflash itself failed (bad arguments or board, not an RV64 executable, QEMU missing, no debug probe, a probe or flash failure) |
//! | 134 | the program trapped: cause, pc, tval, registers and a backtrace are printed |
//!
//! Device output goes to stdout; rvflash's own messages go to stderr (coloured on a
//! terminal); with `--message-format json`, everything is a JSON event on stdout. Used as a Cargo runner, Cargo calls `rvflash run [OPTIONS] ELF ARGS...`, so
//! program arguments need no `--`.

pub mod backtrace;
mod connect;
pub mod events;
mod panic;
pub mod report;
mod tests_on_device;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::board::{self, RunKind};
use crate::image::Image;
use crate::rtt::Rtt;
use crate::semihosting::{HeapInfo, Outcome, Semihosting};
use crate::target::qemu::QemuTarget;
use crate::target::sim::SimTarget;
use crate::target::{Reg, Stop, Target, TargetOptions};
use events::Event;
use report::{Console, MessageFormat, Reporter, Shared};

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
    /// How rvflash reports: `human` text, or `json`, one event per line on stdout (schema in
    /// the README).
    #[arg(
        long,
        env = "RVFLASH_MESSAGE_FORMAT",
        value_name = "FORMAT",
        default_value = "human"
    )]
    pub message_format: MessageFormat,
    /// Layout of defmt log lines: `default` (`LEVEL message` and a `└─ module @ file:line`
    /// line), `oneline`, or a defmt custom format such as `{t} {L} {s} ({F}:{l})`.
    #[arg(long, env = "RVFLASH_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Leave the source location out of defmt log lines.
    #[arg(long)]
    pub no_location: bool,
    /// embedded-test binaries: also write the results as JUnit XML to PATH.
    #[arg(long, env = "RVFLASH_JUNIT", value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Boards behind a probe or GDB server: give up waiting for another rvflash that holds the
    /// board after SECS seconds (status 125; default: wait as long as it takes).
    #[arg(long, env = "RVFLASH_LOCK_TIMEOUT", value_name = "SECS", value_parser = parse_seconds)]
    pub lock_timeout: Option<f64>,
    /// Run the board's `power-cycle` hook before loading.
    #[arg(long)]
    pub power_cycle: bool,
    /// How many times to try again when the probe cannot be opened, the hart attached or the
    /// GDB server reached (never for the program's own failures).
    #[arg(long, env = "RVFLASH_RETRIES", value_name = "N", default_value_t = 2)]
    pub retries: u32,
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
    let reporter = Reporter::new(args.message_format);
    let (status, reason) = match run_inner(args, &reporter) {
        Ok((status, reason)) => (status, reason),
        Err(err) => {
            reporter.borrow_mut().error(&format!("{err:#}"));
            (EXIT_FAILED, "error")
        }
    };
    reporter.borrow_mut().event(Event::Exit {
        status,
        reason: reason.to_owned(),
    });
    ExitCode::from(status)
}

/// How one run of a program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this status.
    Exited(i32),
    /// It panicked and then halted instead of exiting.
    PanicHalted,
    /// It trapped (reported): the cause's name and pc.
    Trapped(String),
    /// It ran out of time (reported).
    TimedOut,
}

impl Ending {
    /// rvflash's exit status for a plain run, and the `exit` event's reason.
    fn status(&self) -> (u8, &'static str) {
        match self {
            Ending::Exited(code) => (*code as u8, "exited"),
            Ending::PanicHalted => (EXIT_PANIC, "panicked"),
            Ending::Trapped(_) => (EXIT_TRAP, "trapped"),
            Ending::TimedOut => (EXIT_TIMEOUT, "timeout"),
        }
    }
}

fn run_inner(args: &Args, reporter: &Shared) -> Result<(u8, &'static str)> {
    let board = board::select(args.board.as_deref(), &args.board_file)?;
    reporter.borrow_mut().event(Event::Start {
        schema_version: events::SCHEMA_VERSION,
        board: board.name.clone(),
        program: args.command[0].clone(),
    });
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
    let mut image = Image::from_file(&executable, &board)?;
    crate::rtt::block_when_full(&mut image);
    let timeout = args.timeout.or_else(|| {
        std::env::var_os("CI")
            .filter(|v| !v.is_empty())
            .map(|_| CI_DEFAULT_TIMEOUT)
    });
    if let Some(dir) = &args.semihosting_dir
        && !dir.is_dir()
    {
        bail!("--semihosting-dir {}: not a directory", dir.display());
    }
    let layout = crate::defmt::LayoutOptions {
        log_format: args.log_format.clone(),
        no_location: args.no_location,
    };
    let defmt = crate::defmt::DefmtLog::from_elf(&image.bytes, &args.command[0], &layout)?;
    // Held until rvflash exits: every run (every test) of this process on the board. Waiting
    // for it is not the program's time.
    let _lock = crate::board_lock::acquire(&board, args, reporter)?;
    let started = Instant::now();
    let mut session = Session {
        args,
        board: &board,
        image: &image,
        reporter: reporter.clone(),
        defmt,
    };
    if let Some(tests) = crate::test_runner::find_tests(&image.bytes)
        .with_context(|| format!("{}: cannot read its embedded-test list", args.command[0]))?
    {
        return session.run_tests(tests, timeout);
    }
    let ending = session.run_program(command_line(args).join(" "), timeout, started)?;
    Ok(ending.status())
}

/// One program on one board: what every run of it shares (the plain run, or each test).
struct Session<'a> {
    args: &'a Args,
    board: &'a board::Board,
    image: &'a Image,
    reporter: Shared,
    defmt: Option<crate::defmt::DefmtLog>,
}

impl Session<'_> {
    /// Opens the board, loads the program and runs it with `cmdline` to its end; `started` is
    /// when the timeout starts to count if the board's opening counts (it does until loaded).
    fn run_program(
        &mut self,
        cmdline: String,
        timeout: Option<f64>,
        started: Instant,
    ) -> Result<Ending> {
        let deadline = timeout
            .map(|t| started + Duration::from_secs_f64(t.min(1e9)))
            .unwrap_or_else(|| started + Duration::from_secs(100 * 365 * 86400));
        let mut target = self.open_and_load(deadline)?;
        // The timeout is the program's: loading (seconds over a debug probe) does not count.
        let deadline = timeout
            .map(|t| Instant::now() + Duration::from_secs_f64(t.min(1e9)))
            .unwrap_or(deadline);
        let panic_at = panic_handler(self.image);
        if let Some(addr) = panic_at {
            target.set_breakpoint(addr)?;
        }
        if let Some(defmt) = &mut self.defmt {
            defmt.restart();
        }
        let ending = self.run_loop(target.as_mut(), cmdline, panic_at, deadline, timeout)?;
        if self.args.stats {
            let mut err = std::io::stderr().lock();
            writeln!(err, "rvflash: stats: board {}", self.board.name).ok();
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
        Ok(ending)
    }

    /// The board's target, not yet loaded.
    fn open_target(&self, deadline: Instant) -> Result<Box<dyn Target>> {
        let (args, board) = (self.args, self.board);
        let options = TargetOptions {
            catch_traps: !args.no_catch_traps,
        };
        Ok(match board.run {
            RunKind::Sim => Box::new(SimTarget::new(
                options,
                board.ram().origin,
                board.ram().length,
                Box::new(Console::new(&self.reporter, "uart")),
            )),
            RunKind::Qemu => Box::new(QemuTarget::new(options, board.ram().length)),
            RunKind::Gdb => Box::new(crate::target::gdb_server::new_target(
                board,
                options,
                deadline,
                args.verbose,
            )?),
            #[cfg(not(feature = "probe-rs"))]
            RunKind::ProbeRs => bail!("board `{}`: {}", board.name, crate::target::NO_PROBE_RS),
            #[cfg(feature = "probe-rs")]
            RunKind::ProbeRs => Box::new(crate::target::probe_rs::new_target(
                board,
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
        })
    }

    fn run_loop(
        &mut self,
        target: &mut dyn Target,
        cmdline: String,
        panic_at: Option<u64>,
        deadline: Instant,
        timeout: Option<f64>,
    ) -> Result<Ending> {
        let image = self.image;
        let heap = heap_info(image);
        let mut stdout = Console::new(&self.reporter, "stdout");
        let mut stderr = Console::new(&self.reporter, "stderr");
        let mut stdin = std::io::stdin();
        let mut service = Semihosting::new(
            self.args.semihosting_dir.clone(),
            cmdline,
            heap,
            &mut stdout,
            &mut stderr,
            &mut stdin,
        );
        let symbols = backtrace::Symbols::new(image);
        let mut rtt = image.symbol(crate::rtt::SYMBOL).map(RttLink::new);
        let mut panicked: Option<Panicked> = None;
        // False while the program runs on after a `wait` that returned `Running`, and after an
        // interrupt request: the next `wait` goes on without a resume.
        let mut resume = true;
        loop {
            if let Some(link) = &mut rtt
                && Instant::now() >= link.next_poll
            {
                link.poll(target, &self.reporter, self.defmt.as_mut());
            }
            if resume {
                target.resume()?;
            }
            resume = true;
            let mut wait_until = deadline;
            if let Some(p) = &panicked {
                wait_until = wait_until.min(p.checked + PANIC_POLL);
            }
            if let Some(link) = &rtt {
                wait_until = wait_until.min(link.next_poll);
            }
            let stop = target.wait(wait_until)?;
            // The program stopped for good: whatever it logged before comes first.
            if matches!(
                stop,
                Stop::Breakpoint(_) | Stop::Trap { .. } | Stop::Exited(_) | Stop::Idle { .. }
            ) && let Some(link) = &mut rtt
            {
                link.poll(target, &self.reporter, self.defmt.as_mut());
            }
            match stop {
                Stop::Running if Instant::now() >= deadline => {
                    target.interrupt().ok();
                    if let Some(link) = &mut rtt {
                        link.poll(target, &self.reporter, self.defmt.as_mut());
                    }
                    self.reporter
                        .borrow_mut()
                        .timeout(timeout.unwrap_or_default());
                    return Ok(Ending::TimedOut);
                }
                Stop::Running => {
                    resume = false;
                    if let Some(p) = &mut panicked
                        && Instant::now() >= p.checked + PANIC_POLL
                    {
                        // Time to check on a program that panicked: stop it and look.
                        p.checked = Instant::now();
                        target.interrupt()?;
                    }
                }
                Stop::Interrupted => {
                    if let Some(p) = &panicked
                        && (panic::parked(target) || p.progress.elapsed() >= PANIC_GRACE)
                    {
                        return Ok(self.end_after_panic(target, &mut rtt, p));
                    }
                }
                Stop::Idle { pc } => {
                    if let Some(p) = &panicked {
                        return Ok(self.end_after_panic(target, &mut rtt, p));
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
                        if let Some(link) = &mut rtt {
                            link.poll(target, &self.reporter, self.defmt.as_mut());
                        }
                        self.reporter.borrow_mut().flush_console();
                        return Ok(Ending::Exited(code));
                    }
                }
                Stop::Breakpoint(pc) if Some(pc) == panic_at => {
                    let text = panic::message(target, image);
                    let frames = symbols.backtrace(target, pc);
                    self.reporter.borrow_mut().panic(text.as_deref(), &frames);
                    panicked = Some(Panicked {
                        message: text,
                        progress: Instant::now(),
                        checked: Instant::now(),
                    });
                }
                Stop::Breakpoint(_) => {}
                Stop::Trap { cause, pc, tval } => {
                    let mut registers = [0u64; 32];
                    for (i, value) in registers.iter_mut().enumerate() {
                        *value = target.register(Reg::X(i as u8)).unwrap_or(0);
                    }
                    let frames = symbols.backtrace(target, pc);
                    self.reporter
                        .borrow_mut()
                        .trap(cause, pc, tval, &registers, &frames);
                    return Ok(Ending::Trapped(format!(
                        "{} at pc={pc:#x}",
                        cause_name(cause)
                    )));
                }
                Stop::Exited(code) => {
                    self.reporter.borrow_mut().flush_console();
                    return Ok(Ending::Exited(code));
                }
            }
        }
    }

    /// Ends a run whose program panicked and then stopped making progress (a `panic-halt`
    /// handler), with the message again so it is the last line.
    fn end_after_panic(
        &mut self,
        target: &mut dyn Target,
        rtt: &mut Option<RttLink>,
        panicked: &Panicked,
    ) -> Ending {
        if let Some(link) = rtt {
            link.poll(target, &self.reporter, self.defmt.as_mut());
        }
        self.reporter
            .borrow_mut()
            .panic_halted(panicked.message.as_deref());
        Ending::PanicHalted
    }
}

/// How long a program may go on after a panic, without a semihosting call, before the run
/// ends with [`EXIT_PANIC`] (sooner when it is parked, see [`panic::parked`]).
pub const PANIC_GRACE: Duration = Duration::from_secs(1);
/// How often a program that panicked is checked for being parked.
const PANIC_POLL: Duration = Duration::from_millis(50);
/// Exit status: the program panicked and did not exit by itself (as a panicking Rust test).
pub const EXIT_PANIC: u8 = 101;

/// A panic the run loop has caught: what it said, when the program last made progress, and
/// when it was last checked for being parked.
struct Panicked {
    message: Option<String>,
    progress: Instant,
    checked: Instant,
}

/// How often RTT is polled while the program sends nothing. While data flows it is polled at
/// once again, and after that ever less often ([`RTT_FIRST_BACKOFF`], doubling): a program
/// blocked on a full buffer would otherwise wait a whole idle interval for each buffer.
const RTT_IDLE_POLL: Duration = Duration::from_millis(10);
/// The first wait after a poll found nothing.
const RTT_FIRST_BACKOFF: Duration = Duration::from_micros(50);

/// The run loop's RTT: the control block (once the program has initialised it), stdin going
/// to down-channel 0, and when to look next.
struct RttLink {
    block: u64,
    rtt: Option<Rtt>,
    /// RTT is given up for this run (a broken control block, reported once).
    failed: bool,
    next_poll: Instant,
    /// How long to wait after the next poll that finds nothing.
    backoff: Duration,
    buf: Vec<u8>,
    stdin: Option<std::sync::mpsc::Receiver<Vec<u8>>>,
    pending_input: Vec<u8>,
}

impl RttLink {
    fn new(block: u64) -> RttLink {
        RttLink {
            block,
            rtt: None,
            failed: false,
            next_poll: Instant::now(),
            backoff: RTT_FIRST_BACKOFF,
            buf: Vec::new(),
            stdin: None,
            pending_input: Vec::new(),
        }
    }

    /// Moves what the up-channels hold to the reporter (channel 0 through the defmt decoder
    /// when the program logs with defmt), and stdin to down-channel 0. A control block that
    /// cannot be read is reported once and then left alone.
    fn poll(
        &mut self,
        target: &mut dyn Target,
        reporter: &Shared,
        defmt: Option<&mut crate::defmt::DefmtLog>,
    ) {
        if self.failed {
            return;
        }
        match self.transfer(target, reporter, defmt) {
            Ok(true) => {
                self.next_poll = Instant::now();
                self.backoff = RTT_FIRST_BACKOFF;
            }
            Ok(false) => {
                self.next_poll = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(RTT_IDLE_POLL);
            }
            Err(err) => {
                self.failed = true;
                reporter
                    .borrow_mut()
                    .warning(&format!("RTT is not read any more: {err:#}"));
            }
        }
    }

    fn transfer(
        &mut self,
        target: &mut dyn Target,
        reporter: &Shared,
        mut defmt: Option<&mut crate::defmt::DefmtLog>,
    ) -> Result<bool> {
        if self.rtt.is_none() {
            self.rtt = Rtt::attach(target, self.block)?;
        }
        let Some(rtt) = &mut self.rtt else {
            return Ok(false);
        };
        let mut moved = false;
        for channel in 0..rtt.up.len() {
            self.buf.clear();
            if rtt.read_up(target, channel, &mut self.buf)? == 0 {
                continue;
            }
            moved = true;
            let mut reporter = reporter.borrow_mut();
            match (channel, defmt.as_deref_mut()) {
                (0, Some(decoder)) => decoder.received(&self.buf, &mut reporter),
                _ => reporter.console("rtt", Some(channel as u32), &self.buf),
            }
        }
        if rtt.down.first().is_some_and(Option::is_some) {
            let stdin = self.stdin.get_or_insert_with(forward_stdin);
            while let Ok(bytes) = stdin.try_recv() {
                self.pending_input.extend(bytes);
            }
            if !self.pending_input.is_empty() {
                let n = rtt.write_down(target, 0, &self.pending_input)?;
                self.pending_input.drain(..n);
            }
        }
        Ok(moved)
    }
}

/// Reads stdin on a thread, for RTT down-channel 0.
fn forward_stdin() -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        loop {
            match std::io::Read::read(&mut std::io::stdin(), &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
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
