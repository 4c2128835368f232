//! `rvflash run --message-format json`: every line of stdout deserialises into the documented
//! event types (`src/run/events.rs`, compiled here from the same file), for a program that
//! exits, one that panics, one that traps and one that times out, on every board.

mod run_support;

#[path = "../src/run/events.rs"]
#[allow(dead_code)]
mod events;

use events::Event;
use run_support::*;

/// Runs a firmware binary with JSON output; returns its status and events.
fn run_json(bin: &str, board: &str, extra: &[&str]) -> (i32, Vec<Event>) {
    let elf = firmware_elves().join(bin);
    let out = rvflash_cmd()
        .args(["run", "--message-format", "json", "--board", board])
        .args(extra)
        .arg(&elf)
        .output()
        .expect("run rvflash");
    let text = stdout(&out);
    let events = text
        .lines()
        .map(|line| {
            serde_json::from_str::<Event>(line)
                .unwrap_or_else(|e| panic!("{board} {bin}: `{line}` is not an event: {e}"))
        })
        .collect::<Vec<_>>();
    (status(&out), events)
}

/// The events every run has: `start` first with the schema version, the load, `exit` last with
/// rvflash's status.
fn check_frame(board: &str, status: i32, events: &[Event]) {
    match events.first() {
        Some(Event::Start {
            schema_version,
            board: b,
            ..
        }) => {
            assert_eq!(*schema_version, events::SCHEMA_VERSION);
            assert_eq!(b, board);
        }
        other => panic!("{board}: first event {other:?}"),
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Load { phase, .. } if phase == "finished")),
        "{board}: {events:?}"
    );
    match events.last() {
        Some(Event::Exit { status: s, .. }) => assert_eq!(i32::from(*s), status, "{board}"),
        other => panic!("{board}: last event {other:?}"),
    }
}

fn console_text(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Console { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_normal_exit() {
    for board in boards() {
        let (status, events) = run_json("hello", board, &[]);
        assert_eq!(status, 0, "{board}: {events:?}");
        check_frame(board, status, &events);
        assert_eq!(
            console_text(&events),
            "Hello from rvflash test firmware!\n1 + 2 = 3\n",
            "{board}"
        );
        assert!(matches!(events.last(), Some(Event::Exit { reason, .. }) if reason == "exited"));
    }
}

#[test]
fn a_panic() {
    for board in boards() {
        let (status, events) = run_json("panic", board, &[]);
        assert_eq!(status, 101, "{board}: {events:?}");
        check_frame(board, status, &events);
        let Some(Event::Panic { message, backtrace }) =
            events.iter().find(|e| matches!(e, Event::Panic { .. }))
        else {
            panic!("{board}: no panic event in {events:?}");
        };
        assert_eq!(
            message.as_deref(),
            Some("src/bin/panic.rs:10:9: boom: value 7 is too big"),
            "{board}"
        );
        let explode = backtrace
            .iter()
            .find(|f| f.function.contains("panic::explode"))
            .unwrap_or_else(|| panic!("{board}: {backtrace:?}"));
        assert!(
            explode
                .file
                .as_deref()
                .is_some_and(|f| f.ends_with("src/bin/panic.rs")),
            "{board}: {explode:?}"
        );
        assert_eq!(explode.line, Some(10), "{board}");
    }
}

#[test]
fn a_trap() {
    for board in boards() {
        let (status, events) = run_json("illegal", board, &[]);
        assert_eq!(status, 134, "{board}: {events:?}");
        check_frame(board, status, &events);
        let Some(Event::Trap {
            cause,
            mcause,
            registers,
            backtrace,
            pc,
            ..
        }) = events.iter().find(|e| matches!(e, Event::Trap { .. }))
        else {
            panic!("{board}: no trap event in {events:?}");
        };
        assert_eq!(cause, "illegal instruction");
        assert_eq!(mcause, "0x2");
        assert_eq!(registers.len(), 32);
        assert_eq!(registers[2].name, "sp");
        assert!(pc.starts_with("0x8"), "{board}: {pc}");
        assert!(
            backtrace.iter().any(|f| f.function.contains("do_illegal")),
            "{board}: {backtrace:?}"
        );
        assert!(matches!(events.last(), Some(Event::Exit { reason, .. }) if reason == "trapped"));
    }
}

#[test]
fn a_timeout() {
    for board in boards() {
        let (status, events) = run_json("spin", board, &["--timeout", "1"]);
        assert_eq!(status, 124, "{board}: {events:?}");
        check_frame(board, status, &events);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Timeout { seconds } if *seconds == 1.0)),
            "{board}: {events:?}"
        );
        assert_eq!(console_text(&events), "spinning forever\n", "{board}");
    }
}

#[test]
fn an_rvflash_error_is_an_event_too() {
    let out = rvflash_cmd()
        .args([
            "run",
            "--message-format",
            "json",
            "/nonexistent/program.elf",
        ])
        .output()
        .expect("run rvflash");
    assert_eq!(status(&out), 125);
    let events: Vec<Event> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event"))
        .collect();
    assert!(
        matches!(events.iter().find(|e| matches!(e, Event::Error { .. })), Some(Event::Error { message }) if message.contains("/nonexistent/program.elf")),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(Event::Exit { status: 125, reason }) if reason == "error")
    );
}
