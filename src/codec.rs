//! RESP framing: requests in, replies out.
//!
//! This file owns two things and nothing else:
//!
//! * **Framing of requests** ([`parse_request`]): cutting one request (a RESP multibulk array or
//!   an inline line) off the front of the connection's read buffer, with exactly the protocol
//!   errors, limits and leniencies of Redis 7.0's `networking.c`.
//! * **Encoding of replies** ([`encode`]): writing a [`Reply`] as RESP2 or RESP3 bytes, the way
//!   Redis's `addReply*` functions do, including `%.17g` doubles ([`format_double`]).
//!
//! It must not know anything about commands: it never looks at what the arguments say, never
//! decides what to reply, and never touches the socket. The connection feeds it bytes and
//! writes out what it produces; the dispatcher gives meaning to the arguments.
//!
//! The parser is stateless between calls: every call re-reads the frame at the front of the
//! buffer from its start. That keeps the connection simple, and it stays cheap because payloads
//! are skipped by their announced length rather than scanned, and nothing is allocated until
//! the whole frame has arrived.

use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{CommandError, ProtocolError};
use crate::reply::Reply;

/// The longest inline request, or multibulk header line, that may sit in the buffer without
/// its line terminator (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Before authentication Redis refuses arrays with more elements than this...
const UNAUTH_MAX_MULTIBULK: i64 = 10;
/// ...and bulk strings longer than this, so that an unauthenticated client cannot make the
/// server buffer much.
const UNAUTH_MAX_BULK: i64 = 16384;

/// Limits the parser applies; filled by the connection from config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest bulk string a request may announce.
    pub max_bulk_len: u64,
    /// False while the server requires a password the client has not given yet.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// What one complete request in the buffer turned out to be.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A command and its arguments, exactly as sent (nothing is interpreted here).
    Command(Vec<Bytes>),
    /// `*0`, `*-1` (any count <= 0) or an empty inline line: consumed, and Redis sends no reply.
    Empty,
}

/// Parse one request from the front of `buf`.
///
/// * `Ok(Some(frame))`: the request's bytes were removed from `buf`.
/// * `Ok(None)`: the request is incomplete; `buf` is untouched, read more.
/// * `Err(e)`: a protocol error. The caller replies with `e` and closes the connection, as
///   Redis does; the state of `buf` does not matter any more.
///
/// Errors are reported as soon as the bytes that cause them are buffered, even if the rest of
/// the frame has not arrived, because that is when Redis reports them.
pub fn parse_request(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Frame>, ProtocolError> {
    Parser::default().parse(buf, limits)
}

/// A request parser for one connection: like [`parse_request`], but it remembers how far into
/// an incomplete multibulk request it has checked, so that every read of a slowly arriving
/// request costs work in proportion to the new bytes only. Feed it one connection's buffer,
/// which only ever grows at the back between calls.
#[derive(Debug, Default)]
pub struct Parser {
    resume: Resume,
    /// The payload ranges of the elements walked so far (`resume.elements` of them), so that
    /// a complete frame is walked once, not once to check it and again to slice it.
    ranges: Vec<std::ops::Range<usize>>,
    /// An emptied argument vector handed back with `recycle`, for the next request.
    spare: Vec<Bytes>,
}

impl Parser {
    /// See [`parse_request`].
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Frame>, ProtocolError> {
        // Redis picks the request type from the first byte alone: anything that does not start
        // with `*` is inline, even `$-5\r\n` (which becomes an unknown command named `$-5`).
        match buf.first() {
            None => Ok(None),
            Some(b'*') => parse_multibulk(
                buf,
                limits,
                &mut self.resume,
                &mut self.ranges,
                &mut self.spare,
            ),
            Some(_) => parse_inline(buf),
        }
    }

    /// Hand back the arguments of a request that has been executed: the vector (emptied) is
    /// reused for the next request, so a request allocates nothing for its argument list.
    pub fn recycle(&mut self, mut argv: Vec<Bytes>) {
        if argv.capacity() <= KEEP_RANGES {
            argv.clear();
            self.spare = argv;
        }
    }
}

/// Position of the first `needle` in `hay`, searched the way C's `strchr` searches a
/// NUL-terminated buffer: a NUL byte before the needle ends the search with no match.
///
/// Redis finds line ends with `strchr`, so a NUL before the `\n` (or `\r`) means "no line end
/// yet": it keeps waiting until the too-big limit trips. We reproduce that.
fn find_in_c_string(hay: &[u8], needle: u8) -> Option<usize> {
    let at = hay.iter().position(|&b| b == needle || b == 0)?;
    (hay[at] == needle).then_some(at)
}

// ---------------------------------------------------------------------------------------------
// Inline requests
// ---------------------------------------------------------------------------------------------

/// An inline request: one line ended by `\n` (an optional `\r` before it is dropped), split
/// into words with [`split_args`].
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
    let Some(newline) = find_in_c_string(buf, b'\n') else {
        // No line end yet. Only a bounded amount may be buffered while we wait.
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(None);
    };
    let line_end = if newline > 0 && buf[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    };
    let words = split_args(&buf[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
    buf.advance(newline + 1);
    if words.is_empty() {
        return Ok(Some(Frame::Empty));
    }
    // Each word is already its own Vec; `Bytes::from` takes it over without copying.
    Ok(Some(Frame::Command(
        words.into_iter().map(Bytes::from).collect(),
    )))
}

/// Redis's splitting of an inline line / config-file line (sdssplitargs semantics): None on
/// unbalanced quotes.
///
/// * Words are separated by whitespace; leading whitespace is C's `isspace` (space, `\t`,
///   `\n`, `\v`, `\f`, `\r`) but an unquoted word ends only at space, `\n`, `\r` or `\t`.
/// * `"..."` understands `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a`, and backslash + any other byte
///   means that byte. `'...'` understands only `\'`.
/// * A quote may start in the middle of a word (`a"b c"` is the single word `ab c`), but a
///   closing quote must be followed by whitespace or the end, else the line is unbalanced.
/// * The input is read as a C string: it ends at the first NUL byte.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let line = &line[..end];
    let mut words = Vec::new();
    let mut pos = 0;
    loop {
        while pos < line.len() && is_c_space(line[pos]) {
            pos += 1;
        }
        if pos == line.len() {
            return Some(words);
        }
        let (word, next) = next_word(line, pos)?;
        words.push(word);
        pos = next;
    }
}

/// C's `isspace` in the "C" locale, which is what Redis runs with for this purpose.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Where the scanner of one word is: outside quotes, inside `"..."` or inside `'...'`.
#[derive(Clone, Copy)]
enum Quoting {
    None,
    Double,
    Single,
}

/// Reads the word starting at `pos` (which is not whitespace). Returns the word and the
/// position to continue from, or None if its quotes are unbalanced.
fn next_word(line: &[u8], mut pos: usize) -> Option<(Vec<u8>, usize)> {
    let mut word = Vec::new();
    let mut quoting = Quoting::None;
    loop {
        let Some(&c) = line.get(pos) else {
            // End of input: fine for a bare word, an unterminated quote otherwise.
            return match quoting {
                Quoting::None => Some((word, pos)),
                Quoting::Double | Quoting::Single => None,
            };
        };
        match quoting {
            Quoting::None => match c {
                b' ' | b'\n' | b'\r' | b'\t' => return Some((word, pos + 1)),
                b'"' => quoting = Quoting::Double,
                b'\'' => quoting = Quoting::Single,
                _ => word.push(c),
            },
            Quoting::Double => match c {
                b'\\' => pos += double_quoted_escape(&line[pos..], &mut word),
                b'"' => return closing_quote(line, pos).then_some((word, pos + 1)),
                _ => word.push(c),
            },
            Quoting::Single => match c {
                b'\\' if line.get(pos + 1) == Some(&b'\'') => {
                    word.push(b'\'');
                    pos += 1;
                }
                b'\'' => return closing_quote(line, pos).then_some((word, pos + 1)),
                _ => word.push(c),
            },
        }
        pos += 1;
    }
}

/// A closing quote at `pos` is only valid when followed by whitespace or the end of input.
fn closing_quote(line: &[u8], pos: usize) -> bool {
    line.get(pos + 1).is_none_or(|&next| is_c_space(next))
}

/// Decodes the escape that starts with the backslash at `rest[0]` inside double quotes,
/// pushing the resulting byte. Returns how many bytes beyond the backslash it used.
fn double_quoted_escape(rest: &[u8], word: &mut Vec<u8>) -> usize {
    // `\xHH` needs exactly two hex digits; otherwise the `x` is just an escaped `x`.
    if let [_, b'x', hi, lo, ..] = rest {
        if let (Some(hi), Some(lo)) = (hex_value(*hi), hex_value(*lo)) {
            word.push(hi << 4 | lo);
            return 3;
        }
    }
    match rest {
        [_, escaped, ..] => {
            word.push(match escaped {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'b' => 0x08,
                b'a' => 0x07,
                other => *other,
            });
            1
        }
        // A backslash as the very last byte is kept literally; the quote is then unterminated.
        _ => {
            word.push(b'\\');
            0
        }
    }
}

/// The value of one hexadecimal digit, either case.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Multibulk requests
// ---------------------------------------------------------------------------------------------

/// A multibulk request: `*<count>\r\n` then `count` times `$<len>\r\n<payload>\r\n`.
///
/// First a completeness scan that allocates nothing; only when the whole frame is buffered is
/// it split off as one `Bytes`, and every argument is a zero-copy slice of it.
fn parse_multibulk(
    buf: &mut BytesMut,
    limits: &Limits,
    resume: &mut Resume,
    ranges: &mut Vec<std::ops::Range<usize>>,
    spare: &mut Vec<Bytes>,
) -> Result<Option<Frame>, ProtocolError> {
    // The ranges kept are those of the elements the resumed walk does not revisit.
    ranges.truncate(if resume.pos == 0 { 0 } else { resume.elements });
    let walked = walk_multibulk(buf, limits, *resume, |range| ranges.push(range));
    let shape = match walked {
        Ok(Walk::Complete(shape)) => shape,
        Ok(Walk::Incomplete(progress)) => {
            *resume = progress;
            return Ok(None);
        }
        Err(err) => {
            *resume = Resume::default();
            ranges.clear();
            return Err(err);
        }
    };
    *resume = Resume::default();
    debug_assert_eq!(ranges.len(), shape.count);
    let frame = buf.split_to(shape.len).freeze();
    if shape.count == 0 {
        return Ok(Some(Frame::Empty));
    }
    // The ranges lie inside the frame: it is the front of the buffer they were found in.
    // Each slice is a reference count on the read buffer (an atomic operation to take and
    // another to drop); the last argument takes over the frame's own instead.
    let last = ranges.pop();
    let mut args = std::mem::take(spare);
    args.clear();
    args.reserve_exact(shape.count);
    args.extend(ranges.drain(..).map(|range| frame.slice(range)));
    if let Some(range) = last {
        let mut tail = frame;
        tail.truncate(range.end);
        tail.advance(range.start);
        args.push(tail);
    }
    // A request of many elements must not leave its capacity behind.
    if ranges.capacity() > KEEP_RANGES {
        *ranges = Vec::new();
    }
    Ok(Some(Frame::Command(args)))
}

/// Ranges a parser keeps room for between requests.
const KEEP_RANGES: usize = 1024;

/// The size of a complete multibulk frame: its length in bytes and its number of elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameShape {
    len: usize,
    count: usize,
}

/// How far the walk of an incomplete frame got: this many elements, all checked and fully
/// buffered, ending at byte `pos`. A later walk of the same (grown) buffer starts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resume {
    elements: usize,
    pos: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Complete(FrameShape),
    Incomplete(Resume),
}

/// Walks the multibulk frame at the front of `buf`, checking it exactly in the order Redis
/// does, and calls `on_arg` with the byte range of each payload from `from` on.
///
/// Returns `Incomplete` as soon as it needs a byte that is not buffered yet, saying how far it
/// got, so that the next call starts there: a client trickling a request of a million small
/// elements costs work in proportion to what it sends, not to what it sent before. Payloads
/// are skipped by length, so a huge value arriving in pieces costs O(1) per call.
fn walk_multibulk(
    buf: &[u8],
    limits: &Limits,
    from: Resume,
    mut on_arg: impl FnMut(std::ops::Range<usize>),
) -> Result<Walk, ProtocolError> {
    let Some(header) = header_line(buf, 0, ProtocolError::TooBigMbulkCount)? else {
        return Ok(Walk::Incomplete(Resume::default()));
    };
    let count = multibulk_count(&buf[1..header.cr], limits)?;
    let (mut done, mut pos) = if from.pos == 0 {
        (0, header.next)
    } else {
        (from.elements, from.pos)
    };
    while done < count {
        let Some(payload) = bulk_element(buf, pos, limits)? else {
            return Ok(Walk::Incomplete(Resume {
                elements: done,
                pos,
            }));
        };
        pos = payload.end + 2;
        done += 1;
        on_arg(payload);
    }
    Ok(Walk::Complete(FrameShape { len: pos, count }))
}

/// Checks the number on the `*` line. Counts <= 0 mean an empty request (0 elements).
fn multibulk_count(digits: &[u8], limits: &Limits) -> Result<usize, ProtocolError> {
    let count = match parse_strict_i64(digits) {
        Some(n) if n <= i64::from(i32::MAX) => n,
        _ => return Err(ProtocolError::InvalidMultibulkLength),
    };
    if count > UNAUTH_MAX_MULTIBULK && !limits.authenticated {
        return Err(ProtocolError::UnauthenticatedMultibulk);
    }
    // Non-positive counts are ignored; positive ones fit in usize (at most i32::MAX).
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Reads the element at `pos`: its `$<len>` line, then waits for the payload and the two
/// bytes after it. Returns the payload's range once all of that is buffered.
fn bulk_element(
    buf: &[u8],
    pos: usize,
    limits: &Limits,
) -> Result<Option<std::ops::Range<usize>>, ProtocolError> {
    let Some(header) = header_line(buf, pos, ProtocolError::TooBigBulkCount)? else {
        return Ok(None);
    };
    // Redis looks at the type byte only once the whole line is in.
    if buf[pos] != b'$' {
        return Err(ProtocolError::ExpectedDollar(buf[pos]));
    }
    let len = bulk_len(&buf[pos + 1..header.cr], limits)?;
    // The payload and the two bytes after it (which Redis skips without checking) must be
    // buffered. Compared in u64 so that no announced length can overflow.
    let available = (buf.len() - header.next) as u64;
    if available < len + 2 {
        return Ok(None);
    }
    // `len + 2 <= available`, so the payload lies inside `buf` and fits in usize.
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    Ok(Some(header.next..header.next + len))
}

/// Checks the number on a `$` line against the limits.
fn bulk_len(digits: &[u8], limits: &Limits) -> Result<u64, ProtocolError> {
    let len = match parse_strict_i64(digits) {
        Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len => n,
        _ => return Err(ProtocolError::InvalidBulkLength),
    };
    if len > UNAUTH_MAX_BULK && !limits.authenticated {
        return Err(ProtocolError::UnauthenticatedBulk);
    }
    Ok(len as u64)
}

/// Where a header line (`*...` or `$...`) ends: the index of its `\r` and of the next line.
struct HeaderLine {
    cr: usize,
    next: usize,
}

/// Finds the header line starting at `start`, Redis's way: search for `\r` (as a C string),
/// then require one more byte after it, which is skipped unchecked (it should be `\n`).
/// With no `\r` and more than [`INLINE_MAX_SIZE`] bytes buffered, fails with `too_big`.
fn header_line(
    buf: &[u8],
    start: usize,
    too_big: ProtocolError,
) -> Result<Option<HeaderLine>, ProtocolError> {
    let rest = &buf[start..];
    let Some(cr) = find_in_c_string(rest, b'\r') else {
        if rest.len() > INLINE_MAX_SIZE {
            return Err(too_big);
        }
        return Ok(None);
    };
    if cr + 2 > rest.len() {
        return Ok(None);
    }
    Ok(Some(HeaderLine {
        cr: start + cr,
        next: start + cr + 2,
    }))
}

/// Parses a decimal i64 as strictly as Redis's `string2ll`: an optional `-`, then `0` alone or
/// a non-zero digit followed by digits; no `+`, no spaces, no leading zeros, no `-0`.
fn parse_strict_i64(s: &[u8]) -> Option<i64> {
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        // i64::MIN's magnitude does not fit in i64, hence the detour through i128.
        i64::try_from(-i128::from(magnitude)).ok()
    } else {
        i64::try_from(magnitude).ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Reply encoding
// ---------------------------------------------------------------------------------------------

/// The protocol a connection speaks; `HELLO` switches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

/// Append the encoding of `reply` for `proto` to `out`.
///
/// Nothing is allocated on the heap here apart from growing `out`: numbers are formatted on
/// the stack.
pub fn encode(reply: &Reply, proto: Protocol, out: &mut BytesMut) {
    match reply {
        Reply::Simple(text) => put_line(out, b'+', text),
        Reply::Error(err) => put_error(out, err),
        Reply::Integer(n) => put_signed_header(out, b':', *n),
        Reply::Bulk(bytes) => put_bulk(out, bytes),
        Reply::ShortBulk(short) => put_bulk(out, short.as_bytes()),
        Reply::Null => out.put_slice(match proto {
            Protocol::Resp2 => b"$-1\r\n",
            Protocol::Resp3 => b"_\r\n",
        }),
        Reply::NullArray => out.put_slice(match proto {
            Protocol::Resp2 => b"*-1\r\n",
            Protocol::Resp3 => b"_\r\n",
        }),
        Reply::Array(items) => put_aggregate(out, b'*', items, proto),
        Reply::Set(items) => {
            let kind = if proto == Protocol::Resp3 { b'~' } else { b'*' };
            put_aggregate(out, kind, items, proto);
        }
        Reply::Map(pairs) => put_map(out, pairs, proto),
        Reply::Double(d) => put_double(out, *d, proto),
        Reply::Boolean(b) => out.put_slice(match (proto, b) {
            (Protocol::Resp2, true) => b":1\r\n",
            (Protocol::Resp2, false) => b":0\r\n",
            (Protocol::Resp3, true) => b"#t\r\n",
            (Protocol::Resp3, false) => b"#f\r\n",
        }),
        Reply::Verbatim { format, text } => put_verbatim(out, format, text, proto),
    }
}

/// `<kind><text>\r\n`.
fn put_line(out: &mut BytesMut, kind: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(kind);
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

/// `<kind><n>\r\n`: integers and every length header.
fn put_signed_header(out: &mut BytesMut, kind: u8, n: i64) {
    let mut digits = [0u8; 20];
    let text = format_u64(n.unsigned_abs(), &mut digits);
    out.reserve(text.len() + 4);
    out.put_u8(kind);
    if n < 0 {
        out.put_u8(b'-');
    }
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

/// A length header; lengths are never negative.
fn put_len_header(out: &mut BytesMut, kind: u8, len: usize) {
    let mut digits = [0u8; 20];
    let text = format_u64(len as u64, &mut digits);
    out.reserve(text.len() + 3);
    out.put_u8(kind);
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

/// Writes `n` in decimal at the end of `buf` and returns the digits (no heap, no `fmt`).
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}

/// `$<len>\r\n<bytes>\r\n`.
fn put_bulk(out: &mut BytesMut, bytes: &[u8]) {
    put_len_header(out, b'$', bytes.len());
    out.reserve(bytes.len() + 2);
    out.put_slice(bytes);
    out.put_slice(b"\r\n");
}

/// `-<text>\r\n`, the text being the error's exact bytes ([`CommandError::text`], not the lossy
/// `Display`, since an unknown command's name need not be UTF-8) with CR and LF turned into
/// spaces so the reply stays one line, as Redis does to error strings. Errors are the one reply
/// that may allocate (inside `text`); they are not on any hot path.
fn put_error(out: &mut BytesMut, err: &CommandError) {
    put_error_text(out, &err.text());
}

/// Append a protocol error reply (`-ERR Protocol error: ...`), with the same CR/LF rule as
/// every error: the unexpected byte it quotes may be a CR or LF.
pub fn encode_protocol_error(err: &ProtocolError, out: &mut BytesMut) {
    put_error_text(out, &err.reply_text());
}

/// `-text\r\n`, with CR and LF in the text replaced by spaces as Redis does, so an error
/// reply is always one line.
fn put_error_text(out: &mut BytesMut, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(b'-');
    for &b in text.iter() {
        out.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
    }
    out.put_slice(b"\r\n");
}

/// `<kind><n>\r\n` followed by the n elements.
fn put_aggregate(out: &mut BytesMut, kind: u8, items: &[Reply], proto: Protocol) {
    put_len_header(out, kind, items.len());
    for item in items {
        encode(item, proto, out);
    }
}

/// RESP3 `%<n>` with n key/value pairs; RESP2 has no maps, so a flat `*<2n>` array.
fn put_map(out: &mut BytesMut, pairs: &[(Reply, Reply)], proto: Protocol) {
    match proto {
        Protocol::Resp2 => put_len_header(out, b'*', pairs.len() * 2),
        Protocol::Resp3 => put_len_header(out, b'%', pairs.len()),
    }
    for (key, value) in pairs {
        encode(key, proto, out);
        encode(value, proto, out);
    }
}

/// RESP3 `,<d>\r\n`; RESP2 has no doubles, so a bulk string of the same text.
fn put_double(out: &mut BytesMut, d: f64, proto: Protocol) {
    let mut text = DoubleText::new();
    write_g17(d, &mut text);
    match proto {
        Protocol::Resp2 => put_bulk(out, text.as_bytes()),
        Protocol::Resp3 => put_line(out, b',', text.as_bytes()),
    }
}

/// RESP3 `=<len>\r\n<fmt>:<text>\r\n` (len counts the 4 bytes of `fmt:`); RESP2 sends the text
/// alone as a bulk string.
fn put_verbatim(out: &mut BytesMut, format: &[u8; 3], text: &[u8], proto: Protocol) {
    match proto {
        Protocol::Resp2 => put_bulk(out, text),
        Protocol::Resp3 => {
            put_len_header(out, b'=', text.len() + 4);
            out.reserve(text.len() + 6);
            out.put_slice(format);
            out.put_u8(b':');
            out.put_slice(text);
            out.put_slice(b"\r\n");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Doubles, `%.17g` style
// ---------------------------------------------------------------------------------------------

/// Format a double the way Redis's `%.17g` does (used for RESP2 doubles and RESP3 `,` doubles):
/// "inf", "-inf", "nan" for the specials.
///
/// glibc prints a NaN whose sign bit is set as `-nan`; we always print `nan`, because Rust
/// does not define the sign of a computed NaN and Redis never stores one.
pub fn format_double(d: f64) -> String {
    let mut text = DoubleText::new();
    write_g17(d, &mut text);
    String::from_utf8_lossy(text.as_bytes()).into_owned()
}

/// A small stack buffer for one formatted double. The longest `%.17g` output is 24 bytes
/// (`-1.2345678901234567e-308`); the intermediate `{:.16e}` text is no longer.
struct DoubleText {
    buf: [u8; 32],
    len: usize,
}

impl DoubleText {
    fn new() -> Self {
        DoubleText {
            buf: [0; 32],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, b: u8) {
        // Capacity is ample for any double (see above); a full buffer would only truncate.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }
}

impl fmt::Write for DoubleText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.len + s.len() > self.buf.len() {
            return Err(fmt::Error);
        }
        self.push_all(s.as_bytes());
        Ok(())
    }
}

/// The 17 significant digits and decimal exponent of a finite double, rounded exactly as C's
/// `printf` rounds (Rust's `{:.16e}` is exact, with ties to even, like glibc).
struct Decimal {
    negative: bool,
    /// ASCII digits; `digits[0]` is non-zero unless the value is zero.
    digits: [u8; 17],
    /// Number of significant digits once trailing zeros are dropped (at least 1).
    len: usize,
    /// The value is `0.d0d1d2... * 10^(exponent + 1)`, i.e. `d0.d1d2... * 10^exponent`.
    exponent: i32,
}

/// Splits Rust's `{:.16e}` rendering (`-1.2345678901234567e-5`) into a [`Decimal`].
fn decimal_digits(d: f64) -> Decimal {
    use fmt::Write as _;
    let mut sci = DoubleText::new();
    // Cannot fail: the text is at most 24 bytes.
    let _ = write!(sci, "{d:.16e}");
    let text = sci.as_bytes();
    let negative = text.first() == Some(&b'-');
    let body = if negative { &text[1..] } else { text };
    let e_at = body.iter().position(|&b| b == b'e').unwrap_or(body.len());
    let mut digits = [b'0'; 17];
    let mantissa = body[..e_at].iter().filter(|b| b.is_ascii_digit());
    for (slot, &b) in digits.iter_mut().zip(mantissa) {
        *slot = b;
    }
    let exponent = std::str::from_utf8(body.get(e_at + 1..).unwrap_or_default())
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let len = digits.iter().rposition(|&b| b != b'0').map_or(1, |i| i + 1);
    Decimal {
        negative,
        digits,
        len,
        exponent,
    }
}

/// Writes `d` as `%.17g` would.
///
/// `%g` with precision P = 17 uses fixed notation when the decimal exponent X (after rounding
/// to 17 digits) satisfies -4 <= X < 17, otherwise exponent notation with at least two exponent
/// digits; in both cases trailing zeros and a trailing decimal point are removed.
fn write_g17(d: f64, out: &mut DoubleText) {
    if d.is_nan() {
        return out.push_all(b"nan");
    }
    if d.is_infinite() {
        return out.push_all(if d > 0.0 { b"inf" } else { b"-inf" });
    }
    let dec = decimal_digits(d);
    if dec.negative {
        out.push(b'-');
    }
    let digits = &dec.digits[..dec.len];
    if (-4..17).contains(&dec.exponent) {
        write_fixed(digits, dec.exponent, out);
    } else {
        write_exponent(digits, dec.exponent, out);
    }
}

/// Fixed notation for `0.digits * 10^(exponent + 1)`, with -4 <= exponent < 17.
fn write_fixed(digits: &[u8], exponent: i32, out: &mut DoubleText) {
    if exponent < 0 {
        out.push_all(b"0.");
        for _ in 0..(-exponent - 1) {
            out.push(b'0');
        }
        return out.push_all(digits);
    }
    // The integer part has exponent + 1 digits, padded with zeros past the significant ones.
    let int_len = exponent as usize + 1;
    for i in 0..int_len {
        out.push(digits.get(i).copied().unwrap_or(b'0'));
    }
    if digits.len() > int_len {
        out.push(b'.');
        out.push_all(&digits[int_len..]);
    }
}

/// Exponent notation: `d[.ddd]e[+-]XX`.
fn write_exponent(digits: &[u8], exponent: i32, out: &mut DoubleText) {
    out.push(digits[0]);
    if digits.len() > 1 {
        out.push(b'.');
        out.push_all(&digits[1..]);
    }
    out.push(b'e');
    out.push(if exponent < 0 { b'-' } else { b'+' });
    let magnitude = exponent.unsigned_abs();
    if magnitude < 10 {
        out.push(b'0');
    }
    let mut buf = [0u8; 20];
    out.push_all(format_u64(u64::from(magnitude), &mut buf));
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_trickled_request_resumes_where_it_stopped() {
        // 20,000 one-byte elements, fed a few bytes at a time: the parser must not start over.
        let mut request = b"*20000\r\n".to_vec();
        for _ in 0..20_000 {
            request.extend_from_slice(b"$1\r\nx\r\n");
        }
        let mut parser = Parser::default();
        let mut buf = BytesMut::new();
        let mut frame = None;
        for chunk in request.chunks(7) {
            buf.extend_from_slice(chunk);
            if let Some(done) = parser.parse(&mut buf, &auth()).expect("valid") {
                frame = Some(done);
            }
            // The remembered position only ever covers whole, checked elements.
            assert!(parser.resume.pos <= buf.len());
        }
        let Some(Frame::Command(args)) = frame else {
            panic!("no frame")
        };
        assert_eq!(args.len(), 20_000);
        assert!(buf.is_empty());
        assert_eq!(parser.resume, Resume::default());
    }

    #[test]
    fn protocol_errors_quoting_cr_or_lf_stay_one_line() {
        let mut out = BytesMut::new();
        encode_protocol_error(&ProtocolError::ExpectedDollar(b'\n'), &mut out);
        assert_eq!(&out[..], b"-ERR Protocol error: expected '$', got ' '\r\n");
    }

    use super::*;

    // -----------------------------------------------------------------------------------------
    // Helpers
    // -----------------------------------------------------------------------------------------

    fn auth() -> Limits {
        Limits::default()
    }

    fn unauth() -> Limits {
        Limits {
            authenticated: false,
            ..Limits::default()
        }
    }

    /// Parses everything in `input` with one buffer: the frames, then the error if any, and
    /// what was left in the buffer.
    fn parse_all(input: &[u8], limits: &Limits) -> (Vec<Frame>, Option<ProtocolError>, BytesMut) {
        let mut buf = BytesMut::from(input);
        let mut frames = Vec::new();
        loop {
            match parse_request(&mut buf, limits) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => return (frames, None, buf),
                Err(e) => return (frames, Some(e), buf),
            }
        }
    }

    /// Feeds `input` in the given pieces, parsing after each, as a connection would.
    fn parse_in_pieces(
        pieces: &[&[u8]],
        limits: &Limits,
    ) -> (Vec<Frame>, Option<ProtocolError>, BytesMut) {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for piece in pieces {
            buf.extend_from_slice(piece);
            loop {
                match parse_request(&mut buf, limits) {
                    Ok(Some(frame)) => frames.push(frame),
                    Ok(None) => break,
                    Err(e) => return (frames, Some(e), buf),
                }
            }
        }
        (frames, None, buf)
    }

    fn cmd(args: &[&[u8]]) -> Frame {
        Frame::Command(args.iter().map(|a| Bytes::copy_from_slice(a)).collect())
    }

    /// The single outcome of parsing `input` once.
    fn parse_once(input: &[u8], limits: &Limits) -> Result<Option<Frame>, ProtocolError> {
        parse_request(&mut BytesMut::from(input), limits)
    }

    fn err(input: &[u8], limits: &Limits) -> ProtocolError {
        match parse_once(input, limits) {
            Err(e) => e,
            other => panic!("expected an error for {input:?}, got {other:?}"),
        }
    }

    fn incomplete(input: &[u8], limits: &Limits) {
        let mut buf = BytesMut::from(input);
        assert_eq!(parse_request(&mut buf, limits), Ok(None), "input {input:?}");
        assert_eq!(
            &buf[..],
            input,
            "an incomplete parse leaves the buffer untouched"
        );
    }

    fn enc(reply: &Reply, proto: Protocol) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(reply, proto, &mut out);
        out.to_vec()
    }

    fn both(reply: &Reply) -> (Vec<u8>, Vec<u8>) {
        (enc(reply, Protocol::Resp2), enc(reply, Protocol::Resp3))
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    // -----------------------------------------------------------------------------------------
    // Multibulk framing
    // -----------------------------------------------------------------------------------------

    #[test]
    fn multibulk_simple_command() {
        let (frames, error, rest) = parse_all(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", &auth());
        assert_eq!(frames, vec![cmd(&[b"ECHO", b"hi"])]);
        assert_eq!(error, None);
        assert!(rest.is_empty());
    }

    #[test]
    fn multibulk_binary_payload_with_crlf_and_nul() {
        let input = b"*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\0\r\n\r\n";
        let (frames, error, _) = parse_all(input, &auth());
        assert_eq!(frames, vec![cmd(&[b"ECHO", b"a\r\n\0\r\n"])]);
        assert_eq!(error, None);
    }

    #[test]
    fn multibulk_empty_payload() {
        let (frames, _, _) = parse_all(b"*2\r\n$0\r\n\r\n$1\r\nx\r\n", &auth());
        assert_eq!(frames, vec![cmd(&[b"", b"x"])]);
    }

    #[test]
    fn multibulk_arguments_are_slices_of_one_frame() {
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"[..]);
        let Ok(Some(Frame::Command(args))) = parse_request(&mut buf, &auth()) else {
            panic!("expected a command");
        };
        // Zero-copy: the two arguments sit 9 bytes apart in the same allocation.
        let distance = args[1].as_ptr() as usize - args[0].as_ptr() as usize;
        assert_eq!(distance, b"GET\r\n$1\r\n".len());
    }

    #[test]
    fn multibulk_zero_and_negative_counts_are_empty() {
        for input in [
            &b"*0\r\n"[..],
            b"*-1\r\n",
            b"*-2147483649\r\n",
            b"*-9223372036854775808\r\n",
        ] {
            let (frames, error, rest) = parse_all(input, &auth());
            assert_eq!(frames, vec![Frame::Empty], "input {input:?}");
            assert_eq!(error, None);
            assert!(rest.is_empty());
        }
        // And the next request follows normally (live: `*-2147483649` then PING gives +PONG).
        let (frames, _, _) = parse_all(b"*-2147483649\r\n*1\r\n$4\r\nPING\r\n", &auth());
        assert_eq!(frames, vec![Frame::Empty, cmd(&[b"PING"])]);
    }

    #[test]
    fn multibulk_byte_after_cr_and_after_payload_is_not_checked() {
        // Live: `*1\r\n$4\r\nPINGxx` runs PING, and so does `*1\rX$4\rYPINGxx`.
        assert_eq!(
            parse_once(b"*1\r\n$4\r\nPINGxx", &auth()),
            Ok(Some(cmd(&[b"PING"])))
        );
        assert_eq!(
            parse_once(b"*1\rX$4\rYPINGxx", &auth()),
            Ok(Some(cmd(&[b"PING"])))
        );
    }

    #[test]
    fn multibulk_incomplete_at_every_stage() {
        let full = b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
        for cut in 1..full.len() {
            incomplete(&full[..cut], &auth());
        }
        // Header `\r` present but not the byte after it.
        incomplete(b"*1\r", &auth());
        incomplete(b"*1\r\n$4\r", &auth());
        // Payload present but not the two bytes after it.
        incomplete(b"*1\r\n$4\r\nPING", &auth());
        incomplete(b"*1\r\n$4\r\nPING\r", &auth());
    }

    #[test]
    fn multibulk_invalid_count() {
        // Live-verified: `*abc`, `*-0`, `*01`, `*+1`, `* 1`, `*2147483648` and a count that
        // overflows i64 all give `invalid multibulk length`.
        for input in [
            &b"*abc\r\n"[..],
            b"*-0\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"* 1\r\n",
            b"*1 \r\n",
            b"*\r\n",
            b"*-\r\n",
            b"*2147483648\r\n",
            b"*9223372036854775808\r\n",
            b"*-99999999999999999999\r\n",
        ] {
            assert_eq!(
                err(input, &auth()),
                ProtocolError::InvalidMultibulkLength,
                "{input:?}"
            );
        }
        // The error needs the whole line, including the byte after `\r`.
        incomplete(b"*abc", &auth());
        incomplete(b"*abc\r", &auth());
        assert_eq!(
            err(b"*abc\rx", &auth()),
            ProtocolError::InvalidMultibulkLength
        );
    }

    #[test]
    fn multibulk_count_up_to_int_max_waits_for_elements() {
        // Live: `*2147483647` is accepted and waits. Nothing is allocated for the count.
        incomplete(b"*2147483647\r\n", &auth());
        incomplete(b"*1048577\r\n$1\r\na\r\n", &auth());
    }

    #[test]
    fn multibulk_expected_dollar() {
        assert_eq!(
            err(b"*1\r\nfoo\r\n", &auth()),
            ProtocolError::ExpectedDollar(b'f')
        );
        assert_eq!(
            err(b"*2\r\n$4\r\nECHO\r\n:3\r\n", &auth()),
            ProtocolError::ExpectedDollar(b':')
        );
        // Live: a second `*` line where an element is expected.
        assert_eq!(
            err(b"*2\r\n$4\r\nPING\r\n*1\r\n", &auth()),
            ProtocolError::ExpectedDollar(b'*')
        );
        // Redis checks the type byte only once the line (and the byte after `\r`) is in.
        incomplete(b"*1\r\nfoo", &auth());
        incomplete(b"*1\r\nfoo\r", &auth());
    }

    #[test]
    fn multibulk_invalid_bulk_length() {
        for input in [
            &b"*1\r\n$-5\r\n"[..],
            b"*1\r\n$-1\r\n",
            b"*1\r\n$-0\r\n",
            b"*1\r\n$04\r\n",
            b"*1\r\n$abc\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$+4\r\n",
            b"*1\r\n$99999999999\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$99999999999999999999\r\n",
            b"*1\r\n$abc\rZ",
        ] {
            assert_eq!(
                err(input, &auth()),
                ProtocolError::InvalidBulkLength,
                "{input:?}"
            );
        }
        // Exactly proto-max-bulk-len is allowed (and then waits for the payload).
        incomplete(b"*1\r\n$536870912\r\n", &auth());
        incomplete(b"*1\r\n$abc\r", &auth());
    }

    #[test]
    fn multibulk_bulk_length_limit_is_configurable() {
        let limits = Limits {
            max_bulk_len: 3,
            authenticated: true,
        };
        assert_eq!(
            parse_once(b"*1\r\n$3\r\nabc\r\n", &limits),
            Ok(Some(cmd(&[b"abc"])))
        );
        assert_eq!(
            err(b"*1\r\n$4\r\n", &limits),
            ProtocolError::InvalidBulkLength
        );
    }

    #[test]
    fn multibulk_unauthenticated_limits() {
        assert_eq!(
            err(b"*11\r\n", &unauth()),
            ProtocolError::UnauthenticatedMultibulk
        );
        incomplete(b"*10\r\n", &unauth());
        assert_eq!(
            err(b"*1\r\n$16385\r\n", &unauth()),
            ProtocolError::UnauthenticatedBulk
        );
        incomplete(b"*1\r\n$16384\r\n", &unauth());
        // The validity checks come first.
        assert_eq!(
            err(b"*2147483648\r\n", &unauth()),
            ProtocolError::InvalidMultibulkLength
        );
        assert_eq!(
            err(b"*1\r\n$536870913\r\n", &unauth()),
            ProtocolError::InvalidBulkLength
        );
        // Authenticated clients have neither limit.
        incomplete(b"*11\r\n", &auth());
        incomplete(b"*1\r\n$16385\r\n", &auth());
        // Non-positive counts are still just empty.
        assert_eq!(parse_once(b"*-1\r\n", &unauth()), Ok(Some(Frame::Empty)));
    }

    #[test]
    fn multibulk_too_big_count_line() {
        let mut input = b"*".to_vec();
        input.extend(std::iter::repeat_n(b'1', INLINE_MAX_SIZE - 1));
        incomplete(&input, &auth()); // exactly 64 KiB buffered: still waiting (live)
        input.push(b'1');
        assert_eq!(err(&input, &auth()), ProtocolError::TooBigMbulkCount);
    }

    #[test]
    fn multibulk_too_big_bulk_line() {
        let mut input = b"*1\r\n$".to_vec();
        input.extend(std::iter::repeat_n(b'1', INLINE_MAX_SIZE - 1));
        incomplete(&input, &auth());
        input.push(b'1');
        assert_eq!(err(&input, &auth()), ProtocolError::TooBigBulkCount);
    }

    #[test]
    fn multibulk_nul_before_cr_hides_the_line_end() {
        // Live: Redis finds `\r` with strchr, so a NUL before it means "no line yet": it waits,
        // and errors once more than 64 KiB are buffered.
        incomplete(b"*1\0\r\n$4\r\nPING\r\n", &auth());
        incomplete(b"*1\r\n$4\0\r\nPING\r\n", &auth());
        let mut input = b"*1\0\r\n".to_vec();
        input.resize(INLINE_MAX_SIZE + 1, b'x');
        assert_eq!(err(&input, &auth()), ProtocolError::TooBigMbulkCount);
        let mut input = b"*1\r\n$4\0\r\n".to_vec();
        input.resize(4 + INLINE_MAX_SIZE + 1, b'x');
        assert_eq!(err(&input, &auth()), ProtocolError::TooBigBulkCount);
    }

    #[test]
    fn multibulk_large_payload_does_not_count_as_a_long_header() {
        // 100 KiB of payload without any `\r` is fine once its header is in.
        let mut input = b"*1\r\n$102400\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'v', 102_400));
        incomplete(&input, &auth());
        input.extend_from_slice(b"\r\n");
        let (frames, error, _) = parse_all(&input, &auth());
        assert_eq!(error, None);
        assert_eq!(frames.len(), 1);
    }

    #[test]
    fn pipelined_error_comes_after_the_good_frames() {
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n*abc\r\n"[..]);
        assert_eq!(parse_request(&mut buf, &auth()), Ok(Some(cmd(&[b"PING"]))));
        assert_eq!(
            parse_request(&mut buf, &auth()),
            Err(ProtocolError::InvalidMultibulkLength)
        );
    }

    #[test]
    fn big_value_arriving_in_chunks_buffer_is_untouched_until_complete() {
        // A 4 MiB value in 64 KiB reads: every call before the last is Ok(None) and leaves the
        // buffer as it was; the last yields the whole value.
        const LEN: usize = 4 * 1024 * 1024;
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nSET\r\n$4194304\r\n"[..]);
        let chunk = vec![b'z'; 64 * 1024];
        for _ in 0..LEN / chunk.len() {
            let before = buf.len();
            assert_eq!(parse_request(&mut buf, &auth()), Ok(None));
            assert_eq!(buf.len(), before);
            buf.extend_from_slice(&chunk);
        }
        assert_eq!(parse_request(&mut buf, &auth()), Ok(None));
        buf.extend_from_slice(b"\r\n");
        let Ok(Some(Frame::Command(args))) = parse_request(&mut buf, &auth()) else {
            panic!("expected the SET frame");
        };
        assert_eq!(args[1].len(), LEN);
        assert!(buf.is_empty());
    }

    // -----------------------------------------------------------------------------------------
    // Pipelining and arbitrary read boundaries
    // -----------------------------------------------------------------------------------------

    /// A pipeline mixing multibulk, inline, empty requests and binary payloads.
    const PIPELINE: &[u8] = b"*1\r\n$4\r\nPING\r\n\
        ECHO \"hello world\"\r\n\
        *0\r\n\
        *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\nb\0\r\n\
        \r\n\
        PING\n\
        *-1\r\n\
        *2\r\n$4\r\nECHO\r\n$0\r\n\r\n\
        GET  'k'\t\r\n";

    fn pipeline_frames() -> Vec<Frame> {
        vec![
            cmd(&[b"PING"]),
            cmd(&[b"ECHO", b"hello world"]),
            Frame::Empty,
            cmd(&[b"SET", b"k", b"a\r\nb\0"]),
            Frame::Empty,
            cmd(&[b"PING"]),
            Frame::Empty,
            cmd(&[b"ECHO", b""]),
            cmd(&[b"GET", b"k"]),
        ]
    }

    #[test]
    fn pipeline_in_one_read() {
        let (frames, error, rest) = parse_all(PIPELINE, &auth());
        assert_eq!(frames, pipeline_frames());
        assert_eq!(error, None);
        assert!(rest.is_empty());
    }

    #[test]
    fn pipeline_one_byte_at_a_time() {
        let pieces: Vec<&[u8]> = PIPELINE.chunks(1).collect();
        let (frames, error, rest) = parse_in_pieces(&pieces, &auth());
        assert_eq!(frames, pipeline_frames());
        assert_eq!(error, None);
        assert!(rest.is_empty());
    }

    #[test]
    fn pipeline_split_at_every_boundary() {
        for cut in 0..=PIPELINE.len() {
            let (head, tail) = PIPELINE.split_at(cut);
            let (frames, error, rest) = parse_in_pieces(&[head, tail], &auth());
            assert_eq!(frames, pipeline_frames(), "split at {cut}");
            assert_eq!(error, None);
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn pipeline_split_at_every_pair_of_boundaries() {
        for first in 0..=PIPELINE.len() {
            for second in first..=PIPELINE.len() {
                let pieces = [
                    &PIPELINE[..first],
                    &PIPELINE[first..second],
                    &PIPELINE[second..],
                ];
                let (frames, error, _) = parse_in_pieces(&pieces, &auth());
                assert_eq!(frames, pipeline_frames(), "splits at {first}, {second}");
                assert_eq!(error, None);
            }
        }
    }

    #[test]
    fn errors_are_found_at_every_read_boundary() {
        // However the bytes arrive, the good frames come out first and then the same error.
        let cases: &[(&[u8], ProtocolError)] = &[
            (
                b"*1\r\n$4\r\nPING\r\n*abc\r\n",
                ProtocolError::InvalidMultibulkLength,
            ),
            (
                b"PING\r\n*1\r\nfoo\r\n",
                ProtocolError::ExpectedDollar(b'f'),
            ),
            (b"PING\r\n*1\r\n$-5\r\n", ProtocolError::InvalidBulkLength),
            (b"PING\r\nECHO \"a\"b\r\n", ProtocolError::UnbalancedQuotes),
        ];
        for (input, expected) in cases {
            let pieces: Vec<&[u8]> = input.chunks(1).collect();
            let (frames, error, _) = parse_in_pieces(&pieces, &auth());
            assert_eq!(frames, vec![cmd(&[b"PING"])], "{input:?}");
            assert_eq!(error.as_ref(), Some(expected), "{input:?}");
        }
    }

    // -----------------------------------------------------------------------------------------
    // Inline framing
    // -----------------------------------------------------------------------------------------

    #[test]
    fn inline_line_ends() {
        assert_eq!(parse_once(b"PING\r\n", &auth()), Ok(Some(cmd(&[b"PING"]))));
        assert_eq!(parse_once(b"PING\n", &auth()), Ok(Some(cmd(&[b"PING"]))));
        // Only one `\r` before the `\n` belongs to the terminator; others are separators.
        assert_eq!(
            parse_once(b"ECHO x\r\r\n", &auth()),
            Ok(Some(cmd(&[b"ECHO", b"x"])))
        );
        // Live: `PING\rfoo\n` is PING with the argument foo.
        assert_eq!(
            parse_once(b"PING\rfoo\n", &auth()),
            Ok(Some(cmd(&[b"PING", b"foo"])))
        );
        incomplete(b"PING", &auth());
        incomplete(b"PING\r", &auth());
    }

    #[test]
    fn inline_is_anything_not_starting_with_star() {
        // Live: `$-5\r\n` is an unknown command named `$-5`.
        assert_eq!(parse_once(b"$-5\r\n", &auth()), Ok(Some(cmd(&[b"$-5"]))));
    }

    #[test]
    fn inline_empty_lines_are_empty_frames() {
        for input in [&b"\r\n"[..], b"\n", b"  \r\n", b" \t\x0b\x0c\r\n"] {
            let (frames, error, rest) = parse_all(input, &auth());
            assert_eq!(frames, vec![Frame::Empty], "{input:?}");
            assert_eq!(error, None);
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn inline_quoting_from_the_reference() {
        assert_eq!(
            parse_once(b"ECHO \"hello world\"\r\n", &auth()),
            Ok(Some(cmd(&[b"ECHO", b"hello world"])))
        );
        assert_eq!(
            parse_once(b"ECHO \"\\x41\\n\"\r\n", &auth()),
            Ok(Some(cmd(&[b"ECHO", b"A\n"])))
        );
        assert_eq!(
            parse_once(b"ECHO\tx\r\n", &auth()),
            Ok(Some(cmd(&[b"ECHO", b"x"])))
        );
        assert_eq!(
            parse_once(b"FOO bar\r\n", &auth()),
            Ok(Some(cmd(&[b"FOO", b"bar"])))
        );
    }

    #[test]
    fn inline_unbalanced_quotes() {
        for input in [
            &b"ECHO \"hello\r\n"[..],
            b"ECHO 'hello\r\n",
            b"ECHO \"a\"b\r\n",
            b"ECHO 'a'b\r\n",
            b"ECHO \"a\"\"b\"\r\n",
            b"ECHO \"a\\\"\r\n",
        ] {
            assert_eq!(
                err(input, &auth()),
                ProtocolError::UnbalancedQuotes,
                "{input:?}"
            );
        }
    }

    #[test]
    fn inline_too_big() {
        let mut input = vec![b'x'; INLINE_MAX_SIZE];
        incomplete(&input, &auth()); // exactly 64 KiB: still waiting (live)
        input.push(b'x');
        assert_eq!(err(&input, &auth()), ProtocolError::TooBigInline);
        // A long line that is complete is fine.
        let mut line = b"ECHO ".to_vec();
        line.extend(std::iter::repeat_n(b'y', INLINE_MAX_SIZE + 100));
        line.extend_from_slice(b"\r\n");
        let (frames, error, _) = parse_all(&line, &auth());
        assert_eq!(error, None);
        assert_eq!(frames.len(), 1);
    }

    #[test]
    fn inline_nul_before_newline_hides_the_line_end() {
        // Live: `ECHO a\0b\r\n` gets no reply; Redis's strchr stops at the NUL and never sees
        // the `\n`, so it waits until more than 64 KiB are buffered.
        incomplete(b"ECHO a\0b\r\n", &auth());
        let mut input = b"ECHO a\0b\r\n".to_vec();
        input.resize(INLINE_MAX_SIZE, b'x');
        incomplete(&input, &auth());
        input.push(b'x');
        assert_eq!(err(&input, &auth()), ProtocolError::TooBigInline);
    }

    #[test]
    fn inline_ignores_limits_for_unauthenticated_clients() {
        // The unauthenticated limits are multibulk-only in Redis.
        let line = b"A B C D E F G H I J K L\r\n";
        assert!(
            matches!(parse_once(line, &unauth()), Ok(Some(Frame::Command(a))) if a.len() == 12)
        );
    }

    // -----------------------------------------------------------------------------------------
    // split_args (sdssplitargs)
    // -----------------------------------------------------------------------------------------

    fn split(line: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(line)
    }

    fn words(list: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(list.iter().map(|w| w.to_vec()).collect())
    }

    #[test]
    fn split_plain_words_and_whitespace() {
        assert_eq!(split(b""), words(&[]));
        assert_eq!(split(b"   "), words(&[]));
        assert_eq!(split(b"a b  c"), words(&[b"a", b"b", b"c"]));
        assert_eq!(split(b"\t a\r\nb \n"), words(&[b"a", b"b"]));
        // \v and \f are skipped between words but do not end a word (live: `ECHO a\vb`).
        assert_eq!(split(b"ECHO a\x0bb"), words(&[b"ECHO", b"a\x0bb"]));
        assert_eq!(split(b"\x0bECHO\x0cab"), words(&[b"ECHO\x0cab"]));
    }

    #[test]
    fn split_double_quotes() {
        assert_eq!(split(b"\"hello world\""), words(&[b"hello world"]));
        assert_eq!(split(b"\"\""), words(&[b""]));
        assert_eq!(split(b"a \"\" b"), words(&[b"a", b"", b"b"]));
        assert_eq!(split(b"\"\\x41\\n\""), words(&[b"A\n"]));
        assert_eq!(split(b"\"\\xff\\x00\\xAb\""), words(&[b"\xff\x00\xab"]));
        assert_eq!(split(b"\"\\n\\r\\t\\b\\a\""), words(&[b"\n\r\t\x08\x07"]));
        // Any other escaped byte is itself (live: `"a\qb"` is `aqb`).
        assert_eq!(split(b"\"a\\qb\""), words(&[b"aqb"]));
        assert_eq!(split(b"\"\\\"\\\\\""), words(&[b"\"\\"]));
        // `\x` without two hex digits is just an escaped `x` (live: `"\x4g"` is `x4g`).
        assert_eq!(split(b"\"\\x4g\""), words(&[b"x4g"]));
        assert_eq!(split(b"\"\\x4\""), words(&[b"x4"]));
        // Single quotes inside double quotes are plain.
        assert_eq!(split(b"\"it's\""), words(&[b"it's"]));
    }

    #[test]
    fn split_single_quotes() {
        assert_eq!(split(b"'hello world'"), words(&[b"hello world"]));
        assert_eq!(split(b"''"), words(&[b""]));
        assert_eq!(split(b"'it\\'s'"), words(&[b"it's"]));
        // No other escapes (live: `'a\nb'` stays four bytes).
        assert_eq!(split(b"'a\\nb'"), words(&[b"a\\nb"]));
        assert_eq!(split(b"'a\"b'"), words(&[b"a\"b"]));
    }

    #[test]
    fn split_quote_inside_a_word_starts_a_quoted_section() {
        assert_eq!(split(b"ECHO a\"b c\""), words(&[b"ECHO", b"ab c"]));
        assert_eq!(split(b"ECHO a'b c'"), words(&[b"ECHO", b"ab c"]));
    }

    #[test]
    fn split_closing_quote_must_be_followed_by_space() {
        assert_eq!(split(b"\"a\"b"), None);
        assert_eq!(split(b"'a'b"), None);
        assert_eq!(split(b"\"a\"'b'"), None);
        // Any isspace byte is fine after the quote, including \v and \f (live).
        assert_eq!(split(b"\"a\"\x0b"), words(&[b"a"]));
        assert_eq!(split(b"\"a\"\tb"), words(&[b"a", b"b"]));
        assert_eq!(split(b"\"a\""), words(&[b"a"]));
    }

    #[test]
    fn split_unterminated_quotes() {
        assert_eq!(split(b"\"hello"), None);
        assert_eq!(split(b"'hello"), None);
        assert_eq!(split(b"\"a\\\""), None);
        assert_eq!(split(b"'a\\'"), None);
        assert_eq!(split(b"\"a\\"), None);
        assert_eq!(split(b"a \""), None);
    }

    #[test]
    fn split_stops_at_nul_like_a_c_string() {
        assert_eq!(split(b"a b\0c d"), words(&[b"a", b"b"]));
        assert_eq!(split(b"\"a\0\""), None);
        assert_eq!(split(b"\0a"), words(&[]));
    }

    #[test]
    fn split_config_file_style_line() {
        assert_eq!(
            split(b"save \"3600 1\" 300 100 # not a comment for the splitter"),
            words(&[
                b"save",
                b"3600 1",
                b"300",
                b"100",
                b"#",
                b"not",
                b"a",
                b"comment",
                b"for",
                b"the",
                b"splitter"
            ])
        );
    }

    // -----------------------------------------------------------------------------------------
    // Strict integers (string2ll)
    // -----------------------------------------------------------------------------------------

    #[test]
    fn strict_integers() {
        assert_eq!(parse_strict_i64(b"0"), Some(0));
        assert_eq!(parse_strict_i64(b"7"), Some(7));
        assert_eq!(parse_strict_i64(b"-7"), Some(-7));
        assert_eq!(parse_strict_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_strict_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_strict_i64(bad), None, "{bad:?}");
        }
    }

    // -----------------------------------------------------------------------------------------
    // Encoding: every Reply variant in both protocols, bytes as captured from redis-server 7.0.15
    // -----------------------------------------------------------------------------------------

    #[test]
    fn encode_simple() {
        let (r2, r3) = both(&Reply::ok());
        assert_eq!(r2, b"+OK\r\n");
        assert_eq!(r3, b"+OK\r\n");
    }

    #[test]
    fn encode_errors() {
        let cases: &[(CommandError, &[u8])] = &[
            (CommandError::Syntax, b"-ERR syntax error\r\n"),
            (
                CommandError::WrongType,
                b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                CommandError::WrongArity("config|get".into()),
                b"-ERR wrong number of arguments for 'config|get' command\r\n",
            ),
            // Live: an unknown command named "FOO\r\nBAR" comes back with both bytes as spaces.
            (
                CommandError::UnknownCommand {
                    name: b"FOO\r\nBAR".to_vec(),
                    args: Vec::new(),
                },
                b"-ERR unknown command 'FOO  BAR', with args beginning with: \r\n",
            ),
            // Not UTF-8: the client's bytes go back unchanged.
            (
                CommandError::UnknownCommand {
                    name: b"\xff\xfe".to_vec(),
                    args: b"'\x80' ".to_vec(),
                },
                b"-ERR unknown command '\xff\xfe', with args beginning with: '\x80' \r\n",
            ),
            // Live: redis.error_reply('my\r\nerr') from a script.
            (
                CommandError::Custom("ERR my\r\nerr".into()),
                b"-ERR my  err\r\n",
            ),
            (
                CommandError::Custom("NOPROTO unsupported protocol version".into()),
                b"-NOPROTO unsupported protocol version\r\n",
            ),
        ];
        for (error, expected) in cases {
            let (r2, r3) = both(&Reply::Error(error.clone()));
            assert_eq!(r2, *expected);
            assert_eq!(r3, *expected);
        }
    }

    #[test]
    fn encode_integers() {
        for (n, expected) in [
            (0, &b":0\r\n"[..]),
            (240, b":240\r\n"),
            (-1, b":-1\r\n"),
            (i64::MAX, b":9223372036854775807\r\n"),
            (i64::MIN, b":-9223372036854775808\r\n"),
        ] {
            let (r2, r3) = both(&Reply::Integer(n));
            assert_eq!(r2, expected);
            assert_eq!(r3, expected);
        }
    }

    #[test]
    fn encode_bulk() {
        let (r2, r3) = both(&bulk("hello world"));
        assert_eq!(r2, b"$11\r\nhello world\r\n");
        assert_eq!(r3, r2);
        let (r2, _) = both(&Reply::bulk(&b"a\r\n\0"[..]));
        assert_eq!(r2, b"$4\r\na\r\n\0\r\n");
        let (r2, _) = both(&bulk(""));
        assert_eq!(r2, b"$0\r\n\r\n");
    }

    #[test]
    fn encode_nulls() {
        // Live: GET nokey and a timed-out BLPOP.
        assert_eq!(both(&Reply::Null), (b"$-1\r\n".to_vec(), b"_\r\n".to_vec()));
        assert_eq!(
            both(&Reply::NullArray),
            (b"*-1\r\n".to_vec(), b"_\r\n".to_vec())
        );
    }

    #[test]
    fn encode_arrays() {
        let (r2, r3) = both(&Reply::Array(vec![]));
        assert_eq!(
            (r2.as_slice(), r3.as_slice()),
            (&b"*0\r\n"[..], &b"*0\r\n"[..])
        );
        // Live: COMMAND INFO nosuch.
        let (r2, r3) = both(&Reply::Array(vec![Reply::Null]));
        assert_eq!(r2, b"*1\r\n$-1\r\n");
        assert_eq!(r3, b"*1\r\n_\r\n");
        let nested = Reply::Array(vec![
            Reply::Integer(1),
            Reply::Array(vec![bulk("a"), Reply::NullArray]),
            Reply::ok(),
        ]);
        assert_eq!(
            enc(&nested, Protocol::Resp2),
            b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n*-1\r\n+OK\r\n"
        );
        assert_eq!(
            enc(&nested, Protocol::Resp3),
            b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n_\r\n+OK\r\n"
        );
    }

    #[test]
    fn encode_maps() {
        // Live: HGETALL h with one field.
        let map = Reply::Map(vec![(bulk("f"), bulk("v"))]);
        assert_eq!(enc(&map, Protocol::Resp2), b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        assert_eq!(enc(&map, Protocol::Resp3), b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
        // Live: the HELLO reply, in both protocols.
        let hello = |proto: i64| {
            Reply::Map(vec![
                (bulk("server"), bulk("redis")),
                (bulk("version"), bulk("7.0.15")),
                (bulk("proto"), Reply::Integer(proto)),
                (bulk("id"), Reply::Integer(56)),
                (bulk("mode"), bulk("standalone")),
                (bulk("role"), bulk("master")),
                (bulk("modules"), Reply::Array(vec![])),
            ])
        };
        assert_eq!(
            enc(&hello(2), Protocol::Resp2),
            b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:56\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        );
        assert_eq!(
            enc(&hello(3), Protocol::Resp3),
            b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:56\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        );
        assert_eq!(
            both(&Reply::Map(vec![])),
            (b"*0\r\n".to_vec(), b"%0\r\n".to_vec())
        );
    }

    #[test]
    fn encode_sets() {
        // Live: SMEMBERS s with one member.
        let set = Reply::Set(vec![bulk("x")]);
        assert_eq!(
            both(&set),
            (b"*1\r\n$1\r\nx\r\n".to_vec(), b"~1\r\n$1\r\nx\r\n".to_vec())
        );
    }

    #[test]
    fn encode_doubles() {
        // Live: ZSCORE / ZINCRBY in both protocols.
        let cases: &[(f64, &[u8], &[u8])] = &[
            (
                0.1,
                b"$19\r\n0.10000000000000001\r\n",
                b",0.10000000000000001\r\n",
            ),
            (
                0.1 + 0.2,
                b"$19\r\n0.30000000000000004\r\n",
                b",0.30000000000000004\r\n",
            ),
            (f64::INFINITY, b"$3\r\ninf\r\n", b",inf\r\n"),
            (f64::NEG_INFINITY, b"$4\r\n-inf\r\n", b",-inf\r\n"),
            (1e21, b"$5\r\n1e+21\r\n", b",1e+21\r\n"),
            (
                1e-5,
                b"$22\r\n1.0000000000000001e-05\r\n",
                b",1.0000000000000001e-05\r\n",
            ),
            (100.0, b"$3\r\n100\r\n", b",100\r\n"),
            (0.0, b"$1\r\n0\r\n", b",0\r\n"),
            (-0.0, b"$2\r\n-0\r\n", b",-0\r\n"),
            (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
            (3.25, b"$4\r\n3.25\r\n", b",3.25\r\n"),
        ];
        for (d, r2, r3) in cases {
            assert_eq!(both(&Reply::Double(*d)), (r2.to_vec(), r3.to_vec()), "{d}");
        }
    }

    #[test]
    fn encode_booleans() {
        // Live: a script returning true/false after redis.setresp(3).
        assert_eq!(
            both(&Reply::Boolean(true)),
            (b":1\r\n".to_vec(), b"#t\r\n".to_vec())
        );
        assert_eq!(
            both(&Reply::Boolean(false)),
            (b":0\r\n".to_vec(), b"#f\r\n".to_vec())
        );
    }

    #[test]
    fn encode_verbatim() {
        // Live: LOLWUT VERSION 5 1 1 1 (70 bytes of text).
        let text: &[u8] =
            b"\xe2\xa0\x8b\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n";
        assert_eq!(text.len(), 70);
        let reply = Reply::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(text),
        };
        let mut r2 = b"$70\r\n".to_vec();
        r2.extend_from_slice(text);
        r2.extend_from_slice(b"\r\n");
        let mut r3 = b"=74\r\ntxt:".to_vec();
        r3.extend_from_slice(text);
        r3.extend_from_slice(b"\r\n");
        assert_eq!(both(&reply), (r2, r3));
    }

    #[test]
    fn encode_appends_to_existing_output() {
        let mut out = BytesMut::from(&b"+PONG\r\n"[..]);
        encode(&Reply::Integer(1), Protocol::Resp2, &mut out);
        assert_eq!(&out[..], b"+PONG\r\n:1\r\n");
    }

    // -----------------------------------------------------------------------------------------
    // format_double against C's %.17g (expected strings computed with Python's '%.17g' % x)
    // -----------------------------------------------------------------------------------------

    #[test]
    fn format_double_specials() {
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(f64::NAN), "nan");
        assert_eq!(format_double(-f64::NAN), "nan");
    }

    #[test]
    fn format_double_matches_printf() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (1e21, "1e+21"),
            (1e-5, "1.0000000000000001e-05"),
            (100.0, "100"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (2.0 / 3.0, "0.66666666666666663"),
            (-2.5, "-2.5"),
            (3.3, "3.2999999999999998"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (12345678901234567.0, "12345678901234568"),
            (99999999999999999.0, "1e+17"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (0.00012345, "0.00012344999999999999"),
            (1e-4 * 9.999, "0.00099990000000000018"),
            (5e-324, "4.9406564584124654e-324"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN, "-1.7976931348623157e+308"),
            (1e100, "1e+100"),
            (1e-100, "1e-100"),
            (123.456, "123.456"),
            (9007199254740993.0, "9007199254740992"),
            (4503599627370497.5, "4503599627370498"),
            (0.5, "0.5"),
            (1e15 + 0.3, "1000000000000000.2"),
            (1e-7, "9.9999999999999995e-08"),
            (1e22, "1e+22"),
            (1.7976931348623157e300, "1.7976931348623156e+300"),
            // Exact ties at the 17th digit round to even, as glibc does.
            (1049.0 / 1048576.0, "0.0010004043579101562"),
            (1051.0 / 1048576.0, "0.0010023117065429688"),
            (3.0 * 2f64.powi(-20) + 1.0, "1.0000028610229492"),
            (3.0 / 2f64.powi(59), "5.2041704279304213e-18"),
        ];
        for (d, expected) in cases {
            assert_eq!(format_double(*d), *expected, "bits {:#x}", d.to_bits());
        }
    }
}
