//! The CPU-bound workload of the `bench` and `rtt_idle` programs (`benches/sim_vs_qemu.rs`,
//! `benches/rtt.rs`): a sieve of Eratosthenes, a table-driven CRC-32 over a pseudo-random
//! buffer and a small integer + floating-point matrix multiply, repeated [`ROUNDS`] times. Its
//! checksum is the same on every correct RV64GC machine.

use core::hint::black_box;

/// How many times the whole workload runs.
const ROUNDS: u32 = 6;
/// Sieve size (numbers below this are tested for primality).
const SIEVE: usize = 1 << 18;
/// CRC buffer size in bytes.
const CRC_LEN: usize = 1 << 16;
/// Matrix dimension.
const N: usize = 48;

static mut SIEVE_BUF: [bool; SIEVE] = [false; SIEVE];
static mut CRC_BUF: [u8; CRC_LEN] = [0; CRC_LEN];

fn sieve(buf: &mut [bool; SIEVE]) -> u64 {
    buf.fill(true);
    buf[0] = false;
    buf[1] = false;
    let mut i = 2;
    while i * i < SIEVE {
        if buf[i] {
            let mut j = i * i;
            while j < SIEVE {
                buf[j] = false;
                j += i;
            }
        }
        i += 1;
    }
    // Count and a weighted sum, so that a wrong sieve changes the checksum.
    buf.iter()
        .enumerate()
        .filter(|(_, p)| **p)
        .fold(0u64, |acc, (n, _)| {
            acc.wrapping_mul(31).wrapping_add(n as u64)
        })
}

fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    for (n, slot) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    table
}

fn crc32(table: &[u32; 256], buf: &mut [u8; CRC_LEN], seed: u32) -> u32 {
    let mut x = seed | 1;
    for b in buf.iter_mut() {
        // xorshift32
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let mut crc = !0u32;
    for &b in buf.iter() {
        crc = table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn matmul(seed: u64) -> u64 {
    let mut a = [[0i64; N]; N];
    let mut b = [[0f64; N]; N];
    let mut s = seed;
    for i in 0..N {
        for j in 0..N {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            a[i][j] = (s >> 40) as i64 - (1 << 23);
            b[i][j] = ((s >> 11) & 0xffff) as f64 / 1024.0 - 32.0;
        }
    }
    let mut isum = 0i64;
    let mut fsum = 0f64;
    for i in 0..N {
        for j in 0..N {
            let mut acc = 0i64;
            let mut facc = 0f64;
            for k in 0..N {
                acc = acc.wrapping_add(a[i][k].wrapping_mul(a[k][j]));
                facc += b[i][k] * b[k][j];
            }
            isum = isum.wrapping_mul(3).wrapping_add(acc);
            fsum += facc;
        }
    }
    (isum as u64) ^ fsum.to_bits()
}

/// Runs the whole workload; returns its checksum.
pub fn run() -> u64 {
    // SAFETY: single hart, no interrupts: these are the only references to the buffers.
    let (sieve_buf, crc_buf) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(SIEVE_BUF),
            &mut *core::ptr::addr_of_mut!(CRC_BUF),
        )
    };
    let table = crc_table();
    let mut checksum = 0u64;
    for round in 0..black_box(ROUNDS) {
        checksum = checksum.rotate_left(7) ^ sieve(sieve_buf);
        checksum = checksum.rotate_left(7) ^ u64::from(crc32(&table, crc_buf, round + 1));
        checksum = checksum.rotate_left(7) ^ matmul(u64::from(round));
    }
    checksum
}
