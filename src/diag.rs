//! rvflash's own messages, the same on every subcommand, and I/O errors that name their file.
//!
//! Messages go to stderr as `rvflash: LABEL: text` (the label coloured on a terminal unless
//! `NO_COLOR` is set), so they stand apart from a program's output and from the messages of
//! the tools rvflash runs. File errors read `cannot read PATH: reason` (or `write`), and say
//! when PATH is a directory: the bare OS error names no file.

use std::io::{ErrorKind, IsTerminal, Write};
use std::path::Path;

/// Prints `rvflash: LABEL: text` to stderr; `colour` is the label's SGR code on a terminal.
pub fn message(label: &str, colour: &str, text: &str) {
    let mut err = std::io::stderr().lock();
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        writeln!(err, "\x1b[{colour}mrvflash: {label}\x1b[0m: {text}").ok();
    } else {
        writeln!(err, "rvflash: {label}: {text}").ok();
    }
}

/// Prints `rvflash: error: text` (bold red on a terminal).
pub fn error(text: &str) {
    message("error", "1;31", text);
}

/// `cannot read PATH: reason`.
pub fn read_error(path: &Path, err: std::io::Error) -> anyhow::Error {
    io_error("read", path, err)
}

/// `cannot write PATH: reason`.
pub fn write_error(path: &Path, err: std::io::Error) -> anyhow::Error {
    io_error("write", path, err)
}

fn io_error(verb: &str, path: &Path, err: std::io::Error) -> anyhow::Error {
    let path = path.display();
    if err.kind() == ErrorKind::IsADirectory {
        anyhow::anyhow!("cannot {verb} {path}: it is a directory")
    } else {
        anyhow::Error::new(err).context(format!("cannot {verb} {path}"))
    }
}

/// Reads a whole file.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| read_error(path, e))
}

/// Writes a whole file.
pub fn write(path: &Path, data: impl AsRef<[u8]>) -> anyhow::Result<()> {
    std::fs::write(path, data).map_err(|e| write_error(path, e))
}

/// Reads a text file of kind `kind` (`QBE IL`, `TOML`, ...), saying what the file is when it
/// is not text: an ELF file, or other bytes that are not UTF-8.
pub fn read_text(path: &Path, kind: &str) -> anyhow::Result<String> {
    let bytes = read(path)?;
    let path = path.display();
    // An ELF file given where text belongs: the usual mix-up between a program and its source.
    if bytes.starts_with(b"\x7fELF") {
        anyhow::bail!("{path} is an ELF file, not {kind} text");
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{path} is not UTF-8 text (binary file?)"))
}

/// A new temporary directory, named in the error when it cannot be made.
pub fn temp_dir() -> anyhow::Result<tempfile::TempDir> {
    tempfile::tempdir().map_err(|e| {
        let parent = std::env::temp_dir();
        anyhow::Error::new(e).context(format!(
            "cannot create a temporary directory in {}",
            parent.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("cannot read {}: it is a directory", dir.path().display())
        );
        let missing = dir.path().join("missing");
        let err = format!("{:#}", read(&missing).unwrap_err());
        assert!(
            err.starts_with(&format!("cannot read {}: ", missing.display())),
            "{err}"
        );
        let err = write(dir.path(), b"x").unwrap_err().to_string();
        assert!(
            err.contains("cannot write") && err.contains("directory"),
            "{err}"
        );
    }

    #[test]
    fn binary_files_are_not_text() {
        let dir = tempfile::tempdir().unwrap();
        let elf = dir.path().join("a.out");
        std::fs::write(&elf, b"\x7fELF\x02\x01\x01\0\xff\xfe").unwrap();
        let err = read_text(&elf, "QBE IL").unwrap_err().to_string();
        assert!(
            err.ends_with("a.out is an ELF file, not QBE IL text"),
            "{err}"
        );
        let bin = dir.path().join("data.bin");
        std::fs::write(&bin, b"\xff\xfe\0").unwrap();
        let err = read_text(&bin, "QBE IL").unwrap_err().to_string();
        assert!(err.ends_with("is not UTF-8 text (binary file?)"), "{err}");
    }
}
