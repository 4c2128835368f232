//! Containing probe-rs's panics. probe-rs 0.32 panics on some probe failures instead of
//! returning an error — its Black Magic Probe driver unwraps every one-bit JTAG command's
//! result (`probe/blackmagic/mod.rs`, `shift_bit`), so a connection that drops in the middle
//! of a scan is a panic — and a panic there, then another in `Session`'s destructor, aborts
//! rvflash with a backtrace instead of a message and status 125.
//!
//! [`contain`] runs a piece of work with such panics caught and kept quiet (a panic hook that
//! records the message instead of printing it while inside); the target then treats the
//! session as gone (it is forgotten, never dropped). [`set_phase`] names what is being done
//! (`while downloading the program`), for the message.
//!
//! This file must not know about probes or targets beyond that.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
    static PHASE: Cell<&'static str> = const { Cell::new("") };
    static MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Says what the work going on is (`while downloading the program`).
pub fn set_phase(phase: &'static str) {
    PHASE.with(|p| p.set(phase));
}

/// What the work going on is.
pub fn phase() -> &'static str {
    PHASE.with(Cell::get)
}

/// Runs `work`; a panic inside becomes `Err(its message)`, printed nowhere.
pub fn contain<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let outer = INSIDE.with(|i| i.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    INSIDE.with(|i| i.set(outer));
    result.map_err(|payload| {
        MESSAGE
            .with(|m| m.borrow_mut().take())
            .unwrap_or_else(|| text(payload.as_ref()))
    })
}

fn text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic".to_owned())
}

fn install_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if INSIDE.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!(" (at {}:{})", l.file(), l.line()))
                    .unwrap_or_default();
                let message = format!("{}{at}", text(info.payload()));
                MESSAGE.with(|m| *m.borrow_mut() = Some(message));
            } else {
                previous(info);
            }
        }));
    });
}

/// Whether a contained panic's message is about a connection that went away.
pub fn is_connection_loss(message: &str) -> bool {
    [
        "UnexpectedEof",
        "BrokenPipe",
        "Broken pipe",
        "ConnectionReset",
        "ConnectionAborted",
        "NotConnected",
    ]
    .iter()
    .any(|k| message.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_messages() {
        set_phase("while testing");
        let r: Result<(), String> =
            contain(|| panic!("called `Result::unwrap()` on an `Err` value: UnexpectedEof"));
        let message = r.unwrap_err();
        assert!(is_connection_loss(&message), "{message}");
        assert!(message.contains("guard.rs"), "{message}");
        assert_eq!(phase(), "while testing");
        assert_eq!(contain(|| 7), Ok(7));
    }
}
