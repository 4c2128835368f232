//! An NS16550A UART as QEMU models it (register shift 0, one byte per register).
//!
//! Transmission is instantaneous (THR always empty: LSR.THRE and LSR.TEMT are always set);
//! bytes written to THR collect in a buffer the host drains. Received bytes come from the
//! host ([`Uart::push_input`]) and are read through RBR with LSR.DR. IIR reports pending
//! sources as QEMU does (received data, then "THR empty", which a read of IIR clears), but
//! there is no PLIC, so the UART never interrupts the hart. Loopback is not modelled.

use std::collections::VecDeque;

const LCR_DLAB: u8 = 0x80;
const LSR_DR: u8 = 0x01;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;
/// DCD | DSR | CTS, as QEMU reports with no modem attached.
const MSR_DEFAULT: u8 = 0xb0;

#[derive(Debug, Default)]
pub(crate) struct Uart {
    output: Vec<u8>,
    input: VecDeque<u8>,
    ier: u8,
    fcr: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    /// The "THR empty" interrupt source is pending (cleared by reading IIR, re-armed by
    /// transmitting or by enabling it).
    thr_ipending: bool,
}

impl Uart {
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.output)
    }

    pub fn push_input(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    /// Reads `size` consecutive byte registers starting at `offset` (little-endian).
    pub fn read(&mut self, offset: u64, size: u64) -> u64 {
        let mut v = 0;
        for i in 0..size {
            v |= (self.read_reg((offset + i) & 7) as u64) << (8 * i);
        }
        v
    }

    /// Writes `size` consecutive byte registers starting at `offset`.
    pub fn write(&mut self, offset: u64, size: u64, value: u64) {
        for i in 0..size {
            self.write_reg((offset + i) & 7, (value >> (8 * i)) as u8);
        }
    }

    fn dlab(&self) -> bool {
        self.lcr & LCR_DLAB != 0
    }

    fn read_reg(&mut self, reg: u64) -> u8 {
        match reg {
            0 if self.dlab() => self.dll,
            0 => self.input.pop_front().unwrap_or(0),
            1 if self.dlab() => self.dlm,
            1 => self.ier,
            2 => {
                let fifo = if self.fcr & 1 != 0 { 0xc0 } else { 0 };
                let id = if self.ier & 1 != 0 && !self.input.is_empty() {
                    0x04
                } else if self.ier & 2 != 0 && self.thr_ipending {
                    self.thr_ipending = false;
                    0x02
                } else {
                    0x01
                };
                fifo | id
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let dr = if self.input.is_empty() { 0 } else { LSR_DR };
                dr | LSR_THRE | LSR_TEMT
            }
            6 => MSR_DEFAULT,
            _ => self.scr,
        }
    }

    fn write_reg(&mut self, reg: u64, v: u8) {
        match reg {
            0 if self.dlab() => self.dll = v,
            0 => {
                self.output.push(v);
                self.thr_ipending = true;
            }
            1 if self.dlab() => self.dlm = v,
            1 => {
                if v & 2 != 0 && self.ier & 2 == 0 {
                    self.thr_ipending = true;
                }
                self.ier = v & 0x0f;
            }
            2 => {
                if v & 2 != 0 {
                    self.input.clear();
                }
                self.fcr = v & 0xc9;
            }
            3 => self.lcr = v,
            4 => self.mcr = v & 0x1f,
            7 => self.scr = v,
            _ => {}
        }
    }
}
