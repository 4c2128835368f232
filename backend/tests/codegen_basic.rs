//! Code generation end to end: IL → object → rust-lld → `rvflash_sim`, checked against the
//! interpreter (exit code and UART output). See `codegen_support` for the harness.

mod codegen_support;

use codegen_support::{check, check_listing};

const RET: &str = "export function w $main() {\n@start\n  ret 42\n}\n";

#[test]
fn returns_a_constant() {
    assert_eq!(check("ret", RET).0, 42);
}

const ARITH: &str = r#"
function w $mix(w %a, w %b) {
@s
  %x =w add %a, %b
  %y =w mul %x, 3
  %z =w sub %y, %a
  %q =w div %z, 2
  %r =w rem %z, 5
  %u =w udiv %z, 7
  %t =w add %q, %r
  %t =w xor %t, %u
  ret %t
}
function l $big() {
@s
  %a =l copy 81985529216486895
  %b =l add %a, -1311768467463790320
  %c =l shl %b, 3
  %d =l shr %c, 7
  %e =l sar %c, 9
  %f =l xor %d, %e
  %g =l and %f, 4294967295
  %h =l or %g, 2048
  ret %h
}
export function w $main() {
@s
  %a =w call $mix(w 100, w -7)
  %c =w call $putchar(w 65)
  %b =l call $big()
  %bw =w copy %b
  %s =w add %a, %bw
  %m =w and %s, 255
  %k =w shl 1, 31
  %k2 =w sar %k, 31
  %k3 =w shr %k, 31
  %k4 =w add %k2, %k3
  %m2 =w add %m, %k4
  %n =w extub %m2
  ret %n
}
"#;

#[test]
fn integer_arithmetic() {
    check("arith", ARITH);
}

const FIB: &str = r#"
function w $fib(w %n) {
@s
  %c =w csltw %n, 2
  jnz %c, @base, @rec
@base
  ret %n
@rec
  %n1 =w sub %n, 1
  %a =w call $fib(w %n1)
  %n2 =w sub %n, 2
  %b =w call $fib(w %n2)
  %r =w add %a, %b
  ret %r
}
export function w $main() {
@s
  %r =w call $fib(w 20)
  %m =w urem %r, 251
  ret %m
}
"#;

#[test]
fn recursive_fib() {
    check("fib", FIB);
}

const LOOP_SWAP: &str = r#"
export function w $main() {
@s
  jmp @loop
@loop
  %a =w phi @s 1, @loop %b
  %b =w phi @s 2, @loop %a
  %i =w phi @s 0, @loop %i1
  %x =w phi @s 0, @loop %x1
  %t =w mul %a, 10
  %x1 =w add %x, %t
  %i1 =w add %i, 1
  %c =w csltw %i1, 7
  jnz %c, @loop, @end
@end
  %r =w add %x1, %b
  ret %r
}
"#;

#[test]
fn phi_swap_cycle() {
    check("swap", LOOP_SWAP);
}

#[test]
fn listing_assembles_to_the_same_bytes() {
    check_listing("ret", RET);
    check_listing("arith", ARITH);
    check_listing("fib", FIB);
    check_listing("swap", LOOP_SWAP);
}
