//! Puts the board memory map (rvflash's `linker-scripts/qemu-virt.x`, the same map as `sim`)
//! on the linker search path as `memory.x`, for riscv-rt's `link.x`; links the programs that
//! log through defmt with `defmt-rv64.x` (defmt's `defmt.x` with the strings numbered from
//! 0xF000, which RV64 code in RAM at 0x8000_0000 can reach: see that file), and the
//! embedded-test targets also with `embedded-test.x`.
use std::path::PathBuf;

/// The binaries that use defmt (they need defmt's linker script; the others must not get it,
/// as it requires defmt's symbols).
const DEFMT_BINS: &[&str] = &["defmt_log", "defmt_panic", "rtt_bench", "rtt_idle"];

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let map = "../../linker-scripts/qemu-virt.x";
    std::fs::copy(map, out.join("memory.x")).expect("copy the memory map");
    std::fs::copy("defmt-rv64.x", out.join("defmt-rv64.x")).expect("copy defmt-rv64.x");
    println!("cargo:rustc-link-search={}", out.display());
    for bin in DEFMT_BINS {
        println!("cargo:rustc-link-arg-bin={bin}=-Tdefmt-rv64.x");
    }
    // Integration tests (`tests/*.rs`) use embedded-test, which logs through defmt.
    println!("cargo:rustc-link-arg-tests=-Tembedded-test.x");
    println!("cargo:rustc-link-arg-tests=-Tdefmt-rv64.x");
    // embedded-test's macro emits `#[cfg_attr(rust_analyzer, test)]`.
    println!("cargo:rustc-check-cfg=cfg(rust_analyzer)");
    println!("cargo:rerun-if-changed={map}");
    println!("cargo:rerun-if-changed=defmt-rv64.x");
    println!("cargo:rerun-if-changed=build.rs");
}
