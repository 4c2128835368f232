//! Benchmark: the quality of the code generator's output, as instructions retired on the
//! built-in simulator, against GCC at `-O0` and `-O2`.
//!
//! Each kernel in `benches/kernels/` exists twice: `NAME.ssa` (QBE IL written the way a
//! simple C compiler such as cproc emits it: straightforward, non-SSA temporaries, no hand
//! optimisation) and `NAME.c` (the same algorithm in C). The bench builds
//!
//! - the IL with `rvflash build --board sim`,
//! - the C with `riscv64-unknown-elf-gcc -O0` and `-O2` (`-march=rv64gc -mabi=lp64d
//!   -mcmodel=medany -ffreestanding -nostdlib -ffp-contract=off -c`), each object linked by
//!   `rvflash build OBJ.o --board sim` with the same runtime (start object + IL libc),
//!
//! runs the three with `rvflash run --board sim --stats`, checks that they exit with 0 and
//! print the same `checksum: ...` line, and prints a table of retired instructions. The
//! counts include the runtime's start-up and the final `printf` (the same code for all
//! three builds).
//!
//! `cargo bench --bench code_quality`. A plain `main` (no harness): the simulator's counts
//! are exact, so there is nothing to repeat. Exits non-zero if a tool is missing, a build or
//! run fails, or the checksums differ.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The kernels, in table order (files `benches/kernels/NAME.{ssa,c}`).
const KERNELS: &[&str] = &[
    "sieve",
    "matmul",
    "quicksort",
    "crc32",
    "strsearch",
    "nbody",
];

const GCC: &str = "riscv64-unknown-elf-gcc";
/// `-mcmodel=medany`: the sim board's RAM is at 0x8000_0000, out of `medlow`'s reach.
/// `-ffp-contract=off`: no fused multiply-add, so float results agree bit for bit with the IL.
const GCC_FLAGS: &[&str] = &[
    "-march=rv64gc",
    "-mabi=lp64d",
    "-mcmodel=medany",
    "-ffreestanding",
    "-nostdlib",
    "-ffp-contract=off",
    "-c",
];

/// One build of one kernel, run.
struct Run {
    checksum: String,
    instructions: u64,
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("code_quality: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    check_gcc()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let kernels = root.join("benches/kernels");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("code_quality");
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;

    let mut rows = Vec::new();
    for name in KERNELS {
        let il = build_il(root, &kernels.join(format!("{name}.ssa")), &work)?;
        let o0 = build_c(root, &kernels.join(format!("{name}.c")), "-O0", &work)?;
        let o2 = build_c(root, &kernels.join(format!("{name}.c")), "-O2", &work)?;
        let (il, o0, o2) = (
            run_sim(root, &il)?,
            run_sim(root, &o0)?,
            run_sim(root, &o2)?,
        );
        if il.checksum != o0.checksum || il.checksum != o2.checksum {
            return Err(format!(
                "{name}: checksums differ: IL `{}`, gcc -O0 `{}`, gcc -O2 `{}`",
                il.checksum, o0.checksum, o2.checksum
            ));
        }
        rows.push((*name, il, o0, o2));
    }

    println!("instructions retired on `rvflash run --board sim` (incl. start-up and printf)\n");
    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>9} {:>9}  checksum",
        "kernel", "rvflash", "gcc -O0", "gcc -O2", "ours/O0", "ours/O2"
    );
    let (mut log0, mut log2) = (0.0, 0.0);
    let mut worse_than_o0 = Vec::new();
    for (name, il, o0, o2) in &rows {
        let r0 = il.instructions as f64 / o0.instructions as f64;
        let r2 = il.instructions as f64 / o2.instructions as f64;
        log0 += r0.ln();
        log2 += r2.ln();
        if il.instructions >= o0.instructions {
            worse_than_o0.push(*name);
        }
        println!(
            "{name:<10} {:>12} {:>12} {:>12} {r0:>9.2} {r2:>9.2}  {}",
            il.instructions, o0.instructions, o2.instructions, il.checksum
        );
    }
    let n = rows.len() as f64;
    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>9.2} {:>9.2}",
        "geomean",
        "",
        "",
        "",
        (log0 / n).exp(),
        (log2 / n).exp()
    );
    if worse_than_o0.is_empty() {
        println!("\nfewer instructions than gcc -O0 on every kernel");
    } else {
        println!("\nnot better than gcc -O0 on: {}", worse_than_o0.join(", "));
    }
    Ok(())
}

/// Fails with the Debian package to install when the cross compiler is missing.
fn check_gcc() -> Result<(), String> {
    match Command::new(GCC).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!(
            "`{GCC}` not found (Debian/Ubuntu: apt install gcc-riscv64-unknown-elf)"
        )),
    }
}

/// `rvflash build FILE.ssa --board sim -o WORK/NAME.il.elf`.
fn build_il(root: &Path, ssa: &Path, work: &Path) -> Result<PathBuf, String> {
    let elf = work.join(format!("{}.il.elf", stem(ssa)));
    rvflash_build(root, ssa, &elf)?;
    Ok(elf)
}

/// `gcc OPT ... -c FILE.c`, then `rvflash build FILE.o --board sim`.
fn build_c(root: &Path, c: &Path, opt: &str, work: &Path) -> Result<PathBuf, String> {
    let tag = opt.trim_start_matches('-');
    let obj = work.join(format!("{}.{tag}.o", stem(c)));
    let elf = work.join(format!("{}.{tag}.elf", stem(c)));
    let mut cmd = Command::new(GCC);
    cmd.arg(opt).args(GCC_FLAGS).arg(c).arg("-o").arg(&obj);
    checked(&mut cmd, &format!("{GCC} {opt} {}", c.display()))?;
    rvflash_build(root, &obj, &elf)?;
    Ok(elf)
}

fn rvflash_build(root: &Path, input: &Path, elf: &Path) -> Result<(), String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rvflash"));
    cmd.current_dir(root)
        .args(["build", "--board", "sim"])
        .arg(input)
        .arg("-o")
        .arg(elf);
    checked(&mut cmd, &format!("rvflash build {}", input.display()))?;
    Ok(())
}

/// `rvflash run --board sim --stats ELF`: the checksum line and the retired instructions.
fn run_sim(root: &Path, elf: &Path) -> Result<Run, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rvflash"));
    cmd.current_dir(root)
        .args(["run", "--board", "sim", "--stats"])
        .arg(elf)
        .env_remove("RVFLASH_TIMEOUT")
        .env_remove("CI");
    let what = format!("rvflash run {}", elf.display());
    let (stdout, stderr) = checked(&mut cmd, &what)?;
    let checksum = stdout
        .lines()
        .find_map(|l| l.strip_prefix("checksum: "))
        .ok_or_else(|| format!("{what}: no `checksum:` line in its output:\n{stdout}"))?
        .trim()
        .to_string();
    let instructions = stderr
        .lines()
        .find_map(|l| l.strip_prefix("rvflash: stats: instructions "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("{what}: no instruction count in its stats:\n{stderr}"))?;
    Ok(Run {
        checksum,
        instructions,
    })
}

/// Runs `cmd`; its stdout and stderr if it exits with 0.
fn checked(cmd: &mut Command, what: &str) -> Result<(String, String), String> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!("{what} failed ({}):\n{stdout}{stderr}", out.status));
    }
    Ok((stdout, stderr))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
