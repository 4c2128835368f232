//! The JTAG TAP controller (IEEE 1149.1, all 16 states) and the RISC-V JTAG DTM behind it:
//! a 5-bit IR selecting IDCODE, BYPASS, `dtmcs` or `dmi`.
//!
//! A pure state machine: it never touches the Debug Module. A DMI read or write started at
//! Update-DR is handed back to the caller ([`Tap::cycle`] returns a [`DmiRequest`]), which
//! performs it at once and reports the data with [`Tap::complete`]. What the DTM models is the
//! pacing: an operation keeps the DMI "in progress" until `idle_cycles` TCK cycles have ended
//! in Run-Test/Idle; capturing `dmi` before that makes the busy status (3) sticky, and a sticky
//! status (busy, or failed for the reserved op 3) makes the DTM ignore further operations
//! until `dmireset`.

/// TAP controller states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    TestLogicReset,
    RunTestIdle,
    SelectDrScan,
    CaptureDr,
    ShiftDr,
    Exit1Dr,
    PauseDr,
    Exit2Dr,
    UpdateDr,
    SelectIrScan,
    CaptureIr,
    ShiftIr,
    Exit1Ir,
    PauseIr,
    Exit2Ir,
    UpdateIr,
}

impl State {
    /// The state after a rising TCK edge with `tms`.
    fn next(self, tms: bool) -> State {
        use State::*;
        match (self, tms) {
            (TestLogicReset, false) => RunTestIdle,
            (TestLogicReset, true) => TestLogicReset,
            (RunTestIdle, false) => RunTestIdle,
            (RunTestIdle, true) => SelectDrScan,
            (SelectDrScan, false) => CaptureDr,
            (SelectDrScan, true) => SelectIrScan,
            (CaptureDr, false) => ShiftDr,
            (CaptureDr, true) => Exit1Dr,
            (ShiftDr, false) => ShiftDr,
            (ShiftDr, true) => Exit1Dr,
            (Exit1Dr, false) => PauseDr,
            (Exit1Dr, true) => UpdateDr,
            (PauseDr, false) => PauseDr,
            (PauseDr, true) => Exit2Dr,
            (Exit2Dr, false) => ShiftDr,
            (Exit2Dr, true) => UpdateDr,
            (UpdateDr, false) => RunTestIdle,
            (UpdateDr, true) => SelectDrScan,
            (SelectIrScan, false) => CaptureIr,
            (SelectIrScan, true) => TestLogicReset,
            (CaptureIr, false) => ShiftIr,
            (CaptureIr, true) => Exit1Ir,
            (ShiftIr, false) => ShiftIr,
            (ShiftIr, true) => Exit1Ir,
            (Exit1Ir, false) => PauseIr,
            (Exit1Ir, true) => UpdateIr,
            (PauseIr, false) => PauseIr,
            (PauseIr, true) => Exit2Ir,
            (Exit2Ir, false) => ShiftIr,
            (Exit2Ir, true) => UpdateIr,
            (UpdateIr, false) => RunTestIdle,
            (UpdateIr, true) => SelectDrScan,
        }
    }
}

pub(crate) const IR_IDCODE: u8 = 0x01;
pub(crate) const IR_DTMCS: u8 = 0x10;
pub(crate) const IR_DMI: u8 = 0x11;
const IR_LEN: u32 = 5;
/// What Capture-IR loads (IEEE 1149.1: the two low bits are 01).
const IR_CAPTURE: u8 = 0b00001;
/// DMI address bits.
pub(crate) const ABITS: u32 = 7;
const DMI_LEN: u32 = ABITS + 34;

const DTMCS_DMIRESET: u64 = 1 << 16;
const DTMCS_DMIHARDRESET: u64 = 1 << 17;

/// `op` status values.
const OP_FAILED: u8 = 2;
const OP_BUSY: u8 = 3;

/// A DMI operation the DTM started at Update-DR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DmiRequest {
    pub addr: u8,
    /// `Some(data)` for a write, `None` for a read.
    pub write: Option<u32>,
}

pub(crate) struct Tap {
    state: State,
    ir: u8,
    ir_shift: u8,
    dr: u64,
    dr_len: u32,
    tdo: bool,
    idcode: u32,
    idle_cycles: u32,
    /// Run-Test/Idle cycles the operation in progress still needs.
    pending: u32,
    /// Sticky `op` status: 0, [`OP_FAILED`] or [`OP_BUSY`].
    sticky: u8,
    /// `address` and `data` of the last operation, positioned as in `dmi` (op bits zero).
    result: u64,
}

impl Tap {
    pub fn new(idcode: u32, idle_cycles: u32) -> Tap {
        Tap {
            state: State::TestLogicReset,
            ir: IR_IDCODE,
            ir_shift: 0,
            dr: 0,
            dr_len: 1,
            tdo: false,
            idcode,
            idle_cycles,
            pending: 0,
            sticky: 0,
            result: 0,
        }
    }

    /// The TDO pin (driven only in Shift-DR/Shift-IR; low otherwise).
    pub fn tdo(&self) -> bool {
        self.tdo
    }

    /// TRST: Test-Logic-Reset, IR = IDCODE. The DTM's DMI state is not touched.
    pub fn reset(&mut self) {
        self.state = State::TestLogicReset;
        self.ir = IR_IDCODE;
        self.tdo = false;
    }

    /// One TCK cycle: the rising edge samples `tms`/`tdi` (shifting the selected register and
    /// moving the controller), the falling edge performs the new state's action and drives
    /// TDO. Returns TDO as it was before the rising edge, and the DMI operation that an
    /// Update-DR of `dmi` started, if any.
    pub fn cycle(&mut self, tms: bool, tdi: bool) -> (bool, Option<DmiRequest>) {
        let out = self.tdo;
        match self.state {
            State::ShiftDr => {
                self.dr = (self.dr >> 1) | (tdi as u64) << (self.dr_len - 1);
            }
            State::ShiftIr => {
                self.ir_shift = (self.ir_shift >> 1) | (tdi as u8) << (IR_LEN - 1);
            }
            _ => {}
        }
        self.state = self.state.next(tms);
        let mut request = None;
        match self.state {
            State::TestLogicReset => self.ir = IR_IDCODE,
            State::RunTestIdle => self.pending = self.pending.saturating_sub(1),
            State::CaptureDr => self.capture_dr(),
            State::UpdateDr => request = self.update_dr(),
            State::CaptureIr => self.ir_shift = IR_CAPTURE,
            State::UpdateIr => self.ir = self.ir_shift,
            _ => {}
        }
        self.tdo = match self.state {
            State::ShiftDr => self.dr & 1 != 0,
            State::ShiftIr => self.ir_shift & 1 != 0,
            _ => false,
        };
        (out, request)
    }

    /// Records the data of the operation [`Tap::cycle`] returned (a read's value).
    pub fn complete(&mut self, data: u32) {
        self.result = (self.result & !(0xffff_ffff << 2)) | (data as u64) << 2;
    }

    fn dtmcs(&self) -> u32 {
        let idle = self.idle_cycles.min(7);
        idle << 12 | (self.sticky as u32) << 10 | ABITS << 4 | 1
    }

    fn capture_dr(&mut self) {
        (self.dr, self.dr_len) = match self.ir {
            IR_IDCODE => (self.idcode as u64, 32),
            IR_DTMCS => (self.dtmcs() as u64, 32),
            IR_DMI => {
                // Capturing before the operation had its idle cycles is the busy case.
                if self.pending > 0 && self.sticky == 0 {
                    self.sticky = OP_BUSY;
                }
                (self.result | self.sticky as u64, DMI_LEN)
            }
            // BYPASS, and every unimplemented instruction.
            _ => (0, 1),
        };
    }

    fn update_dr(&mut self) -> Option<DmiRequest> {
        match self.ir {
            IR_DTMCS => {
                if self.dr & DTMCS_DMIRESET != 0 {
                    self.sticky = 0;
                }
                if self.dr & DTMCS_DMIHARDRESET != 0 {
                    self.sticky = 0;
                    self.pending = 0;
                    self.result = 0;
                }
                None
            }
            IR_DMI => {
                let op = (self.dr & 3) as u8;
                if op == 0 || self.sticky != 0 {
                    return None;
                }
                if self.pending > 0 {
                    self.sticky = OP_BUSY;
                    return None;
                }
                let addr = ((self.dr >> 34) & ((1 << ABITS) - 1)) as u8;
                let data = (self.dr >> 2) as u32;
                self.result = (addr as u64) << 34 | (data as u64) << 2;
                if op == 3 {
                    // The reserved op: the DM cannot perform it, which the DTM reports as a
                    // failed operation (sticky, as the spec says).
                    self.sticky = OP_FAILED;
                    return None;
                }
                self.pending = self.idle_cycles;
                Some(DmiRequest {
                    addr,
                    write: (op == 2).then_some(data),
                })
            }
            _ => None,
        }
    }
}
