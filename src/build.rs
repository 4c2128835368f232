//! `rvflash compile` and `rvflash build`: QBE IL → RV64 object → linked executable.
//!
//! `compile` runs the backend on one IL file (`-o OUT.o`, or `--emit asm` for a GNU-as
//! listing). `build` compiles each `.ssa` input, adds the board's runtime — the start object
//! for its console and exit protocol, and the IL libc compiled by the same backend — and links
//! everything with the board's linker scripts ([`crate::link`]). `rvflash run FILE.ssa` uses
//! [`build_executable`]. Errors name `file:line:col` and exit 125.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use rvflash_backend::{codegen, qbe};

use crate::board::{self, Board};
use crate::diag;
use crate::link::{Linker, Object};
use crate::runtime;

/// What `rvflash compile` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// An ELF relocatable object.
    Obj,
    /// A GNU-as listing (assembles to the same code).
    Asm,
}

/// Compile one QBE IL file to an RV64 ELF object (or an assembly listing).
#[derive(clap::Args, Debug)]
pub struct CompileArgs {
    /// The QBE IL file.
    pub file: PathBuf,
    /// Output file (default: FILE with the extension `.o`, or `.s` for --emit asm).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Emit::Obj)]
    pub emit: Emit,
}

/// Compile QBE IL files and link them with a board's runtime into an ELF executable.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// QBE IL files (`.ssa`) and RV64 objects (`.o`) to link.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output executable (default: the first file with the extension `.elf`).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Board to build for (its memory map, console and exit protocol; default: sim).
    #[arg(long)]
    pub board: Option<String>,
    /// Extra board definition file(s).
    #[arg(long = "board-file", value_name = "PATH")]
    pub board_file: Vec<PathBuf>,
    /// Linker to use (default: rust-lld from the Rust toolchain, then ld.lld, then
    /// riscv64-unknown-elf-ld).
    #[arg(long, value_name = "PATH")]
    pub linker: Option<PathBuf>,
}

pub fn compile(args: &CompileArgs) -> Result<()> {
    let module = parse(&args.file)?;
    let options = codegen::Options::default();
    let (bytes, ext) = match args.emit {
        Emit::Obj => (
            codegen::compile(&module, &options).map_err(|e| located(&args.file, e))?,
            "o",
        ),
        Emit::Asm => (
            codegen::compile_asm(&module, &options)
                .map_err(|e| located(&args.file, e))?
                .into_bytes(),
            "s",
        ),
    };
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.file.with_extension(ext));
    diag::write(&out, bytes)
}

pub fn build(args: &BuildArgs) -> Result<()> {
    let board = board::select(args.board.as_deref(), &args.board_file)?;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.files[0].with_extension("elf"));
    build_executable(&args.files, &board, args.linker.as_deref(), &out)
}

/// Compiles the `.ssa` inputs, adds the board's runtime and links `out`.
pub fn build_executable(
    inputs: &[PathBuf],
    board: &Board,
    linker: Option<&Path>,
    out: &Path,
) -> Result<()> {
    // The backend emits RV64GC code for the LP64D ABI and the runtime turns the FPU on: a
    // hart without F and D would trap on the first floating-point instruction or `fcsr` write.
    if !board.has_float() {
        bail!(
            "board `{}` is {} (no F/D extensions), but rvflash's backend and IL runtime generate \
             RV64GC code (LP64D: floating-point registers and instructions); QBE IL cannot be \
             built for it. Run Rust firmware built for riscv64imac-unknown-none-elf on it instead",
            board.name,
            board.isa
        );
    }
    let linker = Linker::find(linker)?;
    let dir = diag::temp_dir()?;
    let options = codegen::Options::default();
    let mut objects = Vec::new();
    // A temporary object, named in linker messages after what it was made from.
    let temporary = |file: &str, name: String, bytes: Vec<u8>| -> Result<Object> {
        let path = dir.path().join(file);
        diag::write(&path, bytes)?;
        Ok(Object { path, name })
    };

    let start = runtime::start_object(board.console, board.exit)?;
    objects.push(temporary("start.o", "runtime/start".into(), start)?);
    for (i, input) in inputs.iter().enumerate() {
        match input.extension().and_then(|e| e.to_str()) {
            Some("o") => objects.push(Object::user(input)),
            Some("ssa") => {
                let module = parse(input)?;
                let bytes = codegen::compile(&module, &options).map_err(|e| located(input, e))?;
                let name = input.display().to_string();
                objects.push(temporary(&format!("{i}.o"), name, bytes)?);
            }
            _ => bail!(
                "{}: expected a QBE IL file (.ssa) or an object (.o)",
                input.display()
            ),
        }
    }
    let libc = qbe::parse("runtime/libc", &runtime::libc_source())
        .map_err(|e| anyhow::anyhow!("the runtime's libc: {e}"))?;
    let bytes = codegen::compile(&libc, &options)
        .map_err(|e| anyhow::anyhow!("compiling the runtime's libc: {e}"))?;
    objects.push(temporary("libc.o", "runtime/libc".into(), bytes)?);

    linker.link(board, &objects, out)
}

fn parse(path: &Path) -> Result<rvflash_backend::ir::Module> {
    let src = diag::read_text(path, "QBE IL")?;
    qbe::parse(&path.display().to_string(), &src).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A code generation error as `file:line:col: message`.
fn located(file: &Path, err: codegen::Error) -> anyhow::Error {
    anyhow::anyhow!("{}:{err}", file.display())
}
