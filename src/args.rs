//! The typed view of a request's arguments, produced by matching the request against the
//! command's compiled argument tree (`spec.rs`).
//!
//! Matching happens in two passes, as Redis does it: first the structure of the whole argument
//! list (positions, tokens in any order, conflicting members of a oneof) so that `SET k v EX abc
//! FOO` is a syntax error; then the conversion of numbers, so that `SET k v EX abc` says the value
//! is not an integer. A repeated option is accepted and its last occurrence wins; choosing two
//! different members of one oneof is a syntax error. Handlers read the result by argument name
//! and never index the raw request.

use bytes::Bytes;

use crate::error::CommandError;
use crate::spec::{ArgType, CompiledArgs, NodeId};

/// A command's own rules for matching, beyond its spec's argument tree.
pub struct Rules<'r> {
    /// The error for more words than the tree can ever hold.
    pub too_many: &'r dyn Fn() -> CommandError,
    /// The error text for a word that is not one of the options, `%s` standing for the word
    /// as typed (EXPIRE: `ERR Unsupported option %s`); `None` means `ERR syntax error`.
    pub unknown_option: Option<&'r str>,
    /// Checks run after the structure is matched and before numbers are converted, for
    /// combinations of options a command refuses with its own words (EXPIRE's `NX and XX, GT
    /// or LT options at the same time are not compatible`). Only flags and oneof choices may
    /// be read there: numbers are not converted yet.
    pub check: Option<Check>,
    /// Convert each number as soon as it is matched, so a bad number is reported before a
    /// later syntax error (Redis's SCAN and COPY read their options that way), instead of
    /// checking the whole syntax first (SET's way, the default).
    pub numbers_as_read: bool,
}

/// See [`Rules::check`].
pub type Check = fn(&Args<'_>) -> Result<(), CommandError>;

/// Which node of a name an accessor wants (see `Args::node_where`).
#[derive(Debug, Clone, Copy)]
enum Pick {
    Value,
    Token,
    Number,
}

/// One matched request word: which spec node it belongs to and where it is.
#[derive(Debug, Clone, Copy)]
struct Hit {
    node: NodeId,
    /// Index into the request's argument words.
    pos: usize,
    /// The converted number for integer and unix-time nodes.
    int: i64,
}

/// The matched words of one request. Most requests match a few words: kept inline, they
/// cost no allocation per request.
type Hits = smallvec::SmallVec<[Hit; 4]>;

/// The validated arguments of one request.
#[derive(Debug)]
pub struct Args<'a> {
    words: &'a [Bytes],
    spec: &'a CompiledArgs,
    hits: Hits,
}

impl<'a> Args<'a> {
    /// Match `words` (the arguments after the command name, and after the subcommand name for
    /// a subcommand) against `spec`, following the command's `rules`.
    pub fn parse(
        spec: &'a CompiledArgs,
        words: &'a [Bytes],
        rules: &Rules<'_>,
    ) -> Result<Args<'a>, CommandError> {
        if spec.positional && words.len() == spec.top.len() {
            return Args::parse_positional(spec, &spec.top, words, rules);
        }
        if words.is_empty() && spec.all_optional {
            // Nothing to match and nothing missing: only the command's own rules remain.
            let args = Args {
                words,
                spec,
                hits: Hits::new(),
            };
            if let Some(check) = rules.check {
                check(&args)?;
            }
            return Ok(args);
        }
        if spec.required_prefix == Some(words.len()) {
            return Args::parse_positional(spec, &spec.top[..words.len()], words, rules);
        }
        if let Some(unit) = spec.repeated_tail {
            let prefix = spec.top.len() - 1;
            if words.len() >= prefix + unit && (words.len() - prefix).is_multiple_of(unit) {
                return Args::parse_positional(spec, &spec.top, words, rules);
            }
        }
        Args::parse_general(spec, words, rules)
    }

    /// The tree walk every request could take: the direct paths above give the same answer
    /// for the requests they take (`tests::direct_paths_match_the_general_matcher`).
    fn parse_general(
        spec: &'a CompiledArgs,
        words: &'a [Bytes],
        rules: &Rules<'_>,
    ) -> Result<Args<'a>, CommandError> {
        let mut matcher = Matcher {
            spec,
            words,
            hits: Hits::with_capacity(words.len()),
            numbers_as_read: rules.numbers_as_read,
        };
        let end = matcher.sequence(&spec.top, 0)?;
        if end != words.len() {
            // A tree that cannot grow (no repeats, no options) is over-filled: Redis answers
            // those with the arity error (`PING a b`). Otherwise the first extra word is an
            // unknown option: a syntax error, unless the command words that its own way.
            return Err(match spec.max_words(&spec.top) {
                Some(max) if words.len() > max => (rules.too_many)(),
                _ => match rules.unknown_option {
                    Some(template) => unknown_option(template, &words[end]),
                    None => CommandError::Syntax,
                },
            });
        }
        let mut args = Args {
            words,
            spec,
            hits: matcher.hits,
        };
        if let Some(check) = rules.check {
            check(&args)?;
        }
        if !rules.numbers_as_read {
            convert_numbers(spec, words, &mut args.hits)?;
        }
        Ok(args)
    }

    /// `parse` for `nodes` of required positional values only and a request with one word
    /// for each (most commands on the hot path; `nodes` is the spec's top level, or the
    /// required values before its options), or for a spec whose last argument repeats and a
    /// request with whole repetitions (DEL, MGET, MSET): what the general matcher would
    /// find, in the same order of checks (numbers before the command's check only when it
    /// converts numbers as read), without walking the tree.
    fn parse_positional(
        spec: &'a CompiledArgs,
        nodes: &[NodeId],
        words: &'a [Bytes],
        rules: &Rules<'_>,
    ) -> Result<Args<'a>, CommandError> {
        let Some((last, first)) = nodes.split_last() else {
            // No arguments at all (DBSIZE): nothing to match.
            return Ok(Args {
                words,
                spec,
                hits: Hits::new(),
            });
        };
        let tail = &spec.nodes[*last];
        // One hit per word, and one more per repetition of a block (MSET's key-value pairs).
        let blocks = match tail.kind {
            ArgType::Block if tail.multiple => {
                words.len().saturating_sub(first.len()) / tail.children.len().max(1)
            }
            _ => 0,
        };
        let mut hits = Hits::with_capacity(words.len() + blocks);
        hits.extend(
            first
                .iter()
                .enumerate()
                .map(|(pos, &node)| Hit { node, pos, int: 0 }),
        );
        let mut pos = first.len();
        if tail.multiple && tail.kind == ArgType::Block {
            // Each repetition: the block (at its first word), then its values, as `single`
            // records them.
            while pos < words.len() {
                hits.push(Hit {
                    node: *last,
                    pos,
                    int: 0,
                });
                for &child in &tail.children {
                    hits.push(Hit {
                        node: child,
                        pos,
                        int: 0,
                    });
                    pos += 1;
                }
            }
        } else {
            while pos < words.len() {
                hits.push(Hit {
                    node: *last,
                    pos,
                    int: 0,
                });
                pos += 1;
            }
        }
        let mut args = Args { words, spec, hits };
        if rules.numbers_as_read {
            convert_numbers(spec, words, &mut args.hits)?;
        }
        if let Some(check) = rules.check {
            check(&args)?;
        }
        if !rules.numbers_as_read {
            convert_numbers(spec, words, &mut args.hits)?;
        }
        Ok(args)
    }

    /// The words of a command whose spec says `free_arguments`, unmatched: its handler reads
    /// them itself (DEBUG). Every other handler reads its arguments by name.
    pub fn unmatched(spec: &'a CompiledArgs, words: &'a [Bytes]) -> Args<'a> {
        Args {
            words,
            spec,
            hits: Hits::new(),
        }
    }

    /// The raw words after the command name (only for `free_arguments` commands).
    pub fn words(&self) -> &'a [Bytes] {
        self.words
    }

    /// The node called `name`, preferring value nodes over the oneof/block that contain them.
    fn node(&self, name: &str) -> NodeId {
        self.node_where(name, Pick::Value)
    }

    /// The first node called `name` of the kind `pick` asks for, if any; otherwise the first
    /// value node, else the first node, of that name. Redis reuses names (LCS has a `len`
    /// token and a `len` number), so the accessor's kind picks between them: `int("len")`
    /// finds the number, `flag("len")` the token. (The candidates are found when the spec is
    /// compiled: this runs several times per request.)
    fn node_where(&self, name: &str, pick: Pick) -> NodeId {
        let named = self.spec.named(name);
        named
            .and_then(|named| {
                match pick {
                    Pick::Value => named.value,
                    Pick::Token => named.token.or(named.value),
                    Pick::Number => named.number.or(named.value),
                }
                .or(named.any)
            })
            .unwrap_or_else(|| panic!("the spec has no argument named '{name}'"))
    }

    fn last(&self, name: &str) -> Option<&Hit> {
        let node = self.node(name);
        self.hits.iter().rev().find(|h| h.node == node)
    }

    /// A required value argument (key, string, pattern, number as text).
    pub fn bytes(&self, name: &str) -> &'a Bytes {
        self.opt_bytes(name)
            .unwrap_or_else(|| panic!("required argument '{name}' was not matched"))
    }

    /// An optional value argument.
    pub fn opt_bytes(&self, name: &str) -> Option<&'a Bytes> {
        let words = self.words;
        self.last(name).map(|h| &words[h.pos])
    }

    /// A key argument.
    pub fn key(&self, name: &str) -> &'a Bytes {
        self.bytes(name)
    }

    /// An integer or unix-time argument, already converted (last occurrence).
    pub fn int(&self, name: &str) -> Option<i64> {
        let node = self.node_where(name, Pick::Number);
        self.hits
            .iter()
            .rev()
            .find(|h| h.node == node)
            .map(|h| h.int)
    }

    /// A SCAN cursor argument, already converted.
    pub fn cursor(&self, name: &str) -> Option<u64> {
        self.int(name).map(|bits| bits as u64)
    }

    /// Whether a pure-token (or any optional argument) was given.
    pub fn flag(&self, name: &str) -> bool {
        let node = self.node_where(name, Pick::Token);
        self.hits.iter().any(|h| h.node == node)
    }

    /// The name of the member chosen for a oneof, if any.
    pub fn oneof(&self, name: &str) -> Option<&'a str> {
        let spec = self.spec;
        let members = &spec.nodes[self.node(name)].children;
        self.hits
            .iter()
            .rev()
            .find(|h| members.contains(&h.node))
            .map(|h| spec.nodes[h.node].name.as_str())
    }

    /// How many times an argument was given (for a oneof: any of its members). Commands that
    /// Redis parses by position, not in a loop, refuse a repeated option with this.
    pub fn count(&self, name: &str) -> usize {
        let node = self.node(name);
        let members = &self.spec.nodes[node].children;
        let is_oneof = self.spec.nodes[node].kind == ArgType::Oneof;
        self.hits
            .iter()
            .filter(|h| h.node == node || (is_oneof && members.contains(&h.node)))
            .count()
    }

    /// The value of the argument called `name` whose token is `token` (`None`: no token), for
    /// specs where Redis gives several arguments one name (CLIENT KILL's three `ip:port`).
    pub fn bytes_by_token(&self, name: &str, token: Option<&str>) -> Option<&'a Bytes> {
        let nodes = &self.spec.nodes;
        let node = (0..nodes.len()).find(|&id| {
            nodes[id].name == name
                && !matches!(nodes[id].kind, ArgType::Oneof | ArgType::Block)
                && nodes[id]
                    .token
                    .as_deref()
                    .map(|t| t.eq_ignore_ascii_case(token.unwrap_or_default().as_bytes()))
                    == token.map(|_| true)
        })?;
        self.hits
            .iter()
            .rev()
            .find(|h| h.node == node)
            .map(|h| &self.words[h.pos])
    }

    /// Every occurrence of a repeated value argument, in request order.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &'a Bytes> + '_ {
        let node = self.node(name);
        let words = self.words;
        self.hits
            .iter()
            .filter(move |h| h.node == node)
            .map(move |h| &words[h.pos])
    }
}

/// Convert integer and unix-time words after the structure is known to be right. Only the
/// last occurrence of a non-repeated node counts, as in Redis where a later option overwrites
/// an earlier one before anything is converted.
fn convert_numbers(
    spec: &CompiledArgs,
    words: &[Bytes],
    hits: &mut [Hit],
) -> Result<(), CommandError> {
    for i in 0..hits.len() {
        let node = &spec.nodes[hits[i].node];
        if !matches!(node.kind, ArgType::Integer | ArgType::UnixTime) {
            continue;
        }
        if !node.repeated && hits[i + 1..].iter().any(|h| h.node == hits[i].node) {
            continue;
        }
        hits[i].int = convert(spec, hits[i].node, &words[hits[i].pos])?;
    }
    Ok(())
}

/// A command's own unknown-option error with the word put in: its bytes as sent, cut at a NUL
/// byte as Redis's `%s` formatting does.
fn unknown_option(template: &str, word: &[u8]) -> CommandError {
    let word = &word[..word.iter().position(|&b| b == 0).unwrap_or(word.len())];
    let Some((before, after)) = template.split_once("%s") else {
        // A fixed text (MSET answers an odd word count with its arity error).
        return CommandError::Custom(template.to_string());
    };
    let mut text = before.as_bytes().to_vec();
    text.extend_from_slice(word);
    text.extend_from_slice(after.as_bytes());
    CommandError::Bytes(text)
}

/// The number a word stands for, by its node's rules: a cursor (stored as the bits of a u64)
/// or a strict integer.
fn convert(spec: &CompiledArgs, node: NodeId, word: &[u8]) -> Result<i64, CommandError> {
    if spec.nodes[node].cursor {
        return parse_cursor(word)
            .map(|c| c as i64)
            .ok_or_else(|| CommandError::err("invalid cursor"));
    }
    let value = parse_i64(word).ok_or_else(|| not_integer(spec, node))?;
    if spec.nodes[node].c_int && i32::try_from(value).is_err() {
        return Err(match &spec.nodes[node].not_integer_error {
            Some(text) => CommandError::Custom(text.clone()),
            None => CommandError::err(
                "value is out of range, value must between -2147483648 and 2147483647",
            ),
        });
    }
    Ok(value)
}

/// A SCAN cursor as C's `strtoul(s, &end, 10)` reads it with Redis's checks: the text ends at
/// a NUL (it is a C string); no leading space; an optional sign, then digits (none at all
/// means 0, which is only accepted when nothing else follows); a minus negates modulo 2^64;
/// anything after the digits, or a value over u64::MAX, is refused.
pub fn parse_cursor(word: &[u8]) -> Option<u64> {
    let word = &word[..word.iter().position(|&b| b == 0).unwrap_or(word.len())];
    if word
        .first()
        .is_some_and(|b| b.is_ascii_whitespace() || *b == 0x0b)
    {
        return None;
    }
    let (negative, digits) = match word {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, word),
    };
    if digits.is_empty() {
        // strtoul read nothing and left `end` at the start: fine only for an empty word.
        return word.is_empty().then_some(0);
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// The error for a word that is not an integer: the argument's own text if its spec gives one
/// (SWAPDB's `invalid first DB index`), else Redis's usual one.
fn not_integer(spec: &CompiledArgs, node: NodeId) -> CommandError {
    match &spec.nodes[node].not_integer_error {
        Some(text) => CommandError::Custom(text.clone()),
        None => CommandError::NotInteger,
    }
}

/// Redis's strict integer syntax (`string2ll`): an optional minus sign, digits without leading
/// zeros, nothing else, and within the range of i64.
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    match digits {
        [] => return None,
        [b'0'] => return (!negative).then_some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    if digits.len() > 19 {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        // Accumulate as a negative number so that i64::MIN fits.
        value = value.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

struct Matcher<'s> {
    spec: &'s CompiledArgs,
    words: &'s [Bytes],
    hits: Hits,
    /// Convert numbers the moment they are matched (see [`Rules::numbers_as_read`]).
    numbers_as_read: bool,
}

impl Matcher<'_> {
    fn word_is(&self, pos: usize, token: &[u8]) -> bool {
        self.words
            .get(pos)
            .is_some_and(|w| w.eq_ignore_ascii_case(token))
    }

    fn hit(&mut self, node: NodeId, pos: usize) {
        self.hits.push(Hit { node, pos, int: 0 });
    }

    /// Words still needed by the nodes in `rest`.
    fn needed(&self, rest: &[NodeId]) -> usize {
        rest.iter().map(|&id| self.spec.required_words(id)).sum()
    }

    /// Match a list of sibling nodes starting at `pos`; returns the position after them.
    /// Runs of neighbouring options are matched in any order, as often as they appear.
    fn sequence(&mut self, list: &[NodeId], mut pos: usize) -> Result<usize, CommandError> {
        let mut i = 0;
        while i < list.len() {
            if self.spec.is_option(list[i]) {
                let run_end = (i..list.len())
                    .find(|&j| !self.spec.is_option(list[j]))
                    .unwrap_or(list.len());
                pos = self.options(&list[i..run_end], pos, self.needed(&list[run_end..]))?;
                i = run_end;
                continue;
            }
            let id = list[i];
            let after = self.needed(&list[i + 1..]);
            let node = &self.spec.nodes[id];
            if node.multiple {
                // At least one occurrence unless optional, then as many as fit.
                let mut count = 0;
                while self.words.len().saturating_sub(pos) > after
                    && self.words.len() - pos >= self.spec.min_words(id) + after
                {
                    pos = self.single(id, pos)?;
                    count += 1;
                }
                if count == 0 && !node.optional {
                    return Err(CommandError::Syntax);
                }
            } else if node.optional {
                if self.words.len().saturating_sub(pos) > after {
                    pos = self.single(id, pos)?;
                }
            } else {
                pos = self.single(id, pos)?;
            }
            i += 1;
        }
        Ok(pos)
    }

    /// Match options in any order until a word is not one of their tokens, leaving `reserve`
    /// words for the positional arguments that follow.
    fn options(
        &mut self,
        run: &[NodeId],
        mut pos: usize,
        reserve: usize,
    ) -> Result<usize, CommandError> {
        // The member chosen for each oneof in the run, to reject conflicting ones.
        // On the stack for the usual handful of options (no allocation per request).
        let mut on_stack = [None; 16];
        let mut on_heap = Vec::new();
        let chosen: &mut [Option<NodeId>] = if run.len() <= on_stack.len() {
            &mut on_stack[..run.len()]
        } else {
            on_heap.resize(run.len(), None);
            &mut on_heap
        };
        'words: while self.words.len().saturating_sub(pos) > reserve {
            for (slot, &id) in run.iter().enumerate() {
                let Some(member) = self.option_member(id, pos) else {
                    continue;
                };
                if self.spec.nodes[id].kind == ArgType::Oneof
                    && !self.spec.nodes[id].members_combine
                {
                    match chosen[slot] {
                        Some(previous) if previous != member => return Err(CommandError::Syntax),
                        _ => chosen[slot] = Some(member),
                    }
                }
                pos = self.single(id, pos)?;
                continue 'words;
            }
            break;
        }
        Ok(pos)
    }

    /// If the word at `pos` begins option `id`, which node it selects (the member for a oneof).
    fn option_member(&self, id: NodeId, pos: usize) -> Option<NodeId> {
        let node = &self.spec.nodes[id];
        if node.kind == ArgType::Oneof && node.token.is_none() {
            node.children.iter().copied().find(|&c| {
                self.spec
                    .leading_tokens(c)
                    .iter()
                    .any(|t| self.word_is(pos, t))
            })
        } else {
            self.spec
                .leading_tokens(id)
                .iter()
                .any(|t| self.word_is(pos, t))
                .then_some(id)
        }
    }

    /// Match the chosen member of a oneof at `pos`.
    fn member(&mut self, member: NodeId, pos: usize) -> Result<usize, CommandError> {
        if self.spec.nodes[member].multiple {
            // A repeated member (CLIENT KILL's filters) takes as many words as it can.
            return self.sequence(&[member], pos);
        }
        self.single(member, pos)
    }

    /// Match one occurrence of a node at `pos`.
    fn single(&mut self, id: NodeId, mut pos: usize) -> Result<usize, CommandError> {
        let node = &self.spec.nodes[id];
        let kind = node.kind;
        if let Some(token) = &node.token {
            if !self.word_is(pos, token) {
                return Err(CommandError::Syntax);
            }
            if kind == ArgType::PureToken {
                self.hit(id, pos);
                return Ok(pos + 1);
            }
            pos += 1;
        }
        match kind {
            ArgType::Oneof => {
                // `spec` outlives `self`'s borrow: reading children through it copies nothing.
                let spec = self.spec;
                // A member whose token is the word wins over one without a token, which would
                // take any word (CLIENT KILL: `ip:port` or `ID 5`).
                let children = &spec.nodes[id].children;
                let tokenless = children
                    .iter()
                    .copied()
                    .find(|&c| spec.leading_tokens(c).is_empty());
                let by_token = children
                    .iter()
                    .copied()
                    .find(|&c| spec.leading_tokens(c).iter().any(|t| self.word_is(pos, t)));
                let Some(member) = by_token.or(tokenless) else {
                    // A command that reads as it goes (CLIENT KILL) names the bad word at
                    // once; one that checks its whole syntax first (CLIENT LIST) only when
                    // nothing follows the word, otherwise the rest is a syntax error first.
                    let own_error = self.numbers_as_read || pos + 1 == self.words.len();
                    return Err(
                        match (&spec.nodes[id].unknown_member_error, self.words.get(pos)) {
                            (Some(template), Some(word)) if own_error => {
                                unknown_option(template, word)
                            }
                            _ => CommandError::Syntax,
                        },
                    );
                };
                let hits = self.hits.len();
                let outcome = self.member(member, pos);
                match (outcome, tokenless) {
                    // The tokened member does not fit, but the tokenless one takes exactly the
                    // rest of the request: Redis reads a lone `CLIENT KILL ID` as an address.
                    (Err(err), Some(other)) if other != member => {
                        self.hits.truncate(hits);
                        match self.member(other, pos) {
                            Ok(end) if end == self.words.len() => Ok(end),
                            _ => {
                                self.hits.truncate(hits);
                                Err(err)
                            }
                        }
                    }
                    (outcome, _) => outcome,
                }
            }
            ArgType::Block => {
                self.hit(id, pos);
                let spec = self.spec;
                self.sequence(&spec.nodes[id].children, pos)
            }
            _ => {
                if pos >= self.words.len() {
                    return Err(CommandError::Syntax);
                }
                self.hit(id, pos);
                if self.numbers_as_read && matches!(kind, ArgType::Integer | ArgType::UnixTime) {
                    let value = convert(self.spec, id, &self.words[pos])?;
                    if let Some(hit) = self.hits.last_mut() {
                        hit.int = value;
                    }
                }
                Ok(pos + 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    // The real SET spec, so these tests cannot drift from what the server runs.
    const SET: &str = include_str!("../specs/set.json");

    fn words(line: &str) -> Vec<Bytes> {
        line.split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn set_args(line: &str) -> Result<(Option<String>, Option<i64>, bool), CommandError> {
        let parsed = spec::parse("set", SET).unwrap();
        let compiled = CompiledArgs::compile(&parsed.spec.arguments);
        let w = words(line);
        let too_many = || CommandError::WrongArity("set".into());
        let rules = Rules {
            too_many: &too_many,
            unknown_option: None,
            check: None,
            numbers_as_read: false,
        };
        let args = Args::parse(&compiled, &w, &rules)?;
        Ok((
            args.oneof("condition").map(String::from),
            args.int("seconds"),
            args.flag("get"),
        ))
    }

    /// LCS names a token and a number `len`: each accessor finds the node of its kind; a
    /// oneof is found by its own name (SET's `condition`).
    #[test]
    fn accessors_pick_the_node_of_their_kind_among_namesakes() {
        let parsed = spec::parse("lcs", include_str!("../specs/lcs.json")).unwrap();
        let compiled = CompiledArgs::compile(&parsed.spec.arguments);
        let too_many = || CommandError::WrongArity("lcs".into());
        let rules = Rules {
            too_many: &too_many,
            unknown_option: None,
            check: None,
            numbers_as_read: true,
        };
        let w = words("a b idx minmatchlen 5");
        let args = Args::parse(&compiled, &w, &rules).unwrap();
        assert_eq!(args.int("len"), Some(5));
        assert!(!args.flag("len"));
        assert!(args.flag("idx"));
        let w = words("a b len");
        let args = Args::parse(&compiled, &w, &rules).unwrap();
        assert_eq!(args.int("len"), None);
        assert!(args.flag("len"));
        assert_eq!(set_args("k v xx").unwrap().0.as_deref(), Some("xx"));
    }

    /// The positional fast path finds what the general matcher finds, errors included.
    #[test]
    fn positional_requests_match_as_the_general_matcher_does() {
        let cases: [(&str, &str, &[&str]); 7] = [
            (
                "incrby",
                include_str!("../specs/incrby.json"),
                &["k 5", "k x", "k 99999999999999999999", "k -1"],
            ),
            ("get", include_str!("../specs/get.json"), &["k"]),
            ("dbsize", include_str!("../specs/dbsize.json"), &[""]),
            (
                "del",
                include_str!("../specs/del.json"),
                &["a", "a b c", "a a"],
            ),
            (
                "mset",
                include_str!("../specs/mset.json"),
                &["a 1", "a 1 b 2 a 3", "a 1 b", "a"],
            ),
            ("mget", include_str!("../specs/mget.json"), &["a", "a b"]),
            (
                "getrange",
                include_str!("../specs/getrange.json"),
                &["k 0 -1", "k a 1", "k 1 b"],
            ),
        ];
        for (name, json, lines) in cases {
            let parsed = spec::parse(name, json).unwrap();
            let fast = CompiledArgs::compile(&parsed.spec.arguments);
            assert!(fast.positional || fast.repeated_tail.is_some(), "{name}");
            let mut general = fast.clone();
            general.positional = false;
            general.repeated_tail = None;
            for numbers_as_read in [false, true] {
                let too_many = || CommandError::WrongArity(name.into());
                let rules = Rules {
                    too_many: &too_many,
                    unknown_option: None,
                    check: None,
                    numbers_as_read,
                };
                for line in lines {
                    let w = words(line);
                    let show = |spec| match Args::parse(spec, &w, &rules) {
                        Ok(args) => format!("{:?}", args.hits),
                        Err(err) => format!("error {:?}", err.text()),
                    };
                    assert_eq!(show(&fast), show(&general), "{name} {line}");
                }
            }
        }
    }

    #[test]
    fn options_in_any_order_and_case() {
        assert_eq!(
            set_args("k v get ex 10 nx").unwrap(),
            (Some("nx".into()), Some(10), true)
        );
    }

    #[test]
    fn repeated_options_last_wins_and_conflicts_fail() {
        assert_eq!(set_args("k v EX 10 EX 20").unwrap().1, Some(20));
        assert_eq!(set_args("k v NX NX").unwrap().0, Some("nx".into()));
        assert_eq!(set_args("k v NX XX"), Err(CommandError::Syntax));
        assert_eq!(set_args("k v EX 10 PX 100"), Err(CommandError::Syntax));
        assert_eq!(set_args("k v KEEPTTL EX 10"), Err(CommandError::Syntax));
    }

    #[test]
    fn syntax_is_checked_before_numbers() {
        assert_eq!(set_args("k v EX abc FOO"), Err(CommandError::Syntax));
        assert_eq!(set_args("k v EX abc"), Err(CommandError::NotInteger));
        assert_eq!(set_args("k v EX"), Err(CommandError::Syntax));
        assert_eq!(set_args("k v EX abc EX 10").unwrap().1, Some(10));
    }

    #[test]
    fn cursors_read_like_strtoul() {
        for (word, cursor) in [
            ("0", Some(0)),
            ("", Some(0)),
            ("+0", Some(0)),
            ("00", Some(0)),
            ("-1", Some(u64::MAX)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("abc", None),
            (" 0", None),
            ("0 ", None),
            ("+", None),
            ("-", None),
            ("12x", None),
            ("7\0junk", Some(7)),
        ] {
            assert_eq!(parse_cursor(word.as_bytes()), cursor, "{word:?}");
        }
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "-0",
            "+1",
            "010",
            " 1",
            "1 ",
            "1.5",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert_eq!(parse_i64(bad.as_bytes()), None, "{bad}");
        }
    }

    /// Invariant: the direct paths (positional specs, required values before options, specs
    /// with only optional arguments, whole repetitions) match a request exactly as the tree
    /// walk does: the same words and numbers, or the same error. Every command and
    /// subcommand, with its own check hook and number rules, over every list of 0 words, of
    /// its required prefix and of its top-level length (up to 3), drawn from words that are
    /// numbers, bad numbers, keys and tokens.
    #[test]
    fn direct_paths_match_the_general_matcher() {
        let table = crate::registry::init().unwrap_or_else(|e| panic!("{e}"));
        let vocabulary = [
            "0",
            "1",
            "-1",
            "abc",
            "k",
            "EX",
            "GET",
            "NX",
            "99999999999999999999",
            "",
            "4294967296",
            "TYPE",
            "ID",
        ];
        let mut commands = Vec::new();
        for command in table.commands() {
            commands.push(command);
            commands.extend(command.subcommands.values());
        }
        let mut compared = 0;
        let mut differences = Vec::new();
        for command in commands {
            if command.spec.free_arguments {
                continue;
            }
            let too_many = || CommandError::WrongArity(command.full_name.clone());
            let rules = Rules {
                too_many: &too_many,
                unknown_option: command.spec.unknown_option_error.as_deref(),
                check: command.check,
                numbers_as_read: command.spec.numbers_as_read,
            };
            let show = |parsed: Result<Args<'_>, CommandError>| match parsed {
                Ok(args) => format!("ok {:?}", args.hits),
                Err(err) => format!("err {:?}", String::from_utf8_lossy(&err.text())),
            };
            let mut lengths = vec![0, command.args.top.len()];
            lengths.extend(command.args.required_prefix);
            for len in lengths.into_iter().filter(|&len| len <= 3) {
                for mut pick in 0..vocabulary.len().pow(len as u32) {
                    let words: Vec<Bytes> = (0..len)
                        .map(|_| {
                            let word = vocabulary[pick % vocabulary.len()];
                            pick /= vocabulary.len();
                            Bytes::from_static(word.as_bytes())
                        })
                        .collect();
                    let direct = show(Args::parse(&command.args, &words, &rules));
                    let general = show(Args::parse_general(&command.args, &words, &rules));
                    compared += 1;
                    if direct != general {
                        differences.push(format!(
                            "{} {words:?}\n  direct:  {direct}\n  general: {general}",
                            command.full_name
                        ));
                    }
                }
            }
        }
        assert!(compared > 10_000, "only {compared} requests compared");
        assert!(differences.is_empty(), "{}", differences.join("\n"));
    }
}
