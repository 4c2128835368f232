//! defmt over RTT (tests/firmware `defmt_log`, `defmt_panic`) on every board of
//! `run_support::boards()`: decoded text, levels, timestamps and `file:line`, every frame of a
//! burst far larger than the RTT buffer (none lost at exit), `--log-format`, `--no-location`,
//! and the JSON `log` events.

mod run_support;

#[path = "../src/run/events.rs"]
#[allow(dead_code)]
mod events;

use events::Event;
use run_support::*;

/// The burst's length in `defmt_log`.
const FRAMES: usize = 2000;

/// The five messages before the burst: (level as printed, text, line).
const LEVELS: [(&str, &str, u32); 5] = [
    ("TRACE", "trace: value 1", 34),
    ("DEBUG", "debug: name rvflash", 35),
    ("INFO ", "info: ratio 0.5", 36),
    ("WARN ", "warn: point Point { x: 3, y: -4 }", 37),
    ("ERROR", "error: code -7", 38),
];

fn run(bin: &str, board: &str, options: &[&str]) -> std::process::Output {
    rvflash_cmd()
        .args(["run", "--board", board])
        .args(options)
        .arg(firmware_elves().join(bin))
        .output()
        .expect("run rvflash")
}

#[test]
fn levels_locations_and_every_frame_of_a_burst() {
    for board in boards() {
        let out = run("defmt_log", board, &[]);
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 * (LEVELS.len() + FRAMES), "{board}: {text}");
        for (i, (level, message, line)) in LEVELS.iter().enumerate() {
            // The timestamp is the frame's sequence number.
            assert_eq!(lines[2 * i], format!("{i} {level} {message}"), "{board}");
            let location = lines[2 * i + 1].trim_end();
            assert!(
                location.starts_with("└─ defmt_log::")
                    && location.ends_with(&format!("tests/firmware/src/bin/defmt_log.rs:{line}")),
                "{board}: {location}"
            );
        }
        for n in 0..FRAMES {
            let i = LEVELS.len() + n;
            assert_eq!(lines[2 * i], format!("{i} INFO  frame {n}"), "{board}");
        }
        assert_eq!(stderr(&out), "", "{board}");
    }
}

#[test]
fn log_format_and_no_location() {
    for board in boards() {
        let out = run("defmt_log", board, &["--no-location"]);
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), LEVELS.len() + FRAMES, "{board}");
        assert!(
            text.starts_with("0 TRACE trace: value 1\n1 DEBUG"),
            "{board}: {text}"
        );
        assert!(!text.contains("└─"), "{board}");

        // A custom layout: defmt's format string language (`{L}` pads the level to 5).
        let out = run("defmt_log", board, &["--log-format", "{L} {s} @{f}:{l:1}"]);
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.starts_with(
                "TRACE trace: value 1 @defmt_log.rs:34\nDEBUG debug: name rvflash @defmt_log.rs:35\n"
            ),
            "{board}: {text}"
        );
        assert!(
            text.ends_with("INFO  frame 1999 @defmt_log.rs:40\n"),
            "{board}"
        );
    }
}

#[test]
fn json_log_events() {
    for board in boards() {
        let out = run("defmt_log", board, &["--message-format", "json"]);
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        let logs: Vec<Event> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str::<Event>(l).expect("an event"))
            .filter(|e| matches!(e, Event::Log { .. }))
            .collect();
        assert_eq!(logs.len(), LEVELS.len() + FRAMES, "{board}");
        let Event::Log {
            level,
            message,
            timestamp,
            file,
            line,
            module,
        } = &logs[3]
        else {
            unreachable!()
        };
        assert_eq!(level.as_deref(), Some("warn"));
        assert_eq!(message, "warn: point Point { x: 3, y: -4 }");
        assert_eq!(timestamp.as_deref(), Some("3"));
        assert!(
            file.as_deref()
                .is_some_and(|f| f.ends_with("src/bin/defmt_log.rs"))
        );
        assert_eq!(*line, Some(37));
        assert!(
            module
                .as_deref()
                .is_some_and(|m| m.starts_with("defmt_log"))
        );
        assert!(
            matches!(&logs[LEVELS.len() + FRAMES - 1], Event::Log { message, .. } if message == "frame 1999")
        );
    }
}

/// What the program logged before it panicked comes before the panic report.
#[test]
fn logs_before_a_panic_are_not_lost() {
    for board in boards() {
        let out = run("defmt_panic", board, &["--message-format", "json"]);
        assert_eq!(status(&out), 101, "{board}: {}", stderr(&out));
        let events: Vec<Event> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str::<Event>(l).expect("an event"))
            .collect();
        let log = events
            .iter()
            .position(
                |e| matches!(e, Event::Log { message, .. } if message == "about to panic with 7"),
            )
            .unwrap_or_else(|| panic!("{board}: {events:?}"));
        let panic = events
            .iter()
            .position(|e| matches!(e, Event::Panic { .. }))
            .unwrap_or_else(|| panic!("{board}: {events:?}"));
        assert!(log < panic, "{board}: {events:?}");
    }
}

/// Firmware built with a defmt whose wire format the decoder does not know is refused before
/// it runs, with the decoder's reason.
#[test]
fn an_unknown_defmt_wire_version_is_an_error() {
    let mut elf = std::fs::read(firmware_elves().join("defmt_log")).expect("read defmt_log");
    // The version is a number after this prefix, in every string table that names it; make
    // it one no decoder knows (same length, so the file stays valid).
    let version = b"_defmt_version_ = ";
    let places: Vec<usize> = elf
        .windows(version.len())
        .enumerate()
        .filter(|(_, w)| *w == version)
        .map(|(i, _)| i + version.len())
        .collect();
    assert!(!places.is_empty(), "no defmt version symbol");
    for at in places {
        elf[at] = b'9';
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("future_defmt");
    std::fs::write(&path, &elf).expect("write");
    let out = rvflash_cmd()
        .args(["run", "--board", "sim"])
        .arg(&path)
        .output()
        .expect("run rvflash");
    assert_eq!(status(&out), 125, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("defmt wire format version mismatch"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}
