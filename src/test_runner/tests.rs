//! The driver's logic with a fake `run_one`: selection, verdicts, output formats, exit status.

use std::collections::HashMap;

use anyhow::anyhow;
use serde_json::Value;

use super::args::USAGE;
use super::*;

fn test(name: &str) -> DeviceTest {
    DeviceTest {
        name: name.to_owned(),
        entry: 0x8000_0000,
        ignored: false,
        should_panic: false,
        timeout: None,
    }
}

fn ignored(name: &str) -> DeviceTest {
    DeviceTest {
        ignored: true,
        ..test(name)
    }
}

fn should_panic(name: &str) -> DeviceTest {
    DeviceTest {
        should_panic: true,
        ..test(name)
    }
}

/// What a run printed and did.
struct Run {
    status: u8,
    /// The output, with times replaced by zeros.
    out: String,
    /// The tests `run_one` was called for, in order.
    ran: Vec<String>,
}

/// Runs `tests` with libtest arguments `args`; `run_one` answers from `endings` (test name →
/// ending and output; a missing name is a board failure).
fn run_fake(tests: &[DeviceTest], args: &[&str], endings: &[(&str, Ending, &str)]) -> Run {
    try_run(tests, args, endings, None).unwrap()
}

fn try_run(
    tests: &[DeviceTest],
    args: &[&str],
    endings: &[(&str, Ending, &str)],
    junit: Option<&Path>,
) -> Result<Run> {
    let args = LibtestArgs::parse(args).unwrap();
    let endings: HashMap<_, _> = endings.iter().map(|e| (e.0, (&e.1, e.2))).collect();
    let mut ran = Vec::new();
    let mut out = Vec::new();
    let status = run_to(
        &mut out,
        tests.to_vec(),
        &args,
        "device",
        junit,
        &mut |test| {
            ran.push(test.name.clone());
            let (ending, output) = endings
                .get(test.name.as_str())
                .ok_or_else(|| anyhow!("the probe fell off"))?;
            Ok(Attempt {
                ending: (*ending).clone(),
                output: (*output).to_owned(),
            })
        },
    );
    let out = zero_times(&String::from_utf8(out).unwrap());
    Ok(Run {
        status: status?,
        out,
        ran,
    })
}

/// `finished in 1.23s` → `finished in 0.00s`, `<1.234s>` → `<0.000s>`.
fn zero_times(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
        let before = &rest[..at];
        let number_end = rest[at..]
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .map_or(rest.len(), |e| at + e);
        let number = &rest[at..number_end];
        out.push_str(before);
        let timed = (before.ends_with("finished in ") || before.ends_with('<'))
            && rest[number_end..].starts_with('s');
        if timed {
            out.extend(number.chars().map(|c| if c == '.' { '.' } else { '0' }));
        } else {
            out.push_str(number);
        }
        rest = &rest[number_end..];
    }
    out.push_str(rest);
    out
}

/// Every kind of ending, and the verdict on it.
fn every_verdict() -> (Vec<DeviceTest>, Vec<(&'static str, Ending, &'static str)>) {
    let tests = vec![
        test("tests::passes"),
        test("tests::exits_3"),
        test("tests::panics"),
        test("tests::traps"),
        DeviceTest {
            timeout: Some(2),
            ..test("tests::hangs")
        },
        test("tests::hangs_default"),
        should_panic("tests::should_panic_panics"),
        should_panic("tests::should_panic_aborts"),
        should_panic("tests::should_panic_but_passes"),
        should_panic("tests::should_panic_traps"),
        ignored("tests::ignored"),
    ];
    let endings = vec![
        ("tests::passes", Ending::Exited(0), "all good\n"),
        ("tests::exits_3", Ending::Exited(3), "exiting\n"),
        (
            "tests::panics",
            Ending::Panicked,
            "panicked at src/lib.rs:3:5: oops",
        ),
        (
            "tests::traps",
            Ending::Trapped("illegal instruction at 0x80000010".into()),
            "",
        ),
        ("tests::hangs", Ending::TimedOut, "waiting\n"),
        ("tests::hangs_default", Ending::TimedOut, ""),
        ("tests::should_panic_panics", Ending::Panicked, "expected\n"),
        ("tests::should_panic_aborts", Ending::Exited(134), ""),
        ("tests::should_panic_but_passes", Ending::Exited(0), ""),
        (
            "tests::should_panic_traps",
            Ending::Trapped("load access fault at 0x0".into()),
            "",
        ),
    ];
    (tests, endings)
}

#[test]
fn verdicts() {
    let (tests, _) = every_verdict();
    let on = |name: &str, ending: Ending| {
        verdict(tests.iter().find(|t| t.name == name).unwrap(), &ending)
    };
    let failed = |reason: &str| Verdict::Failed(reason.to_owned());
    assert_eq!(on("tests::passes", Ending::Exited(0)), Verdict::Passed);
    assert_eq!(
        on("tests::exits_3", Ending::Exited(3)),
        failed("exited with status 3")
    );
    assert_eq!(on("tests::panics", Ending::Panicked), failed("panicked"));
    assert_eq!(
        on(
            "tests::traps",
            Ending::Trapped("illegal instruction".into())
        ),
        failed("trapped: illegal instruction")
    );
    assert_eq!(
        on("tests::hangs", Ending::TimedOut),
        failed("timed out after 2 s")
    );
    assert_eq!(
        on("tests::hangs_default", Ending::TimedOut),
        failed("timed out")
    );
    assert_eq!(
        on("tests::should_panic_panics", Ending::Panicked),
        Verdict::Passed
    );
    assert_eq!(
        on("tests::should_panic_aborts", Ending::Exited(134)),
        Verdict::Passed
    );
    assert_eq!(
        on("tests::should_panic_but_passes", Ending::Exited(0)),
        failed("test did not panic as expected")
    );
    assert_eq!(
        on("tests::should_panic_traps", Ending::Trapped("fault".into())),
        failed("trapped: fault")
    );
    assert_eq!(
        on("tests::should_panic_traps", Ending::TimedOut),
        failed("timed out")
    );
}

#[test]
fn pretty_output_of_every_verdict() {
    let (tests, endings) = every_verdict();
    let run = run_fake(&tests, &[], &endings);
    assert_eq!(run.status, 101);
    assert!(!run.ran.contains(&"tests::ignored".to_owned()));
    assert_eq!(run.ran.len(), 10);
    let expected = "
running 11 tests
test tests::passes ... ok
test tests::exits_3 ... FAILED
test tests::panics ... FAILED
test tests::traps ... FAILED
test tests::hangs ... FAILED
test tests::hangs_default ... FAILED
test tests::should_panic_panics ... ok
test tests::should_panic_aborts ... ok
test tests::should_panic_but_passes ... FAILED
test tests::should_panic_traps ... FAILED
test tests::ignored ... ignored

failures:

---- tests::exits_3 stdout ----
exiting
note: exited with status 3
---- tests::panics stdout ----
panicked at src/lib.rs:3:5: oops
note: panicked
---- tests::traps stdout ----
note: trapped: illegal instruction at 0x80000010
---- tests::hangs stdout ----
waiting
note: timed out after 2 s
---- tests::hangs_default stdout ----
note: timed out
---- tests::should_panic_but_passes stdout ----
note: test did not panic as expected
---- tests::should_panic_traps stdout ----
note: trapped: load access fault at 0x0

failures:
    tests::exits_3
    tests::hangs
    tests::hangs_default
    tests::panics
    tests::should_panic_but_passes
    tests::should_panic_traps
    tests::traps

test result: FAILED. 3 passed; 7 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

";
    assert_eq!(run.out, expected);
}

#[test]
fn pretty_output_when_all_pass() {
    let tests = [test("tests::a"), ignored("tests::b")];
    let run = run_fake(&tests, &[], &[("tests::a", Ending::Exited(0), "hi\n")]);
    assert_eq!(run.status, 0);
    assert_eq!(
        run.out,
        "
running 2 tests
test tests::a ... ok
test tests::b ... ignored

test result: ok. 1 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

"
    );
}

#[test]
fn no_tests() {
    let run = run_fake(&[], &[], &[]);
    assert_eq!(run.status, 0);
    assert_eq!(
        run.out,
        "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; \
         0 filtered out; finished in 0.00s\n\n"
    );
}

#[test]
fn show_output_report_time_and_one_test() {
    let tests = [test("tests::a"), test("tests::b"), test("tests::c")];
    let endings = [
        ("tests::a", Ending::Exited(0), "from a\n"),
        ("tests::b", Ending::Exited(0), ""),
        ("tests::c", Ending::Exited(1), "from c"),
    ];
    let run = run_fake(&tests, &["--show-output", "--report-time"], &endings);
    assert_eq!(run.status, 101);
    assert_eq!(
        run.out,
        "
running 3 tests
test tests::a ... ok <0.000s>
test tests::b ... ok <0.000s>
test tests::c ... FAILED <0.000s>

successes:

---- tests::a stdout ----
from a


successes:
    tests::a
    tests::b

failures:

---- tests::c stdout ----
from c
note: exited with status 1

failures:
    tests::c

test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

"
    );
    let run = run_fake(&tests[..1], &["tests::a"], &endings);
    assert!(run.out.starts_with("\nrunning 1 test\n"), "{}", run.out);
}

#[test]
fn terse_output() {
    let (tests, endings) = every_verdict();
    let run = run_fake(&tests, &["-q"], &endings);
    assert_eq!(run.status, 101);
    let (head, tail) = run.out.split_once("\nfailures:\n").unwrap();
    assert_eq!(head, "\nrunning 11 tests\n.FFFFF..FFi");
    assert!(tail.contains("---- tests::exits_3 stdout ----\nexiting\nnote: exited"));
    assert!(tail.ends_with(
        "\ntest result: FAILED. 3 passed; 7 failed; 1 ignored; 0 measured; 0 filtered out; \
         finished in 0.00s\n\n"
    ));
}

#[test]
fn terse_output_breaks_lines_like_libtest() {
    let tests: Vec<_> = (0..100).map(|i| test(&format!("t{i:03}"))).collect();
    let names: Vec<_> = tests.iter().map(|t| t.name.clone()).collect();
    let endings: Vec<_> = names
        .iter()
        .map(|n| (n.as_str(), Ending::Exited(0), ""))
        .collect();
    let run = run_fake(&tests, &["--format", "terse"], &endings);
    let expected = format!(
        "\nrunning 100 tests\n{} 88/100\n{}\ntest result: ok. 100 passed; 0 failed; 0 ignored; \
         0 measured; 0 filtered out; finished in 0.00s\n\n",
        ".".repeat(88),
        ".".repeat(12)
    );
    assert_eq!(run.out, expected);
}

#[test]
fn json_output() {
    let (tests, endings) = every_verdict();
    let run = run_fake(
        &tests,
        &["-Z", "unstable-options", "--format", "json"],
        &endings,
    );
    assert_eq!(run.status, 101);
    let events: Vec<Value> = run
        .out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 1 + 2 * 11 + 1);
    assert_eq!(
        events[0],
        serde_json::json!({"type": "suite", "event": "started", "test_count": 11})
    );
    assert_eq!(
        events[1],
        serde_json::json!({"type": "test", "event": "started", "name": "tests::passes"})
    );
    // Times vary: check they are there, then compare the rest.
    let mut events = events;
    for event in &mut events[1..] {
        let object = event.as_object_mut().unwrap();
        let test_result = object["event"] != "started" && object["event"] != "ignored";
        if object["type"] == "test" && test_result {
            assert!(object.remove("exec_time").unwrap().is_f64(), "{object:?}");
        }
    }
    assert_eq!(
        events[2],
        serde_json::json!({"type": "test", "event": "ok", "name": "tests::passes"})
    );
    assert_eq!(
        events[4],
        serde_json::json!({"type": "test", "event": "failed", "name": "tests::exits_3",
            "stdout": "exiting\n", "message": "exited with status 3"})
    );
    assert_eq!(
        events[8],
        serde_json::json!({"type": "test", "event": "failed", "name": "tests::traps",
            "message": "trapped: illegal instruction at 0x80000010"})
    );
    assert_eq!(
        events[22],
        serde_json::json!({"type": "test", "event": "ignored", "name": "tests::ignored"})
    );
    let last = events[23].as_object_mut().unwrap();
    assert!(last.remove("exec_time").unwrap().is_f64());
    assert_eq!(
        serde_json::Value::Object(last.clone()),
        serde_json::json!({"type": "suite", "event": "failed", "passed": 3, "failed": 7,
            "ignored": 1, "measured": 0, "filtered_out": 0})
    );
    // The key order is libtest's.
    assert!(
        run.out
            .starts_with("{\"type\":\"suite\",\"event\":\"started\",\"test_count\":11}\n")
    );
}

#[test]
fn json_output_shows_passing_output_only_with_show_output() {
    let tests = [test("tests::a")];
    let endings = [("tests::a", Ending::Exited(0), "said hi\n")];
    let quiet = run_fake(&tests, &["--format=json"], &endings);
    assert!(!quiet.out.contains("said hi"));
    let shown = run_fake(&tests, &["--format=json", "--show-output"], &endings);
    assert!(
        shown.out.contains(r#""stdout":"said hi\n""#),
        "{}",
        shown.out
    );
    assert!(shown.out.ends_with('\n') && shown.out.contains(r#""event":"ok","passed":1"#));
}

#[test]
fn junit_format_prints_only_the_report() {
    let (tests, endings) = every_verdict();
    let run = run_fake(&tests, &["--format", "junit"], &endings);
    assert_eq!(run.status, 101);
    assert!(
        run.out
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites")
    );
    assert!(
        run.out
            .contains(r#"<testsuite name="device" tests="11" failures="7""#)
    );
    assert!(run.out.ends_with("</testsuites>\n"));
}

#[test]
fn junit_report_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    let (tests, endings) = every_verdict();
    let run = try_run(&tests, &[], &endings, Some(&path)).unwrap();
    assert_eq!(run.status, 101);
    let xml = std::fs::read_to_string(&path).unwrap();
    assert!(
        xml.contains(r#"<testsuite name="device" tests="11" failures="7" errors="0" skipped="1""#)
    );
    assert!(xml.contains(r#"<failure message="test did not panic as expected">"#));
    // Unwritable: an error naming the file.
    let bad = dir.path().join("missing").join("report.xml");
    let err = try_run(&tests, &[], &endings, Some(&bad)).err().unwrap();
    assert!(format!("{err:#}").contains("report.xml"), "{err:#}");
}

#[test]
fn a_board_failure_stops_the_run() {
    let tests = [test("tests::a"), test("tests::b"), test("tests::c")];
    let endings = [
        ("tests::a", Ending::Exited(0), ""),
        ("tests::c", Ending::Exited(0), ""),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    let mut ran = 0;
    let mut out = Vec::new();
    let err = run_to(
        &mut out,
        tests.to_vec(),
        &LibtestArgs::default(),
        "device",
        Some(&path),
        &mut |test| {
            ran += 1;
            let found = endings.iter().find(|e| e.0 == test.name);
            let (_, ending, output) = found.ok_or_else(|| anyhow!("the probe fell off"))?;
            Ok(Attempt {
                ending: ending.clone(),
                output: output.to_string(),
            })
        },
    )
    .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "running test `tests::b`: the probe fell off"
    );
    assert_eq!(ran, 2);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\nrunning 3 tests\ntest tests::a ... ok\ntest tests::b ... \n"
    );
    assert!(!path.exists());
}

#[test]
fn selection() {
    let tests = [
        test("tests::alpha"),
        test("tests::alphabet"),
        ignored("tests::beta"),
        should_panic("tests::gamma"),
        test("other::alpha"),
    ];
    let endings: Vec<_> = tests
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                Ending::Exited(i32::from(t.should_panic)),
                "",
            )
        })
        .collect();
    let ran = |args: &[&str]| {
        let run = run_fake(&tests, args, &endings);
        let result = run
            .out
            .lines()
            .find(|l| l.starts_with("test result:"))
            .unwrap();
        let filtered = result.split("; ").nth(4).unwrap().to_owned();
        (run.ran, filtered)
    };
    let names = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();

    let (all, filtered) = ran(&[]);
    assert_eq!(
        all,
        names(&[
            "tests::alpha",
            "tests::alphabet",
            "tests::gamma",
            "other::alpha"
        ])
    );
    assert_eq!(filtered, "0 filtered out");
    let (some, filtered) = ran(&["alpha"]);
    assert_eq!(
        some,
        names(&["tests::alpha", "tests::alphabet", "other::alpha"])
    );
    assert_eq!(filtered, "2 filtered out");
    assert_eq!(
        ran(&["gamma", "beta", "bet"]).0,
        names(&["tests::alphabet", "tests::gamma"])
    );
    assert_eq!(
        ran(&["--exact", "tests::alpha"]).0,
        names(&["tests::alpha"])
    );
    assert_eq!(ran(&["--exact", "alpha"]).0, names(&[]));
    assert_eq!(
        ran(&["alpha", "--skip", "bet", "--skip=other"]).0,
        names(&["tests::alpha"])
    );
    assert_eq!(
        ran(&["--exact", "--skip", "tests::alpha"]).0,
        names(&["tests::alphabet", "tests::gamma", "other::alpha"])
    );
    let (only, filtered) = ran(&["--ignored"]);
    assert_eq!(only, names(&["tests::beta"]));
    assert_eq!(filtered, "4 filtered out");
    assert_eq!(
        ran(&["--include-ignored", "bet"]).0,
        names(&["tests::alphabet", "tests::beta"])
    );
    assert_eq!(
        ran(&["--exclude-should-panic", "tests"]).0,
        names(&["tests::alpha", "tests::alphabet"])
    );
}

#[test]
fn list() {
    let tests = [test("tests::a"), ignored("tests::b"), test("other::c")];
    let run = run_fake(&tests, &["--list"], &[]);
    assert_eq!(run.status, 0);
    assert!(run.ran.is_empty());
    assert_eq!(
        run.out,
        "tests::a: test\ntests::b: test\nother::c: test\n\n3 tests, 0 benchmarks\n"
    );
    assert_eq!(
        run_fake(&tests, &["--list", "tests::a", "--exact"], &[]).out,
        "tests::a: test\n\n1 test, 0 benchmarks\n"
    );
    assert_eq!(
        run_fake(&tests, &["--list", "zzz"], &[]).out,
        "0 tests, 0 benchmarks\n"
    );
    assert_eq!(
        run_fake(&tests, &["--list", "-q", "--ignored"], &[]).out,
        "tests::b: test\n"
    );
    let json = run_fake(&tests, &["--list", "--format", "json"], &[]).out;
    let events: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        events,
        [
            serde_json::json!({"type": "suite", "event": "discovery"}),
            serde_json::json!({"type": "test", "event": "discovered", "name": "tests::a",
                "ignore": false, "ignore_message": ""}),
            serde_json::json!({"type": "test", "event": "discovered", "name": "tests::b",
                "ignore": true, "ignore_message": ""}),
            serde_json::json!({"type": "test", "event": "discovered", "name": "other::c",
                "ignore": false, "ignore_message": ""}),
            serde_json::json!({"type": "suite", "event": "completed", "tests": 3,
                "benchmarks": 0, "total": 3, "ignored": 1}),
        ]
    );
}

#[test]
fn help() {
    let run = run_fake(&[test("tests::a")], &["--help"], &[]);
    assert_eq!(run.status, 0);
    assert!(run.ran.is_empty());
    assert_eq!(run.out, USAGE);
}

#[test]
fn colors() {
    let tests = [test("tests::a"), test("tests::b"), ignored("tests::c")];
    let endings = [
        ("tests::a", Ending::Exited(0), ""),
        ("tests::b", Ending::Exited(1), ""),
    ];
    let run = run_fake(&tests, &["--color", "always"], &endings);
    assert!(run.out.contains("test tests::a ... \x1b[32mok\x1b[0m\n"));
    assert!(
        run.out
            .contains("test tests::b ... \x1b[31mFAILED\x1b[0m\n")
    );
    assert!(
        run.out
            .contains("test tests::c ... \x1b[33mignored\x1b[0m\n")
    );
    assert!(
        run.out
            .contains("\ntest result: \x1b[31mFAILED\x1b[0m. 1 passed")
    );
    // `auto` on a writer that is not stdout: no colour.
    let run = run_fake(&tests, &["--color", "auto"], &endings);
    assert!(!run.out.contains('\x1b'));
}

#[test]
fn times_are_zeroed_for_comparison() {
    assert_eq!(
        zero_times("ok <12.345s> x 12 finished in 3.21s\n"),
        "ok <00.000s> x 12 finished in 0.00s\n"
    );
}
