//! Code generation end to end, wider coverage: comparisons and branches of every kind, memory
//! of every width, data relocations, floats and conversions, many-argument calls, large
//! frames, long branches, varargs, indirect calls. Each program prints its results (hex)
//! and the simulator must agree with the interpreter.

mod codegen_support;

use codegen_support::PRINT_HEX as PR;
use codegen_support::{check, check_listing};

fn with_pr(src: &str) -> String {
    format!("{PR}{src}")
}

const CMP: &str = r#"
function l $cmps(l %a, l %b, w %x, w %y) {
@s
  %r =l copy 0
  %c =l ceql %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cnel %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l csltl %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cslel %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l csgtl %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l csgel %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cultl %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l culel %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cugtl %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cugel %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l csltw %x, %y
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cultw %x, %y
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l csgtw %x, 5
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cugew %x, 5
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l ceqw %x, 0
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cslew %x, -3
  %r =l or %r, %c
  ret %r
}
function w $br(w %x, w %y) {
@s
  %n =w copy 0
  %c =l csltw %x, %y
  jnz %c, @a, @a0
@a
  %n =w add %n, 1
@a0
  %c =l cugtw %x, %y
  jnz %c, @b, @b0
@b
  %n =w add %n, 2
@b0
  %c =l csgew %x, 7
  jnz %c, @d, @d0
@d
  %n =w add %n, 4
@d0
  %c =l culew %y, %x
  jnz %c, @e, @e0
@e
  %n =w add %n, 8
@e0
  %c =l cnew %x, %y
  jnz %c, @f, @f0
@f
  %n =w add %n, 16
@f0
  %c =l ceqw %x, 0
  jnz %c, @g, @g0
@g
  %n =w add %n, 32
@g0
  jnz %y, @h, @h0
@h
  %n =w add %n, 64
@h0
  ret %n
}
export function w $main() {
@s
  %r =l call $cmps(l 5, l 7, w 9, w -1)
  call $pr(l %r)
  %r =l call $cmps(l -5, l 7, w -4, w 3)
  call $pr(l %r)
  %r =l call $cmps(l 7, l 7, w 0, w 0)
  call $pr(l %r)
  %r =l call $cmps(l -1, l -9223372036854775808, w 5, w 5)
  call $pr(l %r)
  %v =w call $br(w 3, w 9)
  %v2 =w call $br(w -3, w 0)
  %v3 =w call $br(w 9, w 9)
  %v4 =w call $br(w 0, w -2)
  %s =w add %v, %v2
  %s =w mul %s, 7
  %s =w add %s, %v3
  %s =w xor %s, %v4
  %vl =l extsw %s
  call $pr(l %vl)
  ret 0
}
"#;

#[test]
fn comparisons_and_branches() {
    check("cmp", &with_pr(CMP));
}

const MEM: &str = r#"
data $tab = { w 1 2 3, b 200, h 65535, l $tab + 4, z 3, l -1 }
data $zero = { z 64 }
data $str = { b "hello", b 0 }
data $ptr = { l $str + 1 }
export function w $main() {
@s
  %p =l alloc8 64
  %q =l alloc4 16
  storel 81985529216486895, %p
  %a =l loadl %p
  call $pr(l %a)
  %p4 =l add %p, 4
  %w =w loadsw %p4
  %wl =l extsw %w
  call $pr(l %wl)
  %uw =l loaduw %p4
  call $pr(l %uw)
  %sh =w loadsh %p
  %shl =l extsw %sh
  call $pr(l %shl)
  %uh =w loaduh %p
  %uhl =l extuw %uh
  call $pr(l %uhl)
  %p7 =l add %p, 7
  %sb =w loadsb %p7
  %sbl =l extsw %sb
  call $pr(l %sbl)
  %ub =w loadub %p7
  %ubl =l extuw %ub
  call $pr(l %ubl)
  %p8 =l add %p, 8
  storew -2, %p8
  %p12 =l add %p, 12
  storeh 70000, %p12
  %p14 =l add %p, 14
  storeb 511, %p14
  %x =l loadl %p8
  call $pr(l %x)
  blit %p, %q, 16
  %y =l loadl %q
  %q8 =l add %q, 8
  %z =l loadl %q8
  %yz =l xor %y, %z
  call $pr(l %yz)
  %t8 =l add $tab, 12
  %tb =w loadub %t8
  %tbl =l extuw %tb
  call $pr(l %tbl)
  %t13 =l add $tab, 13
  %th =w loadsh %t13
  %thl =l extsw %th
  call $pr(l %thl)
  %t15 =l add $tab, 15
  %tp =l loadl %t15
  %tw =w loadsw %tp
  %twl =l extsw %tw
  call $pr(l %twl)
  %z8 =l add $zero, 8
  storel 77, %z8
  %zz =l loadl %z8
  call $pr(l %zz)
  %sp =l loadl $ptr
  %c =w loadub %sp
  %r =w call $putchar(w %c)
  %r =w call $putchar(w 10)
  blit $str, %q, 6
  %c2 =w loadub %q
  %r =w call $putchar(w %c2)
  ret 0
}
"#;

#[test]
fn loads_stores_data_and_blit() {
    check("mem", &with_pr(MEM));
}

const FLT: &str = r#"
function d $poly(d %x, s %y, w %i, d %z) {
@s
  %a =d mul %x, %x
  %b =d exts %y
  %c =d add %a, %b
  %di =d swtof %i
  %e =d sub %c, %di
  %f =d div %e, %z
  %g =d neg %f
  ret %g
}
function s $half(s %x) {
@s
  %r =s mul %x, s_0.5
  ret %r
}
function l $fcmp(d %a, d %b) {
@s
  %r =l copy 0
  %c =l ceqd %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cned %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cltd %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cled %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cgtd %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cged %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cod %a, %b
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cuod %a, %b
  %r =l or %r, %c
  %as =s truncd %a
  %bs =s truncd %b
  %r =l shl %r, 1
  %c =l clts %as, %bs
  %r =l or %r, %c
  %r =l shl %r, 1
  %c =l cuos %as, %bs
  %r =l or %r, %c
  ret %r
}
export function w $main() {
@s
  %v =d call $poly(d d_1.5, s s_2.25, w -3, d d_0.5)
  %bits =l cast %v
  call $pr(l %bits)
  %i =l dtosi %v
  call $pr(l %i)
  %w =w dtosi d_-7.9
  %wl =l extsw %w
  call $pr(l %wl)
  %u =l dtoui d_1e19
  call $pr(l %u)
  %h =s call $half(s s_3.0)
  %hb =w cast %h
  %hl =l extuw %hb
  call $pr(l %hl)
  %hs =w stosi %h
  %hsl =l extsw %hs
  call $pr(l %hsl)
  %f1 =d ultof -1
  %f1b =l cast %f1
  call $pr(l %f1b)
  %f2 =s sltof -5
  %f2w =w cast %f2
  %f2l =l extuw %f2w
  call $pr(l %f2l)
  %f3 =d uwtof -1
  %f3i =l dtosi %f3
  call $pr(l %f3i)
  %nan =d div d_0, d_0
  %c1 =l call $fcmp(d d_1, d d_2)
  call $pr(l %c1)
  %c2 =l call $fcmp(d d_2, d d_2)
  call $pr(l %c2)
  %c3 =l call $fcmp(d %nan, d d_2)
  call $pr(l %c3)
  %c4 =l call $fcmp(d d_3, d d_-2)
  call $pr(l %c4)
  %z =d copy d_0
  %zz =d sub %z, d_0
  %zb =l cast %zz
  call $pr(l %zb)
  ret 0
}
"#;

#[test]
fn floats_and_conversions() {
    check("flt", &with_pr(FLT));
}

const MANY: &str = r#"
function l $many(l %a, w %b, d %c, l %d, s %e, l %f, l %g, d %h, l %i, l %j, d %k, l %l, d %m, d %n, d %o, d %p, d %q, d %r, s %s, d %t, l %u) {
@s
  %bl =l extsw %b
  %x =l add %a, %bl
  %x =l add %x, %d
  %x =l add %x, %f
  %x =l add %x, %g
  %x =l add %x, %i
  %x =l mul %x, 3
  %x =l add %x, %j
  %x =l mul %x, 3
  %x =l add %x, %l
  %x =l mul %x, 3
  %x =l add %x, %u
  %y =d add %c, %h
  %y =d add %y, %k
  %y =d mul %y, d_3
  %y =d add %y, %m
  %y =d add %y, %n
  %y =d add %y, %o
  %y =d add %y, %p
  %y =d mul %y, d_3
  %y =d add %y, %q
  %y =d add %y, %r
  %es =d exts %e
  %y =d add %y, %es
  %ss =d exts %s
  %y =d mul %y, d_3
  %y =d add %y, %ss
  %y =d add %y, %t
  %yi =l dtosi %y
  %x =l mul %x, 1000
  %x =l add %x, %yi
  ret %x
}
function w $sub8(sb %a, ub %b, sh %c, uh %d) {
@s
  %x =w add %a, %b
  %x =w add %x, %c
  %x =w add %x, %d
  ret %x
}
function ub $byte(w %x) {
@s
  ret %x
}
export function w $main() {
@s
  %r =l call $many(l 1, w 2, d d_3, l 4, s s_5, l 6, l 7, d d_8, l 9, l 10, d d_11, l 12, d d_13, d d_14, d d_15, d d_16, d d_17, d d_18, s s_19, d d_20, l 21)
  call $pr(l %r)
  %fp =l copy $many
  %r2 =l call %fp(l 1, w 2, d d_3, l 4, s s_5, l 6, l 7, d d_8, l 9, l 10, d d_11, l 12, d d_13, d d_14, d d_15, d d_16, d d_17, d d_18, s s_19, d d_20, l 21)
  %eq =w ceql %r, %r2
  %eql =l extuw %eq
  call $pr(l %eql)
  %s =w call $sub8(sb 255, ub 255, sh 65535, uh 65535)
  %sl =l extsw %s
  call $pr(l %sl)
  %b =w call $byte(w 1000)
  %bl =l extsw %b
  call $pr(l %bl)
  ret 0
}
"#;

#[test]
fn calls_with_many_arguments() {
    check("many", &with_pr(MANY));
}

const VARARGS: &str = r#"
function l $sum(w %n, ...) {
@s
  %ap =l alloc8 8
  vastart %ap
  %acc =l copy 0
@loop
  %c =l csgtw %n, 0
  jnz %c, @body, @done
@body
  %v =l vaarg %ap
  %acc =l mul %acc, 10
  %acc =l add %acc, %v
  %n =w sub %n, 1
  jmp @loop
@done
  ret %acc
}
function d $dsum(l %a, l %b, l %c, ...) {
@s
  %ap =l alloc8 8
  vastart %ap
  %x =d vaarg %ap
  %y =d vaarg %ap
  %i =l vaarg %ap
  %z =d add %x, %y
  %id =d sltof %i
  %z =d add %z, %id
  %ab =l add %a, %b
  %ab =l add %ab, %c
  %abd =d sltof %ab
  %z =d add %z, %abd
  ret %z
}
export function w $main() {
@s
  %r =l call $sum(w 11, ..., l 1, l 2, l 3, l 4, l 5, l 6, l 7, l 8, l 9, l 1, l 2)
  call $pr(l %r)
  %d =d call $dsum(l 1, l 2, l 3, ..., d d_0.5, d d_0.25, l 100)
  %dl =l cast %d
  call $pr(l %dl)
  %d2 =d call $dsum(l 1, l 2, l 3, ..., d d_0.5, d d_0.25, l 100)
  ret 0
}
"#;

#[test]
fn variadic_functions() {
    check("varargs", &with_pr(VARARGS));
}

#[test]
fn large_frame_and_spills() {
    // A frame over 2 KiB (offsets need lui/addi) and more live values than registers.
    let mut body = String::new();
    body.push_str("export function w $main() {\n@s\n  %big =l alloc16 5000\n  %p =l add %big, 4990\n  storeb 9, %p\n  %b0 =l loadub %p\n");
    for i in 0..40 {
        body.push_str(&format!(
            "  %v{i} =l mul {i}, 7919\n  %v{i} =l add %v{i}, %b0\n"
        ));
    }
    body.push_str("  call $pr(l 1)\n  %acc =l copy 0\n");
    for i in 0..40 {
        body.push_str(&format!(
            "  %acc =l xor %acc, %v{i}\n  %acc =l mul %acc, 3\n"
        ));
    }
    body.push_str("  %b =w loadub %p\n  %bl =l extuw %b\n  %acc =l add %acc, %bl\n  call $pr(l %acc)\n  ret 0\n}\n");
    check("frame", &with_pr(&body));
}

#[test]
fn long_branches() {
    // Branches and jumps over more than 4 KiB of code.
    let mut s =
        String::from("export function w $main() {\n@s\n  %x =w copy 1\n  %i =w copy 0\n@loop\n");
    for _ in 0..1200 {
        s.push_str("  %x =w mul %x, 3\n  %x =w xor %x, 5\n");
    }
    s.push_str("  %i =w add %i, 1\n  %c =l csltw %i, 3\n  jnz %c, @loop, @end\n@end\n  %r =w and %x, 127\n  ret %r\n}\n");
    check("longbr", &s);
    check_listing("longbr", &s);
    // A conditional branch forward over 4 KiB: relaxed to an inverted branch + `jal`.
    let mut s = String::from(
        "export function w $main() {\n@s\n  %x =w copy 1\n  %c =w csltw %x, 5\n  jnz %c, @far, @big\n@big\n",
    );
    for _ in 0..1200 {
        s.push_str("  %x =w mul %x, 3\n  %x =w xor %x, 5\n");
    }
    s.push_str("  %r =w and %x, 127\n  ret %r\n@far\n  ret 9\n}\n");
    check("longbr2", &s);
    check_listing("longbr2", &s);
    let asm = codegen_support::listing(&s);
    assert!(
        asm.contains(",.+8\n\tjal\tzero,"),
        "no relaxed branch in:\n{asm}"
    );
}

#[test]
fn listings_assemble_to_the_same_bytes() {
    check_listing("cmp", &with_pr(CMP));
    check_listing("mem", &with_pr(MEM));
    check_listing("flt", &with_pr(FLT));
    check_listing("many", &with_pr(MANY));
    check_listing("varargs", &with_pr(VARARGS));
}
