//! What an uploaded material (申请材料) really is, told by its content, never by its name.
//!
//! The platform accepts four kinds of file: PDF, JPEG and PNG scans, and OFD (GB/T 33190, the
//! national fixed-layout format of electronic licences and official documents). [`FileKind::sniff`]
//! reads the bytes:
//!
//! - PDF: `%PDF-` and a version digit at the start, and `%%EOF` within the last 1024 bytes (a
//!   truncated upload has no trailer);
//! - JPEG: `FF D8 FF` (start-of-image and the first marker);
//! - PNG: the 8-byte signature followed by a well-formed `IHDR` chunk (length 13, non-zero
//!   width and height, matching CRC-32);
//! - OFD: a ZIP archive (local file header `PK\x03\x04` at the start) whose central directory,
//!   found through the end-of-central-directory record, lists an entry named `OFD.xml` at the
//!   root. The ZIP structures are read here from the bytes, with bounded loops and checked
//!   offsets: a truncated or hostile file is simply not recognised.
//!
//! [`UploadPolicy::check`] applies a size limit and a list of allowed kinds, and refuses a name
//! whose extension contradicts the content (a `.pdf` that is a PNG). Errors say what is wrong in
//! Chinese ([`UploadError::message_zh`]) and English.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One mebibyte, the unit of size limits shown to users ("MB").
pub const MIB: u64 = 1024 * 1024;
/// The default size limit: 20 MB.
pub const DEFAULT_MAX_BYTES: u64 = 20 * MIB;

/// How far from the end a PDF's `%%EOF` may be (trailing whitespace and junk some writers add).
const PDF_EOF_WINDOW: usize = 1024;

/// A kind of file the platform accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// PDF document.
    Pdf,
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
    /// OFD document (GB/T 33190, 版式文档).
    Ofd,
}

impl FileKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FileKind; 4] = [FileKind::Pdf, FileKind::Jpeg, FileKind::Png, FileKind::Ofd];

    /// What the bytes are, or `None` when they are none of the four kinds. Reads only the
    /// content; never panics, whatever the bytes.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if is_pdf(bytes) {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if is_png(bytes) {
            Some(FileKind::Png)
        } else if is_ofd(bytes) {
            Some(FileKind::Ofd)
        } else {
            None
        }
    }

    /// The MIME type to send the file with.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Ofd => "application/ofd",
        }
    }

    /// The usual file name extension, without the dot (to name a stored or downloaded file).
    pub fn extension(self) -> &'static str {
        self.extensions().first().copied().unwrap_or("bin")
    }

    /// Every extension that names this kind, lowercase, the usual one first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Jpeg => &["jpg", "jpeg", "jpe"],
            FileKind::Png => &["png"],
            FileKind::Ofd => &["ofd"],
        }
    }

    /// The kind an extension names (any case, with or without the dot).
    pub fn from_extension(extension: &str) -> Option<FileKind> {
        let e = extension.strip_prefix('.').unwrap_or(extension);
        FileKind::ALL
            .into_iter()
            .find(|k| k.extensions().iter().any(|x| x.eq_ignore_ascii_case(e)))
    }

    /// The name of the format (the same in Chinese and English).
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF",
            FileKind::Jpeg => "JPEG",
            FileKind::Png => "PNG",
            FileKind::Ofd => "OFD",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn is_pdf(bytes: &[u8]) -> bool {
    let header = bytes
        .strip_prefix(b"%PDF-")
        .and_then(|rest| rest.first())
        .is_some_and(u8::is_ascii_digit);
    let tail = &bytes[bytes.len().saturating_sub(PDF_EOF_WINDOW)..];
    header && tail.windows(5).any(|w| w == b"%%EOF")
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn is_png(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(&PNG_SIGNATURE) else {
        return false;
    };
    // IHDR: length 13, type, 13 data bytes (width, height, depth, colour, compression,
    // filter, interlace), CRC over type and data.
    let (Some(length), Some(chunk), Some(crc)) =
        (u32_be(rest, 0), rest.get(4..21), u32_be(rest, 21))
    else {
        return false;
    };
    let (Some(width), Some(height)) = (u32_be(rest, 8), u32_be(rest, 12)) else {
        return false;
    };
    length == 13 && chunk.starts_with(b"IHDR") && width != 0 && height != 0 && crc32(chunk) == crc
}

fn u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// CRC-32 (ISO 3309, as PNG and ZIP use it: reflected, polynomial 0xEDB88320).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

const ZIP_LOCAL: &[u8; 4] = b"PK\x03\x04";
const ZIP_CENTRAL: &[u8; 4] = b"PK\x01\x02";
const ZIP_END: &[u8; 4] = b"PK\x05\x06";
const ZIP_END_LEN: usize = 22;
const ZIP_CENTRAL_LEN: usize = 46;

fn is_ofd(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_LOCAL) && zip_has_root_entry(bytes, b"OFD.xml").unwrap_or(false)
}

/// Whether the ZIP's central directory lists `name` (whose local header must be where the
/// directory says). `None` when the ZIP structures do not hold together.
fn zip_has_root_entry(bytes: &[u8], name: &[u8]) -> Option<bool> {
    let end = find_end_record(bytes)?;
    let disk = u16_le(bytes, end + 4)?;
    let directory_disk = u16_le(bytes, end + 6)?;
    let entries = u16_le(bytes, end + 10)?;
    let directory_size = usize::try_from(u32_le(bytes, end + 12)?).ok()?;
    let directory_offset = usize::try_from(u32_le(bytes, end + 16)?).ok()?;
    if disk != 0 || directory_disk != 0 {
        // Split archives (and ZIP64, whose offsets here are 0xFFFFFFFF) are not OFD files.
        return None;
    }
    let directory_end = directory_offset.checked_add(directory_size)?;
    if directory_end > end {
        return None;
    }
    let directory = bytes.get(directory_offset..directory_end)?;
    let mut at = 0usize;
    // At most `entries` headers (a u16), each at least 46 bytes: bounded.
    for _ in 0..entries {
        let header = directory.get(at..)?;
        if !header.starts_with(ZIP_CENTRAL) {
            return None;
        }
        let name_len = usize::from(u16_le(header, 28)?);
        let extra_len = usize::from(u16_le(header, 30)?);
        let comment_len = usize::from(u16_le(header, 32)?);
        let local_offset = usize::try_from(u32_le(header, 42)?).ok()?;
        let entry_name = header.get(ZIP_CENTRAL_LEN..ZIP_CENTRAL_LEN.checked_add(name_len)?)?;
        if entry_name == name {
            let local = bytes.get(local_offset..)?;
            return Some(local.starts_with(ZIP_LOCAL));
        }
        at = at
            .checked_add(ZIP_CENTRAL_LEN)?
            .checked_add(name_len)?
            .checked_add(extra_len)?
            .checked_add(comment_len)?;
    }
    Some(false)
}

/// The offset of the end-of-central-directory record: the last signature, searched over the
/// last 22 + 65535 bytes (the record and the longest comment), whose comment length reaches
/// no further than the end of the file.
fn find_end_record(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(ZIP_END_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&at| {
        bytes.get(at..at + 4) == Some(ZIP_END.as_slice())
            && u16_le(bytes, at + 20)
                .is_some_and(|comment| at + ZIP_END_LEN + usize::from(comment) <= bytes.len())
    })
}

/// Which files an upload slot accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPolicy {
    /// The largest file accepted, in bytes.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// The kinds accepted.
    #[serde(default = "default_allowed")]
    pub allowed: Vec<FileKind>,
}

fn default_max_bytes() -> u64 {
    DEFAULT_MAX_BYTES
}

fn default_allowed() -> Vec<FileKind> {
    FileKind::ALL.to_vec()
}

impl Default for UploadPolicy {
    /// 20 MB; PDF, JPEG, PNG and OFD.
    fn default() -> Self {
        UploadPolicy {
            max_bytes: DEFAULT_MAX_BYTES,
            allowed: default_allowed(),
        }
    }
}

impl UploadPolicy {
    /// Refuses a size above the limit, before the file is read (from `Content-Length` or the
    /// bytes received so far).
    pub fn check_size(&self, size: u64) -> Result<(), UploadError> {
        if size > self.max_bytes {
            Err(UploadError::TooLarge {
                size,
                max_bytes: self.max_bytes,
            })
        } else {
            Ok(())
        }
    }

    /// What the uploaded file is, if the policy accepts it. Checks, in order: not empty, not
    /// too large, a known kind by content, an allowed kind, and a name whose extension (if it
    /// has one) names that kind. A name without an extension is fine; `declared_name` is only
    /// compared, never trusted.
    pub fn check(&self, declared_name: &str, bytes: &[u8]) -> Result<FileKind, UploadError> {
        if bytes.is_empty() {
            return Err(UploadError::Empty);
        }
        self.check_size(u64::try_from(bytes.len()).unwrap_or(u64::MAX))?;
        let Some(kind) = FileKind::sniff(bytes) else {
            return Err(UploadError::UnknownType {
                allowed: self.allowed.clone(),
            });
        };
        if !self.allowed.contains(&kind) {
            return Err(UploadError::NotAllowed {
                kind,
                allowed: self.allowed.clone(),
            });
        }
        if let Some(extension) = extension_of(declared_name)
            && FileKind::from_extension(&extension) != Some(kind)
        {
            return Err(UploadError::ExtensionMismatch { extension, kind });
        }
        Ok(kind)
    }
}

/// The extension of a file name, lowercase: the part after the last `.` of the last path
/// segment (some browsers send a full Windows path), if it is 1 to 5 ASCII letters or digits.
/// `v1.2 申请书` has no extension; `.pdf` alone is a hidden file's name, not an extension.
pub fn extension_of(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let (stem, extension) = base.rsplit_once('.')?;
    let ok = !stem.is_empty()
        && (1..=5).contains(&extension.len())
        && extension.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| extension.to_ascii_lowercase())
}

/// Why an uploaded file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than the limit.
    #[error("the file is {} MB, more than the limit of {} MB", mb(*.size, true), mb(*.max_bytes, false))]
    TooLarge {
        /// The file's size, bytes.
        size: u64,
        /// The limit, bytes.
        max_bytes: u64,
    },
    /// The content is none of the kinds the platform knows.
    #[error("the file's content is not recognised; accepted formats: {}", names(.allowed, ", "))]
    UnknownType {
        /// The kinds the policy accepts.
        allowed: Vec<FileKind>,
    },
    /// The content is a kind this upload does not accept.
    #[error("{kind} files are not accepted here; accepted formats: {}", names(.allowed, ", "))]
    NotAllowed {
        /// What the file is.
        kind: FileKind,
        /// The kinds the policy accepts.
        allowed: Vec<FileKind>,
    },
    /// The name's extension says one kind, the content another.
    #[error("the file name ends in .{extension} but the file is a {kind} file")]
    ExtensionMismatch {
        /// The extension of the declared name, lowercase.
        extension: String,
        /// What the content is.
        kind: FileKind,
    },
}

impl UploadError {
    /// The message in English (the same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// The message in Chinese, for users.
    pub fn message_zh(&self) -> String {
        match self {
            UploadError::Empty => "文件为空，请重新选择文件".to_owned(),
            UploadError::TooLarge { size, max_bytes } => format!(
                "文件大小为{} MB，超过了{} MB的上限，请压缩或拆分后重新上传",
                mb(*size, true),
                mb(*max_bytes, false)
            ),
            UploadError::UnknownType { allowed } => format!(
                "无法识别文件内容，请上传以下格式的文件：{}",
                names(allowed, "、")
            ),
            UploadError::NotAllowed { kind, allowed } => format!(
                "此处不接受{}文件，请上传以下格式的文件：{}",
                kind,
                names(allowed, "、")
            ),
            UploadError::ExtensionMismatch { extension, kind } => {
                format!("文件扩展名为“.{extension}”，但文件内容是{kind}格式，请检查是否选错了文件")
            }
        }
    }
}

fn names(kinds: &[FileKind], separator: &str) -> String {
    if kinds.is_empty() {
        return "-".to_owned();
    }
    kinds
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(separator)
}

/// A size in MB with at most one decimal (`20`, `20.1`), rounded up (a size, so that a file
/// just over the limit never shows as equal to it) or down (a limit).
fn mb(bytes: u64, round_up: bool) -> String {
    let tenths = if round_up {
        bytes.saturating_mul(10).div_ceil(MIB)
    } else {
        bytes.saturating_mul(10) / MIB
    };
    match tenths % 10 {
        0 => format!("{}", tenths / 10),
        t => format!("{}.{}", tenths / 10, t),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal PDF: header, one object, trailer, with `body` inside the object.
    fn pdf(body: &[u8]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
        out
    }

    /// A minimal JPEG: SOI, an APP0 (JFIF) segment, `body`, EOI.
    fn jpeg(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        out.extend_from_slice(body);
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    /// A PNG chunk: length, type, data, CRC over type and data.
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut typed = kind.to_vec();
        typed.extend_from_slice(data);
        out.extend_from_slice(&typed);
        out.extend_from_slice(&crc32(&typed).to_be_bytes());
        out
    }

    /// A minimal PNG: signature, IHDR of the given size (8-bit RGB), IEND.
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(chunk(b"IHDR", &ihdr));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    fn u16le(out: &mut Vec<u8>, v: usize) {
        out.extend_from_slice(&(v as u16).to_le_bytes());
    }

    fn u32le(out: &mut Vec<u8>, v: usize) {
        out.extend_from_slice(&(v as u32).to_le_bytes());
    }

    /// A ZIP archive of stored (uncompressed) entries, written field by field.
    fn zip(entries: &[(&str, &[u8])], comment: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for (name, data) in entries {
            let offset = out.len();
            let crc = crc32(data) as usize;
            out.extend_from_slice(ZIP_LOCAL);
            u16le(&mut out, 20); // version needed
            u16le(&mut out, 0); // flags
            u16le(&mut out, 0); // method: stored
            u16le(&mut out, 0); // time
            u16le(&mut out, 0x21); // date
            u32le(&mut out, crc);
            u32le(&mut out, data.len()); // compressed size
            u32le(&mut out, data.len()); // size
            u16le(&mut out, name.len());
            u16le(&mut out, 0); // extra
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);

            directory.extend_from_slice(ZIP_CENTRAL);
            u16le(&mut directory, 20); // version made by
            u16le(&mut directory, 20); // version needed
            u16le(&mut directory, 0); // flags
            u16le(&mut directory, 0); // method
            u16le(&mut directory, 0); // time
            u16le(&mut directory, 0x21); // date
            u32le(&mut directory, crc);
            u32le(&mut directory, data.len());
            u32le(&mut directory, data.len());
            u16le(&mut directory, name.len());
            u16le(&mut directory, 0); // extra
            u16le(&mut directory, 0); // comment
            u16le(&mut directory, 0); // disk
            u16le(&mut directory, 0); // internal attributes
            u32le(&mut directory, 0); // external attributes
            u32le(&mut directory, offset);
            directory.extend_from_slice(name.as_bytes());
        }
        let directory_offset = out.len();
        out.extend_from_slice(&directory);
        out.extend_from_slice(ZIP_END);
        u16le(&mut out, 0); // this disk
        u16le(&mut out, 0); // directory disk
        u16le(&mut out, entries.len());
        u16le(&mut out, entries.len());
        u32le(&mut out, directory.len());
        u32le(&mut out, directory_offset);
        u16le(&mut out, comment.len());
        out.extend_from_slice(comment);
        out
    }

    const OFD_XML: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;

    fn ofd() -> Vec<u8> {
        zip(
            &[
                ("OFD.xml", OFD_XML),
                ("Doc_0/Document.xml", b"<ofd:Document/>"),
            ],
            b"",
        )
    }

    #[test]
    fn crc32_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // Every PNG ends with an IEND chunk with this CRC.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn sniffs_minimal_files() {
        assert_eq!(FileKind::sniff(&pdf(b"<< >>")), Some(FileKind::Pdf));
        assert_eq!(FileKind::sniff(&jpeg(b"")), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(&png(1, 1)), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(&ofd()), Some(FileKind::Ofd));
        let p = png(1, 1);
        assert_eq!(
            p[p.len() - 12..],
            [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]
        );
        assert_eq!(FileKind::sniff(b""), None);
        assert_eq!(FileKind::sniff(b"hello"), None);
    }

    #[test]
    fn pdf_needs_header_version_and_trailer() {
        assert_eq!(FileKind::sniff(b"%PDF-"), None);
        assert_eq!(FileKind::sniff(b"%PDF-1.4\n%%EOF"), Some(FileKind::Pdf));
        assert_eq!(FileKind::sniff(b"%PDF-x.4\n%%EOF"), None);
        // Truncated: no %%EOF.
        let full = pdf(b"stream");
        assert_eq!(FileKind::sniff(&full[..full.len() - 7]), None);
        // %%EOF followed by padding within 1 KiB of the end is fine, further away it is not.
        let mut padded = full.clone();
        padded.extend(std::iter::repeat_n(b'\n', 1000));
        assert_eq!(FileKind::sniff(&padded), Some(FileKind::Pdf));
        padded.extend(std::iter::repeat_n(b'\n', 100));
        assert_eq!(FileKind::sniff(&padded), None);
        // The header must be at the start.
        let mut shifted = b" ".to_vec();
        shifted.extend_from_slice(&full);
        assert_eq!(FileKind::sniff(&shifted), None);
    }

    #[test]
    fn jpeg_signature() {
        assert_eq!(FileKind::sniff(&[0xFF, 0xD8, 0xFF]), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(&[0xFF, 0xD8]), None);
        assert_eq!(FileKind::sniff(&[0xFF, 0xD8, 0x00, 0xE0]), None);
    }

    #[test]
    fn png_needs_a_sound_ihdr() {
        assert_eq!(FileKind::sniff(&PNG_SIGNATURE), None);
        assert_eq!(FileKind::sniff(&png(0, 10)), None);
        assert_eq!(FileKind::sniff(&png(10, 0)), None);
        let good = png(640, 480);
        assert_eq!(FileKind::sniff(&good[..33]), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(&good[..32]), None);
        let mut bad_crc = good.clone();
        bad_crc[29] ^= 1;
        assert_eq!(FileKind::sniff(&bad_crc), None);
        let mut bad_type = good.clone();
        bad_type[12] = b'i';
        assert_eq!(FileKind::sniff(&bad_type), None);
        let mut bad_length = good;
        bad_length[11] = 14;
        assert_eq!(FileKind::sniff(&bad_length), None);
    }

    #[test]
    fn ofd_is_a_zip_with_ofd_xml_at_the_root() {
        // Anywhere in the directory, with an archive comment.
        let z = zip(
            &[("Doc_0/Document.xml", b"x"), ("OFD.xml", OFD_XML)],
            b"made by test",
        );
        assert_eq!(FileKind::sniff(&z), Some(FileKind::Ofd));
        // A plain ZIP, OFD.xml in a folder, another case, a longer name, no entries: not OFD.
        for entries in [
            vec![("readme.txt", b"hi".as_slice())],
            vec![("Doc_0/OFD.xml", OFD_XML)],
            vec![("ofd.xml", OFD_XML)],
            vec![("OFD.xml.bak", OFD_XML)],
            vec![],
        ] {
            assert_eq!(FileKind::sniff(&zip(&entries, b"")), None, "{entries:?}");
        }
    }

    #[test]
    fn broken_zips_are_not_ofd() {
        let good = ofd();
        // Every truncation.
        for len in 0..good.len() {
            assert_ne!(FileKind::sniff(&good[..len]), Some(FileKind::Ofd), "{len}");
        }
        let end = good.len() - ZIP_END_LEN;
        let set = |at: usize, value: &[u8]| {
            let mut bytes = good.clone();
            bytes[at..at + value.len()].copy_from_slice(value);
            bytes
        };
        // Directory offset past the end record (also the ZIP64 marker), a huge directory size,
        // a multi-disk archive.
        assert_eq!(
            FileKind::sniff(&set(end + 16, &u32::MAX.to_le_bytes())),
            None
        );
        assert_eq!(
            FileKind::sniff(&set(end + 12, &u32::MAX.to_le_bytes())),
            None
        );
        assert_eq!(FileKind::sniff(&set(end + 4, &1u16.to_le_bytes())), None);
        // More entries claimed than present: reading stops at the directory's end.
        assert_eq!(
            FileKind::sniff(&set(end + 10, &u16::MAX.to_le_bytes())),
            Some(FileKind::Ofd)
        );
        let other = zip(&[("a.txt", b"a")], b"");
        let e = other.len() - ZIP_END_LEN;
        let mut many = other;
        many[e + 10..e + 12].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(FileKind::sniff(&many), None);
        // A comment length reaching past the end: no end record.
        assert_eq!(FileKind::sniff(&set(end + 20, &5u16.to_le_bytes())), None);
        // The local header OFD.xml's directory entry points to is not a local header.
        let cd = u32::from_le_bytes(good[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(FileKind::sniff(&set(cd + 42, &7u32.to_le_bytes())), None);
        // Not starting with a local header (a self-extracting archive, a polyglot).
        let mut prefixed = b"MZ".to_vec();
        prefixed.extend_from_slice(&good);
        assert_eq!(FileKind::sniff(&prefixed), None);
    }

    #[test]
    fn mime_and_extensions() {
        let table = [
            (FileKind::Pdf, "application/pdf", "pdf"),
            (FileKind::Jpeg, "image/jpeg", "jpg"),
            (FileKind::Png, "image/png", "png"),
            (FileKind::Ofd, "application/ofd", "ofd"),
        ];
        for (kind, mime, ext) in table {
            assert_eq!(kind.mime(), mime);
            assert_eq!(kind.extension(), ext);
            assert_eq!(FileKind::from_extension(ext), Some(kind));
            assert_eq!(FileKind::from_extension(&ext.to_uppercase()), Some(kind));
        }
        assert_eq!(FileKind::from_extension(".JPEG"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::from_extension("zip"), None);
        assert_eq!(FileKind::Ofd.to_string(), "OFD");
        assert_eq!(
            serde_json::to_string(&FileKind::ALL).unwrap(),
            r#"["pdf","jpeg","png","ofd"]"#
        );
    }

    #[test]
    fn extensions_of_names() {
        assert_eq!(extension_of("营业执照.PDF").as_deref(), Some("pdf"));
        assert_eq!(
            extension_of(r"C:\Users\张三\Desktop\scan.final.jpg").as_deref(),
            Some("jpg")
        );
        assert_eq!(extension_of("dir/scan.png ").as_deref(), Some("png"));
        assert_eq!(extension_of("申请书"), None);
        assert_eq!(extension_of("v1.2 申请书"), None);
        assert_eq!(extension_of(".pdf"), None);
        assert_eq!(extension_of("a."), None);
        assert_eq!(extension_of("a.toolong"), None);
        assert_eq!(extension_of(""), None);
    }

    #[test]
    fn policy_accepts_matching_files() {
        let policy = UploadPolicy::default();
        assert_eq!(policy.max_bytes, 20 * 1024 * 1024);
        assert_eq!(policy.allowed, FileKind::ALL.to_vec());
        assert_eq!(policy.check("申请书.pdf", &pdf(b"")), Ok(FileKind::Pdf));
        assert_eq!(policy.check("照片.JPEG", &jpeg(b"")), Ok(FileKind::Jpeg));
        assert_eq!(policy.check("scan.png", &png(2, 3)), Ok(FileKind::Png));
        assert_eq!(policy.check("营业执照.ofd", &ofd()), Ok(FileKind::Ofd));
        // No extension: the content decides.
        assert_eq!(policy.check("blob", &ofd()), Ok(FileKind::Ofd));
        assert_eq!(policy.check("", &png(1, 1)), Ok(FileKind::Png));
    }

    #[test]
    fn policy_errors() {
        let policy = UploadPolicy::default();
        let e = policy.check("a.pdf", b"").unwrap_err();
        assert_eq!(e, UploadError::Empty);
        assert_eq!(e.message_zh(), "文件为空，请重新选择文件");
        assert_eq!(e.message_en(), "the file is empty");

        let small = UploadPolicy {
            max_bytes: 100,
            allowed: vec![FileKind::Pdf],
        };
        assert_eq!(
            small.check("a.pdf", &[b' '; 101]).unwrap_err(),
            UploadError::TooLarge {
                size: 101,
                max_bytes: 100
            }
        );
        let e = policy.check_size(DEFAULT_MAX_BYTES + 1).unwrap_err();
        assert_eq!(
            e.message_zh(),
            "文件大小为20.1 MB，超过了20 MB的上限，请压缩或拆分后重新上传"
        );
        assert_eq!(
            e.message_en(),
            "the file is 20.1 MB, more than the limit of 20 MB"
        );
        assert!(policy.check_size(DEFAULT_MAX_BYTES).is_ok());
        let e = UploadError::TooLarge {
            size: 3 * MIB,
            max_bytes: MIB + MIB / 2,
        };
        assert_eq!(
            e.message_en(),
            "the file is 3 MB, more than the limit of 1.5 MB"
        );

        let e = policy.check("a.docx", b"PK\x03\x04 word").unwrap_err();
        assert_eq!(
            e,
            UploadError::UnknownType {
                allowed: FileKind::ALL.to_vec()
            }
        );
        assert_eq!(
            e.message_zh(),
            "无法识别文件内容，请上传以下格式的文件：PDF、JPEG、PNG、OFD"
        );
        assert_eq!(
            e.message_en(),
            "the file's content is not recognised; accepted formats: PDF, JPEG, PNG, OFD"
        );

        let e = small.check("a.png", &png(1, 1)).unwrap_err();
        assert_eq!(
            e,
            UploadError::NotAllowed {
                kind: FileKind::Png,
                allowed: vec![FileKind::Pdf]
            }
        );
        assert_eq!(
            e.message_zh(),
            "此处不接受PNG文件，请上传以下格式的文件：PDF"
        );
        assert_eq!(
            e.message_en(),
            "PNG files are not accepted here; accepted formats: PDF"
        );

        // A .pdf whose content is a PNG, an .exe that is a PDF, a .jpg that is an OFD.
        let e = policy.check("营业执照.pdf", &png(1, 1)).unwrap_err();
        assert_eq!(
            e,
            UploadError::ExtensionMismatch {
                extension: "pdf".into(),
                kind: FileKind::Png
            }
        );
        assert_eq!(
            e.message_zh(),
            "文件扩展名为“.pdf”，但文件内容是PNG格式，请检查是否选错了文件"
        );
        assert_eq!(
            e.message_en(),
            "the file name ends in .pdf but the file is a PNG file"
        );
        assert!(matches!(
            policy.check("setup.exe", &pdf(b"")),
            Err(UploadError::ExtensionMismatch { .. })
        ));
        assert!(matches!(
            policy.check("scan.jpg", &ofd()),
            Err(UploadError::ExtensionMismatch { .. })
        ));
    }

    #[test]
    fn policy_serde_defaults() {
        let p: UploadPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, UploadPolicy::default());
        let p: UploadPolicy =
            serde_json::from_str(r#"{"max_bytes": 1024, "allowed": ["pdf", "ofd"]}"#).unwrap();
        assert_eq!(p.allowed, vec![FileKind::Pdf, FileKind::Ofd]);
        assert!(serde_json::from_str::<UploadPolicy>(r#"{"allowed": ["exe"]}"#).is_err());
    }

    proptest! {
        #[test]
        fn sniff_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = FileKind::sniff(&bytes);
            let _ = UploadPolicy::default().check("x.pdf", &bytes);
        }

        #[test]
        fn sniff_never_panics_behind_signatures(
            which in 0usize..4,
            tail in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut bytes = match which {
                0 => b"%PDF-1".to_vec(),
                1 => PNG_SIGNATURE.to_vec(),
                2 => ZIP_LOCAL.to_vec(),
                _ => vec![0xFF, 0xD8],
            };
            bytes.extend(tail);
            let _ = FileKind::sniff(&bytes);
            // An end record after random bytes.
            bytes.extend_from_slice(ZIP_END);
            bytes.extend([0u8; 18]);
            let _ = FileKind::sniff(&bytes);
        }

        #[test]
        fn damaged_ofd_never_panics(
            changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = ofd();
            for (at, value) in changes {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let len = bytes.len();
            let _ = FileKind::sniff(&bytes);
            let _ = FileKind::sniff(&bytes[..cut.index(len)]);
        }

        #[test]
        fn generated_files_are_recognised(
            payload in prop::collection::vec(any::<u8>(), 0..200),
            width in 1u32..,
            height in 1u32..,
            name in "[A-Za-z_/]{1,20}",
            comment in prop::collection::vec(any::<u8>(), 0..100),
        ) {
            prop_assert_eq!(FileKind::sniff(&pdf(&payload)), Some(FileKind::Pdf));
            prop_assert_eq!(FileKind::sniff(&jpeg(&payload)), Some(FileKind::Jpeg));
            prop_assert_eq!(FileKind::sniff(&png(width, height)), Some(FileKind::Png));
            let with_ofd = zip(&[(name.as_str(), &payload), ("OFD.xml", OFD_XML)], &comment);
            prop_assert_eq!(FileKind::sniff(&with_ofd), Some(FileKind::Ofd));
            let without = zip(&[(name.as_str(), &payload)], &comment);
            prop_assert_eq!(FileKind::sniff(&without), None);
        }
    }
}
