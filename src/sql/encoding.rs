//! Statement bytes in a dump's client encoding, seen as UTF-8 text for the
//! parser, with a map back to the original bytes.
//!
//! `pg_query` parses UTF-8 `&str` only, but dumps may be in any client
//! encoding PostgreSQL supports (`SET client_encoding = 'LATIN1';`). Spans
//! handed to a rewriter must point into the original bytes, so decoding keeps
//! a table from every byte offset of the decoded text to the offset of the
//! original character it came from. An encoding that cannot be decoded
//! exactly, an invalid byte sequence, or a NUL byte is refused: a refused
//! statement can be reported, a wrong span would corrupt the output.

use std::borrow::Cow;

/// A statement as UTF-8 text plus the way back to the original bytes.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The statement as UTF-8 text (borrowed when no decoding was needed).
    pub text: Cow<'a, str>,
    /// `orig[i]` is the original byte offset of the character that covers
    /// byte `i` of `text`; `orig[text.len()]` is the original length. `None`
    /// when `text` is the original bytes themselves.
    orig: Option<Vec<u32>>,
}

impl Decoded<'_> {
    /// The original byte offset for byte offset `pos` of the decoded text.
    /// `pos` must be a character boundary of the text (or its length).
    pub fn orig_offset(&self, pos: usize) -> usize {
        match &self.orig {
            None => pos,
            Some(map) => map[pos] as usize,
        }
    }

    /// The original byte range for a range of the decoded text.
    pub fn orig_range(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        self.orig_offset(range.start)..self.orig_offset(range.end)
    }
}

/// Why a statement could not be decoded: what, and at which original byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong, for a human.
    pub message: String,
    /// Original byte offset of the offending byte, when there is one.
    pub offset: Option<usize>,
}

/// How one client encoding is turned into text.
enum Scheme {
    /// SQL_ASCII: no conversion at all; decoded like LATIN1 (one character
    /// per byte), encoded as the UTF-8 bytes themselves.
    Raw,
    /// ASCII-compatible 8-bit encodings with a fixed byte-to-char table
    /// for bytes >= 0x80 (`f(b)`).
    Bytewise(fn(u8) -> char),
    /// An `encoding_rs` decoder; strict (any malformed sequence refuses).
    Whatwg(&'static encoding_rs::Encoding),
}

/// SQL_ASCII: the server does no conversion; keep each high byte as one
/// character (U+0080 + (b - 0x80) = U+00b) so the structure of the text is
/// kept and every byte maps back one to one.
fn sql_ascii_char(b: u8) -> char {
    char::from(b)
}

/// ISO-8859-9 (LATIN5) differs from ISO-8859-1 in six positions.
fn latin5_char(b: u8) -> char {
    match b {
        0xD0 => '\u{011E}',
        0xDD => '\u{0130}',
        0xDE => '\u{015E}',
        0xF0 => '\u{011F}',
        0xFD => '\u{0131}',
        0xFE => '\u{015F}',
        _ => char::from(b),
    }
}

/// The scheme for a PostgreSQL encoding name as pg_dump writes it in
/// `SET client_encoding` (also accepting the common aliases PostgreSQL
/// accepts: case, `-` and `_` are ignored).
fn scheme_for(name: &str) -> Option<Scheme> {
    let key: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    use encoding_rs as e;
    let s = match key.as_str() {
        "SQLASCII" => Scheme::Raw,
        // ISO-8859-1 maps each byte to the code point of the same value
        // (encoding_rs would treat the label as windows-1252).
        "LATIN1" | "ISO88591" => Scheme::Bytewise(char::from),
        "LATIN5" | "ISO88599" => Scheme::Bytewise(latin5_char),
        "LATIN2" | "ISO88592" => Scheme::Whatwg(e::ISO_8859_2),
        "LATIN3" | "ISO88593" => Scheme::Whatwg(e::ISO_8859_3),
        "LATIN4" | "ISO88594" => Scheme::Whatwg(e::ISO_8859_4),
        "LATIN6" | "ISO885910" => Scheme::Whatwg(e::ISO_8859_10),
        "LATIN7" | "ISO885913" => Scheme::Whatwg(e::ISO_8859_13),
        "LATIN8" | "ISO885914" => Scheme::Whatwg(e::ISO_8859_14),
        "LATIN9" | "ISO885915" => Scheme::Whatwg(e::ISO_8859_15),
        "LATIN10" | "ISO885916" => Scheme::Whatwg(e::ISO_8859_16),
        "ISO88595" => Scheme::Whatwg(e::ISO_8859_5),
        "ISO88596" => Scheme::Whatwg(e::ISO_8859_6),
        "ISO88597" => Scheme::Whatwg(e::ISO_8859_7),
        "ISO88598" => Scheme::Whatwg(e::ISO_8859_8),
        "WIN1250" => Scheme::Whatwg(e::WINDOWS_1250),
        "WIN1251" => Scheme::Whatwg(e::WINDOWS_1251),
        "WIN1252" => Scheme::Whatwg(e::WINDOWS_1252),
        "WIN1253" => Scheme::Whatwg(e::WINDOWS_1253),
        "WIN1254" => Scheme::Whatwg(e::WINDOWS_1254),
        "WIN1255" => Scheme::Whatwg(e::WINDOWS_1255),
        "WIN1256" => Scheme::Whatwg(e::WINDOWS_1256),
        "WIN1257" => Scheme::Whatwg(e::WINDOWS_1257),
        "WIN1258" => Scheme::Whatwg(e::WINDOWS_1258),
        "WIN866" | "ALT" => Scheme::Whatwg(e::IBM866),
        "WIN874" => Scheme::Whatwg(e::WINDOWS_874),
        "KOI8R" | "KOI8" => Scheme::Whatwg(e::KOI8_R),
        "KOI8U" => Scheme::Whatwg(e::KOI8_U),
        // Multi-byte client encodings. A strict decode keeps every lead and
        // trail byte together, so a trail byte that looks like `\` or an
        // ASCII letter stays inside its character, as psql's lexer keeps it.
        "EUCJP" => Scheme::Whatwg(e::EUC_JP),
        "EUCKR" | "UHC" => Scheme::Whatwg(e::EUC_KR),
        "EUCCN" | "GBK" => Scheme::Whatwg(e::GBK),
        "GB18030" => Scheme::Whatwg(e::GB18030),
        "SJIS" | "SHIFTJIS" | "MSKANJI" => Scheme::Whatwg(e::SHIFT_JIS),
        "BIG5" => Scheme::Whatwg(e::BIG5),
        _ => return None,
    };
    Some(s)
}

/// True for the names PostgreSQL uses for UTF-8.
fn is_utf8_name(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    key == "UTF8" || key == "UNICODE"
}

/// Decode `stmt` written in client encoding `encoding` into UTF-8 text.
///
/// Plain ASCII and valid UTF-8 under a UTF-8 encoding are borrowed as they
/// are. Anything else is decoded with a byte-offset map back to the input.
/// Errors: a NUL byte anywhere, invalid UTF-8 under UTF8, a malformed
/// sequence in a multi-byte encoding, a byte an 8-bit encoding does not
/// define, or an encoding this module does not know how to decode exactly.
pub fn decode<'a>(stmt: &'a [u8], encoding: &str) -> Result<Decoded<'a>, DecodeError> {
    if let Some(pos) = memchr::memchr(0, stmt) {
        return Err(DecodeError {
            message: "statement contains a NUL byte".to_string(),
            offset: Some(pos),
        });
    }
    if stmt.is_ascii() {
        let text = std::str::from_utf8(stmt).expect("ASCII is UTF-8");
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            orig: None,
        });
    }
    if is_utf8_name(encoding) {
        return match std::str::from_utf8(stmt) {
            Ok(text) => Ok(Decoded {
                text: Cow::Borrowed(text),
                orig: None,
            }),
            Err(e) => Err(DecodeError {
                message: "statement is not valid UTF-8 although the client encoding is UTF8"
                    .to_string(),
                offset: Some(e.valid_up_to()),
            }),
        };
    }
    let Some(scheme) = scheme_for(encoding) else {
        return Err(DecodeError {
            message: format!(
                "cannot analyse non-ASCII statements in client encoding {encoding:?}: \
                 no exact decoder for it"
            ),
            offset: None,
        });
    };
    if stmt.len() >= u32::MAX as usize / 4 {
        return Err(DecodeError {
            message: "statement too large to analyse".to_string(),
            offset: None,
        });
    }
    match scheme {
        Scheme::Raw => Ok(decode_bytewise(stmt, sql_ascii_char)),
        Scheme::Bytewise(f) => Ok(decode_bytewise(stmt, f)),
        Scheme::Whatwg(enc) => decode_whatwg(stmt, enc, encoding),
    }
}

/// `text` in client encoding `encoding`: the bytes a dump in that encoding
/// holds for it. `None` when the encoding cannot represent a character of
/// it (or is not one this module knows). Under `SQL_ASCII`, which does no
/// conversion, the bytes are the UTF-8 bytes of `text`.
pub fn encode<'a>(text: &'a str, encoding: &str) -> Option<Cow<'a, [u8]>> {
    if text.is_ascii() || is_utf8_name(encoding) {
        return Some(Cow::Borrowed(text.as_bytes()));
    }
    match scheme_for(encoding)? {
        Scheme::Raw => Some(Cow::Borrowed(text.as_bytes())),
        Scheme::Bytewise(f) => {
            let mut out = Vec::with_capacity(text.len());
            for c in text.chars() {
                if c.is_ascii() {
                    out.push(c as u8);
                    continue;
                }
                let b = (0x80..=0xffu8).find(|&b| f(b) == c)?;
                out.push(b);
            }
            Some(Cow::Owned(out))
        }
        Scheme::Whatwg(enc) => {
            let mut encoder = enc.new_encoder();
            let mut out = Vec::with_capacity(text.len() * 2 + 8);
            let (result, _) =
                encoder.encode_from_utf8_to_vec_without_replacement(text, &mut out, true);
            match result {
                encoding_rs::EncoderResult::InputEmpty => {}
                _ => return None,
            }
            // A strict round trip: what PostgreSQL decodes must be the text.
            let back = decode(&out, encoding).ok()?;
            (back.text == text).then_some(Cow::Owned(out))
        }
    }
}

/// Text that [`decode`] made from a dump in client encoding `encoding`,
/// possibly edited, back to the dump's bytes: the inverse of `decode`.
/// The same as [`encode`] except under `SQL_ASCII`, where `decode` read
/// each byte as one character. Text written for the dump by the user
/// (a new role name) must go through [`dump_text`] first.
pub fn reencode<'a>(text: &'a str, encoding: &str) -> Option<Cow<'a, [u8]>> {
    if text.is_ascii() {
        return Some(Cow::Borrowed(text.as_bytes()));
    }
    if matches!(scheme_for(encoding), Some(Scheme::Raw)) {
        return text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
            .map(Cow::Owned);
    }
    encode(text, encoding)
}

/// A name given in UTF-8, as the text [`decode`] would make of the bytes
/// [`encode`] writes for it: what to put beside decoded dump text.
pub fn dump_text(name: &str, encoding: &str) -> Option<String> {
    let bytes = encode(name, encoding)?;
    decode(&bytes, encoding).ok().map(|d| d.text.into_owned())
}

/// The forms a name given in UTF-8 (on the command line) can take inside a
/// dump in client encoding `encoding`, as the decoded text the analysis
/// sees: the name itself (written in that encoding) and its UTF-8 bytes read
/// as that encoding (a role created from a UTF-8 session keeps those bytes
/// in the shared catalog, and pg_dump of a database in another encoding
/// prints them unconverted). One form when both are the same.
pub fn dump_forms(name: &str, encoding: &str) -> Vec<String> {
    let mut forms = vec![name.to_string()];
    if !name.is_ascii()
        && let Ok(d) = decode(name.as_bytes(), encoding)
        && d.text != name
    {
        forms.push(d.text.into_owned());
    }
    forms
}

fn decode_bytewise(stmt: &[u8], f: fn(u8) -> char) -> Decoded<'_> {
    let mut text = String::with_capacity(stmt.len() * 2);
    let mut orig = Vec::with_capacity(stmt.len() * 2 + 1);
    for (i, &b) in stmt.iter().enumerate() {
        let c = if b < 0x80 { char::from(b) } else { f(b) };
        text.push(c);
        for _ in 0..c.len_utf8() {
            orig.push(i as u32);
        }
    }
    orig.push(stmt.len() as u32);
    Decoded {
        text: Cow::Owned(text),
        orig: Some(orig),
    }
}

fn decode_whatwg<'a>(
    stmt: &'a [u8],
    enc: &'static encoding_rs::Encoding,
    name: &str,
) -> Result<Decoded<'a>, DecodeError> {
    use encoding_rs::DecoderResult;
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(stmt.len() * 3 + 16);
    let mut orig: Vec<u32> = Vec::with_capacity(stmt.len() * 3 + 1);
    // Start of the character whose bytes are being fed; a decoder emits a
    // character only once all of its bytes have been seen.
    let mut char_start = 0usize;
    let mut i = 0usize;
    while i < stmt.len() {
        // ASCII outside a pending sequence needs no decoder round trip.
        let b = stmt[i];
        if b < 0x80 && char_start == i {
            text.push(char::from(b));
            orig.push(i as u32);
            i += 1;
            char_start = i;
            continue;
        }
        let before = text.len();
        let last = i + 1 == stmt.len();
        let (result, read) =
            decoder.decode_to_string_without_replacement(&stmt[i..i + 1], &mut text, last);
        match result {
            DecoderResult::InputEmpty => {}
            DecoderResult::Malformed(_, _) => {
                return Err(DecodeError {
                    message: format!("invalid byte sequence for encoding {name}"),
                    offset: Some(char_start),
                });
            }
            DecoderResult::OutputFull => unreachable!("string output grows"),
        }
        debug_assert_eq!(read, 1);
        i += 1;
        if text.len() > before {
            for _ in before..text.len() {
                orig.push(char_start as u32);
            }
            char_start = i;
        }
    }
    if char_start != stmt.len() {
        return Err(DecodeError {
            message: format!("incomplete multi-byte character for encoding {name}"),
            offset: Some(char_start),
        });
    }
    orig.push(stmt.len() as u32);
    Ok(Decoded {
        text: Cow::Owned(text),
        orig: Some(orig),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_utf8_are_borrowed() {
        let d = decode(b"GRANT x TO y;", "LATIN1").unwrap();
        assert!(matches!(d.text, Cow::Borrowed(_)));
        let d = decode("SET ROLE \"caf\u{e9}\";".as_bytes(), "UTF8").unwrap();
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.orig_offset(5), 5);
    }

    #[test]
    fn latin1_maps_back_to_original_bytes() {
        let stmt = b"SET ROLE \"caf\xe9 \x80x\";";
        let d = decode(stmt, "LATIN1").unwrap();
        assert_eq!(d.text, "SET ROLE \"caf\u{e9} \u{80}x\";");
        // "x" after two 2-byte characters: decoded offset 18, original 16.
        let x = d.text.find('x').unwrap();
        assert_eq!(x, 18);
        assert_eq!(d.orig_offset(x), 16);
        assert_eq!(d.orig_offset(d.text.len()), stmt.len());
    }

    #[test]
    fn sql_ascii_keeps_one_char_per_byte() {
        let stmt = b"'\xff\xfe'";
        let d = decode(stmt, "SQL_ASCII").unwrap();
        assert_eq!(d.text.chars().count(), 4);
        assert_eq!(d.orig_range(0..d.text.len()), 0..4);
    }

    #[test]
    fn sjis_trail_backslash_stays_inside_its_character() {
        // U+8868 is 0x95 0x5C in Shift_JIS: its trail byte is a backslash.
        let stmt = b"SET ROLE '\x95\x5c';";
        let d = decode(stmt, "SJIS").unwrap();
        assert_eq!(d.text, "SET ROLE '\u{8868}';");
        let close = d.text.rfind('\'').unwrap();
        assert_eq!(d.orig_offset(close), 12);
    }

    #[test]
    fn encode_and_forms() {
        assert_eq!(encode("r\u{f4}le", "LATIN1").unwrap().as_ref(), b"r\xf4le");
        assert_eq!(encode("\u{20ac}", "WIN1252").unwrap().as_ref(), b"\x80");
        assert_eq!(encode("\u{20ac}", "LATIN1"), None);
        assert_eq!(encode("\u{30ed}", "EUC_JP").unwrap().as_ref(), b"\xa5\xed");
        assert_eq!(encode("\u{30ed}", "LATIN1"), None);
        assert_eq!(
            encode("r\u{f4}le", "SQL_ASCII").unwrap().as_ref(),
            "r\u{f4}le".as_bytes()
        );
        assert_eq!(encode("\u{11e}", "LATIN5").unwrap().as_ref(), b"\xd0");
        assert_eq!(
            dump_forms("r\u{f4}le", "LATIN1"),
            vec!["r\u{f4}le".to_string(), "r\u{c3}\u{b4}le".to_string()]
        );
        assert_eq!(
            dump_forms("r\u{f4}le", "UTF8"),
            vec!["r\u{f4}le".to_string()]
        );
        assert_eq!(dump_forms("alice", "LATIN1"), vec!["alice".to_string()]);
        // SQL_ASCII: dump text goes back byte for byte; a user's name is UTF-8.
        let d = decode(b"r\xf4le", "SQL_ASCII").unwrap();
        assert_eq!(reencode(&d.text, "SQL_ASCII").unwrap().as_ref(), b"r\xf4le");
        let new = dump_text("\u{e9}", "SQL_ASCII").unwrap();
        assert_eq!(
            reencode(&new, "SQL_ASCII").unwrap().as_ref(),
            "\u{e9}".as_bytes()
        );
        assert_eq!(reencode("\u{e9}", "LATIN1").unwrap().as_ref(), b"\xe9");
    }

    #[test]
    fn refusals() {
        assert_eq!(decode(b"a\0b", "UTF8").unwrap_err().offset, Some(1));
        assert_eq!(decode(b"a\xffb", "UTF8").unwrap_err().offset, Some(1));
        // 0x95 followed by a byte that cannot trail it.
        assert!(decode(b"'\x95\x20'", "SJIS").is_err());
        // Truncated multi-byte character at the end.
        assert!(decode(b"'\x95", "SJIS").is_err());
        assert!(decode(b"'\xa4", "EUC_TW").is_err());
        // ISO-8859-3 leaves 0xA5 undefined.
        assert!(decode(b"'\xa5'", "LATIN3").is_err());
    }
}
