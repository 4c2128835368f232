//! The builder API: a module built in Rust verifies, prints the expected IL, and re-parses
//! to the same module.

use rvflash_backend::ir::{
    self, AbiTy, BaseTy, Cond, DataDef, DataItem, DataValue, ExtTy, Field, FieldTy,
    FunctionBuilder, Linkage, Module, Op, Pos, TypeBody, TypeDef, Value,
};
use rvflash_backend::qbe;

fn build() -> Module {
    let mut m = Module::new();
    let pt = m.add_type(TypeDef {
        name: "point".into(),
        align: None,
        body: TypeBody::Struct(vec![Field {
            ty: FieldTy::Ext(ExtTy::W),
            count: 2,
        }]),
        pos: Pos::NONE,
    });
    m.data.push(DataDef {
        name: "fmt".into(),
        linkage: Linkage::default(),
        align: None,
        items: vec![DataItem::Typed(
            ExtTy::B,
            vec![DataValue::Str(b"%d\n".to_vec()), DataValue::Int(0)],
        )],
        pos: Pos::NONE,
    });

    // Non-SSA loop summing 1..n, then printing it with a variadic call.
    let mut b = FunctionBuilder::new("sum");
    b.export().returns(AbiTy::W);
    let n = b.param(AbiTy::W, "n");
    let p = b.param(AbiTy::Agg(pt), "p");
    let start = b.new_block("start");
    let lp = b.new_block("loop");
    let done = b.new_block("done");
    b.switch_to(start);
    let acc = b.temp("acc");
    let i = b.temp("i");
    b.ins_to(acc, Op::Copy, BaseTy::W, &[Value::int(0)]);
    b.ins_to(i, Op::Copy, BaseTy::W, &[n]);
    b.jmp(lp);
    b.switch_to(lp);
    b.ins_to(acc, Op::Add, BaseTy::W, &[Value::Temp(acc), Value::Temp(i)]);
    b.ins_to(i, Op::Sub, BaseTy::W, &[Value::Temp(i), Value::int(1)]);
    let c = b.ins_cmp(Cond::Sgt, BaseTy::W, Value::Temp(i), Value::int(0));
    b.jnz(c, lp, done);
    b.switch_to(done);
    let x = b.ins_load(Op::Loadsw, BaseTy::W, p);
    let s = b.ins_add(BaseTy::W, Value::Temp(acc), x);
    b.call_full(
        Some(AbiTy::W),
        Value::sym("printf"),
        None,
        &[(AbiTy::L, Value::sym("fmt")), (AbiTy::W, s.clone())],
        Some(1),
    );
    b.dbgloc(7, 1);
    b.ret(Some(s));
    m.functions.push(b.finish());

    // SSA phi, env parameter, stores, alloc.
    let mut b = FunctionBuilder::new("g");
    let e = b.env_param("env");
    let a = b.param(AbiTy::Sb, "a");
    let entry = b.current_block();
    let t = b.new_block("t");
    let j = b.new_block("j");
    b.jnz(a.clone(), t, j);
    b.switch_to(t);
    let slot = b.ins_alloc(8, Value::int(16));
    b.ins_store(Op::Storel, e, slot.clone());
    b.jmp(j);
    b.switch_to(j);
    let phi = b.phi(BaseTy::W, &[(entry, Value::int(1)), (t, a)]);
    let _ = b.ins_copy(BaseTy::W, phi);
    b.hlt();
    m.functions.push(b.finish());
    m
}

#[test]
fn built_module_verifies_prints_and_reparses() {
    let mut m = build();
    ir::verify::verify_module(&m).unwrap();
    let text = m.to_string();
    assert_eq!(
        text,
        "type :point = { w 2 }
data $fmt = { b \"%d\\n\" 0 }
export function w $sum(w %n, :point %p) {
@start
	%acc =w copy 0
	%i =w copy %n
	jmp @loop
@loop
	%acc =w add %acc, %i
	%i =w sub %i, 1
	%.0 =w csgtw %i, 0
	jnz %.0, @loop, @done
@done
	%.1 =w loadsw %p
	%.2 =w add %acc, %.1
	%.3 =w call $printf(l $fmt, ..., w %.2)
	dbgloc 7, 1
	ret %.2
}

function $g(env %env, sb %a) {
@start
	jnz %a, @t, @j
@t
	%.0 =l alloc8 16
	storel %env, %.0
	jmp @j
@j
	%.1 =w phi @start 1, @t %a
	%.2 =w copy %.1
	hlt
}

"
    );
    let mut back = qbe::parse_raw("built.ssa", &text).unwrap();
    back.clear_positions();
    m.functions.iter_mut().for_each(|f| f.renumber_temps());
    assert_eq!(m, back);
    // Through the full front end: SSA construction handles the re-assigned temporaries.
    let ssa = qbe::parse("built.ssa", &text).unwrap();
    assert!(
        ssa.to_string()
            .contains("%acc.1 =w phi @start %acc, @loop %acc.2"),
        "{ssa}"
    );
}

#[test]
fn builder_ssa_pipeline_without_text() {
    let mut m = build();
    ir::verify::verify_module(&m).unwrap();
    // The non-SSA function fails the SSA check until SSA construction runs.
    assert!(ir::verify::verify_ssa_module(&m).is_err());
    ir::ssa::build_module(&mut m).unwrap();
    ir::verify::verify_ssa_module(&m).unwrap();
}

#[test]
fn verifier_catches_builder_mistakes() {
    let mut b = FunctionBuilder::new("bad");
    let start = b.new_block("start");
    b.switch_to(start);
    let _ = b.ins_add(BaseTy::W, Value::int(1), Value::int(2));
    let mut m = Module::new();
    m.functions.push(b.finish());
    let e = ir::verify::verify_module(&m).unwrap_err();
    assert_eq!(e.msg, "block @start does not end with a jump");
    assert_eq!(e.func.as_deref(), Some("bad"));
    assert_eq!(
        e.to_string(),
        "in $bad: block @start does not end with a jump"
    );
}

/// Errors about an operand say which one, for modules built without source positions too.
#[test]
fn verifier_names_the_offending_operand() {
    let mut b = FunctionBuilder::new("f");
    let never = b.temp("never");
    let start = b.new_block("start");
    b.switch_to(start);
    let _ = b.ins_add(BaseTy::W, Value::int(1), never.into());
    b.ret(None);
    let mut m = Module::new();
    m.functions.push(b.finish());
    let e = ir::verify::verify_module(&m).unwrap_err();
    assert_eq!(e.msg, "temporary %never is used but never defined");
    assert_eq!(e.operand, Some(1));
}

#[test]
fn builder_sanitizes_names_and_verifier_rejects_bad_ones() {
    let mut b = FunctionBuilder::new("names");
    let x = b.temp("my var");
    let y = b.temp("my var");
    let blk = b.new_block("entry block");
    b.switch_to(blk);
    b.ins_to(x, Op::Copy, BaseTy::W, &[Value::int(1)]);
    b.ins_to(y, Op::Copy, BaseTy::W, &[Value::int(2)]);
    b.ret(None);
    let f = b.finish();
    assert_eq!(f.temp_name(x), "my_var");
    assert_eq!(f.temp_name(y), "my_var.0");
    assert_eq!(f.blocks[0].name, "entry_block");
    let mut m = Module::new();
    m.functions.push(f);
    ir::verify::verify_module(&m).unwrap();
    // Built by hand, bypassing the builder:
    m.functions[0].temps[0].name = "a b".into();
    let e = ir::verify::verify_module(&m).unwrap_err();
    assert_eq!(e.msg, "temporary name \"a b\" is not a valid identifier");
}
