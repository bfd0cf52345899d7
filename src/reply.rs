//! The reply model: what a handler returns, before any encoding.
//!
//! Replies are modelled the way RESP3 types them (maps, sets, doubles, booleans, null), so a
//! handler says what it means once and the codec (`codec.rs`) writes it for the connection's
//! protocol: RESP2 flattens maps, sends sets as arrays and doubles as bulk strings. This file
//! knows nothing about sockets or commands.

use bytes::Bytes;

use crate::error::CommandError;

/// One reply, as a handler produces it.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `+text`: a status line. Must not contain CR or LF.
    Simple(Bytes),
    /// `-text`: an error. The codec replaces CR/LF with spaces, as Redis does.
    Error(CommandError),
    /// `:n`: a signed 64-bit integer.
    Integer(i64),
    /// `$len payload`: a binary-safe string.
    Bulk(Bytes),
    /// The same for a short payload carried in the reply itself: GET of a short value (or of
    /// an integer) allocates nothing for its answer. Equal to the `Bulk` of the same bytes.
    ShortBulk(ShortBulk),
    /// The null value: `$-1` in RESP2, `_` in RESP3.
    Null,
    /// The null array: `*-1` in RESP2, `_` in RESP3.
    NullArray,
    /// `*n`: an ordered list of replies.
    Array(Vec<Reply>),
    /// `%n` in RESP3; a flat array of key, value, key, value in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// `~n` in RESP3; an array in RESP2.
    Set(Vec<Reply>),
    /// `,d` in RESP3; a bulk string in RESP2.
    Double(f64),
    /// `#t`/`#f` in RESP3; the integer 1/0 in RESP2.
    Boolean(bool),
    /// `=len fmt:text` in RESP3; a bulk string (the text only) in RESP2.
    Verbatim { format: [u8; 3], text: Bytes },
}

impl Reply {
    /// `+OK`, the most common status.
    pub fn ok() -> Reply {
        Reply::Simple(Bytes::from_static(b"OK"))
    }

    /// A status line from a static string.
    pub fn simple(text: &'static str) -> Reply {
        Reply::Simple(Bytes::from_static(text.as_bytes()))
    }

    /// The answer to a HELP subcommand: one status line per line of text, as Redis sends it.
    pub fn help(lines: &[&'static str]) -> Reply {
        Reply::Array(lines.iter().copied().map(Reply::simple).collect())
    }

    /// A bulk string copied from anything byte-like.
    pub fn bulk(bytes: impl Into<Bytes>) -> Reply {
        Reply::Bulk(bytes.into())
    }

    /// A bulk string from a static string (no copy).
    pub fn bulk_static(text: &'static str) -> Reply {
        Reply::Bulk(Bytes::from_static(text.as_bytes()))
    }
}

impl Reply {
    /// The payload of a bulk string, whichever way it is carried.
    fn bulk_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(bytes) => Some(bytes),
            Reply::ShortBulk(short) => Some(short.as_bytes()),
            _ => None,
        }
    }
}

/// Replies are equal when a client could not tell them apart: a `ShortBulk` equals the `Bulk`
/// of the same bytes.
impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        match (self.bulk_bytes(), other.bulk_bytes()) {
            (Some(a), Some(b)) => return a == b,
            (Some(_), None) | (None, Some(_)) => return false,
            (None, None) => {}
        }
        match (self, other) {
            (Reply::Simple(a), Reply::Simple(b)) => a == b,
            (Reply::Error(a), Reply::Error(b)) => a == b,
            (Reply::Integer(a), Reply::Integer(b)) => a == b,
            (Reply::Null, Reply::Null) | (Reply::NullArray, Reply::NullArray) => true,
            (Reply::Array(a), Reply::Array(b)) | (Reply::Set(a), Reply::Set(b)) => a == b,
            (Reply::Map(a), Reply::Map(b)) => a == b,
            (Reply::Double(a), Reply::Double(b)) => a == b,
            (Reply::Boolean(a), Reply::Boolean(b)) => a == b,
            (
                Reply::Verbatim { format, text },
                Reply::Verbatim {
                    format: other_format,
                    text: other_text,
                },
            ) => format == other_format && text == other_text,
            _ => false,
        }
    }
}

/// The longest payload a [`ShortBulk`] carries (a 64-bit integer's text is at most 20).
pub const SHORT_BULK_MAX: usize = 30;

/// A bulk string's payload of at most [`SHORT_BULK_MAX`] bytes, inline.
#[derive(Clone, Copy)]
pub struct ShortBulk {
    len: u8,
    bytes: [u8; SHORT_BULK_MAX],
}

impl ShortBulk {
    /// `bytes`, if they are short enough.
    pub fn new(bytes: &[u8]) -> Option<ShortBulk> {
        let mut short = ShortBulk {
            len: u8::try_from(bytes.len()).ok()?,
            bytes: [0; SHORT_BULK_MAX],
        };
        short.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(short)
    }

    /// The decimal text of `n`.
    pub fn integer(n: i64) -> ShortBulk {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = n.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let mut short = ShortBulk {
            len: 0,
            bytes: [0; SHORT_BULK_MAX],
        };
        let mut len = 0;
        if n < 0 {
            short.bytes[0] = b'-';
            len = 1;
        }
        let text = &digits[at..];
        short.bytes[len..len + text.len()].copy_from_slice(text);
        short.len = (len + text.len()) as u8;
        short
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for ShortBulk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ShortBulk({:?})",
            String::from_utf8_lossy(self.as_bytes())
        )
    }
}

impl From<CommandError> for Reply {
    fn from(err: CommandError) -> Self {
        Reply::Error(err)
    }
}

#[cfg(test)]
mod short_bulk_tests {
    use super::*;

    #[test]
    fn integers_are_written_as_their_decimal_text() {
        for n in [0, 7, -7, 10, 9_999, -10_000, i64::MAX, i64::MIN] {
            assert_eq!(
                ShortBulk::integer(n).as_bytes(),
                n.to_string().as_bytes(),
                "{n}"
            );
        }
    }

    #[test]
    fn a_short_bulk_is_the_bulk_of_its_bytes() {
        let short = Reply::ShortBulk(ShortBulk::new(b"v1").expect("short"));
        assert_eq!(short, Reply::bulk("v1"));
        assert_eq!(Reply::bulk("v1"), short);
        assert_ne!(short, Reply::bulk("v2"));
        assert_ne!(short, Reply::simple("v1"));
        assert!(ShortBulk::new(&[b'x'; SHORT_BULK_MAX]).is_some());
        assert!(ShortBulk::new(&[b'x'; SHORT_BULK_MAX + 1]).is_none());
        let mut encoded = bytes::BytesMut::new();
        crate::codec::encode(&short, crate::codec::Protocol::Resp2, &mut encoded);
        assert_eq!(&encoded[..], b"$2\r\nv1\r\n");
    }
}
