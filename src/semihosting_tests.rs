//! Unit tests of the semihosting service against a fake target.

use super::*;
use crate::target::{Image, Stop};
use anyhow::bail;

const BASE: u64 = 0x8000_0000;
const BLOCK: u64 = BASE + 0x100;
const DATA: u64 = BASE + 0x200;

/// A target that is only memory and registers.
struct Fake {
    mem: Vec<u8>,
    x: [u64; 32],
    pc: u64,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            mem: vec![0; 0x1000],
            x: [0; 32],
            pc: BASE,
        }
    }
    fn poke(&mut self, addr: u64, data: &[u8]) {
        self.write_memory(addr, data).unwrap();
    }
    fn block(&mut self, words: &[u64]) {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.poke(BLOCK, &bytes);
    }
    fn call(&mut self, op: u64, arg: u64) {
        self.x[10] = op;
        self.x[11] = arg;
    }
}

impl Target for Fake {
    fn load(&mut self, _: &Image) -> Result<()> {
        Ok(())
    }
    fn resume(&mut self) -> Result<()> {
        Ok(())
    }
    fn wait(&mut self, _: Instant) -> Result<Stop> {
        Ok(Stop::Semihosting)
    }
    fn interrupt(&mut self) -> Result<()> {
        Ok(())
    }
    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let off = addr.wrapping_sub(BASE) as usize;
        match self.mem.get(off..off.wrapping_add(buf.len())) {
            Some(src) if addr >= BASE => buf.copy_from_slice(src),
            _ => bail!("bad address {addr:#x}"),
        }
        Ok(())
    }
    fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        let off = addr.wrapping_sub(BASE) as usize;
        match self.mem.get_mut(off..off.wrapping_add(data.len())) {
            Some(dst) if addr >= BASE => dst.copy_from_slice(data),
            _ => bail!("bad address {addr:#x}"),
        }
        Ok(())
    }
    fn register(&mut self, reg: Reg) -> Result<u64> {
        Ok(match reg {
            Reg::X(n) => self.x[n as usize],
            Reg::Pc => self.pc,
            _ => 0,
        })
    }
    fn set_register(&mut self, reg: Reg, value: u64) -> Result<()> {
        match reg {
            Reg::X(n) => self.x[n as usize] = value,
            Reg::Pc => self.pc = value,
            _ => {}
        }
        Ok(())
    }
    fn set_breakpoint(&mut self, _: u64) -> Result<()> {
        Ok(())
    }
}

struct Io {
    out: Vec<u8>,
    err: Vec<u8>,
    input: std::io::Cursor<Vec<u8>>,
}

impl Io {
    fn new(input: &str) -> Io {
        Io {
            out: Vec::new(),
            err: Vec::new(),
            input: std::io::Cursor::new(input.as_bytes().to_vec()),
        }
    }
    fn service(&mut self, dir: Option<PathBuf>) -> Semihosting<'_> {
        let heap = HeapInfo {
            heap_base: 1,
            heap_limit: 2,
            stack_base: 3,
            stack_limit: 4,
        };
        Semihosting::new(
            dir,
            "prog a b".into(),
            heap,
            &mut self.out,
            &mut self.err,
            &mut self.input,
        )
    }
}

fn open(sh: &mut Semihosting<'_>, t: &mut Fake, name: &str, mode: u64) -> u64 {
    t.poke(DATA + 0x100, name.as_bytes());
    t.block(&[DATA + 0x100, mode, name.len() as u64]);
    t.call(op::OPEN, BLOCK);
    assert_eq!(sh.service(t).unwrap(), Outcome::Continue);
    t.x[10]
}

#[test]
fn write0_writec_and_pc_advance() {
    let mut io = Io::new("");
    let mut t = Fake::new();
    {
        let mut sh = io.service(None);
        t.poke(DATA, b"hello\n\0");
        t.call(op::WRITE0, DATA);
        assert_eq!(sh.service(&mut t).unwrap(), Outcome::Continue);
        t.poke(DATA, b"!");
        t.call(op::WRITEC, DATA);
        sh.service(&mut t).unwrap();
    }
    assert_eq!(io.out, b"hello\n!");
    assert_eq!(t.pc, BASE + 16);
}

#[test]
fn tt_open_write_read_istty() {
    let mut io = Io::new("xyz");
    let mut t = Fake::new();
    {
        let mut sh = io.service(None);
        let out = open(&mut sh, &mut t, ":tt", 4);
        let err = open(&mut sh, &mut t, ":tt", 8);
        let inp = open(&mut sh, &mut t, ":tt", 0);
        assert_eq!((out, err, inp), (1, 2, 3), "handles are nonzero");
        t.poke(DATA, b"abc");
        t.block(&[out, DATA, 3]);
        t.call(op::WRITE, BLOCK);
        sh.service(&mut t).unwrap();
        assert_eq!(t.x[10], 0, "all bytes written");
        t.block(&[err, DATA, 2]);
        t.call(op::WRITE, BLOCK);
        sh.service(&mut t).unwrap();
        t.block(&[inp, DATA + 0x40, 5]);
        t.call(op::READ, BLOCK);
        sh.service(&mut t).unwrap();
        assert_eq!(t.x[10], 2, "5 asked, 3 read");
        t.block(&[out]);
        t.call(op::ISTTY, BLOCK);
        sh.service(&mut t).unwrap();
        assert_eq!(t.x[10], 1);
        t.block(&[out]);
        t.call(op::CLOSE, BLOCK);
        sh.service(&mut t).unwrap();
        assert_eq!(t.x[10], 0);
        t.call(op::CLOSE, BLOCK);
        sh.service(&mut t).unwrap();
        assert_eq!(t.x[10], u64::MAX, "closing twice fails");
    }
    assert_eq!(io.out, b"abc");
    assert_eq!(io.err, b"ab");
    let mut got = [0u8; 3];
    t.read_memory(DATA + 0x40, &mut got).unwrap();
    assert_eq!(&got, b"xyz");
}

#[test]
fn files_only_below_the_semihosting_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), b"0123456789").unwrap();
    let mut io = Io::new("");
    let mut t = Fake::new();
    let mut sh = io.service(Some(dir.path().to_path_buf()));
    assert_eq!(open(&mut sh, &mut t, "/etc/passwd", 0), u64::MAX);
    t.call(op::ERRNO, 0);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], EACCES);
    assert_eq!(open(&mut sh, &mut t, "../x", 0), u64::MAX);
    let h = open(&mut sh, &mut t, "in.txt", 0);
    assert_eq!(h, 1);
    t.block(&[h]);
    t.call(op::FLEN, BLOCK);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], 10);
    t.block(&[h, 4]);
    t.call(op::SEEK, BLOCK);
    sh.service(&mut t).unwrap();
    t.block(&[h, DATA, 3]);
    t.call(op::READ, BLOCK);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], 0);
    let mut got = [0u8; 3];
    t.read_memory(DATA, &mut got).unwrap();
    assert_eq!(&got, b"456");
    let w = open(&mut sh, &mut t, "out.txt", 4);
    t.poke(DATA, b"data");
    t.block(&[w, DATA, 4]);
    t.call(op::WRITE, BLOCK);
    sh.service(&mut t).unwrap();
    drop(sh);
    assert_eq!(std::fs::read(dir.path().join("out.txt")).unwrap(), b"data");
}

#[test]
fn no_dir_means_no_files() {
    let mut io = Io::new("");
    let mut t = Fake::new();
    let mut sh = io.service(None);
    assert_eq!(open(&mut sh, &mut t, "Cargo.toml", 0), u64::MAX);
}

#[test]
fn cmdline_heapinfo_iserror_clock() {
    let mut io = Io::new("");
    let mut t = Fake::new();
    let mut sh = io.service(None);
    t.block(&[DATA, 64]);
    t.call(op::GET_CMDLINE, BLOCK);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], 0);
    let mut got = [0u8; 9];
    t.read_memory(DATA, &mut got).unwrap();
    assert_eq!(&got, b"prog a b\0");
    assert_eq!(crate::target::read_u64(&mut t, BLOCK + 8).unwrap(), 8);
    t.block(&[DATA, 4]);
    t.call(op::GET_CMDLINE, BLOCK);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], u64::MAX, "buffer too small");

    t.block(&[DATA + 0x80]);
    t.call(op::HEAPINFO, BLOCK);
    sh.service(&mut t).unwrap();
    for (i, v) in [1, 2, 3, 4].into_iter().enumerate() {
        assert_eq!(
            crate::target::read_u64(&mut t, DATA + 0x80 + 8 * i as u64).unwrap(),
            v
        );
    }
    t.block(&[u64::MAX]);
    t.call(op::ISERROR, BLOCK);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], 1);
    t.call(op::CLOCK, 0);
    sh.service(&mut t).unwrap();
    assert!(t.x[10] < 1000);
    t.call(op::TICKFREQ, 0);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], 1_000_000);
    t.call(op::ELAPSED, BLOCK);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], 0);
    t.call(0x99, 0);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], u64::MAX);
    t.call(op::ERRNO, 0);
    sh.service(&mut t).unwrap();
    assert_eq!(t.x[10], ENOSYS);
}

#[test]
fn exit_conventions() {
    let mut io = Io::new("");
    let mut t = Fake::new();
    let mut sh = io.service(None);
    t.block(&[ADP_STOPPED_APPLICATION_EXIT, 42]);
    t.call(op::EXIT, BLOCK);
    assert_eq!(sh.service(&mut t).unwrap(), Outcome::Exit(42));
    t.call(op::EXIT_EXTENDED, BLOCK);
    assert_eq!(sh.service(&mut t).unwrap(), Outcome::Exit(42));
    t.block(&[0x20023, 42]);
    t.call(op::EXIT, BLOCK);
    assert_eq!(sh.service(&mut t).unwrap(), Outcome::Exit(1));
    // 32-bit convention: the reason itself in a1.
    t.call(op::EXIT, ADP_STOPPED_APPLICATION_EXIT);
    assert_eq!(sh.service(&mut t).unwrap(), Outcome::Exit(0));
    t.call(op::EXIT, 0x20023);
    assert_eq!(sh.service(&mut t).unwrap(), Outcome::Exit(1));
}
