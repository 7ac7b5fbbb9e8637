//! Annotated hex dumps: a message's bytes, one field a line, with what each field means.
//!
//! ```text
//! offset  bytes                                             field
//! 0000    5a 1f 0b 9c 3e 21 44 d0 ff 6b 1a 20 07 c2 9e 00   descriptor ID (GUID)
//! 0010    80                                                payload type 0x80 = Query
//! ```
//!
//! Each network's module says where its fields lie ([`Field`]); this module only lays them out.
//! Fields longer than [`BYTES_PER_LINE`] wrap, and any bytes no field covers are shown as
//! "(unlabelled)", so a dump never hides a byte.

use std::fmt::Write as _;

/// Bytes shown on one line.
pub const BYTES_PER_LINE: usize = 16;

/// The most bytes of one field shown before the rest is summarised as "… n more bytes".
pub const MAX_FIELD_BYTES: usize = 64;

/// A run of bytes with a meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Offset of the first byte.
    pub start: usize,
    /// Number of bytes.
    pub len: usize,
    /// What they mean, with the decoded value.
    pub label: String,
}

/// Builds a field list front to back: each call takes the next `len` bytes.
#[derive(Debug, Default)]
pub struct Fields {
    at: usize,
    list: Vec<Field>,
}

impl Fields {
    /// An empty list starting at offset 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `len` bytes mean `label`.
    pub fn add(&mut self, len: usize, label: impl Into<String>) -> &mut Self {
        self.list.push(Field {
            start: self.at,
            len,
            label: label.into(),
        });
        self.at += len;
        self
    }

    /// Where the next field starts.
    pub fn offset(&self) -> usize {
        self.at
    }

    /// The fields.
    pub fn finish(self) -> Vec<Field> {
        self.list
    }
}

/// Renders `bytes` with `fields` as a table: offset, bytes in hex, meaning.
pub fn render(bytes: &[u8], fields: &[Field]) -> String {
    let mut out = String::from("offset  bytes                                            field\n");
    let mut at = 0;
    for f in fields {
        if f.start < at || f.start >= bytes.len() {
            continue;
        }
        if f.start > at {
            line_group(&mut out, bytes, at, f.start - at, "(unlabelled)");
        }
        let len = f.len.min(bytes.len() - f.start);
        line_group(&mut out, bytes, f.start, len, &f.label);
        at = f.start + len;
    }
    if at < bytes.len() {
        line_group(&mut out, bytes, at, bytes.len() - at, "(unlabelled)");
    }
    out
}

fn line_group(out: &mut String, bytes: &[u8], start: usize, len: usize, label: &str) {
    let shown = len.min(MAX_FIELD_BYTES);
    let field = &bytes[start..start + shown];
    for (i, line) in field.chunks(BYTES_PER_LINE).enumerate() {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        let text = if i == 0 { label } else { "" };
        let _ = writeln!(
            out,
            "{:04x}    {:<48} {}",
            start + i * BYTES_PER_LINE,
            hex.join(" "),
            text
        );
    }
    if len > shown {
        let _ = writeln!(out, "        … {} more bytes", len - shown);
    }
}

/// Printable ASCII of `bytes`, other bytes as `.`, for labels of text fields.
pub fn ascii(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_field_and_nothing_hidden() {
        let bytes = [0x02, 0x00, 0x04, 0x00, b'h', b'i', 0xff];
        let mut f = Fields::new();
        f.add(2, "length 2").add(2, "type 4");
        let dump = render(&bytes, &f.finish());
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(lines[1], format!("0000    {:<48} length 2", "02 00"));
        assert_eq!(lines[2], format!("0002    {:<48} type 4", "04 00"));
        assert_eq!(lines[3], format!("0004    {:<48} (unlabelled)", "68 69 ff"));
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn long_fields_wrap_and_are_cut() {
        let bytes = vec![0xab; 100];
        let mut f = Fields::new();
        f.add(100, "blob");
        let dump = render(&bytes, &f.finish());
        assert_eq!(dump.lines().count(), 1 + 4 + 1);
        assert!(dump.contains("0010    ab"));
        assert!(dump.ends_with("… 36 more bytes\n"));
    }

    #[test]
    fn ascii_hides_control_bytes() {
        assert_eq!(ascii(b"ok\0\n"), "ok..");
    }
}
