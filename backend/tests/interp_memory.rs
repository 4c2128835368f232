//! Interpreter: loads and stores of every width, sign/zero extension, `blit`, `alloc*`,
//! data layout (alignment, strings, `z`, `$sym+off`, thread-local data) and memory errors.

#[path = "interp/support.rs"]
mod support;
use support::*;

#[test]
fn loads_extend_as_named() {
    let out = output(
        r#"
data $v = align 8 { b 255 254 253 254 1 0 0 128 }
data $f = { b "%ld %ld %ld %ld %ld %ld %lx %d %d\n", b 0 }
export function w $main() {
@start
	%sb =l loadsb $v
	%ub =l loadub $v
	%sh =l loadsh $v
	%uh =l loaduh $v
	%sw =l loadsw $v
	%uw =l loaduw $v
	%l =l loadl $v
	%wsb =w loadsb $v
	%ww =w loadw $v
	call $printf(l $f, ..., l %sb, l %ub, l %sh, l %uh, l %sw, l %uw, l %l, w %wsb, w %ww)
	ret 0
}
"#,
    );
    assert_eq!(
        out,
        "-1 255 -257 65279 -16908545 4278058751 80000001fefdfeff -1 -16908545\n"
    );
}

#[test]
fn stores_write_their_width() {
    let out = output(
        r#"
data $f = { b "%lx %g %g\n", b 0 }
export function w $main() {
@start
	%p =l alloc8 16
	storel -1, %p
	storeb 511, %p
	%p1 =l add %p, 1
	storeh 65537, %p1
	%p4 =l add %p, 4
	storew 305419896, %p4
	%v =l loadl %p
	%p8 =l add %p, 8
	stores s_1.5, %p8
	%s =s loads %p8
	%sd =d exts %s
	stored d_-2.25, %p8
	%d =d loadd %p8
	call $printf(l $f, ..., l %v, d %sd, d %d)
	ret 0
}
"#,
    );
    // storel -1 → ff..ff; storeb 511 → byte 0 = ff; storeh 65537 → bytes 1..2 = 01 00;
    // storew 0x12345678 → bytes 4..7.
    assert_eq!(out, "12345678ff0001ff 1.5 -2.25\n");
}

#[test]
fn blit_copies_bytes() {
    let out = output(
        r#"
data $src = { b "abcdefgh", b 0 }
data $dst = { b "12345678", b 0 }
export function w $main() {
@start
	blit $src, $dst, 5
	call $puts(l $dst)
	%p =l add $dst, 1
	blit $dst, %p, 3
	call $puts(l $dst)
	ret 0
}
"#,
    );
    // The overlapping blit copies "abc" over "bcd" as if through a temporary.
    assert_eq!(out, "abcde678\naabce678\n");
}

#[test]
fn alloc_is_aligned_and_freed_on_return() {
    let out = output(
        r#"
data $f = { b "%ld %ld %ld %d\n", b 0 }
function l $leak() {
@start
	%p =l alloc4 4
	storew 7, %p
	ret %p
}
export function w $main() {
@start
	%odd =l alloc4 1
	%a =l alloc16 1
	%b =l alloc8 3
	%c =l alloc4 2
	%a15 =l and %a, 15
	%b7 =l and %b, 7
	%c3 =l and %c, 3
	%inside =w cultl %a, %odd
	call $printf(l $f, ..., l %a15, l %b7, l %c3, w %inside)
	ret 0
}
"#,
    );
    assert_eq!(out, "0 0 0 1\n");
    let e = error(
        r#"
function l $leak() {
@start
	%p =l alloc4 4
	storew 7, %p
	ret %p
}
export function w $main() {
@start
	%p =l call $leak()
	%v =w loadw %p
	ret %v
}
"#,
    );
    assert!(e.msg.contains("freed stack memory"), "{}", e.msg);
}

#[test]
fn data_layout() {
    let out = output(
        r#"
data $a = { b 1 }
data $b = align 16 { w 7 }
data $c = { l $b + 4, l $a, w -1 }
data $z = { b 1, z 3, b 2, h 300 }
data $s = { b "A\n\"", b 0 }
data $fl = { s s_1.5, d d_0.25 }
data $f = { b "%ld %d %d %d %d %d %d %d %d %s%g %g\n", b 0 }
export function w $main() {
@start
	%b15 =l and $b, 15
	%c0 =l loadl $c
	%b4 =l add $b, 4
	%ok0 =w ceql %c0, %b4
	%c8 =l add $c, 8
	%c1 =l loadl %c8
	%ok1 =w ceql %c1, $a
	%c16 =l add $c, 16
	%m1 =w loadw %c16
	%z0 =w loadub $z
	%z1p =l add $z, 1
	%z1 =w loadub %z1p
	%z4p =l add $z, 4
	%z4 =w loadub %z4p
	%z5p =l add $z, 5
	%z5 =w loaduh %z5p
	%f0 =s loads $fl
	%f0d =d exts %f0
	%f4 =l add $fl, 4
	%f1 =d loadd %f4
	call $printf(l $f, ..., l %b15, w %ok0, w %ok1, w %m1, w %z0, w %z1, w %z4, w %z5, w 0, l $s, d %f0d, d %f1)
	ret 0
}
"#,
    );
    assert_eq!(out, "0 1 1 -1 1 0 2 300 0 A\n\"1.5 0.25\n");
}

#[test]
fn thread_local_data() {
    let code = exit_code(
        r#"
thread data $t = { w 5 }
export function w $main() {
@start
	%v =w loadw thread $t
	%v2 =w add %v, 1
	storew %v2, thread $t
	%r =w loadw thread $t
	ret %r
}
"#,
    );
    assert_eq!(code, 6);
}

#[test]
fn out_of_bounds_accesses_are_errors() {
    let null = error("export function w $main() {\n@start\n\t%v =w loadw 0\n\tret %v\n}\n");
    assert!(null.msg.contains("null pointer"), "{}", null.msg);
    assert_eq!(null.at.unwrap().inst, "loadsw");
    let past = error(
        "data $a = { w 1 }\nexport function w $main() {\n@start\n\t%p =l add $a, 4\n\t%v =w loadw %p\n\tret %v\n}\n",
    );
    assert!(past.msg.contains("out-of-bounds"), "{}", past.msg);
    let straddle = error(
        "data $a = { w 1 }\nexport function w $main() {\n@start\n\t%p =l add $a, 2\n\tstorew 0, %p\n\tret 0\n}\n",
    );
    assert!(straddle.msg.contains("out-of-bounds"), "{}", straddle.msg);
    let code = error(
        "function $f() {\n@start\n\tret\n}\nexport function w $main() {\n@start\n\tstorew 0, $f\n\tret 0\n}\n",
    );
    assert!(code.msg.contains("out-of-bounds"), "{}", code.msg);
    let wild = error("export function w $main() {\n@start\n\t%v =l loadl -8\n\tret 0\n}\n");
    assert!(
        wild.msg.contains("out-of-bounds") || wild.msg.contains("overflow"),
        "{}",
        wild.msg
    );
    let blit = error(
        "data $a = { w 1 }\nexport function w $main() {\n@start\n\t%p =l alloc8 64\n\tblit $a, %p, 8\n\tret 0\n}\n",
    );
    assert!(blit.msg.contains("out-of-bounds"), "{}", blit.msg);
}

#[test]
fn stack_overflow_is_an_error() {
    let e = error("export function w $main() {\n@start\n\t%p =l alloc8 1000000000\n\tret 0\n}\n");
    assert!(e.msg.contains("stack overflow"), "{}", e.msg);
}
