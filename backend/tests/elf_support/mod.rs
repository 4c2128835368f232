//! Shared by the object-writer link tests (`backend/tests/object_link.rs`) and the `rvflash
//! disasm` tests (`tests/disasm.rs`, which includes this file by path): finding the external
//! tools, linking, and parsing what GNU binutils print.
//!
//! A missing tool is a test failure naming the package to install, never a silent skip.
#![allow(dead_code)]

pub mod program;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian package with `riscv64-unknown-elf-{objdump,readelf,ld,as}`.
pub const BINUTILS_PACKAGE: &str = "binutils-riscv64-unknown-elf";

/// The linker script of the link tests: `.text` at 0x8000_0000.
pub const LINKER_SCRIPT: &str = include_str!("../fixtures/link.ld");

/// `riscv64-unknown-elf-TOOL`, checked to run.
pub fn binutil(tool: &str) -> String {
    let name = format!("riscv64-unknown-elf-{tool}");
    match Command::new(&name).arg("--version").output() {
        Ok(out) if out.status.success() => name,
        _ => panic!(
            "`{name}` is needed by this test but does not run: install the Debian package \
             `{BINUTILS_PACKAGE}` (apt-get install {BINUTILS_PACKAGE})"
        ),
    }
}

/// `rust-lld` of the toolchain running the tests: `$(rustc --print sysroot)/lib/rustlib/HOST/bin`.
pub fn rust_lld() -> PathBuf {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = run(Command::new(&rustc).args(["--print", "sysroot"]));
    let version = run(Command::new(&rustc).arg("-vV"));
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or_else(|| panic!("`{rustc} -vV` printed no host line:\n{version}"));
    let lld = Path::new(sysroot.trim()).join(format!("lib/rustlib/{host}/bin/rust-lld"));
    assert!(
        lld.is_file(),
        "rust-lld not found at {} (it ships with the Rust toolchain; reinstall it with rustup)",
        lld.display()
    );
    lld
}

/// Runs `cmd`, returns its stdout; a failure to start or a non-zero exit fails the test.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tool output is UTF-8")
}

/// A fresh directory for one test's files.
pub fn scratch_dir(tmp_root: &str, test: &str) -> PathBuf {
    let dir = Path::new(tmp_root).join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linker {
    RustLld,
    GnuLd,
}

/// Writes `objects` (name, bytes) and the linker script into `dir`, links them with `linker`
/// and returns the executable's path.
pub fn link(linker: Linker, dir: &Path, objects: &[(&str, &[u8])]) -> PathBuf {
    let script = dir.join("link.ld");
    std::fs::write(&script, LINKER_SCRIPT).expect("write linker script");
    let out = dir.join(match linker {
        Linker::RustLld => "prog-lld.elf",
        Linker::GnuLd => "prog-gnu.elf",
    });
    let mut cmd = match linker {
        Linker::RustLld => {
            let mut c = Command::new(rust_lld());
            c.args(["-flavor", "gnu"]);
            c
        }
        Linker::GnuLd => Command::new(binutil("ld")),
    };
    cmd.arg("-T").arg(&script).arg("-o").arg(&out);
    for (name, bytes) in objects {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write object");
        cmd.arg(&path);
    }
    run(&mut cmd);
    out
}

/// One row of `readelf -s -W`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sym {
    pub value: u64,
    pub size: u64,
    pub kind: String,
    pub bind: String,
    pub vis: String,
    /// Section index (`UND`, `ABS` or a number).
    pub ndx: String,
    pub name: String,
}

pub fn symbols(file: &Path) -> Vec<Sym> {
    let text = run(Command::new(binutil("readelf"))
        .args(["-s", "-W"])
        .arg(file));
    let mut syms = Vec::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 7 || !t[0].ends_with(':') || t[0].starts_with("Num") {
            continue;
        }
        let size = match t[2].strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
            None => t[2].parse().unwrap(),
        };
        syms.push(Sym {
            value: u64::from_str_radix(t[1], 16).unwrap(),
            size,
            kind: t[3].into(),
            bind: t[4].into(),
            vis: t[5].into(),
            ndx: t[6].into(),
            name: t.get(7).unwrap_or(&"").to_string(),
        });
    }
    syms
}

/// The symbol called `name` (exactly one must exist).
pub fn sym<'a>(syms: &'a [Sym], name: &str) -> &'a Sym {
    let found: Vec<&Sym> = syms.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "symbol `{name}` in {syms:#?}");
    found[0]
}

/// One row of `readelf -S -W`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shdr {
    pub index: usize,
    pub name: String,
    pub kind: String,
    pub addr: u64,
    pub size: u64,
    pub flags: String,
    pub align: u64,
}

pub fn sections(file: &Path) -> Vec<Shdr> {
    let text = run(Command::new(binutil("readelf"))
        .args(["-S", "-W"])
        .arg(file));
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('[') else {
            continue;
        };
        let Some((index, rest)) = rest.split_once(']') else {
            continue;
        };
        let Ok(index) = index.trim().parse() else {
            continue;
        };
        let t: Vec<&str> = rest.split_whitespace().collect();
        // name? type addr off size es flags? lk inf al
        let (left, right) = t.split_at(t.len() - 3);
        let (name, left) = if left.len() >= 6 && left[0] != "NULL" {
            (left[0], &left[1..])
        } else {
            ("", left)
        };
        let flags = if left.len() == 6 { left[5] } else { "" };
        out.push(Shdr {
            index,
            name: name.into(),
            kind: left[0].into(),
            addr: u64::from_str_radix(left[1], 16).unwrap(),
            size: u64::from_str_radix(left[3], 16).unwrap(),
            flags: flags.into(),
            align: right[2].parse().unwrap(),
        });
    }
    out
}

pub fn section<'a>(shdrs: &'a [Shdr], name: &str) -> &'a Shdr {
    shdrs
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no section `{name}` in {shdrs:#?}"))
}

/// One relocation of `readelf -r -W`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rela {
    /// The relocation section, e.g. `.rela.text`.
    pub section: String,
    pub offset: u64,
    pub r_type: String,
    pub symbol: String,
    pub addend: i64,
}

pub fn relocations(file: &Path) -> Vec<Rela> {
    let text = run(Command::new(binutil("readelf"))
        .args(["-r", "-W"])
        .arg(file));
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Relocation section '") {
            current = rest.split('\'').next().unwrap().into();
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() != 7 || u64::from_str_radix(t[0], 16).is_err() {
            continue;
        }
        let magnitude = i64::from_str_radix(t[6], 16).unwrap();
        out.push(Rela {
            section: current.clone(),
            offset: u64::from_str_radix(t[0], 16).unwrap(),
            r_type: t[2].into(),
            symbol: t[4].into(),
            addend: if t[5] == "-" { -magnitude } else { magnitude },
        });
    }
    out
}

/// One line of an objdump-style `-d` listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing {
    /// `Disassembly of section NAME:`
    Section(String),
    /// `0000000080000000 <main>:`
    Symbol(u64, String),
    /// `\t...`: zero bytes left out.
    Zeros,
    /// `addr:\tbytes\tmnemonic\toperands`
    Insn {
        addr: u64,
        bytes: String,
        mnemonic: String,
        operands: String,
    },
}

/// Parses the body of `objdump -d` output (or `rvflash disasm`'s); the file header and blank
/// lines are skipped.
pub fn parse_listing(text: &str) -> Vec<Listing> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with(' ') {
            // Instruction lines are indented; their operands may contain ` <sym>` too.
            let mut parts = line.splitn(4, '\t');
            let addr = parts.next().unwrap().trim().trim_end_matches(':');
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            out.push(Listing::Insn {
                addr,
                bytes: parts.next().unwrap_or("").trim().into(),
                mnemonic: parts.next().unwrap_or("").into(),
                operands: parts.next().unwrap_or("").into(),
            });
        } else if let Some(name) = line.strip_prefix("Disassembly of section ") {
            out.push(Listing::Section(name.trim_end_matches(':').into()));
        } else if line == "\t..." {
            out.push(Listing::Zeros);
        } else if let Some((addr, rest)) = line.split_once(" <")
            && let (Ok(addr), Some(name)) = (u64::from_str_radix(addr, 16), rest.strip_suffix(">:"))
        {
            out.push(Listing::Symbol(addr, name.into()));
        }
    }
    out
}

/// `objdump -d FILE`, parsed.
pub fn objdump_listing(file: &Path) -> Vec<Listing> {
    parse_listing(&run(Command::new(binutil("objdump")).arg("-d").arg(file)))
}

/// The instructions of the listing, keyed by address.
pub fn insns(listing: &[Listing]) -> std::collections::BTreeMap<u64, (u32, String, String)> {
    listing
        .iter()
        .filter_map(|l| match l {
            Listing::Insn {
                addr,
                bytes,
                mnemonic,
                operands,
            } => Some((
                *addr,
                (
                    u32::from_str_radix(bytes, 16).unwrap(),
                    mnemonic.clone(),
                    operands.clone(),
                ),
            )),
            _ => None,
        })
        .collect()
}

/// A section's address and contents from `objdump -s -j NAME`.
pub fn section_contents(file: &Path, name: &str) -> (u64, Vec<u8>) {
    let text = run(Command::new(binutil("objdump"))
        .args(["-s", "-j", name])
        .arg(file));
    let mut start = None;
    let mut bytes = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(' ') else {
            continue;
        };
        let Some((addr, rest)) = rest.split_once(' ') else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr, 16) else {
            continue;
        };
        start.get_or_insert(addr);
        assert_eq!(
            addr,
            start.unwrap() + bytes.len() as u64,
            "contiguous dump of {name}"
        );
        // Four groups of up to 4 bytes, each printed as 8 hex digits and a space.
        let hex: String = rest
            .chars()
            .take(36)
            .filter(|c| !c.is_whitespace())
            .collect();
        for pair in hex.as_bytes().chunks(2) {
            bytes.push(u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap());
        }
    }
    (
        start.unwrap_or_else(|| panic!("no contents for {name}:\n{text}")),
        bytes,
    )
}

/// Sign-extends the low `bits` bits of `v`.
pub fn sext(v: u32, bits: u32) -> i64 {
    ((v as i64) << (64 - bits)) >> (64 - bits)
}

/// The immediates of instruction words, to check what the linker wrote.
pub mod imm {
    use super::sext;

    /// `lui`/`auipc`: the upper immediate as a byte value (`imm20 << 12`).
    pub fn u(w: u32) -> i64 {
        sext(w & 0xffff_f000, 32)
    }
    pub fn i(w: u32) -> i64 {
        sext(w >> 20, 12)
    }
    pub fn s(w: u32) -> i64 {
        sext(((w >> 25) << 5) | ((w >> 7) & 0x1f), 12)
    }
    pub fn b(w: u32) -> i64 {
        let v = ((w >> 31) << 12)
            | (((w >> 7) & 1) << 11)
            | (((w >> 25) & 0x3f) << 5)
            | (((w >> 8) & 0xf) << 1);
        sext(v, 13)
    }
    pub fn j(w: u32) -> i64 {
        let v = ((w >> 31) << 20)
            | (((w >> 12) & 0xff) << 12)
            | (((w >> 20) & 1) << 11)
            | (((w >> 21) & 0x3ff) << 1);
        sext(v, 21)
    }
}
