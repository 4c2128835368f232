//! {{name}}: bare-metal RV64GC firmware; `cargo run` builds it and runs it on the
//! `{{board}}` board with rvflash.
#![no_std]
#![no_main]

// Panics: the `semihosting` crate's panic handler (feature `panic-handler`) prints
// `panicked at src/main.rs:LINE:COL:` and the message to stderr and exits with status 101,
// the status of `cargo run`; rvflash adds the panic's backtrace.
@defmt
@defmt // The defmt logger: log frames go to an RTT buffer in RAM, which rvflash reads.
@defmt use defmt_rtt as _;

#[riscv_rt::entry]
fn main() -> ! {
    semihosting::println!("Hello from {{name}}!");
@defmt     // `cargo run` prints this after the line above, decoded by rvflash:
@defmt     // `INFO  Hello from {{name}} over defmt!`, then `└─ MODULE @ PATH/src/main.rs:LINE`.
@defmt     defmt::info!("Hello from {{name}} over defmt!");
    semihosting::process::exit(0)
}
