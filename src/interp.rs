//! `rvflash interp FILE.ssa [ARGS...]`: runs a QBE IL program with the reference interpreter
//! of the backend (no compilation; for trying programs and checking compiled code).
//!
//! Exit status: the program's `main` return value (or the code it passed to `exit`), taken
//! modulo 256 like a process exit status; 125 when the file cannot be read, parsed or
//! verified (the error is printed as `file:line:col: message`); 134 when the program does
//! something undefined or trapping (division by zero, `hlt`, out-of-bounds access, step
//! limit...), with the error and where it happened printed to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;
use rvflash_backend::interp;

use crate::{EXIT_RVFLASH_FAILED, diag};

/// Exit status for interpreter errors (like a trapped device).
const EXIT_TRAP: u8 = 134;

/// Run a QBE IL program with the reference interpreter.
#[derive(ClapArgs)]
#[command(
    long_about = "Run a QBE IL program with the reference interpreter (the semantics compiled \
                  code is checked against), with a host C library subset for calls to \
                  undefined functions (printf, puts, malloc, mem*/str*, exit, abort, rv_panic).\n\n\
                  Exit status: the value `main` returns (or the code passed to exit()), modulo \
                  256; 125 when the file cannot be read, parsed or verified (file:line:col); \
                  127 when the program calls rv_panic; 134 on a runtime error (division by \
                  zero, hlt, out-of-bounds access) or abort()."
)]
pub struct Args {
    /// The IL file to run
    pub file: PathBuf,
    /// Arguments passed to the program (argv[1..]; `main` may take `(w argc, l argv)`)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// Function to start at
    #[arg(long, default_value = "main")]
    pub entry: String,
    /// Maximum number of IL instructions executed before giving up
    #[arg(long, default_value_t = interp::Config::default().fuel)]
    pub fuel: u64,
}

/// Runs the subcommand and returns the process exit status.
pub fn run(args: &Args) -> ExitCode {
    let name = args.file.display().to_string();
    let src = match diag::read_text(&args.file, "QBE IL") {
        Ok(s) => s,
        Err(e) => {
            diag::error(&format!("{e:#}"));
            return ExitCode::from(EXIT_RVFLASH_FAILED);
        }
    };
    let module = match rvflash_backend::qbe::parse(&name, &src) {
        Ok(m) => m,
        Err(e) => {
            diag::error(&e.to_string());
            return ExitCode::from(EXIT_RVFLASH_FAILED);
        }
    };
    let mut argv: Vec<&str> = vec![name.as_str()];
    argv.extend(args.args.iter().map(String::as_str));
    let config = interp::Config {
        fuel: args.fuel,
        ..interp::Config::default()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = interp::run_with(&module, &args.entry, &argv, &mut out, &config);
    let _ = out.flush();
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            diag::error(&e.to_string());
            ExitCode::from(EXIT_TRAP)
        }
    }
}
