//! The three classes of error, never mixed (see ARCHITECTURE.md):
//!
//! * [`CommandError`]: the request was understood but refused. It becomes an `-ERR ...` style
//!   reply and the connection lives on. Its `Display` is the exact text Redis 7.0 sends, without
//!   the leading `-`.
//! * [`ProtocolError`]: the bytes are not valid RESP. The server replies with Redis's text and
//!   closes the connection.
//! * I/O errors end the connection task and are logged; they have no type of their own here.

use std::fmt;

/// A refusal that becomes an error reply. `Display` gives Redis's exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// `ERR syntax error`
    Syntax,
    /// `ERR value is not an integer or out of range`
    NotInteger,
    /// `ERR value is not a valid float`
    NotFloat,
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`
    WrongType,
    /// `ERR wrong number of arguments for '<full name>' command`
    WrongArity(String),
    /// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' `
    /// (the name and the argument list already cut and quoted by the dispatcher).
    UnknownCommand { name: Vec<u8>, args: Vec<u8> },
    /// `ERR unknown subcommand '<sub>'. Try <CONTAINER> HELP.`
    UnknownSubcommand { sub: Vec<u8>, container: String },
    /// `ERR invalid expire time in '<command>' command`
    InvalidExpireTime(&'static str),
    /// Any other text, given in full including its error code (`ERR ...`, `NOPROTO ...`).
    Custom(String),
    /// Like `Custom`, for a text that quotes client bytes which need not be UTF-8.
    Bytes(Vec<u8>),
}

impl CommandError {
    /// An `ERR`-prefixed error with a command-specific message.
    pub fn err(message: impl fmt::Display) -> CommandError {
        CommandError::Custom(format!("ERR {message}"))
    }
}

impl CommandError {
    /// The exact reply text as bytes. Unknown-command errors quote what the client sent, which
    /// need not be UTF-8, so the bytes are the truth and `Display` is a lossy view of them.
    pub fn text(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            CommandError::UnknownCommand { name, args } => {
                let mut out = b"ERR unknown command '".to_vec();
                out.extend_from_slice(name);
                out.extend_from_slice(b"', with args beginning with: ");
                out.extend_from_slice(args);
                out.into()
            }
            CommandError::UnknownSubcommand { sub, container } => {
                let mut out = b"ERR unknown subcommand '".to_vec();
                out.extend_from_slice(sub);
                out.extend_from_slice(format!("'. Try {container} HELP.").as_bytes());
                out.into()
            }
            CommandError::Bytes(text) => text.as_slice().into(),
            other => other.to_string().into_bytes().into(),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Syntax => f.write_str("ERR syntax error"),
            CommandError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CommandError::NotFloat => f.write_str("ERR value is not a valid float"),
            CommandError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CommandError::WrongArity(name) => {
                write!(f, "ERR wrong number of arguments for '{name}' command")
            }
            CommandError::UnknownCommand { .. }
            | CommandError::UnknownSubcommand { .. }
            | CommandError::Bytes(_) => f.write_str(&String::from_utf8_lossy(&self.text())),
            CommandError::InvalidExpireTime(cmd) => {
                write!(f, "ERR invalid expire time in '{cmd}' command")
            }
            CommandError::Custom(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for CommandError {}

/// Malformed RESP. The connection gets `-ERR Protocol error: <text>` and is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// `invalid multibulk length`
    InvalidMultibulkLength,
    /// `invalid bulk length`
    InvalidBulkLength,
    /// `expected '$', got '<c>'`
    ExpectedDollar(u8),
    /// `too big inline request`
    TooBigInline,
    /// `too big mbulk count string`
    TooBigMbulkCount,
    /// `too big bulk count string`
    TooBigBulkCount,
    /// `unbalanced quotes in request`
    UnbalancedQuotes,
    /// `unauthenticated multibulk length`
    UnauthenticatedMultibulk,
    /// `unauthenticated bulk length`
    UnauthenticatedBulk,
}

impl ProtocolError {
    /// The reply text, including `ERR Protocol error: `, as raw bytes (the `$` error may carry
    /// any byte the client sent).
    pub fn reply_text(&self) -> Vec<u8> {
        let mut out = b"ERR Protocol error: ".to_vec();
        match self {
            ProtocolError::InvalidMultibulkLength => {
                out.extend_from_slice(b"invalid multibulk length")
            }
            ProtocolError::InvalidBulkLength => out.extend_from_slice(b"invalid bulk length"),
            ProtocolError::ExpectedDollar(c) => {
                out.extend_from_slice(b"expected '$', got '");
                out.push(*c);
                out.push(b'\'');
            }
            ProtocolError::TooBigInline => out.extend_from_slice(b"too big inline request"),
            ProtocolError::TooBigMbulkCount => out.extend_from_slice(b"too big mbulk count string"),
            ProtocolError::TooBigBulkCount => out.extend_from_slice(b"too big bulk count string"),
            ProtocolError::UnbalancedQuotes => {
                out.extend_from_slice(b"unbalanced quotes in request")
            }
            ProtocolError::UnauthenticatedMultibulk => {
                out.extend_from_slice(b"unauthenticated multibulk length")
            }
            ProtocolError::UnauthenticatedBulk => {
                out.extend_from_slice(b"unauthenticated bulk length")
            }
        }
        out
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.reply_text()))
    }
}

impl std::error::Error for ProtocolError {}
