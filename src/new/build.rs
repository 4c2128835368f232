//! Puts `memory.x` (the board's memory map) on the linker search path for riscv-rt's `link.x`.
@defmt //! It also links with defmt's `defmt.x`: here rather than in .cargo/config.toml's rustflags,
@defmt //! which would make every dependency build differently from projects without defmt.
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by Cargo"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
@defmt     println!("cargo:rustc-link-arg=-Tdefmt.x");
}
