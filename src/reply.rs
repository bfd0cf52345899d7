//! The reply model: what a handler returns, before any encoding.
//!
//! Replies are modelled the way RESP3 types them (maps, sets, doubles, booleans, null), so a
//! handler says what it means once and the codec (`codec.rs`) writes it for the connection's
//! protocol: RESP2 flattens maps, sends sets as arrays and doubles as bulk strings. This file
//! knows nothing about sockets or commands.

use bytes::Bytes;

use crate::error::CommandError;

/// One reply, as a handler produces it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+text`: a status line. Must not contain CR or LF.
    Simple(Bytes),
    /// `-text`: an error. The codec replaces CR/LF with spaces, as Redis does.
    Error(CommandError),
    /// `:n`: a signed 64-bit integer.
    Integer(i64),
    /// `$len payload`: a binary-safe string.
    Bulk(Bytes),
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

    /// A bulk string copied from anything byte-like.
    pub fn bulk(bytes: impl Into<Bytes>) -> Reply {
        Reply::Bulk(bytes.into())
    }

    /// A bulk string from a static string (no copy).
    pub fn bulk_static(text: &'static str) -> Reply {
        Reply::Bulk(Bytes::from_static(text.as_bytes()))
    }
}

impl From<CommandError> for Reply {
    fn from(err: CommandError) -> Self {
        Reply::Error(err)
    }
}
