//! Command specs: the JSON files in `specs/`, one per command or subcommand.
//!
//! The schema follows the vocabulary of Redis's own command JSON (one top-level key, the
//! command name in upper case, holding `summary`, `since`, `group`, `arity`, `arguments`, ...).
//! Unknown fields are rejected. Specs are parsed and checked once, at startup, then compiled
//! into [`CompiledArgs`], a flat tree the argument matcher in `args.rs` walks without touching
//! JSON again. Nothing here runs on the request path.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

// The vocabularies of Redis's spec format. A spec using anything else is rejected.

/// Every command flag a spec may use (the reported ones and the hidden ones).
pub const COMMAND_FLAGS: &[&str] = &[
    "WRITE",
    "READONLY",
    "DENYOOM",
    "MODULE",
    "ADMIN",
    "PUBSUB",
    "NOSCRIPT",
    "BLOCKING",
    "LOADING",
    "STALE",
    "SKIP_MONITOR",
    "SKIP_SLOWLOG",
    "ASKING",
    "FAST",
    "NO_AUTH",
    "MAY_REPLICATE",
    "SENTINEL",
    "ONLY_SENTINEL",
    "NO_MANDATORY_KEYS",
    "PROTECTED",
    "NO_ASYNC_LOADING",
    "NO_MULTI",
    "ALLOW_BUSY",
    "TOUCHES_ARBITRARY_KEYS",
];

/// ACL categories in Redis's table order, which is the order COMMAND INFO lists them in.
pub const ACL_CATEGORIES: &[&str] = &[
    "KEYSPACE",
    "READ",
    "WRITE",
    "SET",
    "SORTEDSET",
    "LIST",
    "HASH",
    "STRING",
    "BITMAP",
    "HYPERLOGLOG",
    "GEO",
    "STREAM",
    "PUBSUB",
    "ADMIN",
    "FAST",
    "SLOW",
    "BLOCKING",
    "DANGEROUS",
    "CONNECTION",
    "TRANSACTION",
    "SCRIPTING",
];

/// Key-spec flags in the order Redis reports them; the access kinds stay upper case on the wire.
pub const KEY_SPEC_FLAGS: &[&str] = &[
    "RO",
    "RW",
    "OW",
    "RM",
    "ACCESS",
    "UPDATE",
    "INSERT",
    "DELETE",
    "NOT_KEY",
    "INCOMPLETE",
    "VARIABLE_FLAGS",
];

/// Documentation flags in reply order.
pub const DOC_FLAGS: &[&str] = &["DEPRECATED", "SYSCMD"];

/// Command groups as written in specs.
pub const GROUPS: &[&str] = &[
    "generic",
    "string",
    "list",
    "set",
    "sorted_set",
    "hash",
    "pubsub",
    "transactions",
    "connection",
    "server",
    "scripting",
    "hyperloglog",
    "cluster",
    "sentinel",
    "geo",
    "stream",
    "bitmap",
];

/// Command tips a spec may carry (the part before a `:` for the policies).
pub const COMMAND_TIPS: &[&str] = &[
    "NONDETERMINISTIC_OUTPUT",
    "NONDETERMINISTIC_OUTPUT_ORDER",
    "REQUEST_POLICY:ALL_NODES",
    "REQUEST_POLICY:ALL_SHARDS",
    "REQUEST_POLICY:MULTI_SHARD",
    "REQUEST_POLICY:SPECIAL",
    "RESPONSE_POLICY:ONE_SUCCEEDED",
    "RESPONSE_POLICY:ALL_SUCCEEDED",
    "RESPONSE_POLICY:AGG_LOGICAL_AND",
    "RESPONSE_POLICY:AGG_LOGICAL_OR",
    "RESPONSE_POLICY:AGG_MIN",
    "RESPONSE_POLICY:AGG_MAX",
    "RESPONSE_POLICY:AGG_SUM",
    "RESPONSE_POLICY:SPECIAL",
];

/// One command's spec, as written in its JSON file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    pub summary: String,
    #[serde(default)]
    pub complexity: Option<String>,
    pub group: String,
    pub since: String,
    pub arity: i32,
    /// Set on a subcommand: the name of the command that contains it (`CONFIG`).
    #[serde(default)]
    pub container: Option<String>,
    #[serde(default)]
    pub history: Vec<(String, String)>,
    #[serde(default)]
    pub deprecated_since: Option<String>,
    #[serde(default)]
    pub replaced_by: Option<String>,
    #[serde(default)]
    pub doc_flags: Vec<String>,
    #[serde(default)]
    pub command_flags: Vec<String>,
    #[serde(default)]
    pub acl_categories: Vec<String>,
    #[serde(default)]
    pub command_tips: Vec<String>,
    #[serde(default)]
    pub key_specs: Vec<KeySpec>,
    #[serde(default)]
    pub arguments: Vec<ArgSpec>,
    /// Our addition to Redis's vocabulary, not shown by COMMAND DOCS: the error text for a
    /// word that is none of the command's options, `%s` standing for the word (EXPIRE's
    /// `ERR Unsupported option %s`). Without it such a word is `ERR syntax error`.
    #[serde(default)]
    pub unknown_option_error: Option<String>,
    /// Our addition, not shown by COMMAND DOCS: numbers are converted as the options are read,
    /// so `SCAN 0 COUNT abc FOO` says "not an integer" rather than "syntax error", as Redis's
    /// SCAN and COPY do. By default the whole syntax is checked first (SET's order).
    #[serde(default)]
    pub numbers_as_read: bool,
    /// Our addition, not shown by COMMAND DOCS: the command documents no arguments and its
    /// handler reads the words itself (`Args::words`). Only DEBUG, whose Redis spec lists no
    /// arguments and whose subcommands each parse their own words, is written this way.
    #[serde(default)]
    pub free_arguments: bool,
    /// Our addition, not shown by COMMAND DOCS: what more words than the arguments can ever
    /// take get, where Redis's handler words it itself: `"syntax"` (AUTH's `ERR syntax
    /// error`) or `"subcommand"` (SLOWLOG GET's `ERR unknown subcommand or wrong number of
    /// arguments for 'GET'. Try SLOWLOG HELP.`). Without it: the arity error.
    #[serde(default)]
    pub too_many_error: Option<TooMany>,
}

/// See [`CommandSpec::too_many_error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TooMany {
    Syntax,
    Subcommand,
}

/// Where a command's keys are, in Redis's key-spec vocabulary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    #[serde(default)]
    pub notes: Option<String>,
    pub flags: Vec<String>,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum BeginSearch {
    Index { pos: i64 },
    Keyword { keyword: String, startfrom: i64 },
    Unknown,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum FindKeys {
    Range {
        lastkey: i64,
        step: i64,
        limit: i64,
    },
    Keynum {
        keynumidx: i64,
        firstkey: i64,
        step: i64,
    },
    Unknown,
}

/// One node of a command's argument tree.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ArgType,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub multiple_token: bool,
    #[serde(default)]
    pub key_spec_index: Option<usize>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub deprecated_since: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub arguments: Vec<ArgSpec>,
    /// Our addition to Redis's vocabulary, not shown by COMMAND DOCS, only on a oneof: its
    /// members may be given together (EXPIRE accepts `XX GT`); the command's check decides
    /// which combinations it refuses, with its own words. Without it, two different members
    /// are `ERR syntax error`.
    #[serde(default)]
    pub members_combine: bool,
    /// Our addition, not shown by COMMAND DOCS, only on integer and unix-time arguments: the
    /// full error text when the word is not an integer (SWAPDB's `ERR invalid first DB
    /// index`). Without it: `ERR value is not an integer or out of range`.
    #[serde(default)]
    pub not_integer_error: Option<String>,
    /// Our addition, not shown by COMMAND DOCS, only on integer arguments: the word is a SCAN
    /// cursor, read as C's `strtoul` reads it (unsigned 64-bit; a sign and leading zeros are
    /// allowed, `-1` wraps, an empty word is 0), and anything else is `ERR invalid cursor`.
    #[serde(default)]
    pub cursor: bool,
    /// Our addition, not shown by COMMAND DOCS, only on a oneof with a token: the error for a
    /// word after the token that is none of the members, `%s` standing for the word (CLIENT
    /// LIST's `ERR Unknown client type '%s'`). Without it: `ERR syntax error`. A command that
    /// checks its whole syntax first uses it only when the word ends the request.
    #[serde(default)]
    pub unknown_member_error: Option<String>,
    /// Our addition, not shown by COMMAND DOCS, only on integer arguments: Redis reads the
    /// number as a C `int`, so a value outside it is refused as the number is converted (in
    /// the order numbers are converted), with the argument's `not_integer_error` if it has
    /// one, else `ERR value is out of range, value must between -2147483648 and 2147483647`.
    #[serde(default)]
    pub c_int: bool,
}

/// The argument types of Redis's spec vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    Oneof,
    Block,
}

impl ArgType {
    /// The name used in the JSON and in COMMAND DOCS.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// A spec that cannot be used, naming the file and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "specs/{}.json: {}", self.file, self.message)
    }
}

impl std::error::Error for SpecError {}

/// A parsed spec together with the name it is known by on the wire.
#[derive(Debug, Clone)]
pub struct ParsedSpec {
    /// Lower-case full name: `set`, or `config|get` for a subcommand.
    pub full_name: String,
    /// Lower-case name of the command itself (`get` for `config|get`).
    pub name: String,
    pub spec: CommandSpec,
}

/// Parse one spec file strictly and run the structural checks the dispatcher relies on.
/// `file` is the file stem (`set`, `config-get`); it must agree with the spec's names.
pub fn parse(file: &str, json: &str) -> Result<ParsedSpec, SpecError> {
    let fail = |message: String| SpecError {
        file: file.to_string(),
        message,
    };
    let mut top: BTreeMap<String, CommandSpec> =
        serde_json::from_str(json).map_err(|e| fail(e.to_string()))?;
    if top.len() != 1 {
        return Err(fail(format!(
            "expected exactly one top-level key (the command name), found {}",
            top.len()
        )));
    }
    let (key, spec) = top.pop_first().expect("length checked to be one above");
    if key != key.to_uppercase() {
        return Err(fail(format!("command name '{key}' must be upper case")));
    }
    let name = key.to_lowercase();
    let full_name = match &spec.container {
        Some(container) => format!("{}|{}", container.to_lowercase(), name),
        None => name.clone(),
    };
    let expected_file = full_name.replace('|', "-");
    if expected_file != file {
        return Err(fail(format!(
            "the spec describes '{full_name}', so the file must be named specs/{expected_file}.json"
        )));
    }
    check_vocabulary(&spec).map_err(fail)?;
    check_args(&spec.arguments, &spec, "arguments").map_err(fail)?;
    check_arity(&spec).map_err(fail)?;
    Ok(ParsedSpec {
        full_name,
        name,
        spec,
    })
}

/// Every flag, category, group, tip and key-spec flag must come from Redis's vocabulary.
fn check_vocabulary(spec: &CommandSpec) -> Result<(), String> {
    let check = |field: &str, values: &[String], allowed: &[&str]| -> Result<(), String> {
        match values.iter().find(|v| !allowed.contains(&v.as_str())) {
            Some(bad) => Err(format!(
                "field '{field}': unknown value '{bad}' (allowed: {})",
                allowed.join(", ")
            )),
            None => Ok(()),
        }
    };
    check("command_flags", &spec.command_flags, COMMAND_FLAGS)?;
    check("acl_categories", &spec.acl_categories, ACL_CATEGORIES)?;
    check("doc_flags", &spec.doc_flags, DOC_FLAGS)?;
    check("command_tips", &spec.command_tips, COMMAND_TIPS)?;
    check("group", std::slice::from_ref(&spec.group), GROUPS)?;
    for (i, ks) in spec.key_specs.iter().enumerate() {
        check(&format!("key_specs[{i}].flags"), &ks.flags, KEY_SPEC_FLAGS)?;
        let access = ks
            .flags
            .iter()
            .filter(|f| matches!(f.as_str(), "RO" | "RW" | "OW" | "RM"))
            .count();
        if access != 1 && !ks.flags.iter().any(|f| f == "NOT_KEY") {
            return Err(format!(
                "field 'key_specs[{i}].flags': needs exactly one of RO, RW, OW, RM"
            ));
        }
    }
    Ok(())
}

/// The arity must agree with the argument tree: a negative arity -N means the fewest words a
/// request can have is N, a positive one that every request has exactly that many (so nothing
/// is optional or repeated). Words count the command name and, for a subcommand, its name.
fn check_arity(spec: &CommandSpec) -> Result<(), String> {
    // A container without arguments of its own is dispatched on its subcommands.
    if spec.arguments.is_empty() && spec.arity <= -2 && spec.container.is_none() {
        return Ok(());
    }
    let compiled = CompiledArgs::compile(&spec.arguments);
    let name_words = if spec.container.is_some() { 2 } else { 1 };
    let min = name_words
        + compiled
            .top
            .iter()
            .map(|&id| compiled.required_words(id))
            .sum::<usize>();
    let max = compiled.max_words(&compiled.top).map(|m| m + name_words);
    let arity = spec.arity;
    if arity == 0 {
        return Err("field 'arity': must not be 0".into());
    }
    let wanted = arity.unsigned_abs() as usize;
    if arity > 0 && (min != wanted || max != Some(wanted)) {
        return Err(format!(
            "field 'arity': {arity} means exactly {wanted} words, but the arguments allow {min} to {}",
            max.map_or("any number".to_string(), |m| m.to_string())
        ));
    }
    if arity < 0 && min != wanted {
        return Err(format!(
            "field 'arity': {arity} means at least {wanted} words, but the arguments need at least {min}"
        ));
    }
    Ok(())
}

/// Structural checks on an argument list; the path names the field in messages.
fn check_args(args: &[ArgSpec], spec: &CommandSpec, path: &str) -> Result<(), String> {
    for (i, arg) in args.iter().enumerate() {
        let here = format!("{path}[{i}] ('{}')", arg.name);
        if arg.name.is_empty() {
            return Err(format!("{here}: field 'name' must not be empty"));
        }
        if let Some(token) = &arg.token {
            if token.is_empty() || *token != token.to_uppercase() {
                return Err(format!(
                    "{here}: field 'token' must be non-empty upper case"
                ));
            }
        }
        let container = matches!(arg.kind, ArgType::Oneof | ArgType::Block);
        if container && arg.arguments.is_empty() {
            return Err(format!("{here}: a {} needs 'arguments'", arg.kind.as_str()));
        }
        if !container && !arg.arguments.is_empty() {
            return Err(format!(
                "{here}: field 'arguments' is only allowed on oneof and block"
            ));
        }
        if arg.kind == ArgType::PureToken && arg.token.is_none() {
            return Err(format!("{here}: a pure-token needs a 'token'"));
        }
        if arg.not_integer_error.is_some()
            && !matches!(arg.kind, ArgType::Integer | ArgType::UnixTime)
        {
            return Err(format!(
                "{here}: 'not_integer_error' is only allowed on integer and unix-time arguments"
            ));
        }
        if arg.unknown_member_error.is_some() && (arg.kind != ArgType::Oneof || arg.token.is_none())
        {
            return Err(format!(
                "{here}: 'unknown_member_error' is only allowed on a oneof with a token"
            ));
        }
        if arg.c_int && arg.kind != ArgType::Integer {
            return Err(format!(
                "{here}: 'c_int' is only allowed on integer arguments"
            ));
        }
        if arg.cursor && arg.kind != ArgType::Integer {
            return Err(format!(
                "{here}: 'cursor' is only allowed on integer arguments"
            ));
        }
        if arg.members_combine && arg.kind != ArgType::Oneof {
            return Err(format!(
                "{here}: 'members_combine' is only allowed on a oneof"
            ));
        }
        if arg.multiple_token && !arg.multiple {
            return Err(format!("{here}: 'multiple_token' requires 'multiple'"));
        }
        match (arg.kind, arg.key_spec_index) {
            (ArgType::Key, None) => {
                return Err(format!("{here}: a key argument needs 'key_spec_index'"))
            }
            (ArgType::Key, Some(idx)) if idx >= spec.key_specs.len() => {
                return Err(format!(
                    "{here}: 'key_spec_index' {idx} is out of range ({} key specs)",
                    spec.key_specs.len()
                ))
            }
            (kind, Some(_)) if kind != ArgType::Key => {
                return Err(format!(
                    "{here}: 'key_spec_index' is only allowed on key arguments"
                ))
            }
            _ => {}
        }
        // Redis itself reuses a name for arguments told apart by their tokens (CLIENT KILL's
        // ADDR and LADDR are both `ip:port`), so a name must be unique per token.
        let mut seen = std::collections::HashSet::new();
        for child in &arg.arguments {
            if !seen.insert((child.name.as_str(), child.token.as_deref())) {
                return Err(format!("{here}: duplicate argument name '{}'", child.name));
            }
        }
        check_args(&arg.arguments, spec, &format!("{here}.arguments"))?;
    }
    Ok(())
}

/// Index of a node in [`CompiledArgs::nodes`].
pub type NodeId = usize;

/// One argument node, ready for matching: names and tokens resolved, children by index.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: ArgType,
    /// Upper-case token bytes, compared case-insensitively with the request.
    pub token: Option<Box<[u8]>>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    pub children: Vec<NodeId>,
    /// True when this node or an ancestor repeats, so every occurrence matters (not just the last).
    pub repeated: bool,
    /// For a oneof: members may be combined (see [`ArgSpec::members_combine`]).
    pub members_combine: bool,
    /// For a number: its own not-an-integer error (see [`ArgSpec::not_integer_error`]).
    pub not_integer_error: Option<String>,
    /// For a number: a SCAN cursor (see [`ArgSpec::cursor`]).
    pub cursor: bool,
    /// For a tokened oneof: the error for a word that is none of its members.
    pub unknown_member_error: Option<String>,
    /// For a number: it must fit a C int (see [`ArgSpec::c_int`]).
    pub c_int: bool,
    /// Derived once at compile time, so matching a request allocates nothing for them:
    /// the tokens that can begin this node (empty when it begins with a value),
    leading: Vec<Box<[u8]>>,
    /// the fewest words one occurrence takes, and the fewest it needs in a request (zero when
    /// optional),
    min: usize,
    required: usize,
    /// and whether it is an option (optional and recognised by a leading token).
    option: bool,
}

/// A command's argument tree flattened into a vector.
#[derive(Debug, Clone, Default)]
pub struct CompiledArgs {
    pub nodes: Vec<Node>,
    pub top: Vec<NodeId>,
    /// The nodes of each name, for the accessors of `Args` (several lookups per request),
    /// each with its name's `signature` so that a lookup compares integers first.
    names: Vec<(u32, Box<str>, Named)>,
    /// Whether every top-level argument is one required value without a token (GET key,
    /// INCRBY key increment): a request with exactly that many words matches them in order.
    pub positional: bool,
    /// Whether every top-level argument but the last is such a value, and the last repeats
    /// (required, no token): a value (DEL key [key ...]) or a block of such values (MSET key
    /// value [key value ...]); the number is the words one repetition takes.
    pub repeated_tail: Option<usize>,
    /// How many top-level arguments (at least one) are such values when all the others (at
    /// least one) come after them and are optional (SET key value [NX|XX] ...): a request with exactly
    /// that many words matches them in order, and none of the options.
    pub required_prefix: Option<usize>,
    /// Whether every top-level argument is optional (PING [message]): a request with no
    /// words matches none of them.
    pub all_optional: bool,
}

/// Length, first and last byte of a name: distinct for nearly all names of one command.
fn signature(name: &[u8]) -> u32 {
    let (first, last) = match name {
        [] => (0, 0),
        [first, .., last] => (*first, *last),
        [only] => (*only, *only),
    };
    (name.len() as u32) << 16 | u32::from(first) << 8 | u32::from(last)
}

/// The nodes called by one name: the first of each kind an accessor may want.
#[derive(Debug, Clone, Copy, Default)]
pub struct Named {
    /// The first value node (anything but a oneof or a block).
    pub value: Option<NodeId>,
    /// The first pure token.
    pub token: Option<NodeId>,
    /// The first integer or unix-time.
    pub number: Option<NodeId>,
    /// The first node of any kind.
    pub any: Option<NodeId>,
}

impl CompiledArgs {
    pub fn compile(args: &[ArgSpec]) -> CompiledArgs {
        let mut compiled = CompiledArgs::default();
        compiled.top = args.iter().map(|a| compiled.push(a, false)).collect();
        // Children come after their parent in `nodes`, so going backwards every node's
        // children are done before the node itself.
        for id in (0..compiled.nodes.len()).rev() {
            let leading = compiled.compute_leading(id);
            let min = compiled.compute_min(id);
            let node = &mut compiled.nodes[id];
            node.option = node.optional && !leading.is_empty();
            node.required = if node.optional { 0 } else { min };
            node.min = min;
            node.leading = leading;
        }
        let plain = |node: &Node| {
            !node.optional
                && !node.multiple
                && node.token.is_none()
                && !matches!(
                    node.kind,
                    ArgType::Oneof | ArgType::Block | ArgType::PureToken
                )
        };
        compiled.positional = compiled.top.iter().all(|&id| plain(&compiled.nodes[id]));
        let prefix = compiled
            .top
            .iter()
            .take_while(|&&id| plain(&compiled.nodes[id]))
            .count();
        compiled.all_optional = compiled.top.iter().all(|&id| compiled.nodes[id].optional);
        compiled.required_prefix = (prefix > 0
            && prefix < compiled.top.len()
            && compiled.top[prefix..]
                .iter()
                .all(|&id| compiled.nodes[id].optional))
        .then_some(prefix);
        compiled.repeated_tail = match compiled.top.split_last() {
            Some((&last, first)) if first.iter().all(|&id| plain(&compiled.nodes[id])) => {
                let node = &compiled.nodes[last];
                let repeats = node.multiple && !node.optional && node.token.is_none();
                let single = Node {
                    multiple: false,
                    ..node.clone()
                };
                match node.kind {
                    _ if !repeats => None,
                    ArgType::Block
                        if !node.children.is_empty()
                            && node.children.iter().all(|&c| plain(&compiled.nodes[c])) =>
                    {
                        Some(node.children.len())
                    }
                    _ if plain(&single) => Some(1),
                    _ => None,
                }
            }
            _ => None,
        };
        for (id, node) in compiled.nodes.iter().enumerate() {
            let at = match compiled
                .names
                .iter()
                .position(|(_, n, _)| **n == *node.name)
            {
                Some(at) => at,
                None => {
                    let name = node.name.as_bytes();
                    let entry = (signature(name), node.name.as_str().into(), Named::default());
                    compiled.names.push(entry);
                    compiled.names.len() - 1
                }
            };
            let named = &mut compiled.names[at].2;
            named.any.get_or_insert(id);
            if !matches!(node.kind, ArgType::Oneof | ArgType::Block) {
                named.value.get_or_insert(id);
            }
            if node.kind == ArgType::PureToken {
                named.token.get_or_insert(id);
            }
            if matches!(node.kind, ArgType::Integer | ArgType::UnixTime) {
                named.number.get_or_insert(id);
            }
        }
        compiled
    }

    /// The nodes called `name`.
    pub fn named(&self, name: &str) -> Option<&Named> {
        let wanted = signature(name.as_bytes());
        self.names
            .iter()
            .find(|(sig, n, _)| *sig == wanted && **n == *name)
            .map(|(_, _, named)| named)
    }

    fn push(&mut self, arg: &ArgSpec, parent_repeated: bool) -> NodeId {
        let id = self.nodes.len();
        let repeated = parent_repeated || arg.multiple;
        self.nodes.push(Node {
            name: arg.name.clone(),
            kind: arg.kind,
            token: arg.token.as_ref().map(|t| t.as_bytes().into()),
            optional: arg.optional,
            multiple: arg.multiple,
            multiple_token: arg.multiple_token,
            children: Vec::new(),
            repeated,
            members_combine: arg.members_combine,
            not_integer_error: arg.not_integer_error.clone(),
            cursor: arg.cursor,
            unknown_member_error: arg.unknown_member_error.clone(),
            c_int: arg.c_int,
            leading: Vec::new(),
            min: 0,
            required: 0,
            option: false,
        });
        let children = arg
            .arguments
            .iter()
            .map(|a| self.push(a, repeated))
            .collect();
        self.nodes[id].children = children;
        id
    }

    fn compute_min(&self, id: NodeId) -> usize {
        let node = &self.nodes[id];
        let own = usize::from(node.token.is_some() && node.kind != ArgType::PureToken);
        own + match node.kind {
            ArgType::PureToken => 1,
            ArgType::Oneof => node
                .children
                .iter()
                .map(|&c| self.nodes[c].min)
                .min()
                .unwrap_or(0),
            ArgType::Block => node.children.iter().map(|&c| self.nodes[c].required).sum(),
            _ => 1,
        }
    }

    fn compute_leading(&self, id: NodeId) -> Vec<Box<[u8]>> {
        let node = &self.nodes[id];
        if let Some(token) = &node.token {
            return vec![token.clone()];
        }
        match node.kind {
            // Every member must begin with a token for the oneof to be an option.
            ArgType::Oneof
                if node
                    .children
                    .iter()
                    .all(|&c| !self.nodes[c].leading.is_empty()) =>
            {
                node.children
                    .iter()
                    .flat_map(|&c| self.nodes[c].leading.iter().cloned())
                    .collect()
            }
            ArgType::Block => node
                .children
                .first()
                .map(|&c| self.nodes[c].leading.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Fewest request words a node can consume when present once.
    pub fn min_words(&self, id: NodeId) -> usize {
        self.nodes[id].min
    }

    /// Fewest words a node needs in a request: zero when it is optional.
    pub fn required_words(&self, id: NodeId) -> usize {
        self.nodes[id].required
    }

    /// Most words the list can consume, or None when it is unbounded: a node repeats, or a
    /// tokened option may be given again (Redis accepts `SET k v EX 1 EX 2`).
    pub fn max_words(&self, ids: &[NodeId]) -> Option<usize> {
        ids.iter().try_fold(0usize, |acc, &id| {
            let node = &self.nodes[id];
            if node.multiple || node.option {
                return None;
            }
            let own = usize::from(node.token.is_some() && node.kind != ArgType::PureToken);
            let inner = match node.kind {
                ArgType::PureToken => Some(1),
                ArgType::Oneof => node
                    .children
                    .iter()
                    .map(|&c| self.max_words(&[c]))
                    .try_fold(0, |m, w| w.map(|w| m.max(w))),
                ArgType::Block => self.max_words(&node.children),
                _ => Some(1),
            }?;
            Some(acc + own + inner)
        })
    }

    /// The tokens that can begin this node in a request (none when it begins with a value).
    pub fn leading_tokens(&self, id: NodeId) -> &[Box<[u8]>] {
        &self.nodes[id].leading
    }

    /// An option: optional and recognisable by a leading token, so it may appear in any order
    /// among its neighbouring options.
    pub fn is_option(&self, id: NodeId) -> bool {
        self.nodes[id].option
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_fields_naming_them() {
        let err = parse("get", r#"{"GET": {"summary": "s", "group": "string", "since": "1.0.0", "arity": 2, "bogus": 1}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("specs/get.json"), "{err}");
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn rejects_a_missing_type_naming_the_argument() {
        let err = parse("get", r#"{"GET": {"summary": "s", "group": "string", "since": "1.0.0", "arity": 2, "arguments": [{"name": "key"}]}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("type"), "{err}");
    }

    #[test]
    fn file_name_must_match_the_full_name() {
        let err = parse("get", r#"{"GET": {"summary": "s", "group": "server", "since": "1.0.0", "arity": -2, "container": "CONFIG"}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("specs/config-get.json"), "{err}");
        let ok = parse("config-get", r#"{"GET": {"summary": "s", "group": "server", "since": "1.0.0", "arity": -2, "container": "CONFIG"}}"#)
            .unwrap();
        assert_eq!(ok.full_name, "config|get");
    }

    #[test]
    fn arity_must_agree_with_the_arguments() {
        let spec = |arity: i32, args: &str| {
            format!(
                r#"{{"ECHO": {{"summary": "s", "group": "connection", "since": "1.0.0", "arity": {arity}, "arguments": [{args}]}}}}"#
            )
        };
        let one = r#"{"name": "message", "type": "string"}"#;
        assert!(parse("echo", &spec(2, one)).is_ok());
        let err = parse("echo", &spec(3, one)).unwrap_err().to_string();
        assert!(
            err.contains("specs/echo.json") && err.contains("field 'arity'"),
            "{err}"
        );
        let optional = r#"{"name": "message", "type": "string", "optional": true}"#;
        assert!(
            parse("echo", &spec(2, optional)).is_err(),
            "an exact arity allows nothing optional"
        );
        assert!(parse("echo", &spec(-1, optional)).is_ok());
        assert!(parse("echo", &spec(-2, optional)).is_err());
    }

    #[test]
    fn vocabularies_are_checked() {
        let with = |field: &str| {
            format!(
                r#"{{"PING": {{"summary": "s", "group": "connection", "since": "1.0.0", "arity": -1, {field}}}}}"#
            )
        };
        let err = parse("ping", &with(r#""command_flags": ["QUICK"]"#))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("command_flags") && err.contains("QUICK"),
            "{err}"
        );
        let err = parse("ping", &with(r#""acl_categories": ["FUN"]"#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("acl_categories"), "{err}");
        let err = parse("ping", &with(r#""command_tips": ["FAST_PLEASE"]"#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("command_tips"), "{err}");
        let err = parse("ping", &with(r#""key_specs": [{"flags": ["ACCESS"], "begin_search": {"index": {"pos": 1}}, "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}]"#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("key_specs[0].flags"), "{err}");
    }

    #[test]
    fn max_words_is_unbounded_when_options_can_repeat() {
        let spec = parse(
            "x",
            r#"{"X": {"summary": "s", "group": "string", "since": "1.0.0", "arity": -1,
            "arguments": [{"name": "message", "type": "string", "optional": true}]}}"#,
        )
        .unwrap();
        let c = CompiledArgs::compile(&spec.spec.arguments);
        assert_eq!(c.max_words(&c.top), Some(1));
        let spec = parse("x", r#"{"X": {"summary": "s", "group": "string", "since": "1.0.0", "arity": -1,
            "arguments": [{"name": "get", "type": "pure-token", "token": "GET", "optional": true}]}}"#).unwrap();
        let c = CompiledArgs::compile(&spec.spec.arguments);
        assert_eq!(c.max_words(&c.top), None);
    }
}
