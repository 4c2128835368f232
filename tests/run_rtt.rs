//! Plain-text RTT both ways (tests/firmware `rtt_echo`, built with the rtt-target crate, whose
//! control block has the 64-bit-word layout) on every board of `run_support::boards()`: the
//! up-channel prints as console output, stdin reaches down-channel 0 (a line longer than its
//! 16-byte buffer), and the answer the program writes just before it exits is not lost.

mod run_support;

use std::io::Write;
use std::process::Stdio;

use run_support::*;

fn echo(board: &str, options: &[&str], input: &str) -> std::process::Output {
    let mut child = rvflash_cmd()
        .args(["run", "--board", board, "--timeout", "60"])
        .args(options)
        .arg(firmware_elves().join("rtt_echo"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rvflash");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for rvflash")
}

#[test]
fn up_and_down_channels() {
    for board in boards() {
        let out = echo(board, &[], "ping, a line longer than sixteen bytes\n");
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "rtt: hello on channel 0\nrtt: got PING, A LINE LONGER THAN SIXTEEN BYTES\n",
            "{board}"
        );
    }
}

#[test]
fn rtt_output_as_json_console_events() {
    let out = echo("sim", &["--message-format", "json"], "pong\n");
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let rtt: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .filter(|e| e["type"] == "console")
        .collect();
    assert_eq!(rtt.len(), 2, "{rtt:?}");
    assert!(
        rtt.iter()
            .all(|e| e["stream"] == "rtt" && e["channel"] == 0)
    );
    assert_eq!(rtt[1]["text"], "rtt: got PONG\n");
}
