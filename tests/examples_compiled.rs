//! Every `examples/*.ssa` end to end through the real `rvflash` binary:
//!
//! - `rvflash run --board sim`, `--board qemu-virt`, `--board sim-openocd` (the simulator
//!   behind the real OpenOCD), `--board sim-probe-rs` (the simulator behind the real probe-rs
//!   crate) and `rvflash interp` give the same stdout and exit status (`trap.ssa`: 134 everywhere — the interpreter reports an
//!   error, the boards report the trap — with identical output before it);
//! - `rvflash compile --emit asm` assembled by GNU as (`-march=rv64gc -mno-relax`) gives the
//!   same bytes and relocations as `rvflash compile`'s object, section by section, for every
//!   example and every `runtime/libc/*.ssa`;
//! - `rvflash build --linker riscv64-unknown-elf-ld` (GNU ld instead of rust-lld) links
//!   every example and it runs on `sim` with the same result;
//! - `riscv64-unknown-elf-objdump -dr` reads every object and executable without a word on
//!   stderr.
//!
//! A missing QEMU, OpenOCD or binutils is a failure naming the Debian package, never a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use object::{Object, ObjectSection, RelocationTarget};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const QEMU_PACKAGE: &str = "qemu-system-misc";
const OPENOCD_PACKAGE: &str = "openocd";
const BINUTILS_PACKAGE: &str = "binutils-riscv64-unknown-elf";

fn rvflash() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rvflash"))
}

/// `examples/*.ssa`, sorted.
fn examples() -> Vec<PathBuf> {
    ssa_files(&Path::new(ROOT).join("examples"))
}

fn ssa_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ssa"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .ssa files in {}", dir.display());
    files
}

/// Panics naming the Debian package when `tool --version` does not run.
fn require(tool: &str, package: &str) {
    match Command::new(tool).arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "`{tool}` is needed by this test but does not run: install the Debian package \
             `{package}` (apt-get install {package})"
        ),
    }
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// Runs `cmd`, which must succeed; returns its output.
fn ok(cmd: &mut Command) -> Output {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// (stdout, exit status) of a finished command.
fn result(out: &Output) -> (String, Option<i32>) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

fn interp(file: &Path) -> Output {
    output(rvflash().arg("interp").arg(file))
}

fn run_on(board: &str, file: &Path) -> Output {
    output(
        rvflash()
            .args(["run", "--timeout", "60", "--board", board])
            .arg(file),
    )
}

/// What every example must do: the interpreter's stdout and status, which the boards match.
fn expect_same(what: &str, file: &Path, want: &Output, got: &Output) {
    let (want_out, want_code) = result(want);
    let (got_out, got_code) = result(got);
    assert_eq!(
        (&got_out, got_code),
        (&want_out, want_code),
        "{} on {what} differs from `rvflash interp`; stderr:\n{}",
        name(file),
        String::from_utf8_lossy(&got.stderr)
    );
}

#[test]
fn examples_agree_on_sim_qemu_and_the_interpreter() {
    require("qemu-system-riscv64", QEMU_PACKAGE);
    require("openocd", OPENOCD_PACKAGE);
    let mut statuses = Vec::new();
    for file in examples() {
        let want = interp(&file);
        statuses.push((name(&file), want.status.code()));
        expect_same("sim", &file, &want, &run_on("sim", &file));
        expect_same("qemu-virt", &file, &want, &run_on("qemu-virt", &file));
        expect_same("sim-openocd", &file, &want, &run_on("sim-openocd", &file));
        if cfg!(feature = "probe-rs") {
            expect_same("sim-probe-rs", &file, &want, &run_on("sim-probe-rs", &file));
        }
    }
    // The examples cover the interesting exit statuses: success, a value, panic and trap.
    for code in [0, 55, 127, 134] {
        assert!(
            statuses.iter().any(|s| s.1 == Some(code)),
            "no example exits with {code}: {statuses:?}"
        );
    }
    let trap = statuses.iter().find(|s| s.0 == "trap.ssa");
    assert_eq!(trap.map(|s| s.1), Some(Some(134)), "{statuses:?}");
}

#[test]
fn a_trap_is_reported_as_a_trap_on_the_boards() {
    let file = Path::new(ROOT).join("examples/trap.ssa");
    require("qemu-system-riscv64", QEMU_PACKAGE);
    require("openocd", OPENOCD_PACKAGE);
    let mut reports = Vec::new();
    let all = ["sim", "qemu-virt", "sim-openocd", "sim-probe-rs"];
    for board in all
        .into_iter()
        .filter(|b| cfg!(feature = "probe-rs") || *b != "sim-probe-rs")
    {
        let out = run_on(board, &file);
        assert_eq!(out.status.code(), Some(134), "{board}");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains("breakpoint (mcause=3)"), "{board}: {err}");
        // The leaf frame once, then its caller (`ra` equals pc here: the call to `puts`
        // returns right onto the `ebreak`).
        let frames: Vec<&str> = err.lines().filter(|l| l.contains(": 0x")).collect();
        assert_eq!(frames.len(), 2, "{board}: {err}");
        assert!(frames[0].ends_with("- main"), "{board}: {err}");
        assert!(!frames[1].ends_with("- main"), "{board}: {err}");
        let mtval = err
            .split("mtval=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next());
        reports.push((board, mtval.map(str::to_owned)));
    }
    // `mtval` of an `ebreak` is the same everywhere (QEMU's value: 0).
    for (board, mtval) in &reports {
        assert_eq!(mtval.as_deref(), Some("0x0"), "{board}: {reports:?}");
    }
}

/// `.text*` sections of an object: name → (bytes, relocations as (offset, type, symbol)).
type Sections = Vec<(String, Vec<u8>, Vec<(u64, u32, String)>)>;

fn text_sections(path: &Path) -> Sections {
    let bytes = std::fs::read(path).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let mut out = Vec::new();
    for s in file.sections() {
        let name = s.name().unwrap().to_owned();
        // GNU as always makes a `.text`, empty when the listing puts nothing there.
        if (name != ".text" && !name.starts_with(".text.")) || s.size() == 0 {
            continue;
        }
        let mut relocs = Vec::new();
        for (off, r) in s.relocations() {
            let ty = match r.flags() {
                object::RelocationFlags::Elf { r_type } => r_type.0,
                f => panic!("{f:?}"),
            };
            // R_RISCV_RELAX only where GNU as adds it (never with -mno-relax).
            let target = match r.target() {
                RelocationTarget::Symbol(i) => {
                    let sym = file.symbol_by_index(i).unwrap();
                    use object::ObjectSymbol;
                    if sym.kind() == object::SymbolKind::Section {
                        format!("section {}", sym.section_index().map_or(0, |i| i.0))
                    } else {
                        sym.name().unwrap().to_owned()
                    }
                }
                t => format!("{t:?}"),
            };
            relocs.push((off, ty, target));
        }
        relocs.sort();
        out.push((name, s.data().unwrap().to_vec(), relocs));
    }
    out.sort();
    out
}

/// Relocations whose symbol is a local label (`.L…`, or a section symbol) depend on how
/// the assembler names them; keep the offset and type only for those. Branches and jumps to
/// local labels are resolved in our object, while GNU as keeps their relocations
/// (`R_RISCV_BRANCH`, `JAL`, `RVC_BRANCH`, `RVC_JUMP`): the bytes are compared already.
fn normalise(mut s: Sections) -> Sections {
    for (_, _, relocs) in &mut s {
        for r in relocs.iter_mut() {
            if r.2.starts_with(".L") || r.2.starts_with("section ") {
                r.2 = "<local>".into();
            }
        }
        relocs.retain(|r| !(matches!(r.1, 16 | 17 | 44 | 45) && r.2 == "<local>"));
    }
    s
}

#[test]
fn emitted_assembly_assembles_to_the_same_code() {
    require("riscv64-unknown-elf-as", BINUTILS_PACKAGE);
    let dir = scratch("emit-asm");
    let mut files = examples();
    files.extend(ssa_files(&Path::new(ROOT).join("runtime/libc")));
    let mut checked = 0;
    for (i, file) in files.iter().enumerate() {
        let (ours, listing, gas) = (
            dir.join(format!("{i}.o")),
            dir.join(format!("{i}.s")),
            dir.join(format!("{i}-gas.o")),
        );
        ok(rvflash().arg("compile").arg(file).arg("-o").arg(&ours));
        ok(rvflash()
            .args(["compile", "--emit", "asm"])
            .arg(file)
            .arg("-o")
            .arg(&listing));
        ok(Command::new("riscv64-unknown-elf-as")
            .args(["-march=rv64gc", "-mno-relax", "-o"])
            .arg(&gas)
            .arg(&listing));
        let (a, b) = (text_sections(&ours), text_sections(&gas));
        assert!(!a.is_empty(), "{}: no .text sections", name(file));
        let names = |s: &Sections| s.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&a), names(&b), "{}: sections differ", name(file));
        for (x, y) in a.iter().zip(&b) {
            assert!(
                x.1 == y.1,
                "{}: section {} differs between the object and the assembled listing {}",
                name(file),
                x.0,
                listing.display()
            );
        }
        assert_eq!(
            normalise(a),
            normalise(b),
            "{}: relocations differ (listing {})",
            name(file),
            listing.display()
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} files checked");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn examples_link_with_gnu_ld_and_run_the_same() {
    require("riscv64-unknown-elf-ld", BINUTILS_PACKAGE);
    let dir = scratch("gnu-ld");
    for file in examples() {
        let want = interp(&file);
        let elf = dir.join(name(&file)).with_extension("elf");
        ok(rvflash()
            .args([
                "build",
                "--board",
                "sim",
                "--linker",
                "riscv64-unknown-elf-ld",
            ])
            .arg(&file)
            .arg("-o")
            .arg(&elf));
        expect_same("sim (linked by GNU ld)", &file, &want, &run_on("sim", &elf));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `objdump -dr FILE`: must succeed with nothing on stderr and decode everything.
fn objdump_clean(path: &Path, what: &str) {
    let out = ok(Command::new("riscv64-unknown-elf-objdump")
        .arg("-dr")
        .arg(path));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "objdump -dr {what}: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(">:\n"),
        "objdump -dr {what} shows no code:\n{stdout}"
    );
    for bad in ["(bad)", ".insn", "unknown"] {
        assert!(
            !stdout.contains(bad),
            "objdump -dr {what}: `{bad}`\n{stdout}"
        );
    }
}

#[test]
fn objdump_reads_every_object_without_warnings() {
    require("riscv64-unknown-elf-objdump", BINUTILS_PACKAGE);
    let dir = scratch("objdump");
    let mut files = examples();
    files.extend(ssa_files(&Path::new(ROOT).join("runtime/libc")));
    for (i, file) in files.iter().enumerate() {
        let obj = dir.join(format!("{i}.o"));
        ok(rvflash().arg("compile").arg(file).arg("-o").arg(&obj));
        objdump_clean(&obj, &name(file));
    }
    // Linked executables hold the start object and the libc too.
    for board in ["sim", "qemu-virt"] {
        let elf = dir.join(format!("hello-{board}.elf"));
        ok(rvflash()
            .args(["build", "--board", board])
            .arg(Path::new(ROOT).join("examples/hello.ssa"))
            .arg("-o")
            .arg(&elf));
        objdump_clean(&elf, &format!("hello.ssa linked for {board}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
