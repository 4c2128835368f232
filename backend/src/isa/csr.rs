//! Control and status register numbers and their names.
//!
//! The name table covers every CSR of the ratified specifications that GNU objdump 2.40 names
//! (user, supervisor, hypervisor, machine, debug, vector, ...), so listings match objdump's.

use core::fmt;

pub const FFLAGS: u16 = 0x001;
pub const FRM: u16 = 0x002;
pub const FCSR: u16 = 0x003;
pub const CYCLE: u16 = 0xc00;
pub const TIME: u16 = 0xc01;
pub const INSTRET: u16 = 0xc02;
pub const MSTATUS: u16 = 0x300;
pub const MISA: u16 = 0x301;
pub const MIE: u16 = 0x304;
pub const MTVEC: u16 = 0x305;
pub const MSCRATCH: u16 = 0x340;
pub const MEPC: u16 = 0x341;
pub const MCAUSE: u16 = 0x342;
pub const MTVAL: u16 = 0x343;
pub const MIP: u16 = 0x344;
pub const MCYCLE: u16 = 0xb00;
pub const MINSTRET: u16 = 0xb02;
pub const MHARTID: u16 = 0xf14;

/// CSRs named on their own.
const NAMED: &[(u16, &str)] = &[
    (0x001, "fflags"),
    (0x002, "frm"),
    (0x003, "fcsr"),
    (0x008, "vstart"),
    (0x009, "vxsat"),
    (0x00a, "vxrm"),
    (0x00f, "vcsr"),
    (0x015, "seed"),
    (0x100, "sstatus"),
    (0x104, "sie"),
    (0x105, "stvec"),
    (0x106, "scounteren"),
    (0x10a, "senvcfg"),
    (0x114, "sieh"),
    (0x140, "sscratch"),
    (0x141, "sepc"),
    (0x142, "scause"),
    (0x143, "stval"),
    (0x144, "sip"),
    (0x14d, "stimecmp"),
    (0x150, "siselect"),
    (0x151, "sireg"),
    (0x154, "siph"),
    (0x15c, "stopei"),
    (0x15d, "stimecmph"),
    (0x180, "satp"),
    (0x200, "vsstatus"),
    (0x204, "vsie"),
    (0x205, "vstvec"),
    (0x214, "vsieh"),
    (0x240, "vsscratch"),
    (0x241, "vsepc"),
    (0x242, "vscause"),
    (0x243, "vstval"),
    (0x244, "vsip"),
    (0x24d, "vstimecmp"),
    (0x250, "vsiselect"),
    (0x251, "vsireg"),
    (0x254, "vsiph"),
    (0x25c, "vstopei"),
    (0x25d, "vstimecmph"),
    (0x280, "vsatp"),
    (0x300, "mstatus"),
    (0x301, "misa"),
    (0x302, "medeleg"),
    (0x303, "mideleg"),
    (0x304, "mie"),
    (0x305, "mtvec"),
    (0x306, "mcounteren"),
    (0x308, "mvien"),
    (0x309, "mvip"),
    (0x30a, "menvcfg"),
    (0x310, "mstatush"),
    (0x313, "midelegh"),
    (0x314, "mieh"),
    (0x318, "mvienh"),
    (0x319, "mviph"),
    (0x31a, "menvcfgh"),
    (0x320, "mcountinhibit"),
    (0x340, "mscratch"),
    (0x341, "mepc"),
    (0x342, "mcause"),
    (0x343, "mtval"),
    (0x344, "mip"),
    (0x34a, "mtinst"),
    (0x34b, "mtval2"),
    (0x350, "miselect"),
    (0x351, "mireg"),
    (0x354, "miph"),
    (0x35c, "mtopei"),
    (0x5a8, "scontext"),
    (0x600, "hstatus"),
    (0x602, "hedeleg"),
    (0x603, "hideleg"),
    (0x604, "hie"),
    (0x605, "htimedelta"),
    (0x606, "hcounteren"),
    (0x607, "hgeie"),
    (0x608, "hvien"),
    (0x609, "hvictl"),
    (0x60a, "henvcfg"),
    (0x613, "hidelegh"),
    (0x615, "htimedeltah"),
    (0x618, "hvienh"),
    (0x61a, "henvcfgh"),
    (0x643, "htval"),
    (0x644, "hip"),
    (0x645, "hvip"),
    (0x64a, "htinst"),
    (0x655, "hviph"),
    (0x680, "hgatp"),
    (0x6a8, "hcontext"),
    (0x747, "mseccfg"),
    (0x757, "mseccfgh"),
    (0x7a0, "tselect"),
    (0x7a4, "tinfo"),
    (0x7a5, "tcontrol"),
    (0x7a8, "mcontext"),
    (0x7aa, "mscontext"),
    (0x7b0, "dcsr"),
    (0x7b1, "dpc"),
    (0xb00, "mcycle"),
    (0xb02, "minstret"),
    (0xb80, "mcycleh"),
    (0xb82, "minstreth"),
    (0xc00, "cycle"),
    (0xc01, "time"),
    (0xc02, "instret"),
    (0xc20, "vl"),
    (0xc21, "vtype"),
    (0xc22, "vlenb"),
    (0xc80, "cycleh"),
    (0xc81, "timeh"),
    (0xc82, "instreth"),
    (0xda0, "scountovf"),
    (0xdb0, "stopi"),
    (0xe12, "hgeip"),
    (0xeb0, "vstopi"),
    (0xf11, "mvendorid"),
    (0xf12, "marchid"),
    (0xf13, "mimpid"),
    (0xf14, "mhartid"),
    (0xf15, "mconfigptr"),
    (0xfb0, "mtopi"),
];

/// (first CSR, first index, last index, prefix, suffix): `mhpmevent3h` is ("mhpmevent", 3, "h").
const NUMBERED: &[(u16, u16, u16, &str, &str)] = &[
    (0x10c, 0, 3, "sstateen", ""),
    (0x30c, 0, 3, "mstateen", ""),
    (0x31c, 0, 3, "mstateen", "h"),
    (0x323, 3, 31, "mhpmevent", ""),
    (0x3a0, 0, 15, "pmpcfg", ""),
    (0x3b0, 0, 63, "pmpaddr", ""),
    (0x60c, 0, 3, "hstateen", ""),
    (0x61c, 0, 3, "hstateen", "h"),
    (0x646, 1, 2, "hviprio", ""),
    (0x656, 1, 2, "hviprio", "h"),
    (0x723, 3, 31, "mhpmevent", "h"),
    (0x7a1, 1, 3, "tdata", ""),
    (0x7b2, 0, 1, "dscratch", ""),
    (0xb03, 3, 31, "mhpmcounter", ""),
    (0xb83, 3, 31, "mhpmcounter", "h"),
    (0xc03, 3, 31, "hpmcounter", ""),
    (0xc83, 3, 31, "hpmcounter", "h"),
];

/// A CSR's name (`mstatus`, `pmpaddr3`, `mhpmevent3h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsrName {
    prefix: &'static str,
    index: Option<u16>,
    suffix: &'static str,
}

impl fmt::Display for CsrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix)?;
        if let Some(i) = self.index {
            write!(f, "{i}")?;
        }
        f.write_str(self.suffix)
    }
}

/// The name of CSR `csr`, if it has one.
pub fn name(csr: u16) -> Option<CsrName> {
    if let Some(&(_, prefix)) = NAMED.iter().find(|(n, _)| *n == csr) {
        return Some(CsrName {
            prefix,
            index: None,
            suffix: "",
        });
    }
    NUMBERED
        .iter()
        .find_map(|&(base, first, last, prefix, suffix)| {
            let index = csr.checked_sub(base)? + first;
            (index <= last).then_some(CsrName {
                prefix,
                index: Some(index),
                suffix,
            })
        })
}
