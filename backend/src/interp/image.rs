//! Loading a module into memory: addresses for every symbol and the initial data image.
//!
//! Functions of the module get fake addresses `FUNC_BASE + 16 * i` (in module order), then
//! every other symbol named anywhere (an external function, e.g. `$printf`) gets the next
//! ones. Data definitions are laid out from `DATA_BASE` in module order, each at its
//! alignment (8 when not given), with `$sym+off` values resolved to addresses.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use std::collections::HashMap;

use super::memory::{DATA_BASE, FUNC_BASE, FUNC_STRIDE, Memory};
use super::{Config, Error};
use crate::ir::types::layouts;
use crate::ir::{Const, DataItem, DataValue, Layout, Module, Value};

/// What a function address refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Callee {
    /// A function of the module (index into `Module::functions`).
    Func(usize),
    /// A symbol the module does not define (served by the host C library).
    Extern(String),
}

/// The loaded program.
pub struct Image {
    pub mem: Memory,
    /// Address of every symbol.
    pub symbols: HashMap<String, u64>,
    /// Function address slots: `callees[(addr - FUNC_BASE) / 16]`.
    pub callees: Vec<Callee>,
    /// Layout of every aggregate type.
    pub layouts: Vec<Layout>,
}

fn named_symbols(m: &Module, mut f: impl FnMut(&str)) {
    for func in &m.functions {
        let mut val = |v: &Value| {
            if let Value::Const(Const::Addr(s) | Const::ThreadAddr(s)) = v {
                f(s)
            }
        };
        for b in &func.blocks {
            b.phis
                .iter()
                .flat_map(|p| &p.args)
                .for_each(|(_, v)| val(v));
            b.insts.iter().for_each(|i| i.for_each_arg(&mut val));
            if let Some(v) = b.jump.as_ref().and_then(|j| j.arg()) {
                val(v);
            }
        }
    }
    for d in &m.data {
        for it in &d.items {
            if let DataItem::Typed(_, vals) = it {
                for v in vals {
                    if let DataValue::Sym(s, _) = v {
                        f(s);
                    }
                }
            }
        }
    }
}

impl Image {
    /// Assigns addresses and builds the data image.
    pub fn load(m: &Module, config: &Config) -> Result<Image, Error> {
        let layouts = layouts(&m.types)
            .map_err(|i| Error::new(format!("bad aggregate type :{}", m.types[i].name)))?;
        let mut symbols = HashMap::new();
        let mut callees = Vec::new();
        for (i, f) in m.functions.iter().enumerate() {
            symbols
                .entry(f.name.clone())
                .or_insert(FUNC_BASE + FUNC_STRIDE * i as u64);
            callees.push(Callee::Func(i));
        }
        // Data addresses.
        let mut size: u64 = 0;
        let mut data_addr = Vec::with_capacity(m.data.len());
        for d in &m.data {
            let align = d.align.unwrap_or(8).max(1);
            if !align.is_power_of_two() {
                return Err(Error::new(format!(
                    "data ${}: bad alignment {align}",
                    d.name
                )));
            }
            size = size.saturating_add(align - 1) & !(align - 1);
            data_addr.push(size);
            symbols.entry(d.name.clone()).or_insert(DATA_BASE + size);
            size = size.saturating_add(d.size());
            if size > config.data_size {
                return Err(Error::new(format!(
                    "data definitions exceed the data limit of {} bytes",
                    config.data_size
                )));
            }
        }
        // External symbols.
        named_symbols(m, |s| {
            if !symbols.contains_key(s) {
                symbols.insert(
                    s.to_string(),
                    FUNC_BASE + FUNC_STRIDE * callees.len() as u64,
                );
                callees.push(Callee::Extern(s.to_string()));
            }
        });
        // Data contents.
        let mut bytes = vec![0u8; size as usize];
        for (d, &start) in m.data.iter().zip(&data_addr) {
            let mut off = start as usize;
            for it in &d.items {
                match it {
                    DataItem::Zero(n) => off += *n as usize,
                    DataItem::Typed(ty, vals) => {
                        let w = ty.size() as usize;
                        for v in vals {
                            let mut put = |x: u64| {
                                bytes[off..off + w].copy_from_slice(&x.to_le_bytes()[..w]);
                                off += w;
                            };
                            match v {
                                DataValue::Int(i) => put(*i as u64),
                                DataValue::Single(b) => put(*b as u64),
                                DataValue::Double(b) => put(*b),
                                DataValue::Sym(s, o) => {
                                    put(symbols[s.as_str()].wrapping_add(*o as u64))
                                }
                                DataValue::Str(s) => s.iter().for_each(|&c| put(c as u64)),
                            }
                        }
                    }
                }
            }
        }
        let mem = Memory::new(bytes, config.heap_size, config.stack_size);
        Ok(Image {
            mem,
            symbols,
            callees,
            layouts,
        })
    }

    /// What a function address refers to (`None` if it is not one).
    pub fn callee(&self, addr: u64) -> Option<&Callee> {
        let off = addr.checked_sub(FUNC_BASE)?;
        if off % FUNC_STRIDE != 0 {
            return None;
        }
        self.callees.get(usize::try_from(off / FUNC_STRIDE).ok()?)
    }
}
