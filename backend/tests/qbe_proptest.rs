//! Property tests: random and mutated IL never makes parse + verify + SSA panic or hang, and
//! whatever is accepted prints and re-parses to the same module. Random valid non-SSA
//! programs always pass the whole front end (SSA construction + dominance check).

use std::fs;
use std::path::PathBuf;

use proptest::prelude::*;
use rvflash_backend::ir::Module;
use rvflash_backend::qbe;

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/il");
    let mut v: Vec<(PathBuf, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ssa"))
        .map(|p| (p.clone(), fs::read_to_string(p).unwrap()))
        .collect();
    v.sort();
    v.into_iter().map(|(_, s)| s).collect()
}

fn stripped(mut m: Module) -> Module {
    m.clear_positions();
    m
}

/// The fuzz target's body (see fuzz/fuzz_targets/parse_verify.rs).
fn parse_verify(src: &str) {
    if let Ok(m) = qbe::parse("fuzz.ssa", src) {
        let text = m.to_string();
        let again = qbe::parse_raw("printed.ssa", &text)
            .unwrap_or_else(|e| panic!("printed module does not parse: {e}\n{text}"));
        assert_eq!(
            stripped(m),
            stripped(again),
            "round trip changed the module:\n{text}"
        );
    }
    let _ = qbe::parse_raw("fuzz.ssa", src);
}

const VOCAB: &[&str] = &[
    "%x",
    "%y",
    "%a",
    "@start",
    "@l",
    "@end",
    "$g",
    "$\"q s\"",
    ":t",
    ":valist",
    "=w",
    "=l",
    "=s",
    "=d",
    "=sb",
    "=:t",
    "add",
    "sub",
    "phi",
    "call",
    "copy",
    "loadw",
    "storew",
    "blit",
    "alloc8",
    "vastart",
    "vaarg",
    "ceqw",
    "cltd",
    "cast",
    "extsb",
    "(",
    ")",
    "{",
    "}",
    ",",
    "\n",
    "...",
    "env",
    "jmp",
    "jnz",
    "ret",
    "hlt",
    "0",
    "-1",
    "1",
    "18446744073709551616",
    "s_1.5",
    "d_nan",
    "d_-1e308",
    "\"str\\n\"",
    "\"\\q\"",
    "\"",
    "data",
    "type",
    "function",
    "export",
    "thread",
    "section",
    "align",
    "z",
    "b",
    "w",
    "l",
    "h",
    "# c\n",
    "+",
    "=",
    "dbgloc",
    "dbgfile",
    "\t",
    " ",
    "é",
    "\r\n",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
    Byte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..20).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 0..VOCAB.len()).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (any::<usize>(), 1usize..80).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0x20u8..0x7f).prop_map(|(a, b)| Mutation::Byte(a, b)),
    ]
}

fn apply(src: &str, muts: &[Mutation]) -> String {
    let mut s: Vec<u8> = src.as_bytes().to_vec();
    for m in muts {
        let at = |a: usize, len: usize| if len == 0 { 0 } else { a % (len + 1) };
        match *m {
            Mutation::Delete(a, n) => {
                let a = at(a, s.len());
                let b = (a + n).min(s.len());
                s.drain(a..b);
            }
            Mutation::Insert(a, t) => {
                let a = at(a, s.len());
                s.splice(a..a, VOCAB[t].bytes());
            }
            Mutation::Duplicate(a, n) => {
                let a = at(a, s.len());
                let b = (a + n).min(s.len());
                let chunk: Vec<u8> = s[a..b].to_vec();
                s.splice(b..b, chunk);
            }
            Mutation::Truncate(a) => {
                let a = at(a, s.len());
                s.truncate(a);
            }
            Mutation::Byte(a, b) => {
                if !s.is_empty() {
                    let a = a % s.len();
                    s[a] = b;
                }
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

/// `%v{dest} = op %v{a}, %v{b}` with op 0..4 = add sub mul copy.
type GenIns = (usize, u8, usize, usize);
/// (kind 0..4 = jmp jnz ret fall-through, target, else-target, condition var).
type GenJump = (u8, usize, usize, usize);

/// A random valid non-SSA function: variables initialised in the entry block, then
/// re-assigned in random blocks with random jumps between them.
#[derive(Clone, Debug)]
struct Prog {
    vars: Vec<u8>, // 0 = w, 1 = l, 2 = d
    blocks: Vec<(Vec<GenIns>, GenJump)>,
}

fn prog() -> impl Strategy<Value = Prog> {
    (prop::collection::vec(0u8..3, 1..6), 1usize..8).prop_flat_map(|(vars, nb)| {
        let nv = vars.len();
        let ins = (0..nv, 0u8..4, 0..nv, 0..nv);
        let jump = (0u8..4, 1..=nb, 1..=nb, 0..nv);
        let block = (prop::collection::vec(ins, 0..6), jump);
        (Just(vars), prop::collection::vec(block, nb))
            .prop_map(|(vars, blocks)| Prog { vars, blocks })
    })
}

impl Prog {
    fn to_il(&self) -> String {
        let ty = |v: usize| ["w", "l", "d"][self.vars[v] as usize];
        let mut s = String::from("export function w $f(w %arg) {\n@b0\n");
        for (v, _) in self.vars.iter().enumerate() {
            let init = match ty(v) {
                "w" => "copy %arg",
                "l" => "extsw %arg",
                _ => "copy d_1.5",
            };
            s += &format!("\t%v{v} ={} {init}\n", ty(v));
        }
        for (i, (ins, (kind, t, e, c))) in self.blocks.iter().enumerate() {
            s += &format!("@b{}\n", i + 1);
            for &(d, op, a, b) in ins {
                // Pick operands of a compatible type: same var type, else constants.
                let opnd = |x: usize| {
                    if self.vars[x] == self.vars[d] || (self.vars[x] == 1 && self.vars[d] == 0) {
                        format!("%v{x}")
                    } else if self.vars[d] == 2 {
                        "d_0.5".into()
                    } else {
                        "7".into()
                    }
                };
                let name = ["add", "sub", "mul", "copy"][op as usize];
                if name == "copy" {
                    s += &format!("\t%v{d} ={} copy {}\n", ty(d), opnd(a));
                } else {
                    s += &format!("\t%v{d} ={} {name} {}, {}\n", ty(d), opnd(a), opnd(b));
                }
            }
            let cond = if self.vars[*c] == 2 {
                "1".to_string()
            } else {
                format!("%v{c}")
            };
            match kind {
                0 => s += &format!("\tjmp @b{t}\n"),
                1 => s += &format!("\tjnz {cond}, @b{t}, @b{e}\n"),
                2 => s += "\tret 0\n",
                _ if i + 1 == self.blocks.len() => s += "\thlt\n",
                _ => {} // fall through
            }
        }
        s + "}\n"
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_never_panics(file in 0usize..64, muts in prop::collection::vec(mutation(), 1..8)) {
        let c = corpus();
        let src = apply(&c[file % c.len()], &muts);
        parse_verify(&src);
    }

    #[test]
    fn random_tokens_never_panic(toks in prop::collection::vec(0..VOCAB.len(), 0..60)) {
        let src: String = toks.iter().map(|&t| VOCAB[t]).collect::<Vec<_>>().join(" ");
        parse_verify(&src);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        parse_verify(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_non_ssa_programs_pass(p in prog()) {
        let src = p.to_il();
        let m = qbe::parse("gen.ssa", &src).unwrap_or_else(|e| panic!("{e}\n{src}"));
        parse_verify(&src);
        // SSA construction is idempotent on its own output.
        let again = qbe::parse("printed.ssa", &m.to_string()).unwrap();
        prop_assert_eq!(stripped(m), stripped(again));
    }
}
