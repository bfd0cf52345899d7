//! Describing commands from their specs, in Redis 7.0's shapes: the COMMAND INFO entry, the
//! COMMAND DOCS map, and the keys a request names (COMMAND GETKEYS). Everything here is derived
//! from the same compiled specs the dispatcher validates with, so what clients are told is what
//! the server enforces.

use bytes::Bytes;

use crate::error::CommandError;
use crate::registry::{Command, CommandTable};
use crate::reply::Reply;
use crate::spec::{
    ArgSpec, BeginSearch, FindKeys, KeySpec, ACL_CATEGORIES, DOC_FLAGS, KEY_SPEC_FLAGS,
};

/// Command flags in the order Redis reports them. Flags Redis hides from COMMAND INFO
/// (MAY_REPLICATE, SENTINEL, ONLY_SENTINEL, PROTECTED, TOUCHES_ARBITRARY_KEYS) are absent, and
/// `movablekeys` is derived from the key specs rather than written in a spec.
const REPORTED_FLAGS: &[&str] = &[
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
    "NO_MANDATORY_KEYS",
    "NO_ASYNC_LOADING",
    "NO_MULTI",
    "MOVABLEKEYS",
    "ALLOW_BUSY",
];

fn bulk(text: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(text.as_bytes()))
}

fn status(text: &str) -> Reply {
    Reply::Simple(Bytes::copy_from_slice(text.as_bytes()))
}

fn has_flag(command: &Command, flag: &str) -> bool {
    command.spec.command_flags.iter().any(|f| f == flag)
}

/// Whether the keys cannot be found from a plain first/last/step triple: Redis sets
/// `movablekeys` then.
pub fn movable_keys(command: &Command) -> bool {
    command.spec.key_specs.iter().any(|ks| {
        !matches!(ks.begin_search, BeginSearch::Index { .. })
            || !matches!(ks.find_keys, FindKeys::Range { .. })
            || ks.flags.iter().any(|f| f == "INCOMPLETE")
    })
}

/// The command flags as COMMAND INFO reports them.
pub fn reported_flags(command: &Command) -> Vec<&'static str> {
    let movable = movable_keys(command);
    REPORTED_FLAGS
        .iter()
        .copied()
        .filter(|&flag| {
            if flag == "MOVABLEKEYS" {
                movable
            } else {
                has_flag(command, flag)
            }
        })
        .collect()
}

/// The ACL categories with Redis's implicit additions, in table order, without the `@`.
pub fn acl_categories(command: &Command) -> Vec<&'static str> {
    let explicit = |cat: &str| command.spec.acl_categories.iter().any(|c| c == cat);
    let fast = has_flag(command, "FAST") || explicit("FAST");
    ACL_CATEGORIES
        .iter()
        .copied()
        .filter(|&cat| match cat {
            "WRITE" => explicit(cat) || has_flag(command, "WRITE"),
            "READ" => explicit(cat) || (has_flag(command, "READONLY") && !explicit("SCRIPTING")),
            "ADMIN" | "DANGEROUS" => explicit(cat) || has_flag(command, "ADMIN"),
            "PUBSUB" => explicit(cat) || has_flag(command, "PUBSUB"),
            "FAST" => fast,
            "BLOCKING" => explicit(cat) || has_flag(command, "BLOCKING"),
            "SLOW" => explicit(cat) || !fast,
            _ => explicit(cat),
        })
        .collect()
}

/// The legacy (first key, last key, step) triple derived from the key specs, as Redis does:
/// from the index+range specs with step 1 that follow each other; all zero when there are none.
pub fn legacy_key_range(command: &Command) -> (i64, i64, i64) {
    let ranges: Vec<(i64, i64, i64)> = command
        .spec
        .key_specs
        .iter()
        .filter_map(|ks| match (&ks.begin_search, &ks.find_keys) {
            (BeginSearch::Index { pos }, FindKeys::Range { lastkey, step, .. }) => {
                Some((*pos, *lastkey, *step))
            }
            _ => None,
        })
        .collect();
    if let [(pos, lastkey, step)] = ranges.as_slice() {
        if command.spec.key_specs.len() == 1 {
            let last = if *lastkey >= 0 {
                pos + lastkey
            } else {
                *lastkey
            };
            return (*pos, last, *step);
        }
    }
    let mut first = i64::MAX;
    let mut last: i64 = 0;
    let mut previous_last: i64 = 0;
    for (pos, lastkey, step) in ranges {
        if step != 1 || (previous_last != 0 && previous_last != pos - 1) {
            continue;
        }
        first = first.min(pos);
        let absolute = if lastkey >= 0 { lastkey + pos } else { lastkey };
        // A negative last key ("to the end") wins over any positive one, as Redis's unsigned
        // comparison makes it.
        if (absolute as u64) > (last as u64) {
            last = absolute;
        }
        previous_last = last;
    }
    if first == i64::MAX {
        (0, 0, 0)
    } else {
        (first, last, 1)
    }
}

fn key_spec_flag_name(flag: &str) -> String {
    match flag {
        "RO" | "RW" | "OW" | "RM" => flag.to_string(),
        other => other.to_lowercase(),
    }
}

fn key_spec_reply(ks: &KeySpec) -> Reply {
    let mut map = Vec::new();
    if let Some(notes) = &ks.notes {
        map.push((bulk("notes"), bulk(notes)));
    }
    let flags = KEY_SPEC_FLAGS
        .iter()
        .filter(|f| ks.flags.iter().any(|g| g == *f))
        .map(|f| status(&key_spec_flag_name(f)))
        .collect();
    map.push((bulk("flags"), Reply::Set(flags)));
    let (kind, spec) = match &ks.begin_search {
        BeginSearch::Index { pos } => ("index", vec![(bulk("index"), Reply::Integer(*pos))]),
        BeginSearch::Keyword { keyword, startfrom } => (
            "keyword",
            vec![
                (bulk("keyword"), bulk(keyword)),
                (bulk("startfrom"), Reply::Integer(*startfrom)),
            ],
        ),
        BeginSearch::Unknown => ("unknown", vec![]),
    };
    map.push((
        bulk("begin_search"),
        Reply::Map(vec![
            (bulk("type"), bulk(kind)),
            (bulk("spec"), Reply::Map(spec)),
        ]),
    ));
    let (kind, spec) = match &ks.find_keys {
        FindKeys::Range {
            lastkey,
            step,
            limit,
        } => (
            "range",
            vec![
                (bulk("lastkey"), Reply::Integer(*lastkey)),
                (bulk("keystep"), Reply::Integer(*step)),
                (bulk("limit"), Reply::Integer(*limit)),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            step,
        } => (
            "keynum",
            vec![
                (bulk("keynumidx"), Reply::Integer(*keynumidx)),
                (bulk("firstkey"), Reply::Integer(*firstkey)),
                (bulk("keystep"), Reply::Integer(*step)),
            ],
        ),
        FindKeys::Unknown => ("unknown", vec![]),
    };
    map.push((
        bulk("find_keys"),
        Reply::Map(vec![
            (bulk("type"), bulk(kind)),
            (bulk("spec"), Reply::Map(spec)),
        ]),
    ));
    Reply::Map(map)
}

/// The 10-element COMMAND INFO entry of a command (subcommands nested in the last element).
pub fn info(command: &Command) -> Reply {
    let (first, last, step) = legacy_key_range(command);
    let subcommands = if command.subcommands.is_empty() {
        Reply::Set(Vec::new())
    } else {
        Reply::Array(sorted_subcommands(command).into_iter().map(info).collect())
    };
    Reply::Array(vec![
        bulk(&command.full_name),
        Reply::Integer(i64::from(command.spec.arity)),
        Reply::Set(
            reported_flags(command)
                .into_iter()
                .map(|f| status(&f.to_lowercase()))
                .collect(),
        ),
        Reply::Integer(first),
        Reply::Integer(last),
        Reply::Integer(step),
        Reply::Set(
            acl_categories(command)
                .into_iter()
                .map(|c| status(&format!("@{}", c.to_lowercase())))
                .collect(),
        ),
        Reply::Set(
            command
                .spec
                .command_tips
                .iter()
                .map(|t| bulk(&t.to_lowercase()))
                .collect(),
        ),
        Reply::Set(command.spec.key_specs.iter().map(key_spec_reply).collect()),
        subcommands,
    ])
}

/// Subcommands in a stable order (by name), so replies do not depend on hashing.
pub fn sorted_subcommands(command: &Command) -> Vec<&Command> {
    let mut subs: Vec<&Command> = command.subcommands.values().collect();
    subs.sort_by(|a, b| a.name.cmp(&b.name));
    subs
}

fn argument_reply(arg: &ArgSpec) -> Reply {
    let mut map = vec![
        (bulk("name"), bulk(&arg.name)),
        (bulk("type"), bulk(arg.kind.as_str())),
    ];
    if let Some(index) = arg.key_spec_index {
        map.push((bulk("key_spec_index"), Reply::Integer(index as i64)));
    }
    if let Some(token) = &arg.token {
        map.push((bulk("token"), bulk(token)));
    }
    if let Some(summary) = &arg.summary {
        map.push((bulk("summary"), bulk(summary)));
    }
    if let Some(since) = &arg.since {
        map.push((bulk("since"), bulk(since)));
    }
    if let Some(deprecated) = &arg.deprecated_since {
        map.push((bulk("deprecated_since"), bulk(deprecated)));
    }
    // redis-cli asserts these are status replies: never send them as bulk strings.
    let flags: Vec<Reply> = [
        ("optional", arg.optional),
        ("multiple", arg.multiple),
        ("multiple_token", arg.multiple_token),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| status(name))
    .collect();
    if !flags.is_empty() {
        map.push((bulk("flags"), Reply::Set(flags)));
    }
    if !arg.arguments.is_empty() {
        map.push((
            bulk("arguments"),
            Reply::Array(arg.arguments.iter().map(argument_reply).collect()),
        ));
    }
    Reply::Map(map)
}

/// The COMMAND DOCS map of a command, keys in Redis's order, each present only with a value.
pub fn docs(command: &Command) -> Reply {
    let spec = &command.spec;
    let mut map = vec![
        (bulk("summary"), bulk(&spec.summary)),
        (bulk("since"), bulk(&spec.since)),
        // Specs say `sorted_set`; the wire says `sorted-set`.
        (bulk("group"), bulk(&spec.group.replace('_', "-"))),
    ];
    if let Some(complexity) = &spec.complexity {
        map.push((bulk("complexity"), bulk(complexity)));
    }
    let doc_flags: Vec<Reply> = DOC_FLAGS
        .iter()
        .filter(|f| spec.doc_flags.iter().any(|g| g == *f))
        .map(|f| status(&f.to_lowercase()))
        .collect();
    if !doc_flags.is_empty() {
        map.push((bulk("doc_flags"), Reply::Set(doc_flags)));
    }
    if let Some(since) = &spec.deprecated_since {
        map.push((bulk("deprecated_since"), bulk(since)));
    }
    if let Some(replaced_by) = &spec.replaced_by {
        map.push((bulk("replaced_by"), bulk(replaced_by)));
    }
    if !spec.history.is_empty() {
        let history = spec
            .history
            .iter()
            .map(|(version, text)| Reply::Array(vec![bulk(version), bulk(text)]))
            .collect();
        map.push((bulk("history"), Reply::Set(history)));
    }
    if !spec.arguments.is_empty() {
        map.push((
            bulk("arguments"),
            Reply::Array(spec.arguments.iter().map(argument_reply).collect()),
        ));
    }
    if !command.subcommands.is_empty() {
        let subs = sorted_subcommands(command)
            .into_iter()
            .map(|s| (bulk(&s.full_name), docs(s)))
            .collect();
        map.push((bulk("subcommands"), Reply::Map(subs)));
    }
    Reply::Map(map)
}

/// The keys a request names and their key-spec flags, found with the command's key specs.
/// `argv[0]` is the command name (a subcommand's argv starts at the container's name).
pub fn keys<'a>(command: &'a Command, argv: &'a [Bytes]) -> Vec<(&'a Bytes, &'a [String])> {
    let argc = argv.len() as i64;
    let mut found = Vec::new();
    for ks in &command.spec.key_specs {
        let start = match &ks.begin_search {
            BeginSearch::Index { pos } => *pos,
            BeginSearch::Keyword { keyword, startfrom } => {
                let from = if *startfrom >= 0 {
                    *startfrom
                } else {
                    argc + startfrom
                };
                let range: Box<dyn Iterator<Item = i64>> = if *startfrom >= 0 {
                    Box::new(from..argc)
                } else {
                    Box::new((1..=from).rev())
                };
                let hit = range
                    .filter(|&i| i >= 1 && i < argc)
                    .find(|&i| argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()));
                match hit {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            BeginSearch::Unknown => continue,
        };
        let (first, last, step) = match &ks.find_keys {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let last = if *lastkey >= 0 {
                    start + lastkey
                } else if *limit <= 1 {
                    argc + lastkey
                } else {
                    start + ((argc - start) / limit + lastkey)
                };
                (start, last, *step)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                let Some(count) = argv
                    .get((start + keynumidx) as usize)
                    .and_then(|n| crate::args::parse_i64(n))
                    .filter(|n| *n >= 0)
                else {
                    continue;
                };
                // As Redis: `numkeys` keys from `firstkey`, whatever the step.
                let first = start + firstkey;
                (first, first.saturating_add(count) - 1, *step)
            }
            FindKeys::Unknown => continue,
        };
        let mut i = first;
        while i <= last && i < argc && step > 0 {
            if i >= 1 {
                found.push((&argv[i as usize], ks.flags.as_slice()));
            }
            i += step;
        }
    }
    found
}

/// The keys of a full command line (`command` then its arguments), for COMMAND GETKEYS and
/// GETKEYSANDFLAGS, with Redis's errors for an unknown command or a wrong argument count.
pub fn keys_of_request<'a>(
    table: &CommandTable,
    command: &'a Bytes,
    args: impl Iterator<Item = &'a Bytes>,
) -> Result<Vec<(Bytes, Vec<String>)>, CommandError> {
    let argv: Vec<Bytes> = std::iter::once(command).chain(args).cloned().collect();
    let invalid = || CommandError::err("Invalid command specified");
    let mut target = table.get(command).ok_or_else(invalid)?;
    if !target.subcommands.is_empty() && argv.len() >= 2 {
        target = target.subcommand(&argv[1]).ok_or_else(invalid)?;
    }
    // Redis's order: no keys at all, then the number of arguments.
    let has_keys = target
        .spec
        .key_specs
        .iter()
        .any(|ks| !ks.flags.iter().any(|f| f == "NOT_KEY"));
    if !has_keys {
        return Err(CommandError::err("The command has no key arguments"));
    }
    if !crate::dispatch::arity_ok(target, argv.len()) {
        return Err(CommandError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    // A key spec with VARIABLE_FLAGS gets the flags of this very call from the command.
    let call_flags: Option<Vec<String>> = target.key_flags.and_then(|key_flags| {
        let skip = if target.spec.container.is_some() {
            2
        } else {
            1
        };
        let too_many = || CommandError::Syntax;
        let rules = crate::args::Rules {
            too_many: &too_many,
            unknown_option: None,
            check: None,
            numbers_as_read: target.spec.numbers_as_read,
        };
        let args = crate::args::Args::parse(&target.args, &argv[skip..], &rules).ok()?;
        Some(key_flags(&args).iter().map(|f| f.to_string()).collect())
    });
    let found: Vec<(Bytes, Vec<String>)> = keys(target, &argv)
        .into_iter()
        .map(|(key, flags)| {
            let variable = flags.iter().any(|f| f == "VARIABLE_FLAGS");
            let flags = match (&call_flags, variable) {
                (Some(call), true) => call.clone(),
                _ => flags.to_vec(),
            };
            (key.clone(), flags)
        })
        .collect();
    if found.is_empty()
        && !target
            .spec
            .command_flags
            .iter()
            .any(|f| f == "NO_MANDATORY_KEYS")
    {
        return Err(CommandError::err("Invalid arguments specified for command"));
    }
    Ok(found)
}

/// A key's key-spec flags as COMMAND GETKEYSANDFLAGS shows them: status strings, in order.
pub fn key_flags_reply(flags: &[String]) -> Reply {
    Reply::Set(
        KEY_SPEC_FLAGS
            .iter()
            .filter(|f| flags.iter().any(|g| g == *f))
            .map(|f| status(&key_spec_flag_name(f)))
            .collect(),
    )
}
