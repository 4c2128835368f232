//! Wrong programs: each error's exact line, column and message (hand-written expectations).

use rvflash_backend::qbe;

#[track_caller]
fn check(src: &str, line: u32, col: u32, msg: &str) {
    match qbe::parse("t.ssa", src) {
        Ok(m) => panic!("expected an error, parsed:\n{m}"),
        Err(e) => {
            assert_eq!(
                (e.line, e.col, e.msg.as_str()),
                (line, col, msg),
                "full error:\n{e}"
            );
            assert_eq!(e.file, "t.ssa");
        }
    }
}

/// Wraps a function body.
fn func(body: &str) -> String {
    format!("function w $f(w %a, s %s, l %p) {{\n{body}}}\n")
}

#[test]
fn display_quotes_the_line_with_a_caret() {
    let e = qbe::parse("t.ssa", &func("@start\n\t%x =w add %a %a\n\tret %x\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.ssa:3:15: expected ',' or newline after argument, found temporary %a\n\
         3 | \t%x =w add %a %a\n  | \t             ^"
    );
}

#[test]
fn syntax_errors() {
    check(
        &func("@start\n\t%x =w add %a %a\n\tret %x\n"),
        3,
        15,
        "expected ',' or newline after argument, found temporary %a",
    );
    check(
        &func("@start\n\t%x =w add %a, \n\tret %x\n"),
        3,
        16,
        "expected value (temporary or constant), found newline",
    );
    check(
        &func("@start\n\t%x =w frob %a\n\tret %x\n"),
        3,
        8,
        "unknown instruction 'frob'",
    );
    check(
        &func("@start\n\t%x w add %a, 1\n\tret %x\n"),
        3,
        5,
        "expected '=' after destination temporary, found 'w'",
    );
    check(
        &func("@start\n\t%x =q add %a, 1\n\tret %x\n"),
        3,
        6,
        "expected result type, found 'q'",
    );
    check(
        &func("@start\n\t%x =w storew %a, %p\n\tret %x\n"),
        3,
        8,
        "'storew' has no result",
    );
    check(
        &func("@start\n\tadd %a, 1\n\tret %a\n"),
        3,
        2,
        "'add' needs a destination: %name =TYPE add ...",
    );
    check(
        &func("@start\n\t%x =sb add %a, 1\n\tret %x\n"),
        3,
        6,
        "sub-word and aggregate types are only allowed for call, parameters and returns",
    );
    check(
        &func("\t%x =w add %a, 1\n\tret %x\n"),
        2,
        2,
        "expected label to start the first block, found temporary %x",
    );
    check(
        &func("@start\n\tret %a\n\t%x =w add %a, 1\n"),
        4,
        2,
        "expected label or '}' after a jump, found temporary %x",
    );
    check(
        &func("@start\n\tret %a %a\n"),
        3,
        9,
        "expected newline after jump, found temporary %a",
    );
    check(
        &func("@start\n\tjnz %a @l, @l\n@l\n\tret 0\n"),
        3,
        9,
        "expected ',' after jnz condition, found label @l",
    );
    check("function w $f() {\n}\n", 2, 1, "function has no blocks");
    check(
        "function w $f( {\n@s\n\tret 0\n}\n",
        1,
        16,
        "expected parameter type, 'env', '...' or ')', found '{'",
    );
    check(
        "function w $f(w %a, env %e) {\n@s\n\tret 0\n}\n",
        1,
        21,
        "env parameter must come first",
    );
    check(
        "function w $f(..., w %a) {\n@s\n\tret 0\n}\n",
        1,
        20,
        "expected ')' after '...', found 'w'",
    );
    check(
        "function w $f() {\n@s\n\tret 0\n",
        4,
        1,
        "expected '}' to end the function, found end of file",
    );
    check(
        "thread function $f() {\n@s\n\tret\n}\n",
        1,
        1,
        "only data may have thread linkage",
    );
    check(
        "export type :t = { w }\n",
        1,
        8,
        "only data and function definitions have linkage",
    );
    check(
        "frobnicate\n",
        1,
        1,
        "expected 'function', 'data', 'type' or linkage, found 'frobnicate'",
    );
    check(
        "function w $f() {\n@s\n\t%x =w add 1, 2 ^\n\tret 0\n}\n",
        3,
        17,
        "invalid character '^'",
    );
    check(
        &func("@start\n\t%x =w call $g(w 1 w 2)\n\tret %x\n"),
        3,
        20,
        "expected ',' or ')' after argument, found 'w'",
    );
    check(
        &func("@start\n\t%x =w call $g(w 1, env %p)\n\tret %x\n"),
        3,
        21,
        "env argument must come first",
    );
    check(
        &func("@start\n\t%x =w call $g(..., w 1, ...)\n\tret %x\n"),
        3,
        26,
        "only one '...' allowed",
    );
    check(
        &func("@start\n\tdbgloc 99999999999\n\tret 0\n"),
        3,
        9,
        "dbgloc line number out of range",
    );
}

#[test]
fn blocks_and_phis() {
    check(
        &func("@start\n\tjmp @nowhere\n"),
        3,
        6,
        "undefined block @nowhere",
    );
    check(
        &func("@start\n\tjmp @b\n@b\n\tjmp @start\n"),
        5,
        2,
        "jump to the entry block @start",
    );
    check(
        &func("@start\n\tjmp @b\n@b\n\tjmp @b\n@b\n\tret 0\n"),
        6,
        1,
        "block @b defined twice",
    );
    check(
        &func("@start\n\t%x =w add %a, 1\n"),
        4,
        1,
        "last block misses a jump",
    );
    check(
        &func("@start\n\tjmp @b\n@b\n\t%x =w copy 1\n\t%y =w phi @start 1\n\tret %y\n"),
        6,
        8,
        "phi after a regular instruction (phis must start the block)",
    );
    check(
        &func("@start\n\t%y =w phi @start 1\n\tret %y\n"),
        3,
        2,
        "phi in the entry block",
    );
    let diamond = |phi: &str| {
        func(&format!(
            "@start\n\tjnz %a, @l, @r\n@l\n\tjmp @j\n@r\n\tjmp @j\n@j\n\t{phi}\n\tret %p\n"
        ))
    };
    check(
        &diamond("%p =w phi @l 1, @start 2"),
        9,
        2,
        "phi %p: @start is not a predecessor of @j",
    );
    check(
        &diamond("%p =w phi @l 1"),
        9,
        2,
        "phi %p has no argument for predecessor @r",
    );
    check(
        &diamond("%p =w phi @l 1, @r 2, @l 3"),
        9,
        2,
        "phi %p has two arguments for @l",
    );
    check(
        &diamond("%p =w phi @l 1, @r %s"),
        9,
        21,
        "phi %p argument %s has type s, expected w",
    );
    check(
        &diamond("%p =w phi @l 1, @nope 2"),
        9,
        18,
        "undefined block @nope",
    );
    // A phi must also list predecessors that are unreachable (as in QBE).
    check(
        &func("@start\n\tjmp @j\n@dead\n\tjmp @j\n@j\n\t%p =w phi @start 1\n\tret %p\n"),
        7,
        2,
        "phi %p has no argument for predecessor @dead",
    );
}

#[test]
fn type_errors() {
    let one = |ins: &str| func(&format!("@start\n\t{ins}\n\tret 0\n"));
    check(
        &one("%x =w add %a, %s"),
        3,
        16,
        "second operand of 'add' %s has type s, expected w",
    );
    check(
        &one("%x =l add %a, %p"),
        3,
        12,
        "first operand of 'add' %a has type w, expected l",
    );
    check(
        &one("%x =d loadw %p"),
        3,
        2,
        "'loadsw' cannot produce type d",
    );
    check(
        &one("%x =w loadl %p"),
        3,
        2,
        "'loadl' cannot produce type w",
    );
    check(
        &one("%x =w loadw %a"),
        3,
        14,
        "first operand of 'loadsw' %a has type w, expected l",
    );
    check(
        &one("%x =s udiv %s, %s"),
        3,
        2,
        "'udiv' cannot produce type s",
    );
    check(
        &one("%x =w add %a"),
        3,
        2,
        "'add' takes 2 arguments, found 1",
    );
    check(
        &one("%x =w ceqs %a, %a"),
        3,
        13,
        "first operand of 'ceqs' %a has type w, expected s",
    );
    check(
        &one("%x =s ceqs %s, %s"),
        3,
        2,
        "'ceqs' cannot produce type s",
    );
    check(
        &one("%x =w csltd %s, %s"),
        3,
        8,
        "unknown instruction 'csltd'",
    );
    check(
        &one("%x =w extsw %a"),
        3,
        2,
        "'extsw' cannot produce type w",
    );
    check(
        &one("%x =l cast %s"),
        3,
        13,
        "first operand of 'cast' %s has type s, expected d",
    );
    check(
        &one("storeb %s, %p"),
        3,
        9,
        "first operand of 'storeb' %s has type s, expected w",
    );
    check(
        &one("blit %p, %p, %a"),
        3,
        15,
        "blit size must be a non-negative integer constant",
    );
    check(
        &one("blit %p, %p, -1"),
        3,
        15,
        "blit size must be a non-negative integer constant",
    );
    check(
        &one("vastart %p"),
        3,
        2,
        "vastart in a function that is not variadic",
    );
    check(
        &one("%x =w call %a(w 1)"),
        3,
        13,
        "called function %a has type w, expected l",
    );
    check(
        &one("%x =w call $g(l %a)"),
        3,
        18,
        "call argument 1 %a has type w, expected l",
    );
    check(
        &one("%x =w call $g(env %a)"),
        3,
        20,
        "env argument %a has type w, expected l",
    );
    check(&one("%x =w call $g(:t %p)"), 3, 16, "undefined type :t");
    check(
        &one("%a =s copy %s"),
        3,
        2,
        "temporary %a is assigned with multiple types (w and s)",
    );
    check(
        &one("%x =w add %a, %y"),
        3,
        16,
        "temporary %y is used but never defined",
    );
    check(
        &func("@start\n\tjnz %s, @a, @a\n@a\n\tret 0\n"),
        3,
        6,
        "jnz condition %s has type s, expected w",
    );
    check(
        &func("@start\n\tret %s\n"),
        3,
        6,
        "return value %s has type s, expected w",
    );
    assert!(
        qbe::parse("t", &func("@start\n\tret %p\n")).is_ok(),
        "l returned as w (subtyping)"
    );
    check(
        "function $f() {\n@s\n\tret 1\n}\n",
        3,
        6,
        "function $f has no return type but returns a value",
    );
    // The `l` → `w` subtyping rule is one-way, and applies to temporaries only.
    assert!(qbe::parse("t", &one("%x =w add %p, %p")).is_ok());
    assert!(qbe::parse("t", &one("%x =l add s_1, d_2")).is_ok());
}

#[test]
fn ssa_errors() {
    check(
        &func("@start\n\tjnz %a, @l, @r\n@l\n\t%x =w copy 1\n@r\n\tret %x\n"),
        7,
        6,
        "temporary %x is not defined on every path to this use",
    );
    check(
        &func("@start\n\t%y =w add %x, 1\n\t%x =w copy 1\n\tret %y\n"),
        3,
        12,
        "temporary %x is not defined on every path to this use",
    );
    // Re-assigned temporaries are fine (non-SSA input).
    assert!(
        qbe::parse(
            "t",
            &func("@start\n\t%x =w copy 1\n\t%x =w add %x, 1\n\tret %x\n")
        )
        .is_ok()
    );
}

/// Errors about one operand (its type, an undefined temporary, a use not dominated by its
/// definition) put the caret under that operand, not at the start of the instruction.
#[test]
fn operand_errors_point_at_the_operand() {
    let e = qbe::parse("t.ssa", &func("@start\n\t%x =w add %y, 1\n\tret %x\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.ssa:3:12: temporary %y is used but never defined\n\
         3 | \t%x =w add %y, 1\n  | \t          ^"
    );
    let one = |ins: &str| func(&format!("@start\n\t{ins}\n\tret 0\n"));
    // A call's operands count its callee and env before its arguments.
    check(
        &one("%x =w call $g(env %p, w 1, l %a)"),
        3,
        31,
        "call argument 2 %a has type w, expected l",
    );
    check(
        &one("%x =w call $g(w %a, l %u)"),
        3,
        24,
        "temporary %u is used but never defined",
    );
    // Phi arguments, checked for dominance after SSA construction.
    check(
        &func(
            "@start\n\tjnz %a, @l, @j\n@l\n\t%x =w copy 1\n\tjmp @j\n@j\n\t%p =w phi @start %x, @l 2\n\tret %p\n",
        ),
        8,
        19,
        "temporary %x is not defined on every path to this use",
    );
}

#[test]
fn data_and_types() {
    check(
        "data $d = { w 1, 2 }\n",
        1,
        18,
        "expected data item type (b h w l s d z) or '}', found number",
    );
    check("data $d { w 1 }\n", 1, 9, "expected '=', found '{'");
    check(
        "data $d = { w }\n",
        1,
        15,
        "expected data value after 'w', found '}'",
    );
    check(
        "data $d = { z -1 }\n",
        1,
        15,
        "size after z must not be negative",
    );
    check(
        "data $d = { w \"abc\" }\n",
        1,
        1,
        "in data $d: strings are only allowed after 'b'",
    );
    check(
        "data $d = align 3 { b 0 }\n",
        1,
        17,
        "alignment must be a power of two up to 2^30",
    );
    check(
        "data $d = { l $a + }\n",
        1,
        20,
        "expected offset after '+', found '}'",
    );
    check(
        "data $d = { b 0 }\ndata $d = { b 1 }\n",
        2,
        1,
        "symbol $d defined twice",
    );
    check(
        "data $d = { b 0 }\nfunction $d() {\n@s\n\tret\n}\n",
        2,
        1,
        "symbol $d defined twice",
    );
    check(
        "type :t = { w, q }\n",
        1,
        16,
        "expected member type, found 'q'",
    );
    check(
        "type :t = { w 2 3 }\n",
        1,
        17,
        "expected ',' or '}' after member, found number",
    );
    check("type :t = { :u }\n", 1, 13, "undefined type :u");
    check(
        "type :t = { w }\ntype :t = { l }\n",
        2,
        6,
        "type :t defined twice",
    );
    check(
        "type :t = { 16 }\n",
        1,
        13,
        "opaque type needs an explicit alignment",
    );
    check(
        "type :t = { { w } w }\n",
        1,
        19,
        "expected '{' or '}' in union type, found 'w'",
    );
    check(
        "type :t = { w 1099511627776 }\n",
        1,
        1,
        "type :t is too large",
    );
}

#[test]
fn numbers_and_strings() {
    let one = |ins: &str| func(&format!("@start\n\t{ins}\n\tret 0\n"));
    check(
        &one("%x =l add 18446744073709551616, 1"),
        3,
        12,
        "integer literal does not fit in 64 bits",
    );
    check(
        &one("%x =l add -9223372036854775809, 1"),
        3,
        12,
        "integer literal does not fit in 64 bits",
    );
    check(&one("%x =l add 123abc, 1"), 3, 12, "invalid number");
    check(&one("%x =l add -, 1"), 3, 12, "expected digits after '-'");
    check(
        &one(&format!("%x =d add d_1{}, 1", "0".repeat(200))),
        3,
        12,
        "floating-point literal too long",
    );
    check(
        &one("%x =d add d_1.2.3, 1"),
        3,
        12,
        "invalid floating-point literal",
    );
    check(
        &one("%x =d add d_0x1p3, 1"),
        3,
        12,
        "invalid floating-point literal",
    );
    check(
        "data $d = { l 99999999999999999999 }\n",
        1,
        15,
        "integer literal does not fit in 64 bits",
    );
    check(
        "data $d = { b \"bad \\q escape\" }\n",
        1,
        20,
        "invalid escape sequence '\\q'",
    );
    check(
        "data $d = { b \"\\x\" }\n",
        1,
        16,
        "expected hex digits after '\\x'",
    );
    check(
        "data $d = { b \"\\777\" }\n",
        1,
        16,
        "octal escape out of range",
    );
    check(
        "data $d = { b \"abc }\n",
        1,
        15,
        "unterminated string (newline in string)",
    );
    check("data $d = { b \"abc", 1, 15, "unterminated string");
    check("data $d = { b \"\\", 1, 16, "unterminated string");
    check(
        "data $d = { b 1 }\n%",
        2,
        1,
        "expected temporary name after sigil",
    );
    // Extremes that do fit.
    let m = qbe::parse(
        "t",
        "data $d = { l 18446744073709551615 -9223372036854775808 }\n",
    )
    .unwrap();
    assert_eq!(
        m.data[0].items[0],
        rvflash_backend::ir::DataItem::Typed(
            rvflash_backend::ir::ExtTy::L,
            vec![
                rvflash_backend::ir::DataValue::Int(-1),
                rvflash_backend::ir::DataValue::Int(i64::MIN)
            ]
        )
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    check(
        "data $d = { b \"héé\" }\ndata $e = { b \"é\" 1 2 ? }\n",
        2,
        23,
        "invalid character '?'",
    );
}
