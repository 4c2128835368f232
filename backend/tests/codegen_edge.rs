//! Code generation edge cases: constant materialisation, values used twice in one call,
//! `jnz` on constants and `l` values, `l` temporaries in `w` contexts, unreachable blocks,
//! `hlt`, and the "not supported yet" errors (with positions).

mod codegen_support;

use codegen_support::PRINT_HEX as PR;
use codegen_support::{check, check_listing, parse};
use rvflash_backend::codegen::{self, Options};

#[test]
fn constants_of_every_shape() {
    let consts: [i64; 22] = [
        0,
        1,
        -1,
        2047,
        2048,
        -2048,
        -2049,
        0x7fff_ffff,
        0x8000_0000,
        -0x8000_0000,
        0xffff_ffff,
        0x7fff_f800,
        0x7fff_fffe,
        0x1234_5678_9abc_def0,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
        0x1000_0000_0000,
        0xfff0_0000_0000_0000u64 as i64,
        0x0000_0fff_ffff_f800,
        -0x1234_5678_9abc,
        0x8000_0800,
    ];
    let mut src = String::from(PR);
    src.push_str("export function w $main() {\n@s\n");
    for c in consts {
        src.push_str(&format!("  call $pr(l {c})\n"));
        src.push_str(&format!("  %w{} =w add {c}, 0\n", c as u64));
        src.push_str(&format!("  %x{} =l extsw %w{}\n", c as u64, c as u64));
        src.push_str(&format!("  call $pr(l %x{})\n", c as u64));
    }
    src.push_str("  %f =d copy d_3.25\n  %fb =l cast %f\n  call $pr(l %fb)\n");
    src.push_str("  %s =s copy s_-1.5\n  %sb =w cast %s\n  %sl =l extuw %sb\n  call $pr(l %sl)\n");
    src.push_str("  ret 0\n}\n");
    check("consts", &src);
    check_listing("consts", &src);
}

const ODD: &str = r#"
function l $two(l %a, l %b, l %c) {
@s
  %x =l mul %a, 100
  %y =l mul %b, 10
  %r =l add %x, %y
  %r =l add %r, %c
  ret %r
}
function w $lw(l %a) {
@s
  %w =w add %a, 1
  %c =w csltw %a, 0
  %r =w add %w, %c
  ret %r
}
export function w $main() {
@s
  %v =l copy 7
  %r =l call $two(l %v, l %v, l %v)
  call $pr(l %r)
  %big =l copy 8589934593
  %w =w call $lw(l %big)
  %wl =l extsw %w
  call $pr(l %wl)
  %neg =l copy 4294967295
  %w2 =w call $lw(l %neg)
  %w2l =l extsw %w2
  call $pr(l %w2l)
  jnz 1, @one, @never
@never
  hlt
@one
  jnz %big, @lowset, @lowclear
@lowset
  call $pr(l 1)
  jmp @next
@lowclear
  call $pr(l 0)
@next
  %hi =l copy 4294967296
  jnz %hi, @bad, @good
@bad
  call $pr(l 99)
  jmp @good
@good
  %p =w phi @next 1, @bad 2
  %pl =l extsw %p
  call $pr(l %pl)
  ret 0
@dead
  %z =w copy 5
  ret %z
}
"#;

#[test]
fn odd_but_valid_programs() {
    let src = format!("{PR}{ODD}");
    check("odd", &src);
}

fn error_of(src: &str) -> codegen::Error {
    codegen::compile(&parse(src), &Options { check: true }).expect_err("should not compile")
}

#[test]
fn unsupported_features_are_reported_with_positions() {
    let cases = [
        (
            "type :p = { b 4096 }\nfunction l $f(:p %x) {\n@s\n  ret 0\n}\n",
            "aggregates over 2048 bytes",
        ),
        (
            "section \".foo\" thread data $t = { w 1 }\n",
            "thread-local data in a custom section",
        ),
    ];
    for (src, what) in cases {
        let e = error_of(src);
        assert!(e.message.starts_with("not supported yet"), "{e}");
        assert!(e.message.contains(what), "{e}");
        assert!(e.pos.is_known(), "{e}");
    }
}

const DYN: &str = r#"
function l $fill(l %p, l %n) {
@s
  %i =l copy 0
@loop
  %c =w csltl %i, %n
  jnz %c, @body, @done
@body
  %q =l add %p, %i
  %v =w mul %i, 7
  storeb %v, %q
  %i =l add %i, 1
  jmp @loop
@done
  ret %n
}
function l $dyn(l %n, l %k, ...) {
@s
  %big =l alloc16 3000
  %end =l add %big, 2992
  storel %k, %end
  %ap =l alloc8 8
  vastart %ap
  %acc =l copy 0
  %i =l copy 1
@loop
  %c =w cslel %i, %n
  jnz %c, @body, @done
@body
  %p =l alloc8 %i
  %f =l call $fill(l %p, l %i)
  %last =l add %p, %i
  %last =l sub %last, 1
  %b =w loadub %last
  %bl =l extuw %b
  %acc =l mul %acc, 3
  %acc =l add %acc, %bl
  %i =l add %i, 1
  jmp @loop
@done
  %x =l vaarg %ap
  %y =l loadl %end
  %acc =l add %acc, %x
  %acc =l add %acc, %y
  %fixed =l alloc4 4
  storew 5, %fixed
  %fw =w loadw %fixed
  %fl =l extsw %fw
  %acc =l add %acc, %fl
  ret %acc
}
export function w $main() {
@s
  %r =l call $dyn(l 20, l 1000, ..., l 77)
  call $pr(l %r)
  ret 0
}
"#;

#[test]
fn dynamic_alloc_with_frame_pointer() {
    let src = format!("{PR}{DYN}");
    check("dyn", &src);
    check_listing("dyn", &src);
}

const ENV: &str = r#"
function w $add(env %e, w %a, w %b) {
@s
  %k =w loadw %e
  %c =w add %a, %b
  %c =w add %c, %k
  ret %c
}
export function w $main() {
@s
  %p =l alloc4 4
  storew 100, %p
  %f =l copy $add
  %r =w call $add(env %p, w 1, w 2)
  %r2 =w call %f(env %p, w %r, w 3)
  ret %r2
}
"#;

#[test]
fn env_parameters_and_arguments() {
    assert_eq!(check("env", ENV).0, 206);
}

const TLS: &str = r#"
thread data $counter = { w 5 }
thread data $zeros = { z 16 }
export function w $main() {
@s
  %c =w loadw thread $counter
  %c =w add %c, 10
  storew %c, thread $counter
  %z =l add thread $zeros, 8
  storel 7, %z
  %c2 =w loadw thread $counter
  %y =l loadl %z
  %yw =w copy %y
  %r =w add %c2, %yw
  ret %r
}
"#;

#[test]
fn thread_local_data() {
    // linker-scripts/sections.ld places .tdata/.tbss; the harness points tp at PT_TLS.
    assert_eq!(codegen_support::check("tls", TLS).0, 22);
    check_listing("tls", TLS);
    let dir = codegen_support::scratch("tls-relocs");
    let o = dir.join("t.o");
    std::fs::write(
        &o,
        codegen::compile(&parse(TLS), &Options { check: true }).unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new("riscv64-unknown-elf-objdump")
        .arg("-dr")
        .arg(&o)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for r in [
        "R_RISCV_TPREL_HI20",
        "R_RISCV_TPREL_ADD",
        "R_RISCV_TPREL_LO12_I",
    ] {
        assert!(text.contains(r), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn functions_in_custom_sections() {
    let src = "section \".text.hot\" function w $f() {\n@s\n  ret 40\n}\nexport function w $main() {\n@s\n  %r =w call $f()\n  %r =w add %r, 2\n  ret %r\n}\n";
    assert_eq!(check("section", src).0, 42);
    let asm = codegen_support::listing(src);
    assert!(asm.contains(".section .text.hot,"), "{asm}");
}

#[test]
fn large_blit_calls_memcpy() {
    let src = "function $f(l %a, l %b) {\n@s\n  blit %a, %b, 4096\n  ret\n}\n";
    let asm = codegen_support::listing(src);
    assert!(asm.contains("call\tmemcpy"), "{asm}");
    let prog = r#"
export function l $memcpy(l %d, l %s, l %n) {
@s
  %i =l copy 0
@loop
  %c =w cultl %i, %n
  jnz %c, @body, @done
@body
  %p =l add %s, %i
  %b =w loadub %p
  %q =l add %d, %i
  storeb %b, %q
  %i =l add %i, 1
  jmp @loop
@done
  ret %d
}
export function w $main() {
@s
  %a =l alloc8 4096
  %b =l alloc8 4096
  %i =l copy 0
@fill
  %p =l add %a, %i
  storeb %i, %p
  %i =l add %i, 1
  %c =w cultl %i, 4096
  jnz %c, @fill, @copy
@copy
  blit %a, %b, 4096
  %e =l add %b, 4000
  %v =w loadub %e
  ret %v
}
"#;
    assert_eq!(check("bigblit", prog).0, 4000 % 256);
}

const FOLD: &str = r#"
function w $get(l %x) {
@s
  %p =l add %x, 5000
  %q =l add %p, -4992
  storew 7, %p
  %a =w loadw %p
  %b =w loadw %q
  %r =w add %a, %b
  ret %r
}
export function w $main() {
@s
  %m =l alloc8 6000
  %m8 =l add %m, 8
  storew 3, %m8
  %r =w call $get(l %m)
  ret %r
}
"#;

#[test]
fn address_folding_falls_back_when_offsets_do_not_fit() {
    assert_eq!(check("fold", FOLD).0, 10);
    check_listing("fold", FOLD);
}
