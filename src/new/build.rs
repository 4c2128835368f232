//! Puts `memory.x` (the board's memory map) on the linker search path for riscv-rt's `link.x`.
@defmt //! It also links with `defmt-rv64.x`, defmt's linker script with the log strings numbered
@defmt //! from 0xF000 rather than 1, which RV64 code in RAM at 0x8000_0000 can reach (defmt's own
@defmt //! `defmt.x` does not link once the code that logs is past the first 2 KiB of RAM; see that
@defmt //! file). Here rather than in .cargo/config.toml's rustflags, which would make every
@defmt //! dependency build differently from projects without defmt.
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by Cargo"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
@defmt     std::fs::copy("defmt-rv64.x", out.join("defmt-rv64.x")).expect("copy defmt-rv64.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
@defmt     println!("cargo:rerun-if-changed=defmt-rv64.x");
    println!("cargo:rerun-if-changed=build.rs");
@defmt     println!("cargo:rustc-link-arg=-Tdefmt-rv64.x");
}
