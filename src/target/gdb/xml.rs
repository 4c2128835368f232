//! The two XML documents a GDB server describes its target with: the target description
//! (`qXfer:features:read`, register numbers by name, so CSRs can be read by number) and the
//! memory map (`qXfer:memory-map:read`, which regions are flash and their erase blocks).
//!
//! A scanner for just these shapes, not an XML parser: tags, their attributes, and the text
//! of `<property>`. This file must not do I/O; the caller fetches documents.

use std::collections::HashMap;

use anyhow::Result;

/// Register numbers by name (lower case), from `target.xml` and the documents it includes.
/// `fetch` returns an annex's text.
pub fn register_map(mut fetch: impl FnMut(&str) -> Result<String>) -> Result<HashMap<String, u32>> {
    let mut map = HashMap::new();
    let mut next = 0u32;
    let root = fetch("target.xml")?;
    for tag in root.split('<').skip(1) {
        if let Some(rest) = tag.strip_prefix("xi:include") {
            if let Some(href) = attribute(rest, "href") {
                // An include's registers are numbered where it appears.
                let included = fetch(&href)?;
                number_registers(&included, &mut map, &mut next);
            }
        } else if is_tag(tag, "reg") {
            number_register(tag, &mut map, &mut next);
        }
    }
    Ok(map)
}

fn is_tag(tag: &str, name: &str) -> bool {
    tag.strip_prefix(name)
        .is_some_and(|rest| rest.starts_with([' ', '\t', '\n', '\r', '/', '>']))
}

fn number_registers(doc: &str, map: &mut HashMap<String, u32>, next: &mut u32) {
    for tag in doc.split('<').skip(1) {
        if is_tag(tag, "reg") {
            number_register(tag, map, next);
        }
    }
}

fn number_register(tag: &str, map: &mut HashMap<String, u32>, next: &mut u32) {
    if let Some(num) = attribute(tag, "regnum").and_then(|n| n.parse().ok()) {
        *next = num;
    }
    if let Some(name) = attribute(tag, "name") {
        map.entry(name.to_ascii_lowercase()).or_insert(*next);
    }
    *next += 1;
}

/// One region of a server's memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapRegion {
    pub start: u64,
    pub length: u64,
    /// Flash, written with `vFlash*` packets, erased in blocks of `blocksize`.
    pub flash: bool,
    /// The erase block size of a flash region (0 when the map does not say).
    pub blocksize: u64,
}

impl MapRegion {
    /// True when `addr` lies inside the region.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr - self.start < self.length
    }
}

/// Parses a memory map (`<memory type="flash" start=".." length=".."><property
/// name="blocksize">..</property></memory>`); regions it cannot read are skipped.
pub fn memory_map(doc: &str) -> Vec<MapRegion> {
    let mut regions = Vec::new();
    let mut rest = doc;
    while let Some(pos) = rest.find("<memory") {
        rest = &rest[pos + "<memory".len()..];
        if !rest.starts_with([' ', '\t', '\n', '\r']) {
            continue; // `<memory-map>`
        }
        let head_end = rest.find('>').unwrap_or(rest.len());
        let head = &rest[..head_end];
        let body_end = if head.ends_with('/') {
            head_end
        } else {
            rest.find("</memory>").unwrap_or(rest.len())
        };
        let body = &rest[head_end.min(body_end)..body_end];
        let number = |text: Option<String>| text.and_then(|t| parse_number(&t));
        let (Some(start), Some(length)) = (
            number(attribute(head, "start")),
            number(attribute(head, "length")),
        ) else {
            continue;
        };
        let flash = attribute(head, "type").is_some_and(|t| t == "flash");
        let blocksize = property(body, "blocksize")
            .and_then(|t| parse_number(&t))
            .unwrap_or(0);
        regions.push(MapRegion {
            start,
            length,
            flash,
            blocksize,
        });
        rest = &rest[body_end..];
    }
    regions
}

/// The text of `<property name="NAME">TEXT</property>` in `body`.
fn property(body: &str, name: &str) -> Option<String> {
    let mut rest = body;
    while let Some(pos) = rest.find("<property") {
        rest = &rest[pos + "<property".len()..];
        let head_end = rest.find('>')?;
        if attribute(&rest[..head_end], "name").as_deref() == Some(name) {
            let text = &rest[head_end + 1..];
            let end = text.find('<').unwrap_or(text.len());
            return Some(text[..end].trim().to_owned());
        }
    }
    None
}

/// `0x..` hex or decimal.
fn parse_number(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// The value of `name="..."` (or `'...'`) in an XML tag body.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let tag = tag.split('>').next()?;
    let key = format!("{name}=");
    let mut search = tag;
    while let Some(pos) = search.find(&key) {
        let preceded_ok = pos == 0
            || search[..pos]
                .chars()
                .last()
                .is_some_and(char::is_whitespace);
        let rest = &search[pos + key.len()..];
        if preceded_ok {
            let quote = rest.chars().next()?;
            if quote == '"' || quote == '\'' {
                let body = &rest[1..];
                return body.find(quote).map(|end| body[..end].to_owned());
            }
        }
        search = rest;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_numbers_follow_order_regnum_and_includes() {
        let docs: HashMap<&str, &str> = [
            (
                "target.xml",
                r#"<?xml version="1.0"?><target><architecture>riscv:rv64</architecture>
                   <xi:include href="core.xml"/><xi:include href='csr.xml'/></target>"#,
            ),
            (
                "core.xml",
                r#"<feature><reg name="zero" bitsize="64"/><reg name="ra"/>
                   <reg name="pc" bitsize="64" regnum="32"/></feature>"#,
            ),
            (
                "csr.xml",
                r#"<feature><reg name="mcause" bitsize="64" regnum="900"/>
                   <reg name='MTVAL'/><register-ignored name="x"/></feature>"#,
            ),
        ]
        .into_iter()
        .collect();
        let map = register_map(|annex| Ok(docs[annex].to_owned())).unwrap();
        assert_eq!(map["zero"], 0);
        assert_eq!(map["ra"], 1);
        assert_eq!(map["pc"], 32);
        assert_eq!(map["mcause"], 900);
        assert_eq!(map["mtval"], 901);
        assert!(!map.contains_key("x"));
    }

    #[test]
    fn memory_maps() {
        let map = memory_map(
            r#"<?xml version="1.0"?>
<!DOCTYPE memory-map PUBLIC "+//IDN gnu.org//DTD GDB Memory Map V1.0//EN" "http://sourceware.org/gdb/gdb-memory-map.dtd">
<memory-map>
<memory type="ram" start="0x0" length="0x20000000"/>
<memory type="flash" start="0x20000000" length="0x400000">
<property name="blocksize">0x1000</property>
</memory>
<memory type="rom" start="4294967296" length="16"/>
</memory-map>"#,
        );
        assert_eq!(
            map,
            vec![
                MapRegion {
                    start: 0,
                    length: 0x2000_0000,
                    flash: false,
                    blocksize: 0
                },
                MapRegion {
                    start: 0x2000_0000,
                    length: 0x40_0000,
                    flash: true,
                    blocksize: 0x1000
                },
                MapRegion {
                    start: 1 << 32,
                    length: 16,
                    flash: false,
                    blocksize: 0
                },
            ]
        );
        assert!(map[1].contains(0x2000_0000) && !map[1].contains(0x2040_0000));
        assert!(memory_map("<memory-map></memory-map>").is_empty());
    }
}
