//! `cargo test` on the device: the embedded-test suite of tests/firmware (`tests/device.rs`:
//! passing, failing, panicking, `should_panic`, ignored and hanging tests) run by `cargo test`
//! with `rvflash run` as the runner on every board of `run_support::boards()`: libtest's
//! per-test verdicts, summary and exit status, and the JUnit report (parsed with a real XML
//! parser); then libtest's arguments (filters, `--exact`, `--list`, `--include-ignored`,
//! `--format json`) given to rvflash directly, as Cargo passes them.

mod run_support;

use std::path::PathBuf;
use std::sync::OnceLock;

use run_support::*;

/// The suite's ELF, built once.
fn device_tests() -> &'static PathBuf {
    static ELF: OnceLock<PathBuf> = OnceLock::new();
    ELF.get_or_init(|| release_firmware_test("device"))
}

/// Each test's verdict as libtest prints it.
const VERDICTS: [(&str, &str); 8] = [
    ("tests::fails_with_err", "FAILED"),
    ("tests::hangs", "FAILED"),
    ("tests::ignored", "ignored"),
    ("tests::logs", "ok"),
    ("tests::panics", "FAILED"),
    ("tests::passes", "ok"),
    ("tests::should_panic_but_passes", "FAILED"),
    ("tests::should_panic_panics", "ok"),
];

fn run_tests(board: &str, options: &[&str], libtest_args: &[&str]) -> std::process::Output {
    rvflash_cmd()
        .args(["run", "--board", board])
        .args(options)
        .arg(device_tests())
        .args(libtest_args)
        .output()
        .expect("run rvflash")
}

/// `cargo test` of the suite with rvflash as the runner, as users run it (JUnit from the
/// environment, so the runner line needs no change), on every board.
fn cargo_test(board: &str, junit: &std::path::Path, libtest_args: &[&str]) -> std::process::Output {
    device_tests();
    firmware_cargo()
        .args(["test", "--release", "--test", "device", "--"])
        .args(libtest_args)
        .env(
            "CARGO_TARGET_RISCV64GC_UNKNOWN_NONE_ELF_RUNNER",
            format!("{} run --board {board}", rvflash()),
        )
        .env("RVFLASH_JUNIT", junit)
        .output()
        .expect("run cargo")
}

#[test]
fn verdicts_summary_status_and_junit() {
    let dir = tempfile::tempdir().expect("temp dir");
    for board in boards() {
        let junit = dir.path().join(format!("{board}.xml"));
        let out = cargo_test(board, &junit, &[]);
        let text = stdout(&out);
        assert_eq!(status(&out), 101, "{board}: {text}\n{}", stderr(&out));
        assert!(text.starts_with("\nrunning 8 tests\n"), "{board}: {text}");
        for (name, verdict) in VERDICTS {
            assert!(
                text.contains(&format!("test {name} ... {verdict}\n")),
                "{board}: {name} should be {verdict}:\n{text}"
            );
        }
        assert!(
            text.contains(
                "test result: FAILED. 3 passed; 4 failed; 1 ignored; 0 measured; 0 filtered out;"
            ),
            "{board}: {text}"
        );
        // Failures show the test's captured output: the panic message of `panics`, the
        // timeout of `hangs`; passing tests' output (`logs`' defmt line) stays captured.
        assert!(
            text.contains("---- tests::panics stdout ----"),
            "{board}: {text}"
        );
        assert!(text.contains("one plus one is not 3"), "{board}: {text}");
        assert!(text.contains("timed out after 2"), "{board}: {text}");
        assert!(
            !text.contains("hello from an embedded test"),
            "{board}: {text}"
        );

        let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
        let doc = roxmltree::Document::parse(&xml)
            .unwrap_or_else(|e| panic!("{board}: the JUnit report does not parse: {e}\n{xml}"));
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .expect("a testsuite");
        assert_eq!(suite.attribute("tests"), Some("8"), "{board}");
        assert_eq!(suite.attribute("failures"), Some("4"), "{board}");
        assert_eq!(suite.attribute("skipped"), Some("1"), "{board}");
        for (name, verdict) in VERDICTS {
            let (module, function) = name.rsplit_once("::").expect("a path");
            let case = doc
                .descendants()
                .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(function))
                .unwrap_or_else(|| panic!("{board}: no testcase {name} in\n{xml}"));
            assert!(
                case.attribute("classname")
                    .is_some_and(|c| c.ends_with(module)),
                "{board}: {name}"
            );
            let failed = case.children().any(|c| c.has_tag_name("failure"));
            let skipped = case.children().any(|c| c.has_tag_name("skipped"));
            assert_eq!(failed, verdict == "FAILED", "{board}: {name}");
            assert_eq!(skipped, verdict == "ignored", "{board}: {name}");
        }
    }
}

#[test]
fn libtest_arguments() {
    for board in boards() {
        let out = run_tests(board, &[], &["tests::passes", "--exact"]);
        let text = stdout(&out);
        assert_eq!(status(&out), 0, "{board}: {text}{}", stderr(&out));
        assert!(
            text.contains(
                "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 7 filtered out;"
            ),
            "{board}: {text}"
        );

        let out = run_tests(board, &[], &["should_panic", "--include-ignored"]);
        let text = stdout(&out);
        assert_eq!(status(&out), 101, "{board}: {text}");
        assert!(
            text.contains("1 passed; 1 failed; 0 ignored; 0 measured; 6 filtered out;"),
            "{board}: {text}"
        );
    }
    // Listing needs no board.
    let out = run_tests("sim", &[], &["--list"]);
    assert_eq!(status(&out), 0);
    let text = stdout(&out);
    for (name, _) in VERDICTS {
        assert!(text.contains(&format!("{name}: test\n")), "{text}");
    }
    assert!(text.contains("8 tests, 0 benchmarks"), "{text}");
    let out = run_tests("sim", &[], &["--no-such-option"]);
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("--no-such-option"),
        "{}",
        stderr(&out)
    );
}

/// libtest's JSON lines, and rvflash's own events between them with `--message-format json`.
#[test]
fn json_formats() {
    let out = run_tests(
        "sim",
        &[],
        &["--format", "json", "-Z", "unstable-options", "logs"],
    );
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines[0]["type"], "suite");
    assert_eq!(lines[0]["event"], "started");
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "test" && l["event"] == "ok" && l["name"] == "tests::logs"),
        "{lines:?}"
    );

    let out = run_tests("sim", &["--message-format", "json"], &["logs"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "log" && l["message"] == "hello from an embedded test: 42"),
        "{lines:?}"
    );
    assert_eq!(lines.last().expect("lines")["type"], "exit");
    assert_eq!(lines.last().expect("lines")["reason"], "tests");
}

/// Cargo's own filter arguments reach the runner.
#[test]
fn cargo_test_passes_libtest_arguments_through() {
    let dir = tempfile::tempdir().expect("temp dir");
    let junit = dir.path().join("report.xml");
    let out = cargo_test("sim", &junit, &["--exact", "tests::passes", "tests::logs"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("test tests::passes ... ok\n"), "{text}");
    assert!(text.contains("test tests::logs ... ok\n"), "{text}");
    assert!(
        text.contains("2 passed; 0 failed; 0 ignored; 0 measured; 6 filtered out"),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    roxmltree::Document::parse(&xml).expect("well-formed JUnit");
}
