//! Parsing function definitions: header, parameters, blocks, phis, instructions, jumps.
//!
//! Blocks get their final [`BlockId`] (layout order) once the whole body is read, since a
//! jump may name a block defined later. A block without a jump falls through to the next
//! label: the parser adds the explicit `jmp`. Temporaries are created on first mention.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec::Vec;

use super::lexer::{Tok, Token};
use super::parser::{PResult, Parser};
use crate::ir::{
    AbiTy, BaseTy, Block, BlockId, Call, Const, Function, Inst, InstKind, Jump, Linkage, Op, Param,
    Phi, Pos, Temp, Value,
};

/// Where in a block the parser is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first label.
    NoBlock,
    /// After a label or phi: phis still allowed.
    Phis,
    /// After a regular instruction.
    Insts,
    /// After a jump: only a label or `}` may follow.
    Closed,
}

struct Body<'a> {
    f: Function,
    temps: BTreeMap<&'a str, Temp>,
    /// Blocks by provisional id (order of first mention).
    blocks: Vec<Block>,
    defined: Vec<bool>,
    /// Offset of the first mention, for "undefined block" errors.
    first_use: Vec<usize>,
    names: BTreeMap<&'a str, u32>,
    /// Provisional ids in definition order.
    order: Vec<u32>,
    cur: u32,
}

impl<'a> Body<'a> {
    fn temp(&mut self, name: &'a str) -> Temp {
        if let Some(&t) = self.temps.get(name) {
            return t;
        }
        let t = self.f.add_temp(name);
        self.temps.insert(name, t);
        t
    }
    fn block(&mut self, name: &'a str, off: usize) -> BlockId {
        if let Some(&b) = self.names.get(name) {
            return BlockId(b);
        }
        let id = self.blocks.len() as u32;
        self.blocks.push(Block::new(name));
        self.defined.push(false);
        self.first_use.push(off);
        self.names.insert(name, id);
        BlockId(id)
    }
    fn cur(&mut self) -> &mut Block {
        &mut self.blocks[self.cur as usize]
    }
}

fn base_ty(w: &str) -> Option<BaseTy> {
    Some(match w {
        "w" => BaseTy::W,
        "l" => BaseTy::L,
        "s" => BaseTy::S,
        "d" => BaseTy::D,
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    /// An ABI type (`w l s d sb ub sh uh :name`) at token `t`, or `None`.
    fn abi_ty(&self, t: &Token<'a>) -> PResult<Option<AbiTy>> {
        Ok(Some(match t.tok {
            Tok::Word(w) => match w {
                "sb" => AbiTy::Sb,
                "ub" => AbiTy::Ub,
                "sh" => AbiTy::Sh,
                "uh" => AbiTy::Uh,
                _ => match base_ty(w) {
                    Some(b) => AbiTy::Base(b),
                    None => return Ok(None),
                },
            },
            Tok::TypeName(n) => AbiTy::Agg(self.lookup_type(n, t.off)?),
            _ => return Ok(None),
        }))
    }

    /// `function [ABITY] $name(params) { blocks }` (after `function`).
    pub(crate) fn parse_function(&mut self, linkage: Linkage, pos: Pos) -> PResult<Function> {
        let mut t = self.next_nl()?;
        let ret = self.abi_ty(&t)?;
        if ret.is_some() {
            t = self.next_nl()?;
        }
        let Tok::Global(name) = t.tok else {
            return Err(self.unexpected(&t, "function name ($name)"));
        };
        let mut f = Function::new(name.into_owned());
        f.linkage = linkage;
        f.ret = ret;
        f.pos = pos;
        f.dbgfile = self.dbgfile.clone();
        let mut body = Body {
            f,
            temps: BTreeMap::new(),
            blocks: Vec::new(),
            defined: Vec::new(),
            first_use: Vec::new(),
            names: BTreeMap::new(),
            order: Vec::new(),
            cur: 0,
        };
        self.params(&mut body)?;
        let t = self.next_nl()?;
        if t.tok != Tok::LBrace {
            return Err(self.unexpected(&t, "'{' to start the function body"));
        }
        let mut state = State::NoBlock;
        loop {
            let t = self.next_nl()?;
            if t.tok == Tok::RBrace {
                if state == State::NoBlock {
                    return Err(self.err_off(t.off, "function has no blocks"));
                }
                if state != State::Closed {
                    return Err(self.err_off(t.off, "last block misses a jump"));
                }
                break;
            }
            if t.tok == Tok::Eof {
                return Err(self.unexpected(&t, "'}' to end the function"));
            }
            state = self.line(&mut body, t, state)?;
        }
        self.finish(body)
    }

    fn params(&mut self, body: &mut Body<'a>) -> PResult<()> {
        let t = self.next()?;
        if t.tok != Tok::LParen {
            return Err(self.unexpected(&t, "'(' to start the parameter list"));
        }
        loop {
            let t = self.next_nl()?;
            match t.tok {
                Tok::RParen => return Ok(()),
                _ if body.f.variadic => return Err(self.unexpected(&t, "')' after '...'")),
                Tok::Word("...") => body.f.variadic = true,
                Tok::Word("env") => {
                    if body.f.env.is_some() || !body.f.params.is_empty() {
                        return Err(self.err_off(t.off, "env parameter must come first"));
                    }
                    let n = self.next_nl()?;
                    let Tok::Temp(n) = n.tok else {
                        return Err(self.unexpected(&n, "temporary after 'env'"));
                    };
                    body.f.env = Some(body.temp(n));
                }
                _ => {
                    let Some(ty) = self.abi_ty(&t)? else {
                        return Err(self.unexpected(&t, "parameter type, 'env', '...' or ')'"));
                    };
                    let n = self.next_nl()?;
                    let Tok::Temp(n) = n.tok else {
                        return Err(self.unexpected(&n, "parameter temporary (%name)"));
                    };
                    let temp = body.temp(n);
                    body.f.params.push(Param { ty, temp });
                }
            }
            let t = self.next_nl()?;
            match t.tok {
                Tok::Comma => {}
                Tok::RParen => return Ok(()),
                _ => return Err(self.unexpected(&t, "',' or ')' after parameter")),
            }
        }
    }

    /// A value (temporary or constant) at token `t`: operand `k` of the instruction, phi or
    /// jump at `item`.
    fn value(&mut self, body: &mut Body<'a>, t: Token<'a>, item: Pos, k: usize) -> PResult<Value> {
        self.operands.push(item, k, t.off);
        Ok(match t.tok {
            Tok::Temp(n) => Value::Temp(body.temp(n)),
            Tok::Int(i) => Value::Const(Const::Int(i)),
            Tok::Single(b) => Value::Const(Const::Single(b)),
            Tok::Double(b) => Value::Const(Const::Double(b)),
            Tok::Global(g) => Value::Const(Const::Addr(g.into_owned())),
            Tok::Word("thread") => {
                let g = self.next()?;
                let Tok::Global(g) = g.tok else {
                    return Err(self.unexpected(&g, "global ($name) after 'thread'"));
                };
                Value::Const(Const::ThreadAddr(g.into_owned()))
            }
            _ => return Err(self.unexpected(&t, "value (temporary or constant)")),
        })
    }

    /// Parses one line of a function body starting at `t`; returns the new state.
    fn line(&mut self, body: &mut Body<'a>, t: Token<'a>, state: State) -> PResult<State> {
        let pos = self.pos(t.off, t.line);
        if let Tok::Label(name) = t.tok {
            let b = body.block(name, t.off);
            if body.defined[b.index()] {
                return Err(self.err_off(t.off, format!("block @{name} defined twice")));
            }
            if matches!(state, State::Phis | State::Insts) {
                let cur = body.cur();
                cur.jump = Some(Jump::Jmp(b));
                cur.jump_pos = pos;
            }
            body.defined[b.index()] = true;
            body.order.push(b.0);
            body.cur = b.0;
            body.cur().pos = pos;
            self.end_of_line("label")?;
            return Ok(State::Phis);
        }
        match state {
            State::NoBlock => return Err(self.unexpected(&t, "label to start the first block")),
            State::Closed => return Err(self.unexpected(&t, "label or '}' after a jump")),
            _ => {}
        }
        match t.tok {
            Tok::Temp(name) => {
                let dest = body.temp(name);
                self.expect(Tok::Eq, "'=' after destination temporary")?;
                let ty_tok = self.next()?;
                let Some(ty) = self.abi_ty(&ty_tok)? else {
                    return Err(self.unexpected(&ty_tok, "result type"));
                };
                let op_tok = self.next()?;
                match op_tok.tok {
                    Tok::Word("call") => {
                        self.call(body, Some((dest, ty)), pos)?;
                        return Ok(State::Insts);
                    }
                    Tok::Word("phi") => {
                        let ty = self.base_only(ty, &ty_tok)?;
                        if state != State::Phis {
                            return Err(self.err_off(
                                op_tok.off,
                                "phi after a regular instruction (phis must start the block)",
                            ));
                        }
                        self.phi(body, dest, ty, pos)?;
                        return Ok(State::Phis);
                    }
                    Tok::Word(w) => {
                        let ty = self.base_only(ty, &ty_tok)?;
                        // QBE also accepts a plain `load` (not in il.txt): a load of the
                        // result type's width.
                        let op = match (w, ty) {
                            ("load", BaseTy::W) => Some(Op::Loadsw),
                            ("load", BaseTy::L) => Some(Op::Loadl),
                            ("load", BaseTy::S) => Some(Op::Loads),
                            ("load", BaseTy::D) => Some(Op::Loadd),
                            _ => Op::from_name(w),
                        };
                        let Some(op) = op else {
                            return Err(
                                self.err_off(op_tok.off, format!("unknown instruction '{w}'"))
                            );
                        };
                        if !op.has_result() {
                            return Err(self.err_off(op_tok.off, format!("'{op}' has no result")));
                        }
                        self.op_inst(body, Some(dest), ty, op, pos)?;
                    }
                    _ => return Err(self.unexpected(&op_tok, "instruction name")),
                }
            }
            Tok::Word("call") => self.call(body, None, pos)?,
            Tok::Word("jmp") => {
                let l = self.next()?;
                let Tok::Label(n) = l.tok else {
                    return Err(self.unexpected(&l, "label after jmp"));
                };
                let b = body.block(n, l.off);
                self.close(body, Jump::Jmp(b), pos)?;
                return Ok(State::Closed);
            }
            Tok::Word("jnz") => {
                let v = self.next()?;
                let v = self.value(body, v, pos, 0)?;
                self.expect(Tok::Comma, "',' after jnz condition")?;
                let l1 = self.next()?;
                let Tok::Label(n1) = l1.tok else {
                    return Err(self.unexpected(&l1, "label"));
                };
                let b1 = body.block(n1, l1.off);
                self.expect(Tok::Comma, "',' between jnz labels")?;
                let l2 = self.next()?;
                let Tok::Label(n2) = l2.tok else {
                    return Err(self.unexpected(&l2, "label"));
                };
                let b2 = body.block(n2, l2.off);
                self.close(body, Jump::Jnz(v, b1, b2), pos)?;
                return Ok(State::Closed);
            }
            Tok::Word("ret") => {
                let v = match self.peek()?.tok {
                    Tok::Newline | Tok::Eof => None,
                    _ => {
                        let v = self.next()?;
                        Some(self.value(body, v, pos, 0)?)
                    }
                };
                self.close(body, Jump::Ret(v), pos)?;
                return Ok(State::Closed);
            }
            Tok::Word("hlt") => {
                self.close(body, Jump::Hlt, pos)?;
                return Ok(State::Closed);
            }
            Tok::Word("dbgloc") => {
                let line = self.dbg_number("line")?;
                let mut col = 0;
                if self.peek()?.tok == Tok::Comma {
                    self.next()?;
                    col = self.dbg_number("column")?;
                }
                self.end_of_line("dbgloc")?;
                let kind = InstKind::DbgLoc { line, col };
                body.cur().insts.push(Inst { kind, pos });
                return Ok(if state == State::Phis {
                    State::Phis
                } else {
                    State::Insts
                });
            }
            Tok::Word(w) => match Op::from_name(w) {
                Some(op) if !op.has_result() => self.op_inst(body, None, BaseTy::W, op, pos)?,
                Some(op) => {
                    return Err(self.err_off(
                        t.off,
                        format!("'{op}' needs a destination: %name =TYPE {op} ..."),
                    ));
                }
                None => return Err(self.err_off(t.off, format!("unknown instruction '{w}'"))),
            },
            _ => return Err(self.unexpected(&t, "instruction, jump or label")),
        }
        Ok(State::Insts)
    }

    fn base_only(&self, ty: AbiTy, t: &Token<'a>) -> PResult<BaseTy> {
        match ty {
            AbiTy::Base(b) => Ok(b),
            _ => Err(self.err_off(
                t.off,
                "sub-word and aggregate types are only allowed for call, parameters and returns",
            )),
        }
    }

    fn dbg_number(&mut self, what: &str) -> PResult<u32> {
        let t = self.next()?;
        match t.tok {
            Tok::Int(n) => u32::try_from(n)
                .map_err(|_| self.err_off(t.off, format!("dbgloc {what} number out of range"))),
            _ => Err(self.unexpected(&t, &format!("{what} number"))),
        }
    }

    fn close(&mut self, body: &mut Body<'a>, j: Jump, pos: Pos) -> PResult<()> {
        let cur = body.cur();
        cur.jump = Some(j);
        cur.jump_pos = pos;
        self.end_of_line("jump")
    }

    /// Comma-separated values up to the end of the line.
    fn op_inst(
        &mut self,
        body: &mut Body<'a>,
        dest: Option<Temp>,
        ty: BaseTy,
        op: Op,
        pos: Pos,
    ) -> PResult<()> {
        let mut args = Vec::with_capacity(2);
        if !matches!(self.peek()?.tok, Tok::Newline | Tok::Eof) {
            loop {
                let v = self.next()?;
                let k = args.len();
                args.push(self.value(body, v, pos, k)?);
                let t = self.next()?;
                match t.tok {
                    Tok::Comma => {}
                    Tok::Newline | Tok::Eof => break,
                    _ => return Err(self.unexpected(&t, "',' or newline after argument")),
                }
            }
        } else {
            self.next()?;
        }
        let kind = InstKind::Op { dest, ty, op, args };
        body.cur().insts.push(Inst { kind, pos });
        Ok(())
    }

    fn phi(&mut self, body: &mut Body<'a>, to: Temp, ty: BaseTy, pos: Pos) -> PResult<()> {
        let mut args = Vec::new();
        loop {
            let l = self.next()?;
            let Tok::Label(n) = l.tok else {
                return Err(self.unexpected(&l, "predecessor label in phi"));
            };
            let b = body.block(n, l.off);
            let v = self.next()?;
            let v = self.value(body, v, pos, args.len())?;
            args.push((b, v));
            let t = self.next()?;
            match t.tok {
                Tok::Comma => {}
                Tok::Newline | Tok::Eof => break,
                _ => return Err(self.unexpected(&t, "',' or newline after phi argument")),
            }
        }
        body.cur().phis.push(Phi { to, ty, args, pos });
        Ok(())
    }

    /// `call VAL(args)` (after `call`).
    fn call(&mut self, body: &mut Body<'a>, dest: Option<(Temp, AbiTy)>, pos: Pos) -> PResult<()> {
        // Operands are numbered as `Inst::for_each_arg` visits them: callee, env, arguments.
        let c = self.next()?;
        let callee = self.value(body, c, pos, 0)?;
        self.expect(Tok::LParen, "'(' after the called function")?;
        let mut call = Call {
            dest,
            callee,
            env: None,
            args: Vec::new(),
            variadic: None,
        };
        loop {
            let t = self.next_nl()?;
            match t.tok {
                Tok::RParen => break,
                Tok::Word("...") => {
                    if call.variadic.is_some() {
                        return Err(self.err_off(t.off, "only one '...' allowed"));
                    }
                    call.variadic = Some(call.args.len());
                }
                Tok::Word("env") => {
                    if call.env.is_some() || !call.args.is_empty() || call.variadic.is_some() {
                        return Err(self.err_off(t.off, "env argument must come first"));
                    }
                    let v = self.next()?;
                    call.env = Some(self.value(body, v, pos, 1)?);
                }
                _ => {
                    let Some(ty) = self.abi_ty(&t)? else {
                        return Err(self.unexpected(&t, "argument type, 'env', '...' or ')'"));
                    };
                    let v = self.next()?;
                    let k = 1 + usize::from(call.env.is_some()) + call.args.len();
                    let v = self.value(body, v, pos, k)?;
                    call.args.push((ty, v));
                }
            }
            let t = self.next_nl()?;
            match t.tok {
                Tok::Comma => {}
                Tok::RParen => break,
                _ => return Err(self.unexpected(&t, "',' or ')' after argument")),
            }
        }
        self.end_of_line("call")?;
        let kind = InstKind::Call(Box::new(call));
        body.cur().insts.push(Inst { kind, pos });
        Ok(())
    }

    /// Checks every block is defined and renumbers blocks in layout order.
    fn finish(&mut self, mut body: Body<'a>) -> PResult<Function> {
        if let Some(i) = body.defined.iter().position(|d| !d) {
            let name = &body.blocks[i].name;
            return Err(self.err_off(body.first_use[i], format!("undefined block @{name}")));
        }
        let mut remap = alloc::vec![0u32; body.blocks.len()];
        for (new, &old) in body.order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        let fix = |b: &mut BlockId| *b = BlockId(remap[b.index()]);
        let mut slots: Vec<Option<Block>> = body.blocks.into_iter().map(Some).collect();
        for &old in &body.order {
            let mut b = slots[old as usize].take().expect("each block defined once");
            for p in &mut b.phis {
                p.args.iter_mut().for_each(|(pb, _)| fix(pb));
            }
            match &mut b.jump {
                Some(Jump::Jmp(t)) => fix(t),
                Some(Jump::Jnz(_, t, e)) => {
                    fix(t);
                    fix(e);
                }
                _ => {}
            }
            body.f.blocks.push(b);
        }
        Ok(body.f)
    }
}
