//! `rvflash disasm`: not implemented yet.
use clap::Args as ClapArgs;
use std::path::PathBuf;

/// Disassemble an ELF file (relocatable object or executable), like `objdump -d`.
#[derive(ClapArgs)]
pub struct Args {
    /// The ELF file to disassemble
    pub file: PathBuf,
}

pub fn run(_args: &Args) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
