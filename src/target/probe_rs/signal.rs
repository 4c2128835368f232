//! Ctrl-C (SIGINT), SIGTERM and SIGHUP while a real board runs: the first one is recorded, so
//! that the target's `wait` ends the run and rvflash detaches cleanly from the probe (clearing
//! its hardware breakpoints, leaving the hart running or halted as asked) instead of dying
//! with the debug module in an unknown state; a second one ends rvflash at once.
//!
//! Not used when rvflash started helper processes (`sim-probe-rs`): child.rs's handlers then
//! kill them and rvflash, and there is no real board to leave in a good state.
//!
//! This file must not do anything in the handler beyond atomics and async-signal-safe calls.

use std::sync::atomic::{AtomicI32, Ordering};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    if RECEIVED.swap(sig, Ordering::SeqCst) != 0 {
        // SAFETY: signal and raise are async-signal-safe.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// Installs the handlers (once).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: installing a handler that only uses atomics and async-signal-safe calls.
            unsafe {
                libc::signal(sig, on_signal as *const () as libc::sighandler_t);
            }
        }
    });
}

/// The signal received, if any: its name.
pub fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        libc::SIGINT => Some("Ctrl-C"),
        libc::SIGTERM => Some("SIGTERM"),
        _ => Some("SIGHUP"),
    }
}
