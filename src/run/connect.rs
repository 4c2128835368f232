//! Getting to the board: opening its target and loading the program, the step a hardware
//! board can fail at for reasons that have nothing to do with the program (a probe that does
//! not open, a hart that does not attach, a GDB server that does not answer).
//!
//! For boards behind a probe or a GDB server (`run = "probe-rs"`, `run = "gdb"`):
//!
//! - `--power-cycle` runs the board's `power-cycle` hook before the run's first load (a board
//!   without one is an error);
//! - the board's `reset` hook, if it has one, runs before every try to connect (each load:
//!   each run, each test of an embedded-test binary, each retry);
//! - a failure the target layer marks [`Unreachable`](crate::target::Unreachable) (the probe
//!   does not open, the chip or hart does not attach, the GDB server cannot be connected to or
//!   closes the connection before rvflash has attached, OpenOCD cannot reach its adapter or
//!   target) is tried again, up to `--retries` times (default 2), after a back-off of 0.5 s,
//!   1 s, 2 s, ... and a warning that says why. The first such failure of a run power-cycles a
//!   board that has a `power-cycle` hook before the retry (once per run: an embedded-test
//!   binary's tests share it). Every other failure, and the last one, ends the run (status
//!   125). The run's deadline bounds it all: no retry starts that its back-off would carry
//!   past the deadline.
//!
//! Boards rvflash runs itself (`sim`, `qemu`) have no hooks and are never retried. One rvflash
//! process is one run: what has been done once per run is kept in statics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::Session;
use super::events::Event;
use crate::board::RunKind;
use crate::target::{Target, is_unreachable};

/// `--power-cycle` has been done in this run.
static ASKED_POWER_CYCLE_DONE: AtomicBool = AtomicBool::new(false);
/// The automatic power cycle (after a failure to reach the board) has been done in this run.
static AUTOMATIC_POWER_CYCLE_DONE: AtomicBool = AtomicBool::new(false);

/// The first back-off between two tries; each next one doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(4);

impl Session<'_> {
    /// Opens the board's target and loads the program, with the board's hooks and retries
    /// (see the module docs); reports the load.
    pub(super) fn open_and_load(&mut self, deadline: Instant) -> Result<Box<dyn Target>> {
        let (args, board) = (self.args, self.board);
        let behind_debugger = matches!(board.run, RunKind::Gdb | RunKind::ProbeRs);
        if args.power_cycle && !ASKED_POWER_CYCLE_DONE.swap(true, Ordering::SeqCst) {
            let Some(hook) = &board.power_cycle else {
                bail!(
                    "--power-cycle: board `{}` has no `power-cycle` hook (a board file key: \
                     `power-cycle = [\"PROGRAM\", \"ARG\", ...]`, for boards behind a probe or \
                     a GDB server)",
                    board.name
                );
            };
            crate::hooks::run(board, "power-cycle", hook, deadline, args.verbose)?;
        }
        let bytes: u64 = self
            .image
            .segments
            .iter()
            .map(|s| s.data.len() as u64)
            .sum();
        self.reporter.borrow_mut().event(Event::Load {
            phase: "started".into(),
            bytes,
            seconds: None,
        });
        let retries = if behind_debugger { args.retries } else { 0 };
        let mut retry = 0;
        let (target, load_started) = loop {
            if let Some(hook) = board.reset_hook() {
                crate::hooks::run(board, "reset", hook, deadline, args.verbose)?;
            }
            let load_started = Instant::now();
            let err = match self.try_open_and_load(deadline) {
                Ok(target) => break (target, load_started),
                Err(err) => err,
            };
            if !behind_debugger || !is_unreachable(&err) {
                return Err(err);
            }
            let attempts = retry + 1;
            if retry >= retries {
                return Err(err.context(if retries == 0 {
                    format!(
                        "board `{}` did not answer (not tried again: --retries 0)",
                        board.name
                    )
                } else {
                    format!(
                        "board `{}` did not answer, {attempts} times (--retries {retries})",
                        board.name
                    )
                }));
            }
            retry += 1;
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << (retry - 1).min(16))
                .min(MAX_BACKOFF);
            if Instant::now() + backoff >= deadline {
                return Err(err.context(format!(
                    "board `{}` did not answer, and the run's timeout (--timeout) leaves no time \
                     to try again",
                    board.name
                )));
            }
            let power_cycle = board
                .power_cycle
                .as_ref()
                .filter(|_| !AUTOMATIC_POWER_CYCLE_DONE.swap(true, Ordering::SeqCst));
            let why = format!("{err:#}");
            let why = why.lines().next().unwrap_or_default();
            self.reporter.borrow_mut().warning(&format!(
                "board `{}` did not answer ({why}); {}trying again in {} s (retry {retry} of \
                 {retries})",
                board.name,
                if power_cycle.is_some() {
                    "power-cycling it (its `power-cycle` hook), then "
                } else {
                    ""
                },
                backoff.as_secs_f64()
            ));
            if let Some(hook) = power_cycle {
                crate::hooks::run(board, "power-cycle", hook, deadline, args.verbose)?;
            }
            std::thread::sleep(backoff.min(deadline.saturating_duration_since(Instant::now())));
        };
        self.reporter.borrow_mut().event(Event::Load {
            phase: "finished".into(),
            bytes,
            seconds: Some(load_started.elapsed().as_secs_f64()),
        });
        Ok(target)
    }

    /// One try: opens the board's target and loads the program.
    fn try_open_and_load(&mut self, deadline: Instant) -> Result<Box<dyn Target>> {
        let mut target = self.open_target(deadline)?;
        target.load(self.image)?;
        Ok(target)
    }
}
