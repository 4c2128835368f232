//! Thread-local data on boards: `linker-scripts/sections.ld` places `.tdata`/`.tbss` (the
//! template, `_tdata_start.._tbss_end`) and reserves `_tls_block` in `.bss`; the start
//! object copies `.tdata` there and sets `tp`. IL programs with `thread` data, read and
//! written through the CLI, print on `sim` and `qemu-virt` (and with GNU ld) what the
//! interpreter prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Initialised and zeroed thread-locals of several alignments, next to ordinary `.data` and
/// `.bss` (which thread-locals must not overlap), modified and printed.
const TLS: &str = r#"
thread data $counter = { w 5 }
thread data $big = align 16 { l 1, l 2 }
thread data $zeros = { z 16 }
thread data $bytes = { b 7, b 8, b 9 }
data $plain = { l 1111 }
data $plainz = { z 32 }
data $fmt = { b "counter=%d zeros=%ld,%ld big=%ld,%ld bytes=%d%d%d plain=%ld,%ld\n", b 0 }

function $bump(w %n) {
@s
  %c =w loadw thread $counter
  %c =w add %c, %n
  storew %c, thread $counter
  ret
}

export function w $main() {
@s
  call $bump(w 10)
  call $bump(w 100)
  %z0 =l loadl thread $zeros
  %z =l add thread $zeros, 8
  storel 7, %z
  %z1 =l loadl %z
  %b1 =l loadl thread $big
  %bp =l add thread $big, 8
  %b2 =l loadl %bp
  %b2 =l mul %b2, 21
  storel %b2, %bp
  %b2 =l loadl %bp
  %y0 =w loadub thread $bytes
  %yp =l add thread $bytes, 1
  %y1 =w loadub %yp
  %yp =l add thread $bytes, 2
  %y2 =w loadub %yp
  %p0 =l loadl $plain
  %pz =l add $plainz, 24
  %p1 =l loadl %pz
  %c =w loadw thread $counter
  %r =w call $printf(l $fmt, ..., w %c, l %z0, l %z1, l %b1, l %b2, w %y0, w %y1, w %y2, l %p0, l %p1)
  ret %c
}
"#;

const WANT: &str = "counter=115 zeros=0,7 big=1,42 bytes=789 plain=1111,0\n";

/// Only `.tbss`: the template has no bytes at all.
const TBSS_ONLY: &str = r#"
thread data $z = { z 24 }
data $fmt = { b "%ld %ld\n", b 0 }
export function w $main() {
@s
  %p =l add thread $z, 16
  %v0 =l loadl %p
  storel 9, %p
  %v =l loadl %p
  %r =w call $printf(l $fmt, ..., l %v0, l %v)
  ret 0
}
"#;

fn rvflash() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rvflash"))
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn scratch(name: &str, src: &str) -> (PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.ssa"));
    std::fs::write(&file, src).unwrap();
    (dir, file)
}

fn check(out: &Output, what: &str, want: &str, code: i32) {
    assert_eq!(
        (
            String::from_utf8_lossy(&out.stdout).as_ref(),
            out.status.code()
        ),
        (want, Some(code)),
        "{what}; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn thread_locals_on_sim_and_qemu_match_the_interpreter() {
    let (dir, file) = scratch("tls", TLS);
    check(
        &output(rvflash().arg("interp").arg(&file)),
        "interp",
        WANT,
        115,
    );
    for board in ["sim", "qemu-virt"] {
        let out = output(
            rvflash()
                .args(["run", "--timeout", "60", "--board", board])
                .arg(&file),
        );
        check(&out, board, WANT, 115);
    }
    let elf = dir.join("tls-gnu.elf");
    let out = output(
        rvflash()
            .args(["build", "--linker", "riscv64-unknown-elf-ld", "-o"])
            .arg(&elf)
            .arg(&file),
    );
    assert!(out.status.success(), "{out:?}");
    let out = output(rvflash().args(["run", "--timeout", "60"]).arg(&elf));
    check(&out, "sim, linked by GNU ld", WANT, 115);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tbss_alone_starts_out_zero() {
    let (dir, file) = scratch("tbss", TBSS_ONLY);
    check(
        &output(rvflash().arg("interp").arg(&file)),
        "interp",
        "0 9\n",
        0,
    );
    for linker in [None, Some("riscv64-unknown-elf-ld")] {
        let elf = dir.join("tbss.elf");
        let mut cmd = rvflash();
        cmd.arg("build").arg("-o").arg(&elf).arg(&file);
        if let Some(l) = linker {
            cmd.args(["--linker", l]);
        }
        let out = output(&mut cmd);
        assert!(out.status.success(), "{out:?}");
        let out = output(rvflash().args(["run", "--timeout", "60"]).arg(&elf));
        check(&out, &format!("sim, linker {linker:?}"), "0 9\n", 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
