//! The JUnit XML report of a run, for CI systems (GitLab, Jenkins, GitHub test reporters).
//!
//! One `<testsuite>` named after the test binary (the caller's `suite`), in a `<testsuites>`
//! root with the same counts; a `<testcase>` per selected test, named like libtest's JUnit
//! format does it: `classname` = the module path (`tests`; `crate` for a test at the root),
//! `name` = the function name. A failed test has `<failure message="REASON">` holding its
//! captured output (the panic message and backtrace are there); an ignored test `<skipped/>`;
//! a test that passed `<system-out>` with its output, if any. Times are in seconds; the
//! timestamp is the run's start in UTC, without a zone suffix (the JUnit schema's form).
//!
//! Text is escaped for XML 1.0; characters XML 1.0 cannot hold (control characters other
//! than tab, line feed and carriage return) are written as `\u{1b}`, except that ANSI escape
//! sequences (colours) are dropped.
//!
//! This file only writes text: it never touches a board.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Finished, Verdict};

/// Writes the report of `results`, a run that started at `timestamp` and took `elapsed`.
pub(super) fn write(
    out: &mut dyn Write,
    suite: &str,
    results: &[Finished<'_>],
    timestamp: SystemTime,
    elapsed: Duration,
) -> io::Result<()> {
    let failures = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Failed(_)))
        .count();
    let skipped = results
        .iter()
        .filter(|r| r.verdict == Verdict::Ignored)
        .count();
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\"",
        results.len(),
        elapsed.as_secs_f64()
    );
    let suite = attribute(suite);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="{suite}" {counts}>"#)?;
    writeln!(
        out,
        r#"  <testsuite name="{suite}" {counts} timestamp="{}">"#,
        utc(timestamp)
    )?;
    for result in results {
        let (classname, name) = match result.test.name.rsplit_once("::") {
            Some((path, name)) => (path, name),
            None => ("crate", result.test.name.as_str()),
        };
        let open = format!(
            r#"    <testcase name="{}" classname="{}" time="{:.3}""#,
            attribute(name),
            attribute(classname),
            result.time.as_secs_f64()
        );
        match &result.verdict {
            Verdict::Passed if result.output.is_empty() => writeln!(out, "{open}/>")?,
            Verdict::Passed => writeln!(
                out,
                "{open}>\n      <system-out>{}</system-out>\n    </testcase>",
                text(&result.output)
            )?,
            Verdict::Failed(reason) => writeln!(
                out,
                "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                attribute(reason),
                text(&result.output)
            )?,
            Verdict::Ignored => writeln!(out, "{open}>\n      <skipped/>\n    </testcase>")?,
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

/// `text` escaped for XML character data.
fn text(text: &str) -> String {
    escape(text, false)
}

/// `text` escaped for a double-quoted XML attribute value (line breaks and tabs kept).
fn attribute(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            // An ANSI control sequence (ESC [ parameters final-byte): dropped.
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                while let Some(&c) = chars.peek() {
                    if !(' '..='~').contains(&c) {
                        break; // not a sequence after all: keep the character
                    }
                    chars.next();
                    if c >= '@' {
                        break; // the final byte
                    }
                }
            }
            // Not allowed in XML 1.0, even as a character reference.
            '\0'..='\x1f' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// `time` as `YYYY-MM-DDTHH:MM:SS` in UTC.
fn utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_runner::DeviceTest;

    /// An element of a parsed document.
    #[derive(Debug)]
    struct Element {
        name: String,
        attributes: Vec<(String, String)>,
        /// The decoded character data directly inside it, concatenated.
        text: String,
        children: Vec<Element>,
    }

    impl Element {
        fn attribute(&self, name: &str) -> &str {
            let found = self.attributes.iter().find(|a| a.0 == name);
            &found.unwrap_or_else(|| panic!("no {name} in {self:?}")).1
        }

        fn child(&self, name: &str) -> &Element {
            let found = self.children.iter().find(|c| c.name == name);
            found.unwrap_or_else(|| panic!("no <{name}> in {self:?}"))
        }
    }

    /// A strict parser for the XML subset `write` uses (declaration, elements, double-quoted
    /// attributes, character data, the predefined entities, character references): panics
    /// on anything that is not well-formed XML 1.0.
    struct Parser<'a> {
        rest: &'a str,
    }

    impl Parser<'_> {
        fn document(xml: &str) -> Element {
            for c in xml.chars() {
                let allowed = matches!(c, '\t' | '\n' | '\r')
                    || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}');
                assert!(allowed, "{c:?} is not an XML 1.0 character");
            }
            let mut parser = Parser { rest: xml };
            parser.expect("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            parser.skip_space();
            let root = parser.element();
            parser.skip_space();
            assert!(parser.rest.is_empty(), "after the root: {:?}", parser.rest);
            root
        }

        fn eat(&mut self, prefix: &str) -> bool {
            let found = self.rest.starts_with(prefix);
            if found {
                self.rest = &self.rest[prefix.len()..];
            }
            found
        }

        fn expect(&mut self, prefix: &str) {
            assert!(self.eat(prefix), "expected {prefix:?} at {:?}", self.rest);
        }

        fn skip_space(&mut self) {
            self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
        }

        fn name(&mut self) -> String {
            let end = self
                .rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_:.-".contains(c)))
                .unwrap_or(self.rest.len());
            let name = &self.rest[..end];
            assert!(
                name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'),
                "bad name at {:?}",
                self.rest
            );
            self.rest = &self.rest[end..];
            name.to_owned()
        }

        /// Decodes references in character data or an attribute value.
        fn decode(raw: &str) -> String {
            assert!(!raw.contains('<'), "raw < in {raw:?}");
            let mut out = String::new();
            let mut parts = raw.split('&');
            out.push_str(parts.next().unwrap());
            for part in parts {
                let (reference, after) = part.split_once(';').expect("unterminated reference");
                let c = match reference {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => {
                        let code = if let Some(hex) = reference.strip_prefix("#x") {
                            u32::from_str_radix(hex, 16)
                        } else {
                            let decimal = reference.strip_prefix('#').expect("unknown entity");
                            decimal.parse()
                        };
                        let c = char::from_u32(code.unwrap()).unwrap();
                        assert!(matches!(c, '\t' | '\n' | '\r') || c >= ' ', "&{reference};");
                        c
                    }
                };
                out.push(c);
                out.push_str(after);
            }
            out
        }

        fn element(&mut self) -> Element {
            self.expect("<");
            let mut element = Element {
                name: self.name(),
                attributes: Vec::new(),
                text: String::new(),
                children: Vec::new(),
            };
            loop {
                let spaced = self.rest.starts_with([' ', '\t', '\n', '\r']);
                self.skip_space();
                if self.eat("/>") {
                    return element;
                }
                if self.eat(">") {
                    break;
                }
                assert!(spaced, "no space before an attribute at {:?}", self.rest);
                let name = self.name();
                assert!(
                    element.attributes.iter().all(|a| a.0 != name),
                    "twice: {name}"
                );
                self.expect("=\"");
                let (raw, rest) = self.rest.split_once('"').expect("unterminated value");
                self.rest = rest;
                element.attributes.push((name, Self::decode(raw)));
            }
            loop {
                let end = self.rest.find('<').expect("unclosed element");
                element.text.push_str(&Self::decode(&self.rest[..end]));
                self.rest = &self.rest[end..];
                if self.eat("</") {
                    assert_eq!(self.name(), element.name, "mismatched end tag");
                    self.skip_space();
                    self.expect(">");
                    return element;
                }
                element.children.push(self.element());
            }
        }
    }

    fn test(name: &str) -> DeviceTest {
        DeviceTest {
            name: name.to_owned(),
            entry: 0x8000_0000,
            ignored: false,
            should_panic: false,
            timeout: None,
        }
    }

    fn finished<'t>(test: &'t DeviceTest, verdict: Verdict, output: &str) -> Finished<'t> {
        Finished {
            test,
            verdict,
            output: output.to_owned(),
            time: Duration::from_millis(1234),
        }
    }

    #[test]
    fn writes_well_formed_escaped_junit() {
        let tests = [
            test("tests::passes"),
            test("tests::inner::talks"),
            test("tests::fails"),
            test("tests::ignored"),
            test("at_root"),
        ];
        let nasty = "a <b> & \"c\" 'd' ]]> \x1b[1;31mred\x1b[0m bell\x07 nul\0\r\nnext\tline\n";
        let results = [
            finished(&tests[0], Verdict::Passed, ""),
            finished(&tests[1], Verdict::Passed, "hello\n"),
            finished(
                &tests[2],
                Verdict::Failed("exited with \"status\" 3\n<&>".into()),
                nasty,
            ),
            finished(&tests[3], Verdict::Ignored, ""),
            finished(&tests[4], Verdict::Passed, ""),
        ];
        let start = UNIX_EPOCH + Duration::from_secs(1_709_251_199);
        let mut xml = Vec::new();
        write(
            &mut xml,
            "device & <co>",
            &results,
            start,
            Duration::from_millis(5500),
        )
        .unwrap();
        let xml = String::from_utf8(xml).unwrap();

        let root = Parser::document(&xml);
        assert_eq!(root.name, "testsuites");
        assert_eq!(root.children.len(), 1);
        let suite = root.child("testsuite");
        for element in [&root, suite] {
            assert_eq!(element.attribute("name"), "device & <co>");
            assert_eq!(element.attribute("tests"), "5");
            assert_eq!(element.attribute("failures"), "1");
            assert_eq!(element.attribute("errors"), "0");
            assert_eq!(element.attribute("skipped"), "1");
            assert_eq!(element.attribute("time"), "5.500");
        }
        assert_eq!(suite.attribute("timestamp"), "2024-02-29T23:59:59");

        let cases = &suite.children;
        let names: Vec<_> = cases
            .iter()
            .map(|c| (c.attribute("classname"), c.attribute("name")))
            .collect();
        assert_eq!(
            names,
            [
                ("tests", "passes"),
                ("tests::inner", "talks"),
                ("tests", "fails"),
                ("tests", "ignored"),
                ("crate", "at_root")
            ]
        );
        assert!(cases.iter().all(|c| c.attribute("time") == "1.234"));
        assert!(cases[0].children.is_empty());
        assert_eq!(cases[1].child("system-out").text, "hello\n");
        let failure = cases[2].child("failure");
        assert_eq!(
            failure.attribute("message"),
            "exited with \"status\" 3\n<&>"
        );
        assert_eq!(
            failure.text,
            "a <b> & \"c\" 'd' ]]> red bell\\u{7} nul\\u{0}\r\nnext\tline\n"
        );
        assert_eq!(cases[2].children.len(), 1);
        assert_eq!(cases[3].child("skipped").children.len(), 0);
        assert_eq!(cases[3].children.len(), 1);
    }

    #[test]
    fn an_empty_run_is_well_formed() {
        let mut xml = Vec::new();
        write(&mut xml, "device", &[], UNIX_EPOCH, Duration::ZERO).unwrap();
        let root = Parser::document(&String::from_utf8(xml).unwrap());
        let suite = root.child("testsuite");
        assert_eq!(suite.attribute("tests"), "0");
        assert_eq!(suite.attribute("timestamp"), "1970-01-01T00:00:00");
        assert!(suite.children.is_empty());
    }

    #[test]
    fn escaping() {
        assert_eq!(text("a\tb\nc\r"), "a\tb\nc&#13;");
        assert_eq!(attribute("a\tb\nc\""), "a&#9;b&#10;c&quot;");
        // An escape that starts no sequence keeps what follows it.
        assert_eq!(text("\x1b[\n"), "\n");
        assert_eq!(text("\x1bc"), "\\u{1b}c");
        assert_eq!(text("\u{fffe}é"), "\\u{fffe}é");
    }

    #[test]
    fn utc_dates() {
        let at = |secs| utc(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(at(4_102_531_199), "2100-01-01T23:59:59");
    }
}
