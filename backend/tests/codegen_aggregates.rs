//! Aggregates by value (integer class): 1- and 2-word aggregates in registers and on the
//! stack, odd sizes, by-reference aggregates over 16 bytes (caller copies), aggregate
//! returns in a0/a1 and through the hidden pointer, aggregates in variadic calls.

mod codegen_support;

use codegen_support::{PRINT_HEX, check, check_listing};

const AGG: &str = r#"
type :pair = { w, w }
type :two = { l, l }
type :odd = { b, b, b }
type :six = { h 3 }
type :big = { l, w, l, b }
type :nest = { :pair, l }


function l $sum_pair(:pair %p) {
@s
  %a =w loadw %p
  %q =l add %p, 4
  %b =w loadw %q
  %s =w sub %a, %b
  %r =l extsw %s
  ret %r
}

function :two $swap(:two %t) {
@s
  %r =l alloc8 16
  %a =l loadl %t
  %t8 =l add %t, 8
  %b =l loadl %t8
  storel %b, %r
  %r8 =l add %r, 8
  storel %a, %r8
  ret %r
}

function :big $grow(:big %x, l %k) {
@s
  %r =l alloc8 32
  blit %x, %r, 32
  %a =l loadl %r
  %a =l add %a, %k
  storel %a, %r
  %p =l add %x, 24
  storeb 77, %p
  ret %r
}

function l $many(l %a, l %b, l %c, l %d, l %e, l %f, l %g, :two %t, :odd %o, :six %s, :nest %n) {
@s
  %x =l add %a, %g
  %t0 =l loadl %t
  %t8 =l add %t, 8
  %t1 =l loadl %t8
  %x =l mul %x, 31
  %x =l add %x, %t0
  %x =l mul %x, 31
  %x =l add %x, %t1
  %o2 =l add %o, 2
  %ob =w loadub %o2
  %obl =l extuw %ob
  %x =l mul %x, 31
  %x =l add %x, %obl
  %s4 =l add %s, 4
  %sh =w loaduh %s4
  %shl =l extuw %sh
  %x =l mul %x, 31
  %x =l add %x, %shl
  %n4 =l add %n, 4
  %nw =w loadw %n4
  %nwl =l extsw %nw
  %n8 =l add %n, 8
  %nl =l loadl %n8
  %x =l mul %x, 31
  %x =l add %x, %nwl
  %x =l add %x, %nl
  ret %x
}

function l $vsum(w %n, ...) {
@s
  %ap =l alloc8 8
  vastart %ap
  %a =l vaarg %ap
  %b =l vaarg %ap
  %c =l vaarg %ap
  %x =l mul %a, 1000
  %y =l mul %b, 100
  %x =l add %x, %y
  %x =l add %x, %c
  ret %x
}

export function w $main() {
@s
  %p =l alloc4 8
  storew 40, %p
  %p4 =l add %p, 4
  storew 2, %p4
  %r =l call $sum_pair(:pair %p)
  call $pr(l %r)
  %t =l alloc8 16
  storel 111, %t
  %t8 =l add %t, 8
  storel -222, %t8
  %s =:two call $swap(:two %t)
  %s0 =l loadl %s
  call $pr(l %s0)
  %s8 =l add %s, 8
  %s1 =l loadl %s8
  call $pr(l %s1)
  %b =l alloc8 32
  storel 5, %b
  %b8 =l add %b, 8
  storew 6, %b8
  %b16 =l add %b, 16
  storel 7, %b16
  %b24 =l add %b, 24
  storeb 8, %b24
  %g =:big call $grow(:big %b, l 1000)
  %g0 =l loadl %g
  call $pr(l %g0)
  %g24 =l add %g, 24
  %gb =w loadub %g24
  %gbl =l extuw %gb
  call $pr(l %gbl)
  %bb =w loadub %b24
  %bbl =l extuw %bb
  call $pr(l %bbl)
  %o =l alloc4 4
  storew 197121, %o
  %six =l alloc4 8
  storel 1125912791875585, %six
  %n =l alloc8 16
  storew 9, %n
  %n4 =l add %n, 4
  storew -10, %n4
  %n8 =l add %n, 8
  storel 12, %n8
  %m =l call $many(l 1, l 2, l 3, l 4, l 5, l 6, l 7, :two %t, :odd %o, :six %six, :nest %n)
  call $pr(l %m)
  %v =l call $vsum(w 3, ..., :two %t, l 5)
  call $pr(l %v)
  ret 0
}
"#;

#[test]
fn aggregates_by_value() {
    let agg = format!("{PRINT_HEX}{AGG}");
    check("agg", &agg);
    check_listing("agg", &agg);
}

const FPAGG: &str = r#"
type :vec = { d, d }
type :fi = { s, w }
type :one = { d }
type :three = { s 3 }
type :u = { { d } { l } }
type :nested = { :one, l }


function :vec $vadd(:vec %a, :vec %b) {
@s
  %r =l alloc8 16
  %ax =d loadd %a
  %bx =d loadd %b
  %x =d add %ax, %bx
  stored %x, %r
  %a8 =l add %a, 8
  %b8 =l add %b, 8
  %ay =d loadd %a8
  %by =d loadd %b8
  %y =d add %ay, %by
  %r8 =l add %r, 8
  stored %y, %r8
  ret %r
}

function :fi $mkfi(w %k) {
@s
  %r =l alloc4 8
  %f =s swtof %k
  stores %f, %r
  %r4 =l add %r, 4
  %k2 =w mul %k, 2
  storew %k2, %r4
  ret %r
}

function d $mix(d %d0, d %d1, d %d2, d %d3, d %d4, d %d5, d %d6, :vec %v, :fi %f, :one %o, :three %t, :u %u, :nested %n) {
@s
  %x =d add %d0, %d6
  %vx =d loadd %v
  %v8 =l add %v, 8
  %vy =d loadd %v8
  %x =d mul %x, d_3
  %x =d add %x, %vx
  %x =d mul %x, d_3
  %x =d add %x, %vy
  %fs =s loads %f
  %fd =d exts %fs
  %f4 =l add %f, 4
  %fw =w loadw %f4
  %fwd =d swtof %fw
  %x =d mul %x, d_3
  %x =d add %x, %fd
  %x =d add %x, %fwd
  %od =d loadd %o
  %x =d mul %x, d_3
  %x =d add %x, %od
  %t8 =l add %t, 8
  %ts =s loads %t8
  %tsd =d exts %ts
  %x =d mul %x, d_3
  %x =d add %x, %tsd
  %ud =d loadd %u
  %x =d add %x, %ud
  %nd =d loadd %n
  %n8 =l add %n, 8
  %nl =l loadl %n8
  %nld =d sltof %nl
  %x =d mul %x, d_3
  %x =d add %x, %nd
  %x =d add %x, %nld
  ret %x
}

export function w $main() {
@s
  %a =l alloc8 16
  stored d_1.5, %a
  %a8 =l add %a, 8
  stored d_2.5, %a8
  %v =:vec call $vadd(:vec %a, :vec %a)
  %vx =d loadd %v
  %vxb =l cast %vx
  call $pr(l %vxb)
  %v8 =l add %v, 8
  %vy =d loadd %v8
  %vyb =l cast %vy
  call $pr(l %vyb)
  %fi =:fi call $mkfi(w 7)
  %fs =s loads %fi
  %fsi =w stosi %fs
  %fsl =l extsw %fsi
  call $pr(l %fsl)
  %fi4 =l add %fi, 4
  %fw =w loadw %fi4
  %fwl =l extsw %fw
  call $pr(l %fwl)
  %o =l alloc8 8
  stored d_0.25, %o
  %t =l alloc4 12
  stores s_1, %t
  %t4 =l add %t, 4
  stores s_2, %t4
  %t8 =l add %t, 8
  stores s_4, %t8
  %u =l alloc8 8
  stored d_8, %u
  %n =l alloc8 16
  stored d_16, %n
  %n8 =l add %n, 8
  storel 32, %n8
  %m =d call $mix(d d_1, d d_2, d d_3, d d_4, d d_5, d d_6, d d_7, :vec %v, :fi %fi, :one %o, :three %t, :u %u, :nested %n)
  %mb =l cast %m
  call $pr(l %mb)
  ret 0
}
"#;

#[test]
fn aggregates_with_floats() {
    let fpagg = format!("{PRINT_HEX}{FPAGG}");
    check("fpagg", &fpagg);
    check_listing("fpagg", &fpagg);
}
