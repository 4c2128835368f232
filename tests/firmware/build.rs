//! Puts the board memory map (rvflash's `linker-scripts/qemu-virt.x`, the same map as `sim`)
//! on the linker search path as `memory.x`, for riscv-rt's `link.x`.
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let map = "../../linker-scripts/qemu-virt.x";
    std::fs::copy(map, out.join("memory.x")).expect("copy the memory map");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={map}");
    println!("cargo:rerun-if-changed=build.rs");
}
